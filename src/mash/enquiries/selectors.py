"""Reads for enquiries, narrowed to what the user may see.

The MASH-only rule lives in one place: `visible_answer_items`. Every page,
download, outcome document and transfer package gets agencies' answers through
it, so none can show what its audience may not see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from mash.accounts.models import Role
from mash.contacts.models import ContactPerson, ContactRelationship, PersonRole
from mash.core import audit, clock
from mash.enquiries.models import (
    OPEN_STATUSES,
    AgencyRequest,
    AnswerItem,
    Consent,
    ConsentOverride,
    Decision,
    DecisionAmendment,
    Enquiry,
    Rating,
    RequestStatus,
    Sensitivity,
)
from mash.people.selectors import re_referral_since

if TYPE_CHECKING:
    from mash.accounts.models import User


class Audience:
    """Who will read the answers."""

    HUB = "hub"  # a user in the hub, on screen or in a download: the viewer's own rights
    OUTCOME_REPORT = "outcome_report"  # the team that acts next: everything but MASH-only
    REFERRER = "referrer"  # the referrer's feedback letter: only what the family may see
    TRANSFER = "transfer"  # another authority: everything but MASH-only


@dataclass
class VisibleAnswers:
    items: list[AnswerItem]
    # Agencies holding MASH-only information the reader may not see: name -> how many items.
    withheld: dict[str, int] = field(default_factory=dict)
    # The same, by agency request: request id -> how many items (to say where it is held).
    withheld_requests: dict[int, int] = field(default_factory=dict)


def visible_answer_items(
    *,
    enquiry: Enquiry | None = None,
    request: AgencyRequest | None = None,
    enquiries: Iterable[Enquiry | int] | None = None,
    viewer: User | None = None,
    audience: str = Audience.HUB,
) -> VisibleAnswers:
    """Agencies' answer items an audience may see (the one sensitivity rule).

    - Hub managers see everything.
    - An agency practitioner sees only their own agency's answers.
    - A referral co-ordinator sees every agency's answers except the content of
      MASH-only items, which are named as held by their agency.
    - Outcome reports and transfer packages leave out MASH-only items; the
      referrer's letter holds only items shareable with the family.

    `enquiries` reads several enquiries' answers in one query (a person's chronology).
    """
    if sum(given is not None for given in (enquiry, request, enquiries)) != 1:
        raise ValueError("Give an enquiry, a request or enquiries")
    items = AnswerItem.objects.select_related("agency", "created_by").order_by("created_at", "id")
    if request is not None:
        items = items.filter(request=request)
    elif enquiries is not None:
        items = items.filter(request__enquiry__in=list(enquiries))
    else:
        items = items.filter(request__enquiry=enquiry)

    if audience == Audience.REFERRER:
        return VisibleAnswers(list(items.filter(sensitivity=Sensitivity.SHAREABLE)))
    if audience in (Audience.OUTCOME_REPORT, Audience.TRANSFER):
        return VisibleAnswers(list(items.exclude(sensitivity=Sensitivity.MASH_ONLY)))
    if audience != Audience.HUB or viewer is None:
        raise ValueError(f"Unknown audience {audience!r}")

    if viewer.has_perm("enquiries.view_mash_only"):
        return VisibleAnswers(list(items))
    own_agency = Q(agency_id=viewer.agency_id) if viewer.agency_id else Q(pk__in=[])
    if viewer.has_role(Role.REFERRAL_COORDINATOR):
        everything = list(items)
        shown = [
            i
            for i in everything
            if i.sensitivity != Sensitivity.MASH_ONLY or i.agency_id == viewer.agency_id
        ]
        hidden = [i for i in everything if i not in shown]
        held = Counter(i.agency.name for i in hidden)
        by_request = Counter(i.request_id for i in hidden)
        return VisibleAnswers(shown, dict(sorted(held.items())), dict(by_request))
    if viewer.has_role(Role.AGENCY_PRACTITIONER):
        return VisibleAnswers(list(items.filter(own_agency)))
    return VisibleAnswers([])


def _people_prefetch() -> Prefetch:
    return Prefetch(
        "contact__people",
        queryset=ContactPerson.objects.select_related("person").order_by("role", "position"),
    )


def open_enquiries(*, user: User) -> QuerySet[Enquiry]:
    """Open enquiries with their people and request counts, in a fixed number of queries."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    now = clock.now()
    return (
        Enquiry.objects.filter(status__in=OPEN_STATUSES)
        .select_related("contact")
        .prefetch_related(_people_prefetch())
        .annotate(
            requests_total=Count(
                "requests", filter=~Q(requests__status=RequestStatus.NOT_REQUIRED)
            ),
            requests_pending=Count("requests", filter=Q(requests__status=RequestStatus.PENDING)),
            requests_overdue=Count(
                "requests",
                filter=Q(requests__status=RequestStatus.PENDING, requests__deadline_at__lte=now),
            ),
        )
        .order_by("opened_at", "id")
    )


