import pytest

from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    EnquiryStatus,
    Outcome,
    RequestStatus,
    Sensitivity,
)
from mash.enquiries.selectors import Audience, visible_answer_items
from tests.enquiries import journey

pytestmark = pytest.mark.django_db


def test_a_contact_goes_all_the_way_to_a_closed_enquiry():
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    assert enquiry.status == EnquiryStatus.CHECKS
    assert AgencyRequest.objects.filter(enquiry=enquiry).count() == 4
    police = journey.request_for(enquiry, hub.police)
    services.answer_request(
        actor=hub.practitioners["police"],
        request=police,
        items=[
            services.ItemEntry(summary="Intelligence on partner", sensitivity=Sensitivity.MASH_ONLY)
        ],
    )
    education = journey.request_for(enquiry, hub.education)
    services.answer_request(
        actor=hub.practitioners["education"],
        request=education,
        items=[services.ItemEntry(summary="Attendance 82%", sensitivity=Sensitivity.PROFESSIONALS)],
    )
    for key, agency in (("health", hub.health), ("social_care", hub.social_care)):
        services.answer_request(
            actor=hub.practitioners[key],
            request=journey.request_for(enquiry, agency),
            nothing_held=True,
        )
    report = visible_answer_items(enquiry=enquiry, audience=Audience.OUTCOME_REPORT)
    assert [i.summary for i in report.items] == ["Attendance 82%"]
    coordinator_view = visible_answer_items(enquiry=enquiry, viewer=hub.coordinator)
    assert coordinator_view.withheld == {"Police": 1}
    child = services.children_of(enquiry)[0]
    services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=child,
        outcome=Outcome.SECTION_47,
        primary_need="N1",
        rationale="Injury and intelligence.",
        next_team="Assessment",
    )
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.CLOSED
    assert not AgencyRequest.objects.filter(enquiry=enquiry, status=RequestStatus.PENDING).exists()
