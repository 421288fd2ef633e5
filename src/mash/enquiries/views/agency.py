"""Enquiry pages: agency (see enquiries/urls.py).

An agency practitioner's queue of information requests, and the request page
where they see what they need to search their systems (and nothing more) and
answer: "nothing held", or what is held, item by item. Hub managers and
co-ordinators may open a request page to read it; they answer nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from mash.core import clock
from mash.core.concurrency import Conflict
from mash.core.govuk import govuk_error_summary
from mash.core.models import Hub
from mash.enquiries import selectors, services
from mash.enquiries.forms.agency import (
    ITEMS_PREFIX,
    MAX_ITEMS,
    SENSITIVITY_HINTS,
    BaseItemFormSet,
    HeldForm,
    item_formset,
    typed_items,
)
from mash.enquiries.models import AgencyRequest, EnquiryStatus, RequestStatus

if TYPE_CHECKING:
    from mash.accounts.models import User

QUEUE_PAGE_SIZE = 100
ANSWERED = (RequestStatus.ANSWERED, RequestStatus.NOTHING_HELD)


@dataclass
class QueueRow:
    request: AgencyRequest
    children: list[str]
    time_left: clock.TimeLeft | None  # None once answered


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    requests = selectors.agency_queue(user=user)
    # After the permission check, so a role without access is refused whatever it sends.
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    page = Paginator(requests, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    calendar = Hub.load().calendar()
    moment = clock.now()
    rows = [
        QueueRow(
            request=r,
            children=[p.full_name for p in r.enquiry.contact.people.all()],
            time_left=clock.time_left(r.deadline_at, r.duration, calendar, moment)
            if r.is_open
            else None,
        )
        for r in page.object_list
    ]
    return render(
        request,
        "enquiries/agency/queue.html",
        {"rows": rows, "page": page, "agency": user.agency},
    )


def _may_open_requests(user: User) -> bool:
    return user.has_perm("enquiries.agency_queue") or user.has_perm("enquiries.view")


@login_required
@require_http_methods(["GET", "POST"])
def request_page(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    # Refused before the look-up, so a role with no business here cannot probe which
    # requests exist.
    if not _may_open_requests(user):
        raise PermissionDenied
    agency_request = selectors.request_for(user=user, pk=pk)
    if request.method == "POST":
        if not user.has_perm("enquiries.answer_request", agency_request):
            raise PermissionDenied
        return _post(request, user, agency_request)
    return _page(request, user, agency_request)


def _closed_reason(agency_request: AgencyRequest) -> str | None:
    """Why nothing more can be recorded on this request, if so."""
    if agency_request.enquiry.status == EnquiryStatus.CLOSED:
        return "This enquiry has been closed: the hub has made its decision."
    if agency_request.status == RequestStatus.NOT_REQUIRED:
        return "The hub no longer needs an answer from your agency."
    return None


def _page(
    request: HttpRequest,
    user: User,
    agency_request: AgencyRequest,
    *,
    held_form: HeldForm | None = None,
    formset: BaseItemFormSet | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> HttpResponse:
    may_answer = user.has_perm("enquiries.answer_request", agency_request)
    closed = _closed_reason(agency_request)
    mode = None
    if may_answer and closed is None:
        mode = "answer" if agency_request.status == RequestStatus.PENDING else "add"
    if mode is not None and formset is None:
        formset = item_formset(typed=[{}])
    if mode == "answer" and held_form is None:
        held_form = HeldForm()
    time_left = None
    if agency_request.is_open:
        time_left = clock.time_left(
            agency_request.deadline_at, agency_request.duration, Hub.load().calendar()
        )
    summary = _error_summary(held_form, formset)
    return render(
        request,
        "enquiries/agency/request.html",
        {
            "agency_request": agency_request,
            "enquiry": agency_request.enquiry,
            "people": selectors.people_on_request(user=user, request=agency_request),
            "answers": selectors.visible_answer_items(request=agency_request, viewer=user),
            "answered_by": agency_request.answered_by if agency_request.answered_at else None,
            "time_left": time_left,
            "may_answer": may_answer,
            "closed": closed,
            "mode": mode,
            "held_form": held_form,
            "formset": formset,
            "error_summary": summary,
            "items_prefix": ITEMS_PREFIX,
            "max_items": MAX_ITEMS,
            "sensitivity_hints": SENSITIVITY_HINTS,
            "conflict": conflict,
            "page_has_errors": summary is not None,
        },
        status=status,
    )


def _error_summary(
    held_form: HeldForm | None, formset: BaseItemFormSet | None
) -> dict[str, Any] | None:
    """The GOV.UK error summary; with several items, each error says which item it is in."""
    errors: list[dict[str, str]] = []
    if held_form is not None and held_form.is_bound:
        errors += (govuk_error_summary(held_form) or {}).get("errorList", [])
    if formset is not None and formset.is_bound:
        first = f"#id_{ITEMS_PREFIX}-0-summary"
        errors += [{"text": str(m), "href": first} for m in formset.non_form_errors()]
        several = len(formset.forms) > 1
        for number, form in enumerate(formset.forms, start=1):
            for error in (govuk_error_summary(form) or {}).get("errorList", []):
                if several:
                    error["text"] = f"Item {number}: {error['text']}"
                errors.append(error)
    return {"titleText": "There is a problem", "errorList": errors} if errors else None


def _version(data: QueryDict) -> int:
    try:
        return int(data.get("version", ""))
    except ValueError:
        return 0  # matches no version: the service answers with a Conflict


def _post(request: HttpRequest, user: User, agency_request: AgencyRequest) -> HttpResponse:
    data = request.POST
    mode = data.get("mode")
    # Adding or removing an item re-shows the form with what was typed, unchecked.
    if "remove_item" in data or data.get("action") == "add_item":
        skip = None
        if "remove_item" in data:
            try:
                skip = int(data["remove_item"])
            except ValueError:
                skip = None
        typed = typed_items(data, skip=skip)
        if data.get("action") == "add_item" and len(typed) < MAX_ITEMS:
            typed.append({})
        held = HeldForm(initial={"held": "items"}) if mode == "answer" else None
        return _page(
            request, user, agency_request, held_form=held, formset=item_formset(typed=typed)
        )

    closed = _closed_reason(agency_request)
    if closed is not None:
        return _page(request, user, agency_request, conflict=closed, status=409)

    formset = item_formset(data)
    try:
        if mode == "answer":
            held_form = HeldForm(data)
            if not held_form.is_valid():
                return _page(
                    request,
                    user,
                    agency_request,
                    held_form=held_form,
                    formset=item_formset(typed=typed_items(data)),
                )
            if held_form.cleaned_data["held"] == "nothing":
                if formset.has_typing():
                    held_form.add_error(
                        "held",
                        "You said nothing is held but recorded an item: "
                        "choose yes, or remove the item",
                    )
                    return _page(
                        request,
                        user,
                        agency_request,
                        held_form=held_form,
                        formset=item_formset(typed=typed_items(data)),
                    )
                services.answer_request(
                    actor=user,
                    request=agency_request,
                    nothing_held=True,
                    expected_version=_version(data),
                )
                messages.success(request, "Your answer has been sent to the hub: nothing held.")
                return redirect("enquiries:request", pk=agency_request.pk)
            if not formset.is_valid():
                return _page(request, user, agency_request, held_form=held_form, formset=formset)
            services.answer_request(
                actor=user,
                request=agency_request,
                items=formset.entries(),
                expected_version=_version(data),
            )
            messages.success(request, "Your answer has been sent to the hub.")
            return redirect("enquiries:request", pk=agency_request.pk)

        if mode == "add":
            if not formset.is_valid():
                return _page(request, user, agency_request, formset=formset)
            services.add_to_answer(actor=user, request=agency_request, items=formset.entries())
            messages.success(request, "Your addition has been sent to the hub.")
            return redirect("enquiries:request", pk=agency_request.pk)
    except Conflict as conflict:
        return _conflict(
            request, user, agency_request, conflict, typed_items(data), data.get("held")
        )
    except ValidationError as error:
        # The forms check what the service checks; this maps anything they missed.
        return _service_errors(request, user, agency_request, data, formset, error)
    # No mode: a form from an old page, or a hand-made request. Show the page again.
    return _page(request, user, agency_request, conflict="Check the request and try again.")


def _conflict(
    request: HttpRequest,
    user: User,
    agency_request: AgencyRequest,
    conflict: Conflict,
    typed: list[dict[str, Any]],
    held: str | None,
) -> HttpResponse:
    """Someone acted first: say so, show what they recorded, keep what was typed."""
    agency_request.refresh_from_db()
    agency_request.enquiry.refresh_from_db()
    message = _closed_reason(agency_request)
    if message is None and agency_request.status in ANSWERED:
        message = "Someone in your agency has already answered this request."
        if any(any(v for v in item.values()) for item in typed):
            message += (
                " Their answer is below. What you typed is kept: you can send it as an"
                " addition to the answer."
            )
    return _page(
        request,
        user,
        agency_request,
        formset=item_formset(typed=typed),
        held_form=HeldForm(initial={"held": held}),
        conflict=message or conflict.message,
        status=409,
    )


def _service_errors(
    request: HttpRequest,
    user: User,
    agency_request: AgencyRequest,
    data: QueryDict,
    formset: BaseItemFormSet,
    error: ValidationError,
) -> HttpResponse:
    held_form = HeldForm(data) if data.get("mode") == "answer" else None
    if held_form is not None:
        held_form.is_valid()
    filled = [f for f in formset.forms if getattr(f, "cleaned_data", None)]
    for key, messages_ in error.message_dict.items():
        for message in messages_:
            if key.startswith("items-") and key[6:].isdigit() and int(key[6:]) < len(filled):
                filled[int(key[6:])].add_error(None, message)
            elif held_form is not None:
                held_form.add_error("held", message)
            elif formset.forms:
                formset.forms[0].add_error(None, message)
    return _page(request, user, agency_request, held_form=held_form, formset=formset)


urlpatterns = [
    path("requests/", queue, name="queue"),
    path("requests/<int:pk>/", request_page, name="request"),
]
