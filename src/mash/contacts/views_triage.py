"""Triage of police notifications (/police/): the queue, one notification, its outcome.

Keyboard first and progressive: every page works as plain links and forms (full pages).
With JavaScript, htmx loads a notification into the panel beside the queue, and after an
outcome loads the next one and refreshes the queue, without a full page load. A request
from htmx (the HX-Request header) gets the panel alone, with the queue and the
announcement swapped in out of band; anyone else gets the whole page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers

from mash.accounts.models import User
from mash.contacts import triage
from mash.contacts import triage_selectors as selectors
from mash.contacts.forms import TextField
from mash.contacts.models import (
    NotificationChild,
    PoliceNotification,
    QualityIssue,
    TriageOutcome,
    UniversalService,
)
from mash.contacts.quality import MAX_QUALITY_NOTE, mark_quality
from mash.core.concurrency import Conflict
from mash.core.forms import MAX_TEXT_LENGTH
from mash.enquiries.models import Enquiry
from mash.people.models import Person

PANEL = "police/_triage_panel.html"
SWAP = "police/_triage_swap.html"
NO_MATCH = "none"
# The keys that choose each outcome, in the order of the radios.
OUTCOME_KEYS = {value: str(i) for i, value in enumerate(TriageOutcome.values, start=1)}


# --- Forms -----------------------------------------------------------------------------------


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=TriageOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select an outcome",
            "invalid_choice": "Select an outcome from the list",
        },
    )
    shared_with = forms.MultipleChoiceField(
        label="Share with",
        choices=UniversalService.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Select services from the list"},
    )
    shared_with_detail = TextField(
        label="Which school, health visiting team or practice?",
        max_length=triage.MAX_DETAIL,
    )
    enquiry = forms.ChoiceField(
        label="Which enquiry?",
        choices=(),
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Choose one of the children's open enquiries"},
    )
    reason = TextField(
        label="Reason for the outcome",
        required=True,
        error_messages={"required": "Enter the reason for the outcome"},
    )

    def __init__(self, *args: Any, enquiries: list[selectors.EnquiryBrief], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enquiries = enquiries
        self.fields["enquiry"].choices = [  # type: ignore[attr-defined]
            (str(e.pk), f"{e.reference} ({e.rag_label}, {e.status_label.lower()})")
            for e in enquiries
        ]
        self.fields["reason"].error_messages["max_length"] = (
            f"The reason must be {MAX_TEXT_LENGTH:,} characters or fewer"
        )
        self.fields["shared_with_detail"].error_messages["max_length"] = (
            f"This must be {triage.MAX_DETAIL} characters or fewer"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        outcome = cleaned.get("outcome")
        if outcome == TriageOutcome.SHARE_UNIVERSAL:
            if not cleaned.get("shared_with") and not self.has_error("shared_with"):
                self.add_error("shared_with", "Select who the notification is shared with")
            if not (cleaned.get("shared_with_detail") or "").strip() and not self.has_error(
                "shared_with_detail"
            ):
                self.add_error(
                    "shared_with_detail",
                    "Enter which school, health visiting team or practice it is shared with",
                )
        if outcome == TriageOutcome.ADD_TO_ENQUIRY:
            if not self.enquiries:
                self.add_error(
                    "outcome", "None of the children has an open enquiry: choose another outcome"
                )
            elif not cleaned.get("enquiry") and not self.has_error("enquiry"):
                self.add_error("enquiry", "Choose the enquiry to add the notification to")
        return cleaned


class QualityForm(forms.Form):
    issue = forms.ChoiceField(
        label="What does the notification not say?",
        choices=[*QualityIssue.choices, ("", "Nothing: clear the mark")],
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Choose what the notification is missing from the list"},
    )
    note = TextField(label="Note for the force", max_length=MAX_QUALITY_NOTE)

    def __init__(self, *args: Any, marked: bool, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "quality")
        super().__init__(*args, **kwargs)
        if not marked:
            self.fields["issue"].choices = QualityIssue.choices  # type: ignore[attr-defined]
            self.fields["issue"].required = True
            self.fields["issue"].error_messages["required"] = (
                "Choose what the notification is missing"
            )
        self.fields["note"].error_messages["max_length"] = (
            f"The note must be {MAX_QUALITY_NOTE:,} characters or fewer"
        )


class LinkForm(forms.Form):
    person = forms.ChoiceField(
        label="Who is this child in the person index?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a record, or 'No match in the index'",
            "invalid_choice": "Choose one of the records listed, or 'No match in the index'",
        },
    )

    def __init__(self, *args: Any, child: selectors.ChildDetail, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"child-{child.child.pk}")
        super().__init__(*args, **kwargs)
        self.child = child
        self.fields["person"].choices = [  # type: ignore[attr-defined]
            *((str(c.person.pk), _candidate_label(c)) for c in child.candidates),
            (NO_MATCH, "No match in the index"),
        ]
        if not self.is_bound:
            chosen = child.child.person_id
            no_match = triage.NO_MATCH_REASON in (child.child.match_reasons or [])
            self.initial["person"] = str(chosen) if chosen else (NO_MATCH if no_match else "")


def _candidate_label(candidate: Any) -> str:
    person = candidate.person
    born = (
        f"born {person.date_of_birth.day} {person.date_of_birth:%B %Y}"
        if person.date_of_birth
        else "date of birth not known"
    )
    return f"{person.full_name}, {born}: score {candidate.score}"


# --- Helpers ---------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("contacts.triage_police"):
        raise PermissionDenied
    return user


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _add_errors(form: forms.Form, error: ValidationError, fallback: str) -> None:
    for key, messages_ in error.message_dict.items():
        for message in messages_:
            form.add_error(key if key in form.fields else fallback, message)


class Panel:
    """Everything the notification's panel shows."""

    def __init__(self, user: User, detail: selectors.Detail | None) -> None:
        self.detail = detail
        self.outcome_form: OutcomeForm | None = None
        self.quality_form: QualityForm | None = None
        self.link_forms: dict[int, LinkForm] = {}
        self.conflict: Conflict | None = None
        self.may_view_enquiries = user.has_perm("enquiries.view")
        self.may_view_contacts = user.has_perm("contacts.view")
        self.open_link: int | None = None  # the child whose "change the match" stays open
        if detail is not None:
            self.outcome_form = OutcomeForm(enquiries=detail.open_enquiries)
            self.quality_form = QualityForm(marked=bool(detail.notification.quality_issue))
            self.link_forms = {c.child.pk: LinkForm(child=c) for c in detail.children}

    @property
    def has_errors(self) -> bool:
        forms_ = [self.outcome_form, self.quality_form, *self.link_forms.values()]
        return any(f is not None and f.is_bound and f.errors for f in forms_)