def enquiry_for(*, user: User, pk: int) -> Enquiry:
    """One enquiry for the hub's case workers; the view is audited."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    try:
        enquiry = (
            Enquiry.objects.select_related("contact", "contact__created_by", "opened_by")
            .prefetch_related(_people_prefetch())
            .get(pk=pk)
        )
    except Enquiry.DoesNotExist:
        raise Http404("No such enquiry") from None
    audit.viewed(actor=user, obj=enquiry)
    return enquiry


def agency_queue(*, user: User) -> QuerySet[AgencyRequest]:
    """The user's agency's requests on open enquiries: pending first, soonest deadline first."""
    if not user.has_perm("enquiries.agency_queue") or user.agency_id is None:
        raise PermissionDenied
    return (
        AgencyRequest.objects.filter(agency_id=user.agency_id, enquiry__status__in=OPEN_STATUSES)
        .exclude(status=RequestStatus.NOT_REQUIRED)
        .select_related("enquiry", "enquiry__contact")
        .prefetch_related(
            Prefetch(
                "enquiry__contact__people",
                queryset=ContactPerson.objects.filter(role=PersonRole.CHILD).order_by("position"),
            )
        )
        # Pending first by an explicit rank: ordering by the status text would
        # depend on how the statuses happen to spell.
        .annotate(
            pending_rank=Case(
                When(status=RequestStatus.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("pending_rank", "deadline_at", "id")
    )


def request_for(*, user: User, pk: int) -> AgencyRequest:
    """One agency request, for its own agency's practitioners and the hub; the view is audited."""
    try:
        request = AgencyRequest.objects.select_related("enquiry", "enquiry__contact", "agency").get(
            pk=pk
        )
    except AgencyRequest.DoesNotExist:
        raise Http404("No such request") from None
    if not user.has_perm("enquiries.view_request", request):
        raise PermissionDenied
    audit.viewed(actor=user, obj=request)
    return request


# The hub's enquiry pages (views/manager.py). Each list below is one query,
# however many agencies, items or amendments the enquiry has.


@dataclass
class EnquiryHistory:
    consents: list[Consent]
    overrides: list[ConsentOverride]
    ratings: list[Rating]
    requests: list[AgencyRequest]
    decisions: list[Decision]
    relationships: list[ContactRelationship]


