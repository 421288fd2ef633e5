"""Reads for triaging police notifications: the queue, the recently triaged, one notification
with its children's matches and 12 months of history. Only police researchers and hub
managers; opening a notification is audited, as it names children.

Each read matches any notification not matched yet before showing it (see triage.py), so
the queue and the page never show a child unmatched only because nobody looked yet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from mash.contacts import triage
from mash.contacts.models import (
    ContactPerson,
    ContactStatus,
    DashRisk,
    IncidentType,
    NotificationAdult,
    NotificationChild,
    PoliceNotification,
)
from mash.core import audit, clock

if TYPE_CHECKING:
    from mash.accounts.models import User
    from mash.enquiries.models import Enquiry
    from mash.people.matching import Candidate

QUEUE_LIMIT = 200
RECENT_LIMIT = 50
HISTORY_WINDOW = dt.timedelta(days=365)
# The domestic-abuse notification (for one child, within 12 months) that is flagged.
DA_FLAG_AT = 3


def _require(user: User) -> None:
    if not user.has_perm("contacts.triage_police"):
        raise PermissionDenied


def added_to_enquiry(*, user: User, enquiry: Enquiry) -> list[PoliceNotification]:
    """The notifications researchers added to an enquiry as information, for its page."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    return list(
        PoliceNotification.objects.filter(enquiry=enquiry)
        .select_related("force", "triaged_by")
        .order_by("incident_at", "pk")
    )


def _children() -> Prefetch:
    return Prefetch(
        "children",
        queryset=NotificationChild.objects.select_related("person").order_by("position"),
    )


def waiting(*, user: User) -> QuerySet[PoliceNotification]:
    """Notifications awaiting triage, oldest received first."""
    _require(user)
    return PoliceNotification.objects.filter(outcome="").order_by("received_at", "pk")


# --- Shared pieces ---------------------------------------------------------------------------


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def age(born: dt.date | None, today: dt.date) -> str:
    """The child's age in words, as a researcher would say it."""
    if born is None:
        return "Age not known"
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 1:
        return f"{years}"
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    return f"{max(months, 0)} months"


def waited(since: dt.datetime, now: dt.datetime) -> str:
    """How long something has waited: minutes, hours or days."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


@dataclass(frozen=True)
class EnquiryBrief:
    """An open enquiry as triage may see it: reference, RAG and status, nothing more."""

    pk: int
    reference: str
    rag: str
    rag_label: str
    status_label: str


def _open_enquiries(people: set[int]) -> dict[int, list[EnquiryBrief]]:
    """Each person's open enquiries (one query)."""
    from mash.enquiries.models import OPEN_STATUSES, EnquiryStatus, Rag

    found: dict[int, list[EnquiryBrief]] = defaultdict(list)
    if not people:
        return found
    rows = (
        ContactPerson.objects.filter(
            person_id__in=people, contact__enquiry__status__in=OPEN_STATUSES
        )
        .values_list(
            "person_id", "contact__enquiry__id", "contact__enquiry__rag", "contact__enquiry__status"
        )
        .distinct()
        .order_by("person_id", "contact__enquiry__id")
    )
    for person, pk, rag, status in rows:
        brief = EnquiryBrief(
            pk=pk,
            reference=f"E-{pk:06d}",
            rag=rag,
            rag_label=Rag(rag).label if rag else "Not rated",
            status_label=EnquiryStatus(status).label,
        )
        if brief not in found[person]:
            found[person].append(brief)
    return found


def _domestic_abuse(
    people: set[int], since: dt.datetime, until: dt.datetime
) -> dict[int, list[tuple[int, Any]]]:
    """Each person's domestic-abuse notifications (id, incident time) between the two times."""
    found: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    if not people:
        return found
    rows = (
        NotificationChild.objects.filter(
            person_id__in=people,
            notification__incident_type=IncidentType.DOMESTIC_ABUSE,
            notification__incident_at__gte=since,
            notification__incident_at__lte=until,
        )
        .values_list("person_id", "notification_id", "notification__incident_at")
        .distinct()
    )
    for person, notification, incident_at in rows:
        found[person].append((notification, incident_at))
    return found


def da_count(
    notification: PoliceNotification, person_id: int, history: dict[int, list[tuple[int, Any]]]
) -> int:
    """Domestic-abuse notifications for the person in the 365 days up to this one's incident,
    this one included (0 when this one is not about domestic abuse)."""
    if notification.incident_type != IncidentType.DOMESTIC_ABUSE:
        return 0
    start = notification.incident_at - HISTORY_WINDOW
    return len(
        {pk for pk, at in history.get(person_id, []) if start <= at <= notification.incident_at}
        | {notification.pk}
    )


