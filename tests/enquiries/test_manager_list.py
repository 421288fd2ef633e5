"""The hub's list of open enquiries: /enquiries/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.contacts.models import Contact, ContactPerson, ContactStatus, PersonRole
from mash.core import clock
from mash.core.navigation import ITEMS
from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    Enquiry,
    EnquiryStatus,
    Rag,
    RequestStatus,
)
from mash.people.models import Person
from tests.enquiries import journey
from tests.enquiries.test_manager_support import answer_all, decide, text, url

pytestmark = pytest.mark.django_db

LIST = url("list")


def _row(html: str, reference: str) -> str:
    start = html.index(f">{reference}</a>")
    return html[start : html.index("</tr>", start)]


def test_the_list_shows_each_open_enquiry_with_what_the_hub_needs(signed_in):
    hub = journey.small_hub()
    rated = journey.rated_enquiry(hub, people=[journey.child(), journey.child("Ben", "Hart")])
    services.answer_request(
        actor=hub.practitioners["health"],
        request=journey.request_for(rated, hub.health),
        nothing_held=True,
    )
    waiting = journey.open_enquiry(hub)
    services.propose_rating(
        actor=hub.coordinator, enquiry=waiting, rag=Rag.AMBER, reason="Older bruising."
    )
    html = signed_in(hub.manager).get(LIST).content.decode()
    row = _row(html, rated.reference)
    assert "Amelia Hart, Ben Hart" in row
    assert "govuk-tag--red" in row
    assert "Red" in row
    assert "Agency checks" in row
    assert "1 of 4" in row
    assert "OVERDUE" not in row
    other = _row(html, waiting.reference)
    assert "Awaiting consent" in other
    assert "Not rated" in other
    assert "Amber" in other  # the suggested rating
    assert "None asked yet" in other


def test_overdue_requests_are_counted_in_words_and_colour(signed_in):
    hub = journey.small_hub()
    start = clock.now() - dt.timedelta(hours=6)
    with clock.at(start):
        enquiry = journey.rated_enquiry(hub, rag=Rag.RED)  # 4 hours: overdue 2 hours ago
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        nothing_held=True,
    )
    row = _row(signed_in(hub.manager).get(LIST).content.decode(), enquiry.reference)
    assert "3 OVERDUE" in row
    assert "govuk-tag--red" in row
    assert "1 of 4" in row


def test_urgent_enquiries_come_first_then_the_oldest(signed_in):
    hub = journey.small_hub()
    with clock.at(clock.now() - dt.timedelta(hours=3)):
        oldest = journey.rated_enquiry(hub, rag=Rag.GREEN)
    with clock.at(clock.now() - dt.timedelta(hours=2)):
        middle = journey.open_enquiry(hub)
    urgent = journey.rated_enquiry(hub, rag=Rag.URGENT)
    page = text(signed_in(hub.coordinator).get(LIST))
    positions = [page.index(e.reference) for e in (urgent, oldest, middle)]
    assert positions == sorted(positions)


def test_groups_filter_the_list_and_count_each_group(signed_in):
    hub = journey.small_hub()
    consent = journey.open_enquiry(hub)
    rating = journey.consented_enquiry(hub)
    checks = journey.rated_enquiry(hub)
    ready = journey.rated_enquiry(hub)
    answer_all(hub, ready)
    closed = journey.rated_enquiry(hub)
    answer_all(hub, closed)
    decide(hub, closed)
    client = signed_in(hub.manager)
    everything = text(client.get(LIST))
    assert "All open (4)" in everything
    for label in ("Awaiting consent (1)", "Awaiting rating (1)", "Agency checks (1)"):
        assert label in everything
    assert "Ready for decision (1)" in everything
    assert closed.reference not in everything
    expected = {
        "awaiting_consent": consent,
        "awaiting_rating": rating,
        "checks": checks,
        "ready": ready,
    }
    for key, enquiry in expected.items():
        page = text(client.get(LIST, {"status": key}))
        shown = [e for e in (consent, rating, checks, ready) if e.reference in page]
        assert shown == [enquiry], key
    # An unknown group shows everything rather than failing.
    assert "All open (4)" in text(client.get(LIST, {"status": "<b>nonsense</b>"}))


def test_an_empty_list_says_so(signed_in, make):
    page = text(signed_in(make.hub_manager()).get(LIST))
    assert "There are no open enquiries" in page


def test_the_navigation_offers_enquiries_to_the_hub_only(signed_in, make):
    item = next(i for i in ITEMS if i.url_name == "enquiries:list")
    assert item.text == "Enquiries"
    assert item.permission == "enquiries.view"
    assert 'href="/enquiries/"' in signed_in(make.coordinator()).get("/").content.decode()
    assert 'href="/enquiries/"' not in signed_in(make.practitioner()).get("/").content.decode()


def _bulk(n: int, hub: journey.Hub) -> None:
    """n open enquiries in every state, built with bulk_create (the services are too slow)."""
    now = clock.now()
    user = hub.coordinator
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                created_by=user,
                status=ContactStatus.SCREENED,
                received_at=now - dt.timedelta(hours=i % 30),
                concern="Bulk concern",
            )
            for i in range(n)
        ]
    )
    people = Person.objects.bulk_create(
        [Person(given_name=f"Child{i}", family_name="Bulk") for i in range(n)]
    )
    ContactPerson.objects.bulk_create(
        [
            ContactPerson(
                contact=c,
                person=p,
                role=PersonRole.CHILD,
                given_name=p.given_name,
                family_name="Bulk",
            )
            for c, p in zip(contacts, people, strict=True)
        ]
    )
    statuses = [EnquiryStatus.AWAITING_CONSENT, EnquiryStatus.AWAITING_RATING, EnquiryStatus.CHECKS]
    rags = [Rag.URGENT, Rag.RED, Rag.AMBER, Rag.GREEN]
    enquiries = Enquiry.objects.bulk_create(
        [
            Enquiry(
                contact=c,
                contact_received_at=c.received_at or now,
                opened_by=user,
                opened_at=now - dt.timedelta(minutes=i),
                status=statuses[i % 3],
                rag=rags[i % 4] if statuses[i % 3] == EnquiryStatus.CHECKS else "",
                proposed_rag=Rag.AMBER if i % 5 == 0 else "",
            )
            for i, c in enumerate(contacts)
        ]
    )
    AgencyRequest.objects.bulk_create(
        [
            AgencyRequest(
                enquiry=e,
                agency=agency,
                deadline_at=now + dt.timedelta(hours=(i % 3) - 1),
                duration_amount=4,
                duration_unit="clock_hours",
                status=RequestStatus.PENDING if i % 2 else RequestStatus.ANSWERED,
            )
            for i, e in enumerate(enquiries)
            if e.status == EnquiryStatus.CHECKS
            for agency in (hub.police, hub.health)
        ]
    )


@pytest.mark.parametrize("query", [{}, {"status": "checks"}, {"status": "ready"}, {"page": "2"}])
def test_the_list_costs_the_same_queries_for_10_enquiries_as_for_500(signed_in, query):
    hub = journey.small_hub()
    client = signed_in(hub.manager)
    _bulk(10, hub)
    client.get(LIST)  # the hub's settings row and the session, made once
    with CaptureQueriesContext(connection) as few:
        small = client.get(LIST, query)
    _bulk(490, hub)
    with CaptureQueriesContext(connection) as many:
        large = client.get(LIST, query)
    assert small.status_code == large.status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    if not query:
        assert text(large).count("Bulk") == 50  # one page of 50
        assert "All open (510)" not in text(large)
        assert "All open (500)" in text(large)
