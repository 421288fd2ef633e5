"""Enquiry pages for the hub: hub managers and referral co-ordinators (see enquiries/urls.py).

The list and the enquiry's page, and one small form page per action. Every
write goes through enquiries.services; every read of case data through
enquiries.selectors (agencies' answers only through visible_answer_items).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from mash.accounts.models import Agency
from mash.contacts import triage_selectors
from mash.contacts.models import ContactPerson, PersonRole
from mash.core import clock
from mash.core.concurrency import Conflict
from mash.core.models import Hub
from mash.enquiries import selectors, services
from mash.enquiries.forms.manager import (
    AmendDecisionForm,
    ConsentForm,
    DecisionForm,
    NotRequiredForm,
    OverrideDecisionForm,
    OverrideForm,
    ProposeRatingForm,
    RatingForm,
    service_errors,
)
from mash.enquiries.models import (
    AgencyRequest,
    ConsentOverride,
    ConsentStatus,
    Decision,
    Enquiry,
    EnquiryStatus,
    Outcome,
    OverrideStatus,
    PrimaryNeed,
    Rag,
    RequestStatus,
    Theme,
)
from mash.enquiries.transfer import responsibility

if TYPE_CHECKING:
    from django import forms

    from mash.accounts.models import User

View = Callable[..., HttpResponse]
PAGE_SIZE = 50
PERSON_URL = "/people/{}/"  # the person's page (people app)

# The colour of each tag; the tag's word always says the same thing.
RAG_COLOURS = {
    Rag.URGENT: "govuk-tag--purple",
    Rag.RED: "govuk-tag--red",
    Rag.AMBER: "govuk-tag--orange",
    Rag.GREEN: "govuk-tag--green",
}
REQUEST_COLOURS = {
    RequestStatus.PENDING: "govuk-tag--blue",
    RequestStatus.ANSWERED: "govuk-tag--green",
    RequestStatus.NOTHING_HELD: "govuk-tag--turquoise",
    RequestStatus.NOT_REQUIRED: "govuk-tag--grey",
}
OVERRIDE_COLOURS = {
    OverrideStatus.PROPOSED: "govuk-tag--yellow",
    OverrideStatus.AUTHORISED: "govuk-tag--green",
    OverrideStatus.DECLINED: "govuk-tag--red",
}


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    colour: str
    condition: Q


# The list's groups, in the order an enquiry moves through them. "Ready for
# decision": rated, and no agency still to answer.
GROUPS = (
    Group(
        "awaiting_consent",
        "Awaiting consent",
        "govuk-tag--yellow",
        Q(status=EnquiryStatus.AWAITING_CONSENT),
    ),
    Group(
        "awaiting_rating",
        "Awaiting rating",
        "govuk-tag--light-blue",
        Q(status=EnquiryStatus.AWAITING_RATING),
    ),
    Group(
        "checks",
        "Agency checks",
        "govuk-tag--blue",
        Q(status=EnquiryStatus.CHECKS, requests_pending__gt=0),
    ),
    Group(
        "ready",
        "Ready for decision",
        "govuk-tag--green",
        Q(status=EnquiryStatus.CHECKS, requests_pending=0),
    ),
)
GROUP_BY_KEY = {g.key: g for g in GROUPS}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _posted(request: HttpRequest) -> Any:
    """The posted data, even when empty (an empty POST must show its errors, not a blank form)."""
    return request.POST if request.method == "POST" else None


def _require(user: User, permission: str, obj: Any = None) -> None:
    if not user.has_perm(permission, obj):
        raise PermissionDenied


def _read_only(permission: str) -> Callable[[View], View]:
    """Refuses those without `permission` (403) before refusing a method (405): a post
    from someone with no access is told they have none."""

    def decorate(view: View) -> View:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            _require(_user(request), permission)
            if request.method not in ("GET", "HEAD"):
                return HttpResponseNotAllowed(["GET", "HEAD"])
            return view(request, *args, **kwargs)

        return inner

    return decorate


def _group_of(enquiry: Enquiry) -> Group | None:
    if enquiry.status == EnquiryStatus.AWAITING_CONSENT:
        return GROUP_BY_KEY["awaiting_consent"]
    if enquiry.status == EnquiryStatus.AWAITING_RATING:
        return GROUP_BY_KEY["awaiting_rating"]
    if enquiry.status == EnquiryStatus.CHECKS:
        pending = getattr(enquiry, "requests_pending", None)
        if pending is None:
            pending = sum(1 for r in enquiry.requests.all() if r.status == RequestStatus.PENDING)
        return GROUP_BY_KEY["checks" if pending else "ready"]
    return None


def duration_words(delta: dt.timedelta) -> str:
    """A length of time in words: "2 days 3 hours", "5 hours 20 minutes", "4 minutes"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute")