def da_flag_text(count: int) -> str:
    return f"{ordinal(count)} domestic abuse notification in 12 months"


@dataclass
class Flag:
    text: str
    colour: str  # a govuk-tag modifier


@dataclass
class QueueChild:
    child: NotificationChild
    age: str


@dataclass
class QueueRow:
    notification: PoliceNotification
    children: list[QueueChild]
    waited: str
    flags: list[Flag] = field(default_factory=list)


@dataclass
class Queue:
    rows: list[QueueRow]
    total: int  # waiting altogether (the rows are the oldest QUEUE_LIMIT of them)
    limit: int


def _match_pending(notifications: list[PoliceNotification]) -> bool:
    """Matches those not matched yet; whether any was (their children must be read again)."""
    pending = [n.pk for n in notifications if n.matched_at is None]
    return bool(pending and triage.match_unmatched(pending))


def queue(*, user: User, limit: int = QUEUE_LIMIT) -> Queue:
    """The oldest notifications awaiting triage, each with its children and flags.

    In a fixed number of queries however long the queue: the notifications, their
    children, any matching still to do, and the children's open enquiries and
    domestic-abuse history in one query each.
    """
    _require(user)
    base = waiting(user=user).select_related("force")
    notifications = list(base[:limit])
    if _match_pending(notifications):
        notifications = list(base.filter(pk__in=[n.pk for n in notifications]))
    prefetch = Prefetch(
        "children", queryset=NotificationChild.objects.order_by("position"), to_attr="listed"
    )
    prefetch_related_objects(notifications, prefetch)
    total = waiting(user=user).count()
    listed: dict[int, list[NotificationChild]] = {
        n.pk: n.listed  # type: ignore[attr-defined]
        for n in notifications
    }
    people = {c.person_id for cs in listed.values() for c in cs if c.person_id is not None}
    incidents = [n.incident_at for n in notifications] or [clock.now()]
    open_enquiries = _open_enquiries(people)
    history = _domestic_abuse(people, min(incidents) - HISTORY_WINDOW, max(incidents))
    now = clock.now()
    today = clock.localtime(now).date()
    rows = []
    for n in notifications:
        children = listed[n.pk]
        row = QueueRow(
            notification=n,
            children=[QueueChild(c, age(c.date_of_birth, today)) for c in children],
            waited=waited(n.received_at, now),
        )
        row.flags = _flags(n, children, open_enquiries, history)
        rows.append(row)
    return Queue(rows=rows, total=total, limit=limit)


def _flags(
    n: PoliceNotification,
    children: list[NotificationChild],
    open_enquiries: dict[int, list[EnquiryBrief]],
    history: dict[int, list[tuple[int, Any]]],
) -> list[Flag]:
    flags = []
    if n.dash_risk == DashRisk.HIGH:
        flags.append(Flag("High risk (DASH)", "govuk-tag--red"))
    for c in children:
        if c.person_id is None:
            continue
        count = da_count(n, c.person_id, history)
        if count >= DA_FLAG_AT:
            flags.append(Flag(f"{da_flag_text(count)}: {c.given_name}", "govuk-tag--red"))
        for e in open_enquiries.get(c.person_id, []):
            flags.append(Flag(f"Open enquiry {e.reference}: {c.given_name}", "govuk-tag--purple"))
    if n.quality_issue:
        flags.append(Flag(f"Quality: {n.get_quality_issue_display()}", "govuk-tag--grey"))
    return flags


def recently_triaged(*, user: User, limit: int = RECENT_LIMIT) -> list[PoliceNotification]:
    """The latest outcomes, newest first, with who recorded them."""
    _require(user)
    return list(
        PoliceNotification.objects.exclude(outcome="")
        .select_related("force", "triaged_by", "enquiry", "contact")
        .prefetch_related(
            Prefetch(
                "children",
                queryset=NotificationChild.objects.order_by("position"),
                to_attr="listed",
            )
        )
        .order_by("-triaged_at", "-pk")[:limit]
    )


def figures(*, user: User) -> tuple[int, PoliceNotification | None]:
    """How many notifications wait, and the oldest of them (for the home page)."""
    qs = waiting(user=user)
    return qs.count(), qs.select_related("force").first()


