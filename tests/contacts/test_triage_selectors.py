"""Triage reads: the queue (oldest first, matched lazily, bounded), one notification with
its children's history, the domestic-abuse flag, and who may read any of it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Role
from mash.contacts import services as contact_services
from mash.contacts import triage
from mash.contacts import triage_selectors as selectors
from mash.contacts.models import PoliceNotification, TriageOutcome
from mash.core import clock
from mash.core.models import AuditEvent
from tests import factories
from tests.contacts import test_triage_support as support
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _researcher():
    return factories.police_researcher()


def test_the_queue_is_oldest_first_and_leaves_out_the_triaged(frozen):
    researcher = _researcher()
    newer = support.notification(received_at=NOW - dt.timedelta(hours=1))
    older = support.notification(received_at=NOW - dt.timedelta(hours=3))
    done = support.notification(received_at=NOW - dt.timedelta(hours=5))
    triage.record_outcome(actor=researcher, notification=done, outcome="record_only", reason="ok")
    queue = selectors.queue(user=researcher)
    assert [r.notification for r in queue.rows] == [older, newer]
    assert queue.total == 2
    assert queue.rows[0].waited == "3 h"
    assert [c.age for c in queue.rows[0].children] == ["7"]


def test_the_queue_matches_what_was_not_matched_yet(frozen):
    amelia = support.person()
    n = support.notification()
    assert n.matched_at is None
    row = selectors.queue(user=_researcher()).rows[0]
    assert row.children[0].child.person_id == amelia.pk
    n.refresh_from_db()
    assert n.matched_at is not None


def _fill_queue(count: int, offset: int) -> None:
    for i in range(count):
        born = dt.date(2012, 1, 1) + dt.timedelta(days=offset + i)
        given = f"Kid{offset + i}"
        support.person(given, "Marsh", born)
        support.notification(
            children=[support.child(given, "Marsh", born), support.child("Unknown", "Child", None)],
            received_at=NOW - dt.timedelta(minutes=offset + i + 1),
        )


def _queries(researcher) -> tuple[int, int]:
    """Queries for the queue seen first (matching what it shows), then seen again."""
    with CaptureQueriesContext(connection) as first:
        selectors.queue(user=researcher)
    with CaptureQueriesContext(connection) as again:
        selectors.queue(user=researcher)
    return len(first), len(again)


def test_the_queue_takes_the_same_queries_for_10_and_500_notifications(
    frozen, django_assert_max_num_queries
):
    """Seen again, exactly the same; seen first, matching adds a fixed few (on SQLite one
    more update for each 199 children linked: Django's cautious limit on parameters)."""
    researcher = _researcher()
    hub = journey.small_hub()
    _fill_queue(10, 0)
    journey.open_enquiry(hub, people=[journey.child("Kid0", "Marsh", dt.date(2012, 1, 1))])
    small_first, small_again = _queries(researcher)
    assert len(selectors.queue(user=researcher).rows) == 10
    PoliceNotification.objects.update(outcome="record_only")  # out of the queue
    _fill_queue(500, 1000)
    large_first, large_again = _queries(researcher)
    assert small_again == large_again
    assert large_first <= small_first + 2
    with django_assert_max_num_queries(small_again):
        queue = selectors.queue(user=researcher)
    assert queue.total == 500
    assert len(queue.rows) == selectors.QUEUE_LIMIT
    assert all(row.children[0].child.person_id for row in queue.rows)


def _da(person_children, incident_at, incident_type="domestic_abuse"):
    n = support.notification(
        children=person_children, incident_type=incident_type, incident_at=incident_at
    )
    triage.match_children(n)
    return n


def test_the_third_domestic_abuse_notification_in_12_months_is_flagged(frozen):
    support.person()
    researcher = _researcher()
    _da([support.child()], NOW - dt.timedelta(days=300))
    _da([support.child()], NOW - dt.timedelta(days=20), incident_type="drugs")  # not DA
    second = _da([support.child()], NOW - dt.timedelta(days=100))
    detail = selectors.notification_for(user=researcher, pk=second.pk)
    assert detail.children[0].da_count == 2
    assert not detail.children[0].da_flag
    assert detail.flags == []
    third = _da([support.child()], NOW - dt.timedelta(hours=3))
    detail = selectors.notification_for(user=researcher, pk=third.pk)
    child = detail.children[0]
    assert child.da_count == 3
    assert child.da_flag
    assert child.da_text == "3rd domestic abuse notification in 12 months"
    assert detail.flags == ["3rd domestic abuse notification in 12 months: Amelia Hart"]
    row = next(r for r in selectors.queue(user=researcher).rows if r.notification == third)
    assert "3rd domestic abuse notification in 12 months: Amelia" in [f.text for f in row.flags]
    # The second is not flagged by the third that came after it.
    row = next(r for r in selectors.queue(user=researcher).rows if r.notification == second)
    assert not [f for f in row.flags if "domestic abuse" in f.text]


def test_a_notification_more_than_365_days_before_the_incident_does_not_count(frozen):
    support.person()
    _da([support.child()], NOW - dt.timedelta(days=400))
    _da([support.child()], NOW - dt.timedelta(days=200))
    third = _da([support.child()], NOW - dt.timedelta(days=34))
    detail = selectors.notification_for(user=_researcher(), pk=third.pk)
    assert detail.children[0].da_count == 2  # the first is 366 days before this incident
    assert not detail.children[0].da_flag


def test_a_child_not_matched_has_no_history_and_no_flag(frozen):
    for days in (200, 100, 1):
        n = _da([support.child("Nobody", "Known")], NOW - dt.timedelta(days=days))
    detail = selectors.notification_for(user=_researcher(), pk=n.pk)
    assert detail.children[0].child.person is None
    assert detail.children[0].da_count == 0
    assert not detail.children[0].da_flag


def test_twelve_months_of_notifications_and_contacts_and_the_open_enquiries(frozen):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub, received_at=NOW - dt.timedelta(days=30))
    amelia_id = enquiry.contact.people.get(role="child").person_id
    journey.submitted_contact(  # too long ago
        hub,
        people=[journey.child(link_to=amelia_id), journey.adult()],
        received_at=NOW - dt.timedelta(days=400),
    )
    # A draft naming her is not a contact yet.
    contact_services.save_draft(actor=hub.coordinator, data={})
    _da([support.child()], NOW - dt.timedelta(days=500))  # too long ago
    _da([support.child()], NOW - dt.timedelta(days=60), incident_type="missing_child")
    n = _da([support.child(), support.child("Noah", "Hart", dt.date(2020, 2, 2))], NOW)
    detail = selectors.notification_for(user=_researcher(), pk=n.pk)
    amelia, noah = detail.children
    assert amelia.notifications_12m == 2
    assert amelia.contacts_12m == 1
    assert [(e.reference, e.status_label) for e in amelia.open_enquiries] == [
        (enquiry.reference, "Awaiting consent")
    ]
    assert amelia.open_enquiries[0].rag_label == "Not rated"
    assert noah.child.person is None
    assert (noah.notifications_12m, noah.contacts_12m, noah.open_enquiries) == (0, 0, [])
    assert detail.open_enquiries == amelia.open_enquiries


