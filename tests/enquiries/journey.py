"""Building blocks for tests: a contact taken through the services to any state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mash.accounts.models import Agency, AgencyKind, User
from mash.contacts import services as contact_services
from mash.contacts.models import Contact, ScreeningOutcome
from mash.core import clock
from mash.enquiries import services
from mash.enquiries.models import AgencyRequest, ConsentStatus, Enquiry
from tests import factories


@dataclass
class Hub:
    """A small hub: four agencies and a person in each role that matters here."""

    manager: User
    coordinator: User
    police: Agency
    health: Agency
    education: Agency
    social_care: Agency
    practitioners: dict[str, User] = field(default_factory=dict)


def small_hub() -> Hub:
    social_care = factories.agency(
        name="Children's Social Care", kind=AgencyKind.CHILDRENS_SOCIAL_CARE
    )
    police = factories.agency(name="Police", kind=AgencyKind.POLICE)
    health = factories.agency(name="Health Visiting", kind=AgencyKind.HEALTH_VISITING)
    education = factories.agency(name="Education", kind=AgencyKind.EDUCATION)
    hub = Hub(
        manager=factories.hub_manager(agency_=social_care),
        coordinator=factories.coordinator(agency_=social_care),
        police=police,
        health=health,
        education=education,
        social_care=social_care,
    )
    for key, agency in (
        ("police", police),
        ("health", health),
        ("education", education),
        ("social_care", social_care),
    ):
        hub.practitioners[key] = factories.practitioner(agency_=agency)
    return hub


def child(
    given: str = "Amelia", family: str = "Hart", born: dt.date | None = None, **kw: Any
) -> contact_services.PersonEntry:
    return contact_services.PersonEntry(
        role="child",
        given_name=given,
        family_name=family,
        date_of_birth=born or dt.date(2018, 5, 4),
        sex="F",
        **kw,
    )


def adult(given: str = "Dawn", family: str = "Hart", **kw: Any) -> contact_services.PersonEntry:
    return contact_services.PersonEntry(
        role="adult",
        given_name=given,
        family_name=family,
        date_of_birth=dt.date(1990, 2, 3),
        sex="F",
        **kw,
    )


def details(**kw: Any) -> contact_services.Details:
    fields: dict[str, Any] = {
        "received_at": clock.now() - dt.timedelta(hours=1),
        "channel": "phone",
        "referral_source": "2A",
        "concern": "Amelia came to school with bruising on her arm and said she was scared.",
        "family_told": "Mother has been told the school is contacting the hub.",
        "referrer_name": "Sam Teacher",
        "referrer_role": "Designated safeguarding lead",
        "referrer_organisation": "Riverside Primary",
    }
    fields.update(kw)
    return contact_services.Details(**fields)


def submitted_contact(
    hub: Hub, people: list[contact_services.PersonEntry] | None = None, **kw: Any
) -> Contact:
    return contact_services.submit_contact(
        actor=hub.coordinator,
        details=details(**kw),
        people=people or [child(), adult()],
        relationships=[contact_services.RelationshipEntry(adult=0, child=0, relationship="parent")],
    )


def open_enquiry(hub: Hub, **kw: Any) -> Enquiry:
    contact = submitted_contact(hub, **kw)
    contact_services.screen_contact(
        actor=hub.coordinator,
        contact=contact,
        outcome=ScreeningOutcome.PROGRESS,
        reason="Bruising on a young child: needs checks.",
    )
    return Enquiry.objects.get(contact=contact)


def consented_enquiry(hub: Hub, **kw: Any) -> Enquiry:
    enquiry = open_enquiry(hub, **kw)
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status=ConsentStatus.GIVEN,
        given_by="Dawn Hart (mother)",
        decided_on=clock.now() - dt.timedelta(minutes=30),
    )
    return Enquiry.objects.get(pk=enquiry.pk)


def rated_enquiry(hub: Hub, rag: str = "red", **kw: Any) -> Enquiry:
    enquiry = consented_enquiry(hub, **kw)
    services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag=rag,
        rationale="Injury to a young child.",
        summary_for_agencies="Bruising to arm; mother and partner at home.",
    )
    return Enquiry.objects.get(pk=enquiry.pk)


def request_for(enquiry: Enquiry, agency: Agency) -> AgencyRequest:
    return AgencyRequest.objects.get(enquiry=enquiry, agency=agency)
