"""Helpers for the cross-border tests: a hub with postcode areas, an enquiry whose child lives
elsewhere, agencies' answers of each sensitivity. (Holds no tests itself.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mash.contacts import services as contact_services
from mash.contacts.models import ScreeningOutcome
from mash.core import clock
from mash.core.local_authorities import sync
from mash.core.models import Hub, LocalAuthority
from mash.enquiries import services
from mash.enquiries.models import Enquiry, Sensitivity
from mash.enquiries.transfer import set_responsible_la
from tests.enquiries import journey

MASH_ONLY_SUMMARY = "Covert intelligence: partner linked to county lines"
MASH_ONLY_DETAIL = "Source handler reference 55-ALPHA; do not disclose"
PROFESSIONALS_SUMMARY = "Attendance 71 percent this term"
PROFESSIONALS_DETAIL = "Often collected late by an unknown adult"
SHAREABLE_SUMMARY = "Mother attended a parenting course"
RATIONALE = "Injury to a young child."
CHILD_NHS = "9434765919"
CHILD_UPN = "C204123456789"


def set_up_hub(areas: str = "NM NX1") -> Hub:
    sync(LocalAuthority)
    hub = Hub.load()
    hub.name, hub.local_authority_name, hub.la_code = "Northbridge MASH", "Northbridge", ""
    hub.postcode_areas = areas
    hub.save()
    return hub


def la(code: str) -> LocalAuthority:
    return LocalAuthority.objects.get(code=code)


def enquiry_elsewhere(
    hub: journey.Hub, *, rated: bool = True, brother: bool = False, **kw: Any
) -> Enquiry:
    """An enquiry for Amelia, who lives in Camden (postcode NW1), and her mother Dawn
    (and her brother Leo, if asked for)."""
    people = [
        journey.child(
            nhs_number=CHILD_NHS,
            upn=CHILD_UPN,
            address_line_1="4 Canal Street",
            town="London",
            postcode="NW1 8AB",
            school="Camden Primary",
        ),
        journey.adult(address_line_1="4 Canal Street", town="London", postcode="NW1 8AB"),
    ]
    if brother:
        people.insert(1, journey.child("Leo", "Hart", postcode="NW1 8AB"))
    contact = journey.submitted_contact(hub, people=people, **kw)
    contact_services.screen_contact(
        actor=hub.coordinator,
        contact=contact,
        outcome=ScreeningOutcome.PROGRESS,
        reason="Bruising on a young child: needs checks.",
    )
    enquiry = Enquiry.objects.get(contact=contact)
    if not rated:
        return enquiry
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status="given",
        given_by="Dawn Hart (mother)",
        decided_on=clock.now() - dt.timedelta(minutes=30),
    )
    services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag="amber",
        rationale=RATIONALE,
        summary_for_agencies="Bruising to arm; mother and partner at home.",
    )
    return Enquiry.objects.get(pk=enquiry.pk)


def answer_each_sensitivity(hub: journey.Hub, enquiry: Enquiry) -> None:
    """Police: MASH-only; education: professionals only; social care: shareable.
    Health is left pending."""
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[
            services.ItemEntry(
                summary=MASH_ONLY_SUMMARY,
                detail=MASH_ONLY_DETAIL,
                sensitivity=Sensitivity.MASH_ONLY,
            )
        ],
    )
    services.answer_request(
        actor=hub.practitioners["education"],
        request=journey.request_for(enquiry, hub.education),
        items=[
            services.ItemEntry(
                summary=PROFESSIONALS_SUMMARY,
                detail=PROFESSIONALS_DETAIL,
                sensitivity=Sensitivity.PROFESSIONALS,
                risk_indicators=["neglect"],
                source_reference="EDU-42",
            )
        ],
    )
    services.answer_request(
        actor=hub.practitioners["social_care"],
        request=journey.request_for(enquiry, hub.social_care),
        items=[services.ItemEntry(summary=SHAREABLE_SUMMARY, sensitivity=Sensitivity.SHAREABLE)],
    )


def to_camden(hub: journey.Hub, enquiry: Enquiry) -> Enquiry:
    return set_responsible_la(
        actor=hub.coordinator,
        enquiry=enquiry,
        local_authority=la("202"),
        reason="The family moved to Camden in March.",
    )
