"""The professionals' advice line: /advice/.

Logging a call (the child matched to the person index as it is typed), the calls on the
line, a call, its follow-up, and the monthly figures. Advice-line workers and hub managers
use it; analysts see the figures only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from mash.accounts.models import AgencyKind, Role, User
from mash.contacts import advice
from mash.contacts.advice_forms import (
    NOT_IN_INDEX,
    ConsultationForm,
    FollowUpDoneForm,
    initial_for,
    map_errors,
    parse_month,
)
from mash.contacts.models import Consultation, ConsultationOutcome, ContactStatus
from mash.core import audit
from mash.core.concurrency import Conflict
from mash.core.spreadsheet import safe_cell as csv_safe

PAGE_SIZE = 25
HOME_FOLLOW_UPS = 10


def _user(request: HttpRequest, permission: str = "contacts.advice_line") -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm(permission):
        raise PermissionDenied
    return user


def _read_only(request: HttpRequest) -> HttpResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    return HttpResponseNotAllowed(["GET", "HEAD"])


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _pagination(page: Any, query: str) -> dict[str, Any] | None:
    if page.paginator.num_pages <= 1:
        return None

    def href(n: int) -> str:
        return f"?{query}&page={n}" if query else f"?page={n}"

    params: dict[str, Any] = {
        "items": [
            {"number": n, "href": href(n), "current": n == page.number}
            for n in page.paginator.get_elided_page_range(page.number)
            if isinstance(n, int)
        ]
    }
    if page.has_previous():
        params["previous"] = {"href": href(page.previous_page_number())}
    if page.has_next():
        params["next"] = {"href": href(page.next_page_number())}
    return params


def child_name(consultation: Consultation) -> str:
    name = f"{consultation.child_given_name} {consultation.child_family_name}".strip()
    if name:
        return name
    return "A child, name not given" if consultation.child_date_of_birth else ""


def contact_link(user: User, consultation: Consultation) -> str | None:
    """Where the user may open the contact a call progressed to (None: they may not)."""
    contact = consultation.contact
    if contact is None:
        return None
    if user.has_perm("contacts.view"):
        return reverse("contacts:detail", args=[contact.pk])
    if contact.status == ContactStatus.DRAFT and contact.created_by_id == user.pk:
        return reverse("contacts:edit", args=[contact.pk])
    return None


KIND_LABELS = dict(AgencyKind.choices)


def kind_label(value: str) -> str:
    return str(KIND_LABELS.get(value, value or "Not recorded"))


def _common(user: User) -> dict[str, Any]:
    return {
        "child_name": child_name,
        "contact_link": lambda c: contact_link(user, c),
        "due_words": advice.due_words,
        "kind_label": kind_label,
        "today": advice.today(),
        "may_see_figures": user.has_perm("contacts.advice_figures"),
    }


# --- The list -------------------------------------------------------------------------------


@login_required
def consultation_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if refused := _read_only(request):
        return refused
    whose = request.GET.get("whose", "")
    if whose not in ("mine", "all"):
        whose = "all" if user.has_role(Role.HUB_MANAGER) else "mine"
    calls = advice.consultations(user=user, mine=whose == "mine")
    page = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "advice/list.html",
        {
            **_common(user),
            "page": page,
            "whose": whose,
            "pagination": _pagination(page, f"whose={whose}"),
            "due": advice.follow_ups(user=user, due_by=advice.today()).count(),
        },
    )


# --- Logging and changing a call ------------------------------------------------------------


class Page:
    """What the call form page shows, built up by the view."""

    def __init__(self, form: ConsultationForm, consultation: Consultation | None) -> None:
        self.form = form
        self.consultation = consultation
        self.version = consultation.version if consultation is not None else None
        self.focus = ""
        self.conflict: Conflict | None = None
        self.matches: dict[str, Any] | None = None


@login_required
@require_http_methods(["GET", "POST"])
def consultation_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "GET":
        form = ConsultationForm()
        return _render_form(request, user, Page(form, None))
    return _post(request, user, None)


@login_required
@require_http_methods(["GET", "POST"])
def consultation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    consultation = advice.consultation_for(user=user, pk=pk, viewing=request.method == "GET")
    if not advice.may_change(user, consultation):
        raise PermissionDenied
    if request.method == "GET":
        form = ConsultationForm(initial_for(consultation))
        form.quiet = True
        return _render_form(request, user, Page(form, consultation))
    return _post(request, user, consultation)


def _post(request: HttpRequest, user: User, consultation: Consultation | None) -> HttpResponse:
    form = ConsultationForm(request.POST)
    page = Page(form, consultation)
    if consultation is not None:
        page.version = _version(request)
    if request.POST.get("action") == "match":
        form.quiet = True
        page.matches = _matches(user, form, asked=True)
        # Fetched as the user typed (htmx, triggered by the box itself): leave the focus where
        # they are typing. Asked for with the button: take them to the matches.
        if request.headers.get("HX-Trigger") != "child-box":
            page.focus = "child-matches"
        return _render_form(request, user, page)
    if form.is_valid():
        _check_match(user, page)
    if not form.errors:
        try:
            if consultation is None:
                saved = advice.log_consultation(actor=user, entry=form.entry())
            else:
                saved = advice.update_consultation(
                    actor=user,
                    consultation=consultation,
                    entry=form.entry(),
                    expected_version=page.version,
                )
        except ValidationError as error:
            map_errors(form, error)
        except Conflict as conflict:
            page.conflict = conflict
            # Saving again, knowingly, replaces their version with what is on this page.
            page.version = getattr(conflict.current, "version", page.version)
        else:
            return _saved(request, user, saved, new=consultation is None)
    return _render_form(request, user, page)


def _saved(request: HttpRequest, user: User, saved: Consultation, *, new: bool) -> HttpResponse:
    verb = "logged" if new else "changed"
    if saved.outcome == ConsultationOutcome.CONTACT and saved.contact is not None:
        link = contact_link(user, saved)
        if saved.contact.status == ContactStatus.DRAFT and link is not None:
            messages.success(
                request,
                f"Call {saved.reference} {verb}. Contact {saved.contact.reference} has been "
                "filled in from the call: check it, add what you know and submit it.",
            )
            return redirect(link)
    messages.success(request, f"Call {saved.reference} {verb}.")
    return redirect("advice:detail", pk=saved.pk)


def _matches(user: User, form: ConsultationForm, *, asked: bool = False) -> dict[str, Any] | None:
    """The candidates to show under the child, if asked for (or one is chosen)."""
    cached: dict[str, Any] | None = getattr(form, "_advice_matches", None)
    if cached is not None:
        return cached
    link = str(form["link_to"].value() or "")
    wanted = asked or str(form["matched"].value() or "") == "1" or link not in ("", NOT_IN_INDEX)
    if not wanted:
        return None
    linked = advice.chosen_person(user=user, value=link)
    found = (
        advice.child_matches(user=user, query=form.match_query(), linked=linked)
        if form.can_match() or linked is not None
        else []
    )
    shown = {
        "matches": found,
        "none_chosen": link == NOT_IN_INDEX,
        "can_match": form.can_match(),
    }
    form._advice_matches = shown  # type: ignore[attr-defined]
    return shown


def _check_match(user: User, page: Page) -> None:
    """A child typed with possible matches must be linked to one, or said not to be any."""
    form = page.form
    if form.cleaned_data.get("link_to") or not form.can_match():
        return
    shown = _matches(user, form, asked=True)
    if shown and shown["matches"]:
        page.matches = shown
        form.add_error(
            "link_to",
            "Check the possible matches for the child: choose their record, "
            "or 'Not in the person index'",
        )


def _render_form(request: HttpRequest, user: User, page: Page) -> HttpResponse:
    form = page.form
    if page.matches is None:
        page.matches = _matches(user, form)
    consultation = page.consultation
    action = (
        reverse("advice:edit", args=[consultation.pk])
        if consultation is not None
        else reverse("advice:new")
    )
    summary = None if form.quiet else _summary(form)
    return render(
        request,
        "advice/form.html",
        {
            "consultation": consultation,
            "form": form,
            "form_action": action,
            "version": page.version,
            "matches": page.matches,
            "focus": page.focus,
            "conflict": page.conflict,
            "summary": summary,
            "page_has_errors": bool(summary),
            "may_view_record": user.has_perm("people.view_record"),
            "outcome_fixed": consultation is not None
            and consultation.outcome == ConsultationOutcome.CONTACT,
            "early_help": ConsultationOutcome.EARLY_HELP,
        },
    )


def _summary(form: ConsultationForm) -> dict[str, Any] | None:
    from mash.core.govuk import govuk_error_summary

    summary = govuk_error_summary(form)
    if summary is None:
        return None
    for item in summary["errorList"]:
        # The match choice is a hidden field or a set of radios: link to the matches.
        if item.get("href") == "#id_link_to":
            item["href"] = "#child-matches"
    return summary


# --- A call and its follow-up ---------------------------------------------------------------


@login_required
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if refused := _read_only(request):
        return refused
    consultation = advice.consultation_for(user=user, pk=pk)
    person = consultation.person
    return render(
        request,
        "advice/detail.html",
        {
            **_common(user),
            "c": consultation,
            "person": person,
            "known": advice.known_to_hub(person),
            "may_change": advice.may_change(user, consultation),
            "may_view_record": user.has_perm("people.view_record"),
            "done_by": advice.follow_up_done_by(consultation)
            if consultation.follow_up_done_at
            else "",
            "early_help": ConsultationOutcome.EARLY_HELP,
        },
    )


RETURN_TO = {"home": "core:home", "follow-ups": "advice:follow_ups"}


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    consultation = advice.consultation_for(user=user, pk=pk, viewing=request.method == "GET")
    back = request.GET.get("from", "") or request.POST.get("from", "")
    back = back if back in RETURN_TO else ""
    if consultation.follow_up_on is None:
        messages.info(request, f"Call {consultation.reference} has no follow-up.")
        return redirect("advice:detail", pk=consultation.pk)
    if consultation.follow_up_done_at is not None:
        messages.info(request, f"The follow-up to call {consultation.reference} is already done.")
        return redirect("advice:detail", pk=consultation.pk)
    form = FollowUpDoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            advice.complete_follow_up(
                actor=user,
                consultation=consultation,
                note=form.cleaned_data["note"],
                expected_version=_version(request),
            )
        except ValidationError as error:
            map_errors(form, error)
        except Conflict:
            done_by = advice.follow_up_done_by(consultation) or "Someone else"
            messages.info(
                request,
                f"{done_by} has already marked the follow-up to call {consultation.reference} "
                "as done.",
            )
            return redirect("advice:detail", pk=consultation.pk)
        else:
            messages.success(request, f"Follow-up to call {consultation.reference} marked as done.")
            return redirect(RETURN_TO[back]) if back else redirect("advice:detail", pk=pk)
    return render(
        request,
        "advice/follow_up_done.html",
        {
            **_common(user),
            "c": consultation,
            "form": form,
            "back": back,
            "page_has_errors": bool(form.errors),
        },
    )


@login_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if refused := _read_only(request):
        return refused
    today = advice.today()
    page = Paginator(advice.follow_ups(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "advice/follow_ups.html",
        {
            **_common(user),
            "page": page,
            "pagination": _pagination(page, ""),
            "due": advice.follow_ups(user=user, due_by=today).count(),
        },
    )


def home_follow_ups(user: User) -> dict[str, Any]:
    """The advice-line worker's home page: their own follow-ups due today or overdue."""
    today = advice.today()
    mine = list(advice.follow_ups(user=user, due_by=today, mine=True)[: HOME_FOLLOW_UPS + 1])
    return {
        "rows": [
            (c, *advice.due_words(c.follow_up_on or today, today)) for c in mine[:HOME_FOLLOW_UPS]
        ]
        if mine
        else [],
        "more": len(mine) > HOME_FOLLOW_UPS,
    }


