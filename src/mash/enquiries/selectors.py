"""Reads for enquiries, narrowed to what the user may see.

The MASH-only rule lives in one place: `visible_answer_items`. Every page,
download, outcome document and transfer package gets agencies' answers through
it, so none can show what its audience may not see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from mash.accounts.models import Role
from mash.contacts.models import ContactPerson, PersonRole
from mash.core import audit, clock
from mash.enquiries.models import (
    OPEN_STATUSES,
    AgencyRequest,
    AnswerItem,
    Enquiry,
    RequestStatus,
    Sensitivity,
)

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


def visible_answer_items(
    *,
    enquiry: Enquiry | None = None,
    request: AgencyRequest | None = None,
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
    """
    if (enquiry is None) == (request is None):
        raise ValueError("Give an enquiry or a request")
    items = AnswerItem.objects.select_related("agency", "created_by").order_by("created_at", "id")
    items = (
        items.filter(request=request)
        if request is not None
        else items.filter(request__enquiry=enquiry)
    )

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
        held = Counter(i.agency.name for i in everything if i not in shown)
        return VisibleAnswers(shown, dict(sorted(held.items())))
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
        .order_by("-status", "deadline_at", "id")
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