def _children(enquiry: Enquiry) -> list[ContactPerson]:
    return [p for p in enquiry.contact.people.all() if p.role == PersonRole.CHILD]


def _adults(enquiry: Enquiry) -> list[ContactPerson]:
    return [p for p in enquiry.contact.people.all() if p.role == PersonRole.ADULT]


def _detail_url(enquiry: Enquiry) -> str:
    return reverse("enquiries:detail", args=[enquiry.pk])


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    context.setdefault("form", form)
    context["page_has_errors"] = bool(form is not None and form.is_bound and form.errors)
    context.setdefault("rag_colours", RAG_COLOURS)
    return render(request, f"enquiries/manager/{template}", context, status=status)


# The list of open enquiries.


@login_required
@_read_only("enquiries.view")
def enquiry_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    enquiries = selectors.open_enquiries(user=user)
    counts = {
        g.key: n
        for g, n in zip(
            GROUPS,
            _group_counts(enquiries),
            strict=True,
        )
    }
    chosen = GROUP_BY_KEY.get(request.GET.get("status", ""))
    if chosen is not None:
        enquiries = enquiries.filter(chosen.condition)
    enquiries = enquiries.order_by(
        Case(When(rag=Rag.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "opened_at",
        "id",
    )
    page = Paginator(enquiries, PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    rows = []
    for enquiry in page.object_list:
        group = _group_of(enquiry)
        total = enquiry.requests_total  # type: ignore[attr-defined]
        rows.append(
            {
                "enquiry": enquiry,
                "children": [p.full_name for p in _children(enquiry)],
                "group": group,
                "open_for": duration_words(now - enquiry.opened_at),
                "answered": total - enquiry.requests_pending,  # type: ignore[attr-defined]
                "total": total,
                "overdue": enquiry.requests_overdue,  # type: ignore[attr-defined]
            }
        )
    return _render(
        request,
        "list.html",
        {
            "groups": GROUPS,
            "counts": counts,
            "total": sum(counts.values()),
            "chosen": chosen,
            "rows": rows,
            "page": page,
            "pagination": _pagination(page, chosen),
        },
    )


def _group_counts(enquiries: Any) -> list[int]:
    """How many open enquiries are in each group (one query)."""
    tally = dict.fromkeys((g.key for g in GROUPS), 0)
    for status, pending in enquiries.order_by().values_list("status", "requests_pending"):
        if status == EnquiryStatus.CHECKS:
            tally["checks" if pending else "ready"] += 1
        elif status in tally:
            tally[status] += 1
    return [tally[g.key] for g in GROUPS]


def _pagination(page: Any, chosen: Group | None) -> dict[str, Any] | None:
    if page.paginator.num_pages <= 1:
        return None
    prefix = f"?status={chosen.key}&" if chosen else "?"

    def href(n: int) -> str:
        return f"{prefix}page={n}"

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


# The enquiry's page.


def _request_row(req: AgencyRequest, now: dt.datetime, calendar: Any) -> dict[str, Any]:
    overdue = req.is_overdue(now)
    left = (
        str(clock.time_left(req.deadline_at, req.duration, calendar, now))
        if req.status == RequestStatus.PENDING
        else ""
    )
    return {
        "request": req,
        "status_text": "OVERDUE" if overdue else req.get_status_display(),
        "status_colour": "govuk-tag--red" if overdue else REQUEST_COLOURS[req.status],  # type: ignore[index]
        "overdue": overdue,
        "time_left": left,
    }


FIELD_LABELS = {
    "outcome": "Decision",
    "primary_need": "Primary need",
    "rationale": "Rationale",
    "next_team": "Team that acts next",
    "lead_professional_agency": "Lead professional's agency",
    "referrer_feedback": "Feedback for the referrer",
    "themes": "Themes",
}


def _value_text(name: str, value: Any, agency_names: dict[int, str]) -> str:
    if value in (None, "", []):
        return "(none)"
    if name == "outcome":
        return Outcome(value).label if value in Outcome.values else str(value)
    if name == "primary_need":
        return PrimaryNeed(value).label if value in PrimaryNeed.values else str(value)
    if name == "themes":
        return ", ".join(Theme(t).label if t in Theme.values else str(t) for t in value)
    if name == "lead_professional_agency":
        return agency_names.get(value, f"Agency {value}")
    return str(value)


def _amendment_rows(decisions: list[Decision]) -> dict[int, list[dict[str, Any]]]:
    """Each decision's amendments, their recorded old and new values in words."""
    agency_ids = {
        v
        for d in decisions
        for a in d.amendments.all()
        for v in a.changes.get("lead_professional_agency", [])
        if isinstance(v, int)
    }
    names = (
        dict(Agency.objects.filter(pk__in=agency_ids).values_list("pk", "name"))
        if agency_ids
        else {}
    )
    rows: dict[int, list[dict[str, Any]]] = {}
    for decision in decisions:
        rows[decision.pk] = [
            {
                "amendment": amendment,
                "changes": [
                    {
                        "label": FIELD_LABELS.get(name, name),
                        "old": _value_text(name, pair[0], names),
                        "new": _value_text(name, pair[1], names),
                    }
                    for name, pair in amendment.changes.items()
                ],
            }
            for amendment in decision.amendments.all()
        ]
    return rows


@login_required
@_read_only("enquiries.view")
def enquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require(user, "enquiries.view")
    enquiry = selectors.enquiry_for(user=user, pk=pk)
    history = selectors.enquiry_history(user=user, enquiry=enquiry)
    answers = selectors.visible_answer_items(enquiry=enquiry, viewer=user)
    re_referrals = selectors.re_referrals(enquiry=enquiry)
    now = clock.now()
    calendar = Hub.load().calendar()

    items_by_request: dict[int, list[Any]] = defaultdict(list)
    for item in answers.items:
        items_by_request[item.request_id].append(item)
    children = _children(enquiry)
    adults = _adults(enquiry)
    names = {p.pk: p.full_name for p in children}
    relationships: dict[int, list[str]] = defaultdict(list)
    for rel in history.relationships:
        relationships[rel.adult_id].append(
            f"{rel.get_relationship_display()} of {names.get(rel.child_id, rel.child.full_name)}"
        )
    decisions = {d.child_id: d for d in history.decisions}
    pending = [r for r in history.requests if r.status == RequestStatus.PENDING]
    consent = history.consents[-1] if history.consents else None
    open_ = enquiry.is_open
    context = {
        "enquiry": enquiry,
        "group": _group_of_detail(enquiry, pending),
        "children": children,
        "adults": adults,
        "relationships": relationships,
        "person_url": PERSON_URL,
        "re_referrals": [
            (c, re_referrals[c.person_id]) for c in children if c.person_id in re_referrals
        ],
        "history": history,
        "consent": consent,
        "checks_may_proceed": (consent is not None and consent.status == ConsentStatus.GIVEN)
        or any(o.status == OverrideStatus.AUTHORISED for o in history.overrides),
        "requests": [_request_row(r, now, calendar) for r in history.requests],
        "pending": pending,
        "items_by_request": items_by_request,
        "withheld": answers.withheld,
        "decisions": decisions,
        "amendments": _amendment_rows(history.decisions),
        "override_colours": OVERRIDE_COLOURS,
        "latest_rating": history.ratings[-1] if history.ratings else None,
        "open_for": duration_words(now - enquiry.opened_at),
        "can": {
            "consent": open_ and user.has_perm("enquiries.record_consent", enquiry),
            "override": open_ and user.has_perm("enquiries.propose_override", enquiry),
            "authorise": open_ and user.has_perm("enquiries.authorise_override", enquiry),
            "rate": open_ and user.has_perm("enquiries.rate", enquiry),
            "propose_rating": open_
            and not user.has_perm("enquiries.rate", enquiry)
            and user.has_perm("enquiries.propose_rating", enquiry),
            "decide": open_ and user.has_perm("enquiries.decide", enquiry),
            "amend": user.has_perm("enquiries.decide", enquiry),
        },
        # The responsible local authority and any transfer (enquiries/transfer.py).
        "responsible": responsibility(user=user, enquiry=enquiry, children=children),
        "police_notifications": triage_selectors.added_to_enquiry(user=user, enquiry=enquiry),
        "outcome_report_url": f"{_detail_url(enquiry)}outcome-report/",
        "referrer_letter_url": f"{_detail_url(enquiry)}referrer-letter/",
    }
    return _render(request, "detail.html", context)


def _group_of_detail(enquiry: Enquiry, pending: list[AgencyRequest]) -> Group | None:
    if enquiry.status == EnquiryStatus.CHECKS:
        return GROUP_BY_KEY["checks" if pending else "ready"]
    return _group_of(enquiry)


# What someone else recorded first, for the conflict message.


def _conflict_rows(current: Any) -> list[tuple[str, str]]:
    def when(moment: dt.datetime | None) -> str:
        return clock_text(moment)

    if isinstance(current, Decision):
        rows = [
            ("Child", current.child.full_name),
            ("Decision", current.get_outcome_display()),
            ("Primary need", current.get_primary_need_display()),
            ("Rationale", current.rationale),
            ("Team that acts next", current.next_team),
            ("Decided by", current.decided_by.full_name),
            ("Decided at", when(current.decided_at)),
        ]
        themes = [t.get_theme_display() for t in current.themes.all()]
        if themes:
            rows.insert(3, ("Themes", ", ".join(themes)))
        return rows
    if isinstance(current, Enquiry):
        rows = [("Status", current.get_status_display())]
        if current.rag:
            rows.append(("RAG rating", current.get_rag_display()))
            rating = current.ratings.select_related("rated_by").order_by("-rated_at", "-id").first()
            if rating is not None:
                rows += [
                    ("Rated by", rating.rated_by.full_name),
                    ("Rated at", when(rating.rated_at)),
                    ("Reason", rating.rationale),
                ]
        if current.closed_at:
            rows.append(("Closed at", when(current.closed_at)))
        return rows
    if isinstance(current, ConsentOverride):
        rows = [("Override", current.get_status_display())]
        if current.decided_by is not None:
            rows += [
                ("Decided by", current.decided_by.full_name),
                ("Decided at", when(current.decided_at)),
            ]
        if current.declined_reason:
            rows.append(("Reason for declining", current.declined_reason))
        return rows
    if isinstance(current, AgencyRequest):
        rows = [("Agency", current.agency.name), ("Status", current.get_status_display())]
        if current.answered_by is not None:
            rows += [
                ("Answered by", current.answered_by.full_name),
                ("Answered at", when(current.answered_at)),
            ]
        if current.not_required_reason:
            by = current.not_required_by.full_name if current.not_required_by else ""
            rows += [("Not required because", current.not_required_reason), ("Marked by", by)]
        return rows
    return []


def clock_text(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(clock.LONDON).strftime("%-d %B %Y, %H:%M")


def _conflict_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    conflict: Conflict,
    form: forms.Form | None = None,
) -> HttpResponse:
    context["conflict"] = {"message": conflict.message, "rows": _conflict_rows(conflict.current)}
    return _render(request, template, context, form=form, status=409)


def _base(request: HttpRequest, pk: int, permission: str) -> tuple[User, Enquiry]:
    """The acting user, refused unless they hold `permission`, and the enquiry (audited view)."""
    user = _user(request)
    _require(user, permission)
    enquiry = selectors.enquiry_for(user=user, pk=pk)
    _require(user, permission, enquiry)
    return user, enquiry


def _closed(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The page of a closed enquiry: says so, shows where it stands, offers no form."""
    enquiry = context["enquiry"]
    context["conflict"] = {
        "message": "This enquiry has been closed.",
        "rows": _conflict_rows(enquiry),
    }
    return _render(request, template, context)


def _done(request: HttpRequest, enquiry: Enquiry, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(_detail_url(enquiry))


# Consent.


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, pk: int) -> HttpResponse:
    user, enquiry = _base(request, pk, "enquiries.record_consent")
    context: dict[str, Any] = {"enquiry": enquiry}
    if request.method == "GET" and not enquiry.is_open:
        return _closed(request, "consent.html", context)
    form = ConsentForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_consent(
                actor=user,
                enquiry=enquiry,
                status=data["status"],
                given_by=data["given_by"],
                decided_on=data["decided_at"],
                notes=data["notes"],
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict_page(request, "consent.html", context, conflict, form)
        else:
            return _done(request, enquiry, "Consent recorded.")
    return _render(request, "consent.html", context, form=form)


# Consent overrides.


@login_required
@require_http_methods(["GET", "POST"])
def override(request: HttpRequest, pk: int) -> HttpResponse:
    user, enquiry = _base(request, pk, "enquiries.propose_override")
    authorises = user.has_perm("enquiries.authorise_override", enquiry)
    context: dict[str, Any] = {"enquiry": enquiry, "authorises": authorises}
    if request.method == "GET" and not enquiry.is_open:
        return _closed(request, "override.html", context)
    form = OverrideForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.propose_override(
                actor=user,
                enquiry=enquiry,
                grounds=data["grounds"],
                justification=data["justification"],
                other_ground=data["other_ground"],
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict_page(request, "override.html", context, conflict, form)
        else:
            return _done(
                request,
                enquiry,
                "Override authorised: agencies can now be asked once the enquiry is rated."
                if authorises
                else "Override proposed. A hub manager must authorise it before agencies "
                "are asked.",
            )
    return _render(request, "override.html", context, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def override_decide(request: HttpRequest, pk: int, override_pk: int) -> HttpResponse:
    user, enquiry = _base(request, pk, "enquiries.authorise_override")
    proposal = selectors.override_on(user=user, enquiry=enquiry, pk=override_pk)
    form = OverrideDecisionForm(_posted(request))
    context: dict[str, Any] = {"enquiry": enquiry, "override": proposal}
    if proposal.status != OverrideStatus.PROPOSED and request.method == "GET":
        context["conflict"] = {
            "message": "This override has already been decided.",
            "rows": _conflict_rows(proposal),
        }
        return _render(request, "override_decide.html", context, form=None)
    if request.method == "POST" and form.is_valid():
        authorise = form.cleaned_data["decision"] == "authorise"
        try:
            services.decide_override(
                actor=user,
                override=proposal,
                authorise=authorise,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict_page(request, "override_decide.html", context, conflict)
        else:
            return _done(
                request, enquiry, "Override authorised." if authorise else "Override declined."
            )
    return _render(request, "override_decide.html", context, form=form)


# RAG rating.


def _summary_start(concern: str, limit: int = 600) -> str:
    """The start of the concern, cut at a word, to prefill the summary for agencies."""
    text = " ".join(concern.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"


def _rag_hints() -> dict[str, str]:
    hub = Hub.load()
    hints = {}
    for rag in Rag:
        duration = hub.duration_for(rag)
        hints[rag.value] = (
            f"Immediate danger: hold a strategy discussion now. Agencies answer within {duration}."
            if rag == Rag.URGENT
            else f"Agencies answer within {duration}."
        )
    return hints


@login_required
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not (user.has_perm("enquiries.rate") or user.has_perm("enquiries.propose_rating")):
        raise PermissionDenied
    enquiry = selectors.enquiry_for(user=user, pk=pk)
    context: dict[str, Any] = {
        "enquiry": enquiry,
        "hints": _rag_hints(),
        "may_proceed": services.checks_may_proceed(enquiry),
        "proposed_by": enquiry.proposed_rag_by,
        "manager": user.has_perm("enquiries.rate", enquiry),
        "first": not enquiry.rag,
    }
    if request.method == "GET" and not enquiry.is_open:
        return _closed(request, "rate.html", context)
    if user.has_perm("enquiries.rate", enquiry):
        return _rate_as_manager(request, user, enquiry, context)
    return _propose_rating(request, user, enquiry, context)


def _rate_as_manager(
    request: HttpRequest, user: User, enquiry: Enquiry, context: dict[str, Any]
) -> HttpResponse:
    first = not enquiry.rag
    agencies = list(Agency.objects.filter(is_active=True).order_by("name")) if first else []
    initial: dict[str, Any] = {"version": enquiry.version, "team": enquiry.team_id}
    if first:
        initial["summary_for_agencies"] = _summary_start(enquiry.contact.concern)
        if enquiry.proposed_rag:
            initial["rag"] = enquiry.proposed_rag
    form = RatingForm(
        _posted(request),
        first=first,
        agencies=agencies,
        current_team_id=enquiry.team_id,
        initial=initial,
    )
    context.update({"first": first, "manager": True, "agencies": agencies})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.rate_enquiry(
                actor=user,
                enquiry=enquiry,
                rag=data["rag"],
                rationale=data["rationale"],
                summary_for_agencies=data.get("summary_for_agencies", ""),
                not_required=data["not_required_reasons"],
                expected_version=data["version"],
                team=data["team"],
            )
        except ValidationError as error:
            service_errors(form, error, form.renames())
        except Conflict as conflict:
            return _conflict_page(request, "rate.html", context, conflict)
        else:
            rag = Rag(data["rag"]).label
            return _done(
                request,
                enquiry,
                f"Enquiry rated {rag}. Agencies have been asked and their clocks have started."
                if first
                else f"Enquiry re-rated {rag}. Open requests' clocks have restarted.",
            )
    return _render(request, "rate.html", context, form=form)


def _propose_rating(
    request: HttpRequest, user: User, enquiry: Enquiry, context: dict[str, Any]
) -> HttpResponse:
    _require(user, "enquiries.propose_rating", enquiry)
    form = ProposeRatingForm(
        _posted(request),
        initial={"rag": enquiry.proposed_rag, "reason": enquiry.proposed_rag_reason},
    )
    context.update({"first": not enquiry.rag, "manager": False})
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_rating(
                actor=user,
                enquiry=enquiry,
                rag=form.cleaned_data["rag"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict_page(request, "rate.html", context, conflict)
        else:
            return _done(
                request,
                enquiry,
                f"Rating of {Rag(form.cleaned_data['rag']).label} suggested. "
                "A hub manager will confirm the rating.",
            )
    return _render(request, "rate.html", context, form=form)


# An agency not required.


@login_required
@require_http_methods(["GET", "POST"])
def request_not_required(request: HttpRequest, pk: int, request_pk: int) -> HttpResponse:
    user, enquiry = _base(request, pk, "enquiries.rate")
    agency_request = selectors.request_on(user=user, enquiry=enquiry, pk=request_pk)
    context: dict[str, Any] = {"enquiry": enquiry, "agency_request": agency_request}
    if agency_request.status != RequestStatus.PENDING and request.method == "GET":
        context["conflict"] = {
            "message": "This agency has already answered or been excluded.",
            "rows": _conflict_rows(agency_request),
        }
        return _render(request, "not_required.html", context)
    form = NotRequiredForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_not_required(
                actor=user, request=agency_request, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict_page(request, "not_required.html", context, conflict)
        else:
            return _done(request, enquiry, f"{agency_request.agency.name} marked as not required.")
    return _render(request, "not_required.html", context, form=form)


# Decisions.


def _child_on(enquiry: Enquiry, person_pk: int) -> ContactPerson:
    for child in _children(enquiry):
        if child.person_id == person_pk:
            return child
    raise Http404("No such child on this enquiry")


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    user, enquiry = _base(request, pk, "enquiries.decide")
    child = _child_on(enquiry, person_pk)
    history = selectors.enquiry_history(user=user, enquiry=enquiry)
    pending = [r for r in history.requests if r.status == RequestStatus.PENDING]
    existing = next((d for d in history.decisions if d.child_id == person_pk), None)
    context: dict[str, Any] = {
        "enquiry": enquiry,
        "child": child,
        "pending": pending,
        "requests": history.requests,
    }
    if request.method == "GET" and existing is not None:
        context["conflict"] = {
            "message": "A decision has already been recorded for this child.",
            "rows": _conflict_rows(existing),
        }
        context["existing"] = existing
        return _render(request, "decide.html", context)
    if request.method == "GET" and not enquiry.is_open:
        return _closed(request, "decide.html", context)
    # Before rating no agency has been asked: that also needs a reason.
    context["unasked"] = not enquiry.rag
    form = DecisionForm(_posted(request), pending=bool(pending), unasked=not enquiry.rag)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.decide(
                actor=user,
                enquiry=enquiry,
                child=child.person,
                outcome=data["outcome"],
                primary_need=data["primary_need"],
                rationale=data["rationale"],
                next_team=data["next_team"],
                themes=data["themes"],
                lead_professional_agency=data["lead_professional_agency"],
                referrer_feedback=data["referrer_feedback"],
                pending_reason=data.get("pending_reason", ""),
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            if isinstance(conflict.current, Decision):
                context["existing"] = conflict.current
            return _conflict_page(request, "decide.html", context, conflict)
        else:
            enquiry.refresh_from_db(fields=["status", "closed_at"])
            message = f"Decision recorded for {child.full_name}."
            if enquiry.status == EnquiryStatus.CLOSED:
                message += " Every child now has a decision: the enquiry is closed."
            return _done(request, enquiry, message)
    return _render(request, "decide.html", context, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def amend(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    user, enquiry = _base(request, pk, "enquiries.decide")
    decision = selectors.decision_on(user=user, enquiry=enquiry, pk=decision_pk)
    form = AmendDecisionForm(_posted(request), initial=AmendDecisionForm.initial_for(decision))
    context: dict[str, Any] = {"enquiry": enquiry, "decision": decision}
    if request.method == "POST" and form.is_valid():
        changes = form.changes(decision)
        themes = changes.pop("themes", None)
        try:
            services.amend_decision(
                actor=user,
                decision=decision,
                reason=form.cleaned_data["reason"],
                themes=themes,
                **changes,
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict_page(request, "amend.html", context, conflict)
        else:
            return _done(request, enquiry, f"Decision for {decision.child.full_name} amended.")
    return _render(request, "amend.html", context, form=form)


urlpatterns = [
    path("enquiries/", enquiry_list, name="list"),
    path("enquiries/<int:pk>/", enquiry_detail, name="detail"),
    path("enquiries/<int:pk>/consent/", consent, name="consent"),
    path("enquiries/<int:pk>/override/", override, name="override"),
    path(
        "enquiries/<int:pk>/overrides/<int:override_pk>/decide/",
        override_decide,
        name="override_decide",
    ),
    path("enquiries/<int:pk>/rate/", rate, name="rate"),
    path(
        "enquiries/<int:pk>/requests/<int:request_pk>/not-required/",
        request_not_required,
        name="request_not_required",
    ),
    path("enquiries/<int:pk>/decide/<int:person_pk>/", decide, name="decide"),
    path("enquiries/<int:pk>/decisions/<int:decision_pk>/amend/", amend, name="amend"),
]