# --- The monthly figures --------------------------------------------------------------------


def _month_label(month: dt.date) -> str:
    return f"{month:%B %Y}"


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.advice_figures")
    if refused := _read_only(request):
        return refused
    latest = advice.today()
    month, error = parse_month(request.GET.get("month", ""), latest)
    if month is None:
        if request.GET.get("format") == "csv":
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        return render(
            request,
            "advice/figures.html",
            {"error": error, "page_has_errors": True, "figures": None, "value": ""},
            status=400,
        )
    found = advice.month_figures(user=user, month=month)
    if request.GET.get("format") == "csv":
        audit.record(
            action="contacts.advice_figures_exported",
            actor=user,
            detail={"month": f"{month:%Y-%m}"},
        )
        response = HttpResponse(_csv(found), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="advice-line-{month:%Y-%m}.csv"'
        return response
    previous = (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "advice/figures.html",
        {
            "figures": found,
            "label": _month_label(month),
            "value": f"{month:%Y-%m}",
            "previous": (f"{previous:%Y-%m}", _month_label(previous)),
            "next": (f"{following:%Y-%m}", _month_label(following))
            if following <= latest.replace(day=1)
            else None,
            "error": "",
        },
    )


def _csv(found: advice.MonthFigures) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    month = f"{found.month:%Y-%m}"
    writer.writerow(["month", "figure", "category", "calls"])
    writer.writerow([month, "All calls", "", found.calls])
    for row in found.by_agency_kind:
        writer.writerow([month, "Calls by caller's kind of agency", csv_safe(row.label), row.calls])
    for row in found.by_outcome:
        writer.writerow([month, "Calls by outcome", csv_safe(row.label), row.calls])
    share = found.early_help_share
    writer.writerow(
        [
            month,
            "Share leading to an early help assessment recommendation (percent)",
            "early help recommended / all calls x 100, rounded",
            "" if share is None else share,
        ]
    )
    return out.getvalue()


urlpatterns = [
    path("", consultation_list, name="list"),
    path("new/", consultation_new, name="new"),
    path("follow-ups/", follow_up_list, name="follow_ups"),
    path("figures/", figures, name="figures"),
    path("<int:pk>/", consultation_detail, name="detail"),
    path("<int:pk>/edit/", consultation_edit, name="edit"),
    path("<int:pk>/follow-up/", follow_up_done, name="follow_up_done"),
]
