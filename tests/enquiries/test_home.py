"""Home pages show what is waiting for each role, counted from the real records."""

import datetime as dt
import re

import pytest

from mash.enquiries import services
from mash.enquiries.models import RequestStatus
from tests.enquiries import journey

pytestmark = pytest.mark.django_db


def _figure(html: str, title: str) -> int:
    match = re.search(re.escape(title) + r".*?govuk-heading-l[^>]*>(\d+)<", html, re.S)
    assert match, f"no figure for {title!r}"
    return int(match.group(1))


def test_manager_and_practitioner_home_pages_count_their_work(signed_in, time_machine):
    hub = journey.small_hub()
    journey.consented_enquiry(hub)  # awaiting a rating
    ready = journey.rated_enquiry(hub)
    for key, agency in (
        ("police", hub.police),
        ("health", hub.health),
        ("education", hub.education),
        ("social_care", hub.social_care),
    ):
        services.answer_request(
            actor=hub.practitioners[key],
            request=journey.request_for(ready, agency),
            nothing_held=True,
        )
    journey.rated_enquiry(hub, rag="red")  # checks running
    html = signed_in(hub.manager).get("/").content.decode()
    assert _figure(html, "Ready for a decision") == 1
    assert _figure(html, "Awaiting a rating") == 1
    assert _figure(html, "Overdue agency requests") == 0

    time_machine.move_to(dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=5))
    html = signed_in(hub.manager).get("/").content.decode()
    assert _figure(html, "Overdue agency requests") == 4
    police_home = signed_in(hub.practitioners["police"]).get("/").content.decode()
    assert _figure(police_home, "Requests to answer") == 1
    assert _figure(police_home, "Overdue") == 1
    assert journey.request_for(ready, hub.police).status == RequestStatus.NOTHING_HELD


def test_coordinator_home_counts_contacts_to_screen(signed_in):
    hub = journey.small_hub()
    journey.submitted_contact(hub)
    html = signed_in(hub.coordinator).get("/").content.decode()
    assert _figure(html, "Contacts to screen") == 1
    assert _figure(html, "Draft contacts") == 0
