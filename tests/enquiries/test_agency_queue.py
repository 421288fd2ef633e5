"""An agency practitioner's queue of requests: order, overdue marking, access, query bounds."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from mash.accounts.models import Role
from mash.contacts.models import Contact, ContactPerson, ContactStatus
from mash.core import clock
from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    Enquiry,
    EnquiryStatus,
    Rag,
    RequestStatus,
    Sensitivity,
)
from mash.enquiries.selectors import agency_queue
from mash.people.models import Person
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC)  # a Tuesday, GMT


def _order(html: str, references: list[str]) -> list[str]:
    return sorted(references, key=html.index)


def test_pending_first_soonest_deadline_first_and_overdue_marked_in_words(signed_in):
    with time_machine.travel(START, tick=False):
        hub = journey.small_hub()
        amber = journey.rated_enquiry(hub, rag=Rag.AMBER)  # due at 10:00 tomorrow
        red = journey.rated_enquiry(hub, rag=Rag.RED)  # due at 14:00 today
        answered = journey.rated_enquiry(hub, rag=Rag.RED)
        services.answer_request(
            actor=hub.practitioners["police"],
            request=journey.request_for(answered, hub.police),
            items=[services.ItemEntry(summary="Held", sensitivity=Sensitivity.PROFESSIONALS)],
        )
    with time_machine.travel(START + dt.timedelta(hours=5), tick=False):
        green = journey.rated_enquiry(hub, rag=Rag.GREEN)  # due in 48 hours from 15:00
        response = signed_in(hub.practitioners["police"]).get("/requests/")
    assert response.status_code == 200
    html = response.content.decode()
    refs = [e.reference for e in (amber, red, answered, green)]
    assert _order(html, refs) == [
        red.reference,
        amber.reference,
        green.reference,
        answered.reference,
    ]
    # The overdue one says so in words, and in a red tag.
    red_row = html[html.index(red.reference) : html.index(amber.reference)]
    assert "OVERDUE by 1h 0m" in red_row
    assert "govuk-tag--red" in red_row
    assert ">\n  OVERDUE\n<" in red_row or ">OVERDUE<" in red_row.replace("\n", "").replace(" ", "")
    amber_row = html[html.index(amber.reference) : html.index(green.reference)]
    assert "OVERDUE" not in amber_row
    assert "19h 0m left" in amber_row
    # Each row: the children, the RAG in words, the deadline.
    assert "Amelia Hart" in red_row
    assert "Red" in red_row
    assert "4 March 2025, 14:00" in red_row
    assert "Amber" in amber_row
    answered_row = html[html.index(answered.reference) :]
    assert "Answered" in answered_row
    # Links open the request page.
    assert f'href="/requests/{journey.request_for(red, hub.police).pk}/"' in html


def test_the_queue_orders_pending_first_whatever_the_status_words(make):
    hub = journey.small_hub()
    enquiries = [journey.rated_enquiry(hub) for _ in range(3)]
    requests = [journey.request_for(e, hub.health) for e in enquiries]
    # The earliest deadline is answered, the latest nothing held; the middle one pending.
    AgencyRequest.objects.filter(pk=requests[0].pk).update(
        status=RequestStatus.ANSWERED, deadline_at=clock.now() - dt.timedelta(hours=2)
    )
    AgencyRequest.objects.filter(pk=requests[2].pk).update(status=RequestStatus.NOTHING_HELD)
    order = [r.pk for r in agency_queue(user=hub.practitioners["health"])]
    assert order[0] == requests[1].pk
    assert set(order[1:]) == {requests[0].pk, requests[2].pk}
    assert order[1] == requests[0].pk  # then by deadline


def test_the_queue_leaves_out_closed_enquiries_and_requests_not_required(signed_in):
    hub = journey.small_hub()
    kept = journey.rated_enquiry(hub)
    excluded = journey.rated_enquiry(hub)
    services.mark_not_required(
        actor=hub.manager,
        request=journey.request_for(excluded, hub.health),
        reason="Not known to health.",
    )
    closed = journey.rated_enquiry(hub)
    Enquiry.objects.filter(pk=closed.pk).update(status=EnquiryStatus.CLOSED)
    html = signed_in(hub.practitioners["health"]).get("/requests/").content.decode()
    assert kept.reference in html
    assert excluded.reference not in html
    assert closed.reference not in html


def test_an_empty_queue_says_so(make, signed_in):
    agency = make.agency(name="Housing")
    html = signed_in(make.practitioner(agency_=agency)).get("/requests/").content.decode()
    assert "There are no requests for Housing on open enquiries." in html


def test_the_queue_shows_only_the_practitioners_own_agency(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    health = journey.request_for(enquiry, hub.health)
    police = journey.request_for(enquiry, hub.police)
    html = signed_in(hub.practitioners["health"]).get("/requests/").content.decode()
    assert f"/requests/{health.pk}/" in html
    assert f"/requests/{police.pk}/" not in html


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.AGENCY_PRACTITIONER, 200),
        (Role.HUB_MANAGER, 403),
        (Role.REFERRAL_COORDINATOR, 403),
        (Role.ADVICE_LINE_WORKER, 403),
        (Role.ANALYST, 403),
        (Role.ADMINISTRATOR, 403),
    ],
)
def test_only_practitioners_have_a_queue(role, status, make, signed_in):
    client = signed_in(make.ROLE_FACTORIES[role]())
    assert client.get("/requests/").status_code == status
    # A POST is refused to the others, and not a form the practitioner's queue takes.
    assert client.post("/requests/").status_code == (405 if status == 200 else 403)


def test_the_queue_is_in_the_navigation_of_practitioners_only(make, signed_in):
    practitioner_home = signed_in(make.practitioner()).get("/").content.decode()
    manager_home = signed_in(make.hub_manager()).get("/").content.decode()
    assert 'href="/requests/"' in practitioner_home
    assert 'href="/requests/"' not in manager_home


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(client):
    assert client.get("/requests/").status_code == 302


def _bulk_requests(hub: journey.Hub, count: int) -> None:
    """`count` open enquiries with a child each and a request to health: built in bulk."""
    now = clock.now()
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                status=ContactStatus.SCREENED,
                received_at=now,
                concern="Bulk",
                created_by=hub.coordinator,
            )
            for _ in range(count)
        ]
    )
    people = Person.objects.bulk_create(
        [
            Person(given_name=f"Child{i}", family_name="Bulk", date_of_birth=dt.date(2016, 1, 1))
            for i in range(count)
        ]
    )
    ContactPerson.objects.bulk_create(
        [
            ContactPerson(
                contact=c, person=p, role="child", given_name=p.given_name, family_name="Bulk"
            )
            for c, p in zip(contacts, people, strict=True)
        ]
    )
    enquiries = Enquiry.objects.bulk_create(
        [
            Enquiry(
                contact=c,
                contact_received_at=c.received_at or now,
                opened_by=hub.coordinator,
                status=EnquiryStatus.CHECKS,
                rag=Rag.AMBER,
                rated_at=now,
            )
            for c in contacts
        ]
    )
    AgencyRequest.objects.bulk_create(
        [
            AgencyRequest(
                enquiry=e,
                agency=hub.health,
                deadline_at=now + dt.timedelta(hours=(i % 48) - 6),
                duration_amount=24,
                duration_unit="working_hours" if i % 2 else "clock_hours",
                status=RequestStatus.PENDING if i % 3 else RequestStatus.ANSWERED,
                answered_at=None if i % 3 else now,
            )
            for i, e in enumerate(enquiries)
        ]
    )


def test_the_queue_costs_the_same_queries_for_10_and_500_requests(
    signed_in, django_assert_max_num_queries, django_assert_num_queries
):
    hub = journey.small_hub()
    client = signed_in(hub.practitioners["health"])
    _bulk_requests(hub, 10)
    client.get("/requests/")  # warm the session and the hub's settings row
    with django_assert_max_num_queries(100) as few:
        response = client.get("/requests/")
    assert len(re.findall(r'href="/requests/\d+/"', response.content.decode())) == 10
    _bulk_requests(hub, 490)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/requests/")
    html = response.content.decode()
    assert html.count("Child") >= 100  # a full page of rows was drawn
    assert "OVERDUE" in html