def next_waiting(*, user: User, after: PoliceNotification | None) -> PoliceNotification | None:
    """The waiting notification after this one in the queue's order, else the oldest."""
    qs = waiting(user=user)
    if after is not None:
        later = qs.filter(
            Q(received_at__gt=after.received_at) | Q(received_at=after.received_at, pk__gt=after.pk)
        ).exclude(pk=after.pk)
        found = later.first()
        if found is not None:
            return found
        return qs.exclude(pk=after.pk).first()
    return qs.first()


# --- One notification ------------------------------------------------------------------------


@dataclass
class ChildDetail:
    child: NotificationChild
    age: str
    candidates: list[Candidate]
    open_enquiries: list[EnquiryBrief]
    notifications_12m: int = 0
    contacts_12m: int = 0
    da_count: int = 0

    @property
    def da_flag(self) -> bool:
        return self.da_count >= DA_FLAG_AT

    @property
    def da_text(self) -> str:
        return da_flag_text(self.da_count)


@dataclass
class Detail:
    notification: PoliceNotification
    children: list[ChildDetail]
    adults: list[NotificationAdult]
    waited: str
    open_enquiries: list[EnquiryBrief]  # every child's, once each: where it may be added

    @property
    def flags(self) -> list[str]:
        return [f"{c.da_text}: {c.child.full_name}" for c in self.children if c.da_flag]


def notification_for(*, user: User, pk: int, viewing: bool = True) -> Detail:
    """One notification, its children matched with their history; a view is audited."""
    _require(user)
    base = PoliceNotification.objects.select_related(
        "force", "triaged_by", "quality_marked_by", "contact", "enquiry"
    ).prefetch_related(
        _children(),
        Prefetch("adults", queryset=NotificationAdult.objects.order_by("position")),
    )
    try:
        notification = base.get(pk=pk)
        if notification.matched_at is None and triage.match_unmatched([notification.pk]):
            notification = base.get(pk=pk)
    except PoliceNotification.DoesNotExist:
        raise Http404 from None
    children = list(notification.children.all())
    people = {c.person_id for c in children if c.person_id is not None}
    open_enquiries = _open_enquiries(people)
    history = _domestic_abuse(
        people, notification.incident_at - HISTORY_WINDOW, notification.incident_at
    )
    notifications_12m, contacts_12m = _year_counts(people)
    now = clock.now()
    today = clock.localtime(now).date()
    waiting_ = not notification.outcome
    details = []
    for c in children:
        details.append(
            ChildDetail(
                child=c,
                age=age(c.date_of_birth, today),
                candidates=triage.candidates(c) if waiting_ else [],
                open_enquiries=open_enquiries.get(c.person_id, []) if c.person_id else [],
                notifications_12m=notifications_12m.get(c.person_id, 0) if c.person_id else 0,
                contacts_12m=contacts_12m.get(c.person_id, 0) if c.person_id else 0,
                da_count=da_count(notification, c.person_id, history) if c.person_id else 0,
            )
        )
    every: list[EnquiryBrief] = []
    for d in details:
        every += [e for e in d.open_enquiries if e not in every]
    if viewing:
        audit.viewed(actor=user, obj=notification)
    return Detail(
        notification=notification,
        children=details,
        adults=list(notification.adults.all()),
        waited=waited(notification.received_at, now),
        open_enquiries=sorted(every, key=lambda e: e.pk),
    )


def for_outcome(*, user: User, pk: int) -> tuple[PoliceNotification, list[EnquiryBrief]]:
    """A notification to record an outcome on, and where it may be added (not audited:
    the service that records the outcome audits it)."""
    _require(user)
    try:
        notification = PoliceNotification.objects.prefetch_related(_children()).get(pk=pk)
    except PoliceNotification.DoesNotExist:
        raise Http404 from None
    people = {c.person_id for c in notification.children.all() if c.person_id is not None}
    every: list[EnquiryBrief] = []
    for briefs in _open_enquiries(people).values():
        every += [e for e in briefs if e not in every]
    return notification, sorted(every, key=lambda e: e.pk)


def _year_counts(people: set[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Police notifications and contacts for each person in the last 12 months."""
    if not people:
        return {}, {}
    since = clock.now() - HISTORY_WINDOW
    notifications = dict(
        NotificationChild.objects.filter(person_id__in=people, notification__incident_at__gte=since)
        .values("person_id")
        .annotate(n=Count("notification_id", distinct=True))
        .values_list("person_id", "n")
    )
    contacts = dict(
        ContactPerson.objects.filter(person_id__in=people, contact__received_at__gte=since)
        .exclude(contact__status=ContactStatus.DRAFT)
        .values("person_id")
        .annotate(n=Count("contact_id", distinct=True))
        .values_list("person_id", "n")
    )
    return notifications, contacts
