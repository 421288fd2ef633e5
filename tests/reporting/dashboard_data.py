"""A small hand-made hub for the performance dashboard's tests.

Rows are written straight to the models with exact times (a report reads what the
services wrote; here the times must be to the second). The right answers for this
data are worked out by hand in the tests, from the comments below.

The period is Monday 3 February to Sunday 2 March 2025 (28 days, four whole weeks,
all in GMT so London time is UTC); the previous period is Monday 6 January to Sunday
2 February 2025. The hub keeps its default clocks: urgent and red 4 clock hours,
amber 24, green 48; Monday to Friday 9:00 to 17:00.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from mash.accounts.models import Agency, AgencyKind, User
from mash.contacts.models import (
    Contact,
    ContactPerson,
    ContactStatus,
    PersonRole,
    PoliceNotification,
)
from mash.enquiries.models import (
    AgencyRequest,
    Decision,
    Enquiry,
    EnquiryStatus,
    Rating,
    RequestStatus,
)
from mash.people.models import Person
from mash.reporting.performance import Period
from tests import factories

PERIOD = Period(dt.date(2025, 2, 3), dt.date(2025, 3, 2))
NOW = dt.datetime(2025, 3, 5, 12, 0, tzinfo=dt.UTC)

# Names and dates of birth that must never appear on a report.
CHILDREN = {
    "A": ("Zebedee", "Quartermaine", dt.date(2014, 5, 17)),
    "B": ("Ottoline", "Featherstonehaugh", dt.date(2016, 8, 9)),
    "C": ("Peregrine", "Featherstonehaugh", dt.date(2019, 11, 23)),
    "D": ("Araminta", "Wolstenholme", dt.date(2011, 2, 28)),
    "E": ("Bartholomew", "Ravenscroft", dt.date(2013, 7, 4)),
}


def at(day: str, time: str = "00:00") -> dt.datetime:
    """A moment in February/March 2025 or earlier, written in UTC (= London in winter)."""
    return dt.datetime.fromisoformat(f"{day}T{time}:00+00:00")


@dataclass
class Hub:
    manager: User
    police: Agency
    health: Agency
    people: dict[str, Person] = field(default_factory=dict)
    enquiries: dict[str, Enquiry] = field(default_factory=dict)


def contact(
    hub: Hub,
    received: dt.datetime,
    source: str,
    channel: str,
    outcome: str = "",
    *,
    status: str = ContactStatus.SCREENED,
    child: str | None = None,
) -> Contact:
    made = Contact.objects.create(
        status=status
        if outcome or status != ContactStatus.SCREENED
        else ContactStatus.AWAITING_SCREENING,
        received_at=received,
        channel=channel,
        referral_source=source,
        referrer_name="Ms Referrer Smallbone",
        concern="A worry.",
        created_by=hub.manager,
        screening_outcome=outcome,
        screened_at=received + dt.timedelta(minutes=20) if outcome else None,
    )
    if child:
        person = hub.people[child]
        ContactPerson.objects.create(
            contact=made,
            person=person,
            role=PersonRole.CHILD,
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=person.date_of_birth,
            postcode="NM1 4QT",
        )
    return made


def enquiry(
    hub: Hub,
    name: str,
    of: Contact,
    opened: dt.datetime,
    ratings: list[tuple[str, dt.datetime]] = (),  # type: ignore[assignment]
    closed: dt.datetime | None = None,
) -> Enquiry:
    rag, rated = ratings[-1] if ratings else ("", None)
    made = Enquiry.objects.create(
        contact=of,
        contact_received_at=of.received_at or opened,
        status=EnquiryStatus.CLOSED
        if closed
        else (EnquiryStatus.CHECKS if rag else EnquiryStatus.AWAITING_RATING),
        opened_at=opened,
        opened_by=hub.manager,
        rag=rag,
        rated_at=rated,
        closed_at=closed,
        closed_as="decided" if closed else "",
    )
    previous = ""
    for given, when in ratings:
        Rating.objects.create(
            enquiry=made,
            rag=given,
            previous_rag=previous,
            rationale="Because.",
            rated_at=when,
            rated_by=hub.manager,
        )
        previous = given
    hub.enquiries[name] = made
    return made


def decide(hub: Hub, of: Enquiry, child: str, outcome: str, when: dt.datetime) -> Decision:
    return Decision.objects.create(
        enquiry=of,
        child=hub.people[child],
        outcome=outcome,
        primary_need="N1",
        rationale="Decided.",
        next_team="Assessment team",
        decided_at=when,
        decided_by=hub.manager,
    )


def ask(
    of: Enquiry,
    agency: Agency,
    requested: dt.datetime,
    deadline: dt.datetime,
    answered: dt.datetime | None = None,
    status: str | None = None,
) -> AgencyRequest:
    return AgencyRequest.objects.create(
        enquiry=of,
        agency=agency,
        status=status or (RequestStatus.ANSWERED if answered else RequestStatus.PENDING),
        requested_at=requested,
        clock_started_at=requested,
        deadline_at=deadline,
        duration_amount=4,
        duration_unit="clock_hours",
        answered_at=answered,
    )


_occurrences = itertools.count(1)


def notification(
    force: Agency, received: dt.datetime, outcome: str = "", quality: str = ""
) -> None:
    PoliceNotification.objects.create(
        force=force,
        occurrence_reference=f"OCC-{next(_occurrences)}",
        incident_at=received - dt.timedelta(hours=3),
        incident_type="domestic_abuse",
        narrative="Officer Pemberton-Smythe attended.",
        officer_name="PC Ignatius Pemberton-Smythe",
        received_at=received,
        received_via="manual",
        content_hash="0" * 64,
        outcome=outcome,
        quality_issue=quality,
    )


def build(**manager_kw: Any) -> Hub:
    """The hand-made hub described in the module's docstring and below."""
    police = factories.agency(name="Northmoor Police", kind=AgencyKind.POLICE)
    health = factories.agency(name="Northmoor Health Visiting", kind=AgencyKind.HEALTH_VISITING)
    factories.agency(name="Disbanded Agency", kind=AgencyKind.OTHER, is_active=False)
    hub = Hub(
        manager=factories.hub_manager(agency_=police, **manager_kw), police=police, health=health
    )
    for key, (given, family, born) in CHILDREN.items():
        hub.people[key] = Person.objects.create(
            given_name=given, family_name=family, date_of_birth=born
        )

    # Contacts in the period.
    c1 = contact(hub, at("2025-02-03", "09:30"), "2A", "phone", "progress", child="A")
    c2 = contact(hub, at("2025-02-04", "10:00"), "6", "police_notification", "progress", child="B")
    contact(hub, at("2025-02-05", "11:00"), "3A", "email", "nfa")
    contact(hub, at("2025-02-06", "14:00"), "2A", "online_form", "")
    c5 = contact(hub, at("2025-02-07", "15:00"), "1A", "phone", "progress", child="D")
    c6 = contact(hub, at("2025-02-10", "16:00"), "2A", "phone", "progress")
    contact(hub, at("2025-03-02", "23:30"), "2A", "phone", "advice")
    c9 = contact(hub, at("2025-02-12", "09:00"), "2A", "phone", "progress")
    # Not counted: a draft, and a contact the moment after the period.
    contact(hub, at("2025-02-11", "10:00"), "2A", "phone", "", status=ContactStatus.DRAFT)
    contact(hub, at("2025-03-03", "00:00"), "2A", "phone", "nfa")
    # The previous period (and one the moment before it).
    q1 = contact(hub, at("2025-01-06", "00:00"), "2A", "phone", "progress", child="A")
    contact(hub, at("2025-01-20", "12:00"), "2A", "email", "signposted")
    q3 = contact(hub, at("2025-02-02", "23:00"), "6", "phone", "progress", child="E")
    old = contact(hub, at("2024-02-02", "10:00"), "6", "phone", "progress", child="E")
    eh_old = contact(hub, at("2024-12-01", "10:00"), "2A", "phone", "progress", child="B")
    contact(hub, at("2025-01-05", "23:00"), "2A", "phone", "nfa")

    # Enquiries: e1 red, rated 2h after the contact, decided 3h after rating.
    e1 = enquiry(
        hub,
        "e1",
        c1,
        at("2025-02-03", "10:00"),
        [("red", at("2025-02-03", "11:30"))],
        at("2025-02-03", "14:30"),
    )
    # e2 first rated amber (6h), re-rated red next morning, decided 3h after the re-rating.
    e2 = enquiry(
        hub,
        "e2",
        c2,
        at("2025-02-04", "10:30"),
        [("amber", at("2025-02-04", "16:00")), ("red", at("2025-02-05", "09:00"))],
        at("2025-02-05", "12:00"),
    )
    # e3 green, rated 2h after, decided 72h after rating (late for green's 48h).
    e3 = enquiry(
        hub,
        "e3",
        c5,
        at("2025-02-07", "15:30"),
        [("green", at("2025-02-07", "17:00"))],
        at("2025-02-10", "17:00"),
    )
    # e4 amber, still open.
    e4 = enquiry(hub, "e4", c6, at("2025-02-10", "16:30"), [("amber", at("2025-02-10", "18:00"))])
    # e5 in the previous period: urgent, decided exactly 4h after the contact.
    e5 = enquiry(
        hub,
        "e5",
        q1,
        at("2025-01-06", "01:00"),
        [("urgent", at("2025-01-06", "02:00"))],
        at("2025-01-06", "04:00"),
    )
    # e6: contact in the previous period (Sunday night), enquiry rated and decided in this one.
    e6 = enquiry(
        hub,
        "e6",
        q3,
        at("2025-02-03", "08:00"),
        [("red", at("2025-02-03", "09:00"))],
        at("2025-02-03", "12:00"),
    )
    # e7: opened, never rated.
    enquiry(hub, "e7", c9, at("2025-02-12", "10:00"))
    # Long before: E's referral in February 2024 (over 12 months before e6), B's early help.
    e8 = enquiry(
        hub,
        "e8",
        old,
        at("2024-02-02", "11:00"),
        [("red", at("2024-02-02", "12:00"))],
        at("2024-02-02", "15:00"),
    )
    e9 = enquiry(
        hub,
        "e9",
        eh_old,
        at("2024-12-01", "11:00"),
        [("green", at("2024-12-01", "12:00"))],
        at("2024-12-01", "15:00"),
    )

    decide(hub, e1, "A", "s47", at("2025-02-03", "14:30"))
    decide(hub, e2, "C", "early_help", at("2025-02-05", "11:00"))
    decide(hub, e2, "B", "s17", at("2025-02-05", "12:00"))
    decide(hub, e3, "D", "nfa", at("2025-02-10", "17:00"))
    decide(hub, e6, "E", "s17", at("2025-02-03", "12:00"))
    decide(hub, e5, "A", "s17", at("2025-01-06", "04:00"))
    decide(hub, e8, "E", "s47", at("2024-02-02", "15:00"))
    decide(hub, e9, "B", "early_help", at("2024-12-01", "15:00"))

    p, h = police, health
    ask(e1, p, at("2025-02-03", "11:30"), at("2025-02-03", "15:30"), at("2025-02-03", "13:30"))
    ask(
        e1,
        h,
        at("2025-02-03", "11:30"),
        at("2025-02-03", "15:30"),
        status=RequestStatus.NOT_REQUIRED,
    )
    ask(e2, p, at("2025-02-04", "16:00"), at("2025-02-05", "13:00"), at("2025-02-05", "14:00"))
    ask(e2, h, at("2025-02-04", "16:00"), at("2025-02-05", "13:00"), at("2025-02-05", "10:00"))
    ask(e4, p, at("2025-02-10", "18:00"), at("2025-02-11", "18:00"))
    ask(
        e4,
        h,
        at("2025-02-10", "18:00"),
        at("2025-02-11", "18:00"),
        at("2025-02-11", "10:00"),
        status=RequestStatus.NOTHING_HELD,
    )
    ask(e6, p, at("2025-02-03", "09:00"), at("2025-02-03", "13:00"), at("2025-02-03", "12:30"))
    ask(e5, p, at("2025-01-06", "02:00"), at("2025-01-06", "06:00"), at("2025-01-06", "03:00"))
    ask(e5, h, at("2025-01-06", "02:00"), at("2025-01-06", "06:00"), at("2025-01-06", "08:00"))
    ask(e8, h, at("2024-02-02", "12:00"), at("2024-02-02", "16:00"))  # still pending: overdue

    notification(p, at("2025-02-03", "08:00"), "progress_contact")
    notification(p, at("2025-02-04", "08:00"), "record_only", "no_narrative")
    notification(p, at("2025-02-05", "08:00"))
    notification(p, at("2025-03-02", "23:59"), "progress_contact", "child_not_identified")
    notification(p, at("2025-01-10", "08:00"), "record_only")
    return hub