def enquiry_history(*, user: User, enquiry: Enquiry) -> EnquiryHistory:
    """Consent, overrides, ratings, agency requests and decisions of an enquiry, newest last."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    return EnquiryHistory(
        consents=list(enquiry.consents.select_related("recorded_by").order_by("recorded_at", "id")),
        overrides=list(
            enquiry.overrides.select_related("proposed_by", "decided_by").order_by(
                "proposed_at", "id"
            )
        ),
        ratings=list(enquiry.ratings.select_related("rated_by").order_by("rated_at", "id")),
        requests=list(
            enquiry.requests.select_related("agency", "answered_by", "not_required_by").order_by(
                "agency__name", "id"
            )
        ),
        decisions=list(_decisions(enquiry)),
        relationships=list(
            ContactRelationship.objects.filter(contact_id=enquiry.contact_id)
            .select_related("adult", "child")
            .order_by("adult__position", "child__position", "id")
        ),
    )


def _decisions(enquiry: Enquiry) -> QuerySet[Decision]:
    return (
        enquiry.decisions.select_related("child", "decided_by", "lead_professional_agency")
        .prefetch_related(
            "themes",
            Prefetch(
                "amendments",
                queryset=DecisionAmendment.objects.select_related("amended_by").order_by(
                    "amended_at", "id"
                ),
            ),
        )
        .order_by("decided_at", "id")
    )


def decision_on(*, user: User, enquiry: Enquiry, pk: int) -> Decision:
    """One decision on an enquiry the user may view (404 if it is another enquiry's)."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    decision = _decisions(enquiry).filter(pk=pk).first()
    if decision is None:
        raise Http404("No such decision")
    return decision


def override_on(*, user: User, enquiry: Enquiry, pk: int) -> ConsentOverride:
    """One consent override on an enquiry the user may view."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    override = (
        enquiry.overrides.select_related("proposed_by", "decided_by", "enquiry")
        .filter(pk=pk)
        .first()
    )
    if override is None:
        raise Http404("No such override")
    return override


def request_on(*, user: User, enquiry: Enquiry, pk: int) -> AgencyRequest:
    """One agency request on an enquiry the user may view (for the hub's own pages)."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    request = (
        enquiry.requests.select_related("agency", "enquiry", "answered_by", "not_required_by")
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such request")
    return request


def re_referrals(*, enquiry: Enquiry) -> dict[int, Decision]:
    """Children of the enquiry with a referral decision (s47 or s17) on another enquiry in
    the 12 months before this contact was received: child's person id -> latest such decision.
    One query, however many children (the rule is the person index's: people.selectors)."""
    child_ids = [
        link.person_id for link in enquiry.contact.people.all() if link.role == PersonRole.CHILD
    ]
    return re_referral_since(
        child_ids,
        enquiry.contact.received_at or enquiry.opened_at,
        exclude_enquiry_id=enquiry.pk,
    )


# The agency practitioner's request page and the outcome documents
# (views/agency.py, views/documents.py).


@dataclass
class PeopleOnContact:
    children: list[ContactPerson]
    adults: list[ContactPerson]
    # An adult's ContactPerson id -> how they relate to each child, in words.
    relationships: dict[int, list[str]]


def _people_on_contact(contact_id: int) -> PeopleOnContact:
    people = list(
        ContactPerson.objects.filter(contact_id=contact_id).order_by("role", "position", "id")
    )
    relationships: dict[int, list[str]] = {}
    for link in (
        ContactRelationship.objects.filter(contact_id=contact_id)
        .select_related("adult", "child")
        .order_by("adult__position", "child__position", "id")
    ):
        relationships.setdefault(link.adult_id, []).append(
            f"{link.get_relationship_display()} of {link.child.full_name}"
        )
    return PeopleOnContact(
        children=[p for p in people if p.role == PersonRole.CHILD],
        adults=[p for p in people if p.role == PersonRole.ADULT],
        relationships=relationships,
    )


def people_on_request(*, user: User, request: AgencyRequest) -> PeopleOnContact:
    """The children and adults an agency is asked to search for, with their identifying
    details as the contact recorded them (two queries)."""
    if not user.has_perm("enquiries.view_request", request):
        raise PermissionDenied
    return _people_on_contact(request.enquiry.contact_id)


def enquiry_for_documents(*, user: User, pk: int) -> Enquiry:
    """An enquiry for its outcome documents. Not audited here: the view records which
    document was viewed or downloaded."""
    if not user.has_perm("enquiries.outcome_documents"):
        raise PermissionDenied
    try:
        return Enquiry.objects.select_related("contact").get(pk=pk)
    except Enquiry.DoesNotExist:
        raise Http404("No such enquiry") from None


def people_on_enquiry(*, user: User, enquiry: Enquiry) -> PeopleOnContact:
    """The children and adults on an enquiry's contact, for the hub and its documents."""
    if not (user.has_perm("enquiries.view") or user.has_perm("enquiries.outcome_documents")):
        raise PermissionDenied
    return _people_on_contact(enquiry.contact_id)


@dataclass(frozen=True)
class HomeFigures:
    ready_for_decision: int = 0
    awaiting_rating: int = 0
    overrides_to_authorise: int = 0
    overdue_requests: int = 0
    agency_pending: int = 0
    agency_overdue: int = 0


def home_figures(*, user: User) -> HomeFigures:
    """The counts on a user's home page, each only for those allowed to see it."""
    from mash.enquiries.models import ConsentOverride, EnquiryStatus, OverrideStatus

    now = clock.now()
    figures: dict[str, int] = {}
    if user.has_perm("enquiries.view"):
        open_requests = AgencyRequest.objects.filter(enquiry__status__in=OPEN_STATUSES)
        checks = Enquiry.objects.filter(status=EnquiryStatus.CHECKS).annotate(
            pending=Count("requests", filter=Q(requests__status=RequestStatus.PENDING))
        )
        figures["ready_for_decision"] = checks.filter(pending=0).count()
        figures["awaiting_rating"] = Enquiry.objects.filter(
            status=EnquiryStatus.AWAITING_RATING
        ).count()
        figures["overrides_to_authorise"] = ConsentOverride.objects.filter(
            status=OverrideStatus.PROPOSED, enquiry__status__in=OPEN_STATUSES
        ).count()
        figures["overdue_requests"] = open_requests.filter(
            status=RequestStatus.PENDING, deadline_at__lte=now
        ).count()
    if user.has_perm("enquiries.agency_queue") and user.agency_id is not None:
        mine = AgencyRequest.objects.filter(
            agency_id=user.agency_id,
            enquiry__status__in=OPEN_STATUSES,
            status=RequestStatus.PENDING,
        )
        figures["agency_pending"] = mine.count()
        figures["agency_overdue"] = mine.filter(deadline_at__lte=now).count()
    return HomeFigures(**figures)