def _context(request: HttpRequest, panel: Panel, **extra: Any) -> dict[str, Any]:
    return {
        "panel": panel,
        "detail": panel.detail,
        "n": panel.detail.notification if panel.detail else None,
        "htmx": _htmx(request),
        "outcome_keys": OUTCOME_KEYS,
        "no_match": NO_MATCH,
        "no_match_reason": triage.NO_MATCH_REASON,
        "universal_labels": dict(UniversalService.choices),
        "page_has_errors": panel.has_errors,
        **extra,
    }


def _respond(
    request: HttpRequest,
    panel: Panel,
    *,
    announce: str = "",
    refresh_queue: bool = False,
) -> HttpResponse:
    """The panel (htmx), with the queue and the announcement out of band; else the page."""
    user: User = request.user  # type: ignore[assignment]
    if _htmx(request):
        context = _context(request, panel, announce=announce)
        if refresh_queue:
            context["queue"] = selectors.queue(user=user)
        response = HttpResponse(render_to_string(SWAP, context, request=request))
    else:
        if panel.detail is None:
            return redirect("police:queue")
        response = render(request, "police/triage/detail.html", _context(request, panel))
    patch_vary_headers(response, ["HX-Request"])
    return response


def _go_on(request: HttpRequest, user: User, done: PoliceNotification) -> HttpResponse:
    """After an outcome: the next waiting notification (after this one), announced."""
    following = selectors.next_waiting(user=user, after=done)
    said = f"Recorded: {done.reference} {triage.outcome_summary(done)}."
    said += f" Next: {following.reference}." if following else " No more notifications waiting."
    if not _htmx(request):
        messages.success(request, said)
        if following is None:
            return redirect("police:queue")
        return redirect("police:detail", pk=following.pk)
    detail = selectors.notification_for(user=user, pk=following.pk) if following else None
    return _respond(request, Panel(user, detail), announce=said, refresh_queue=True)


def _detail_or_none(user: User, pk: int) -> selectors.Detail:
    return selectors.notification_for(user=user, pk=pk, viewing=False)


# --- Views -----------------------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render(
        request,
        "police/triage/queue.html",
        {"queue": selectors.queue(user=user), "outcome_keys": OUTCOME_KEYS},
    )


