"""Builders for the census tests: people, and referrals made straight in the database.

The census reads decisions, their enquiries' contacts and the children; building those
rows directly gives each test exact dates (the services stamp the clock's time).
No tests here.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

from mash.accounts.models import User
from mash.contacts.models import (
    Contact,
    ContactPerson,
    ContactStatus,
    PersonRole,
    ScreeningOutcome,
)
from mash.core import clock
from mash.core.models import Hub, LocalAuthority
from mash.enquiries.models import ClosedAs, Decision, Enquiry, EnquiryStatus
from mash.people.models import Person
from tests import factories

LA_CODE = "881"
# A valid unique pupil number (check letter, LA 801, digits) for the tests.
UPN = "H801200001001"


def london(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.LONDON)


def hub(la_code: str = LA_CODE) -> Hub:
    the_hub = Hub.load()
    the_hub.la_code = la_code
    the_hub.save()
    return the_hub


def manager() -> User:
    return factories.hub_manager()


def person(
    given: str = "Amelia",
    family: str = "Hart",
    *,
    born: dt.date | None = dt.date(2018, 5, 4),
    expected: dt.date | None = None,
    sex: str = "F",
    ethnicity: str = "WBRI",
    upn: str | None = None,
) -> Person:
    return Person.objects.create(
        given_name=given,
        family_name=family,
        date_of_birth=born,
        expected_date_of_birth=expected,
        sex=sex,
        ethnicity=ethnicity,
        upn=upn,
    )


def referral(
    child: Person,
    by: User,
    *,
    received: dt.datetime | dt.date,
    decided: dt.datetime | dt.date | None = None,
    outcome: str = "s17",
    source: str = "2A",
    need: str = "N1",
    responsible_la: LocalAuthority | None = None,
    contact: Contact | None = None,
    **kw: Any,
) -> Decision:
    """A contact received, an enquiry, and the decision for one child on it."""
    received_at = received if isinstance(received, dt.datetime) else london(received)
    if decided is None:
        decided_at = received_at + dt.timedelta(hours=5)
    else:
        decided_at = decided if isinstance(decided, dt.datetime) else london(decided, 15)
    if contact is None:
        contact = Contact.objects.create(
            status=ContactStatus.SCREENED,
            received_at=received_at,
            channel="phone",
            referral_source=source,
            created_by=by,
            submitted_at=received_at,
            submitted_by=by,
            screening_outcome=ScreeningOutcome.PROGRESS,
            screened_at=received_at,
            screened_by=by,
        )
        enquiry = Enquiry.objects.create(
            contact=contact,
            contact_received_at=received_at,
            opened_by=by,
            opened_at=received_at,
            status=EnquiryStatus.CLOSED,
            rag="amber",
            rated_at=received_at,
            closed_at=decided_at,
            closed_as=ClosedAs.DECIDED,
            responsible_la=responsible_la,
        )
    else:
        enquiry = contact.enquiry
    ContactPerson.objects.get_or_create(
        contact=contact,
        person=child,
        defaults={
            "role": PersonRole.CHILD,
            "given_name": child.given_name,
            "family_name": child.family_name,
        },
    )
    return Decision.objects.create(
        enquiry=enquiry,
        child=child,
        outcome=outcome,
        primary_need=need,
        rationale="Reasons.",
        next_team="Assessment team",
        decided_at=decided_at,
        decided_by=by,
        **kw,
    )


def parse(xml: bytes | str) -> Any:
    """Our own census output, read back (trusted: we wrote it)."""
    return ET.fromstring(xml)  # noqa: S314


def ignore_progress(done: int, total: int | None = None) -> None:
    pass