def test_the_candidates_are_offered_while_waiting_only(frozen):
    support.person()
    support.person("Amelia", "Hartt")
    researcher = _researcher()
    n = support.notification()
    detail = selectors.notification_for(user=researcher, pk=n.pk)
    assert len(detail.children[0].candidates) == 2
    triage.record_outcome(actor=researcher, notification=n, outcome="record_only", reason="ok")
    detail = selectors.notification_for(user=researcher, pk=n.pk)
    assert detail.children[0].candidates == []


def test_opening_a_notification_is_audited(frozen):
    researcher = _researcher()
    n = support.notification()
    selectors.notification_for(user=researcher, pk=n.pk, viewing=False)
    assert not AuditEvent.objects.filter(action="contacts.policenotification.viewed").exists()
    selectors.notification_for(user=researcher, pk=n.pk)
    event = AuditEvent.objects.get(action="contacts.policenotification.viewed")
    assert (event.actor, event.object_id) == (researcher, str(n.pk))


def test_a_missing_notification_is_not_found(frozen):
    with pytest.raises(Http404):
        selectors.notification_for(user=_researcher(), pk=99999)


def test_recently_triaged_newest_first(frozen):
    researcher = _researcher()
    first, second, _waiting = (support.notification() for _ in range(3))
    for n in (first, second):
        with time_machine.travel(NOW + dt.timedelta(minutes=n.pk), tick=False):
            triage.record_outcome(
                actor=researcher, notification=n, outcome=TriageOutcome.RECORD_ONLY, reason="ok"
            )
    assert selectors.recently_triaged(user=researcher) == [second, first]
    assert selectors.recently_triaged(user=researcher, limit=1) == [second]


