"""Reads for contacts, narrowed to what the user may see; views of a contact are audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from mash.contacts.models import (
    Contact,
    ContactPerson,
    ContactRelationship,
    ContactStatus,
    PersonRole,
)
from mash.core import audit, clock
from mash.core.models import AuditEvent
from mash.people import matching
from mash.people.models import Person

if TYPE_CHECKING:
    from mash.accounts.models import User

RECENTLY_SCREENED = 25
RE_REFERRAL_WINDOW = dt.timedelta(days=365)


def _require(user: User, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied


def _children() -> Prefetch:
    return Prefetch(
        "people",
        queryset=ContactPerson.objects.filter(role=PersonRole.CHILD).order_by("position"),
        to_attr="children",
    )


def drafts(*, user: User) -> QuerySet[Contact]:
    """Every draft in the hub (anyone may finish one), newest first, with who started it."""
    _require(user, "contacts.view")
    return (
        Contact.objects.filter(status=ContactStatus.DRAFT)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def awaiting_screening(*, user: User) -> QuerySet[Contact]:
    """Submitted contacts waiting for a screening decision, oldest first."""
    _require(user, "contacts.view")
    return (
        Contact.objects.filter(status=ContactStatus.AWAITING_SCREENING)
        .prefetch_related(_children())
        .order_by("received_at", "id")
    )


def recently_screened(*, user: User, limit: int = RECENTLY_SCREENED) -> QuerySet[Contact]:
    """The latest screening decisions, newest first, with the enquiry any of them opened."""
    _require(user, "contacts.view")
    return (
        Contact.objects.filter(status=ContactStatus.SCREENED)
        .select_related("screened_by", "enquiry")
        .prefetch_related(_children())
        .order_by("-screened_at", "-id")[:limit]
    )


def draft_for(*, user: User, pk: int, viewing: bool = True) -> Contact:
    """A contact to carry on recording (any status: the view sends a finished one on).

    Opening a draft to read it is audited (it names children); a post is audited by the
    service that writes it.
    """
    _require(user, "contacts.record")
    contacts = Contact.objects.select_related("created_by")
    if not user.has_perm("contacts.view"):
        # A police researcher or advice-line worker finishes only the contacts they began.
        contacts = contacts.filter(created_by=user)
    try:
        contact = contacts.get(pk=pk)
    except Contact.DoesNotExist:
        raise Http404 from None
    if viewing and contact.status == ContactStatus.DRAFT:
        audit.viewed(actor=user, obj=contact, detail={"draft": True})
    return contact


def contact_for(*, user: User, pk: int, viewing: bool = True) -> Contact:
    """A contact with its people and relationships; a submitted contact's view is audited."""
    _require(user, "contacts.view")
    people = ContactPerson.objects.select_related("person").order_by("role", "position")
    relationships = ContactRelationship.objects.select_related("adult", "child").order_by(
        "child__position", "adult__position"
    )
    try:
        contact = (
            Contact.objects.select_related("created_by", "submitted_by", "screened_by", "enquiry")
            .prefetch_related(
                Prefetch("people", queryset=people),
                Prefetch("relationships", queryset=relationships),
            )
            .get(pk=pk)
        )
    except Contact.DoesNotExist:
        raise Http404 from None
    if viewing and contact.status != ContactStatus.DRAFT:
        audit.viewed(actor=user, obj=contact)
    return contact


def enquiry_id(contact: Contact) -> int | None:
    """The enquiry a progressed contact opened."""
    from mash.enquiries.models import Enquiry

    return Enquiry.objects.filter(contact=contact).values_list("pk", flat=True).first()


def last_saved_by(contact: Contact) -> str:
    """Who last saved a draft (for telling someone their save clashed with another)."""
    event = (
        AuditEvent.objects.filter(
            object_type=contact._meta.label_lower,
            object_id=str(contact.pk),
            action__in=("contacts.draft_saved", "contacts.draft_created"),
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if event is None:
        return "Someone else"
    name = event.actor.full_name if event.actor is not None else event.actor_label
    return name or "Someone else"


def identifier_taken(name: str, value: str) -> bool:
    """Whether someone in the index already has this NHS number or pupil number."""
    if name not in ("nhs_number", "upn"):
        raise ValueError(name)
    return Person.objects.filter(**{name: value}).exists()


# --- Matching --------------------------------------------------------------------------------


def chosen_person(*, user: User, value: str) -> Person | None:
    """The index record a block was linked to (the value of its link_to), if it exists."""
    _require(user, "contacts.record")
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        return None
    return Person.objects.select_related("household__address").filter(pk=int(value)).first()


@dataclass
class Match:
    person: Person
    score: int
    reasons: list[str]
    open_enquiries: int = 0
    re_referral: bool = False
    chosen: bool = False


def matches(
    *, user: User, query: matching.Query, linked: Person | None = None, limit: int = 5
) -> list[Match]:
    """Likely index records for what was typed, best first; the linked one always among them."""
    _require(user, "contacts.record")
    found = matching.find(query, limit=limit)
    result = [Match(c.person, c.score, c.reasons) for c in found]
    if linked is not None and all(m.person.pk != linked.pk for m in result):
        scored = matching.score(query, linked)
        result.append(Match(linked, scored.score, scored.reasons))
    if linked is not None:
        for m in result:
            m.chosen = m.person.pk == linked.pk
    _annotate_history(result)
    return result


def _annotate_history(found: list[Match]) -> None:
    """Open enquiries and a recent referral decision for each candidate (two queries)."""
    if not found:
        return
    from mash.enquiries.models import OPEN_STATUSES, REFERRAL_OUTCOMES, Decision

    ids = [m.person.pk for m in found]
    open_counts: dict[int, Any] = dict(
        Person.objects.filter(pk__in=ids)
        .annotate(
            open_enquiries=Count(
                "contact_links__contact__enquiry",
                filter=Q(contact_links__contact__enquiry__status__in=OPEN_STATUSES),
                distinct=True,
            )
        )
        .values_list("pk", "open_enquiries")
    )
    since = clock.now() - RE_REFERRAL_WINDOW
    referred = set(
        Decision.objects.filter(
            child_id__in=ids, outcome__in=REFERRAL_OUTCOMES, decided_at__gte=since
        ).values_list("child_id", flat=True)
    )
    for m in found:
        m.open_enquiries = open_counts.get(m.person.pk, 0) or 0
        m.re_referral = m.person.pk in referred