@login_required
def triaged(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render(
        request,
        "police/triage/triaged.html",
        {"notifications": selectors.recently_triaged(user=user), "limit": selectors.RECENT_LIMIT},
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _respond(request, Panel(user, selectors.notification_for(user=user, pk=pk)))


@login_required
def outcome(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    notification, enquiries = selectors.for_outcome(user=user, pk=pk)
    form = OutcomeForm(request.POST, enquiries=enquiries)

    def again(conflict: Conflict | None = None) -> HttpResponse:
        """The panel once more, with the errors (or the conflict) and what was typed."""
        panel = Panel(user, _detail_or_none(user, pk))
        panel.conflict = conflict
        if conflict is None or not panel.detail or not panel.detail.notification.outcome:
            # Changed, not triaged: keep what they chose and typed, at the new version.
            panel.outcome_form = form
        return _respond(request, panel)

    if not form.is_valid():
        return again()
    data = form.cleaned_data
    chosen = next((e for e in enquiries if str(e.pk) == data.get("enquiry")), None)
    try:
        done = triage.record_outcome(
            actor=user,
            notification=notification,
            outcome=data["outcome"],
            reason=data["reason"],
            shared_with=data.get("shared_with") or [],
            shared_with_detail=data.get("shared_with_detail") or "",
            enquiry=Enquiry(pk=chosen.pk) if chosen is not None else None,
            expected_version=_version(request),
        )
    except ValidationError as error:
        _add_errors(form, error, "outcome")
        return again()
    except Conflict as conflict:
        return again(conflict)
    if done.outcome == TriageOutcome.PROGRESS_CONTACT and done.contact_id:
        messages.success(
            request,
            f"Contact drafted from {done.reference}, filled in from the notification. "
            "Check it, complete it and submit it.",
        )
        target = reverse("contacts:edit", args=[done.contact_id])
        if _htmx(request):
            # The one outcome that leaves the queue: the contact form is its own page.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    return _go_on(request, user, done)


@login_required
def link(request: HttpRequest, pk: int, child_pk: int) -> HttpResponse:
    user = _user(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    detail_ = _detail_or_none(user, pk)
    child = next((c for c in detail_.children if c.child.pk == child_pk), None)
    if child is None:
        raise Http404("No such child on this notification")
    panel = Panel(user, detail_)
    form = LinkForm(request.POST, child=child)
    panel.link_forms[child_pk] = form
    panel.open_link = child_pk
    if detail_.notification.outcome:
        panel.conflict = Conflict(
            f"{detail_.notification.reference} has already been triaged: "
            "its matches can no longer be changed here."
        )
        return _respond(request, panel)
    if not form.is_valid():
        return _respond(request, panel)
    value = form.cleaned_data["person"]
    person = None if value == NO_MATCH else Person.objects.filter(pk=int(value)).first()
    try:
        saved = triage.link_child(
            actor=user,
            notification=detail_.notification,
            child=NotificationChild(pk=child.child.pk, notification_id=detail_.notification.pk),
            person=person,
            expected_version=_version(request),
        )
    except ValidationError as error:
        _add_errors(form, error, "person")
        return _respond(request, panel)
    except Conflict as conflict:
        fresh = Panel(user, _detail_or_none(user, pk))
        fresh.conflict = conflict
        return _respond(request, fresh)
    said = (
        f"Match saved: {saved.full_name} is {saved.person.full_name} in the index."
        if saved.person is not None
        else f"Saved: {saved.full_name} has no match in the index."
    )
    if not _htmx(request):
        messages.success(request, said)
        return redirect("police:detail", pk=pk)
    return _respond(
        request, Panel(user, _detail_or_none(user, pk)), announce=said, refresh_queue=True
    )


@login_required
def quality(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    detail_ = _detail_or_none(user, pk)
    panel = Panel(user, detail_)
    form = QualityForm(request.POST, marked=bool(detail_.notification.quality_issue))
    panel.quality_form = form
    if not form.is_valid():
        return _respond(request, panel)
    try:
        marked = mark_quality(
            actor=user,
            notification=detail_.notification,
            issue=form.cleaned_data["issue"],
            note=form.cleaned_data["note"],
            expected_version=_version(request),
        )
    except ValidationError as error:
        _add_errors(form, error, "issue")
        return _respond(request, panel)
    except Conflict as conflict:
        fresh = Panel(user, _detail_or_none(user, pk))
        fresh.conflict = conflict
        fresh.quality_form = form
        return _respond(request, fresh)
    said = (
        f"Quality mark saved for {marked.reference}: {marked.get_quality_issue_display()}."
        if marked.quality_issue
        else f"Quality mark cleared for {marked.reference}."
    )
    if not _htmx(request):
        messages.success(request, said)
        return redirect("police:detail", pk=pk)
    return _respond(
        request, Panel(user, _detail_or_none(user, pk)), announce=said, refresh_queue=True
    )


urlpatterns = [
    path("", queue, name="queue"),
    path("triaged/", triaged, name="triaged"),
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/outcome/", outcome, name="outcome"),
    path("<int:pk>/children/<int:child_pk>/match/", link, name="link"),
    path("<int:pk>/quality-mark/", quality, name="quality_mark"),
]