def test_the_next_waiting_comes_after_this_one_else_the_oldest(frozen):
    researcher = _researcher()
    a, b, c = (
        support.notification(received_at=NOW - dt.timedelta(minutes=m)) for m in (30, 20, 10)
    )
    assert selectors.next_waiting(user=researcher, after=a) == b
    assert selectors.next_waiting(user=researcher, after=c) == a
    assert selectors.next_waiting(user=researcher, after=None) == a
    for n in (a, b):
        triage.record_outcome(actor=researcher, notification=n, outcome="record_only", reason="x")
    assert selectors.next_waiting(user=researcher, after=c) is None


def test_the_home_page_figures(frozen):
    researcher = _researcher()
    assert selectors.figures(user=researcher) == (0, None)
    old = support.notification(received_at=NOW - dt.timedelta(hours=26))
    support.notification()
    assert selectors.figures(user=researcher) == (2, old)
    assert selectors.waited(old.received_at, clock.now()) == "26 h"
    assert selectors.waited(NOW - dt.timedelta(days=3, hours=1), NOW) == "3 days"
    assert selectors.waited(NOW - dt.timedelta(minutes=5), NOW) == "5 min"


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        (dt.date(2018, 6, 10), "7"),
        (dt.date(2018, 6, 11), "6"),
        (dt.date(2025, 1, 20), "4 months"),
        (None, "Age not known"),
    ],
)
def test_ages_in_words(born, expected):
    assert selectors.age(born, dt.date(2025, 6, 10)) == expected


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
    ],
)
def test_ordinals(n, text):
    assert selectors.ordinal(n) == text


@pytest.mark.parametrize(
    "role", [r for r in Role.values if r not in (Role.HUB_MANAGER, Role.POLICE_RESEARCHER)]
)
def test_no_other_role_reads_the_queue_or_a_notification(role):
    user = factories.ROLE_FACTORIES[role]()
    n = support.notification()
    for read in (
        lambda: selectors.queue(user=user),
        lambda: selectors.recently_triaged(user=user),
        lambda: selectors.notification_for(user=user, pk=n.pk),
        lambda: selectors.figures(user=user),
        lambda: selectors.next_waiting(user=user, after=None),
    ):
        with pytest.raises(PermissionDenied):
            read()


@pytest.mark.parametrize("role", ["police_researcher", "practitioner", "analyst", "administrator"])
def test_notifications_added_to_an_enquiry_are_for_the_enquirys_readers_only(make, role):
    from django.core.exceptions import PermissionDenied

    from mash.contacts import triage_selectors
    from tests.enquiries import journey

    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    assert triage_selectors.added_to_enquiry(user=hub.manager, enquiry=enquiry) == []
    with pytest.raises(PermissionDenied):
        triage_selectors.added_to_enquiry(user=getattr(make, role)(), enquiry=enquiry)
