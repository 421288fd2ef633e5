"""Today's screen for the triage queue: received, screened, progressed, waiting, oldest waiting."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client

from mash.contacts import quality
from mash.contacts.models import PoliceNotification, TriageOutcome
from tests import factories
from tests.contacts import test_intake_support as support
from tests.contacts.test_pages_support import text

pytestmark = pytest.mark.django_db

# 10:30 in London on Wednesday 17 June 2026 (BST): the London day began at 23:00 UTC on the 16th.
NOW = dt.datetime(2026, 6, 17, 9, 30, tzinfo=dt.UTC)
URL = "/police/today/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def force():
    return support.force(name="Riverton Police")


@pytest.fixture
def researcher(force):
    return factories.police_researcher(agency_=force)


def _client(user) -> Client:
    signed = Client()
    signed.force_login(user)
    return signed


def _received(researcher, force, when: dt.datetime) -> PoliceNotification:
    return support.notification(actor=researcher, force_=force, received_at=when)


def _screened(notification: PoliceNotification, when: dt.datetime, outcome: str) -> None:
    # The triage panel's service records outcomes; here only the fields this screen counts.
    PoliceNotification.objects.filter(pk=notification.pk).update(outcome=outcome, triaged_at=when)


def test_the_days_figures_follow_the_london_day(researcher, force):
    yesterday_late = _received(researcher, force, dt.datetime(2026, 6, 16, 22, 30, tzinfo=dt.UTC))
    today_early = _received(researcher, force, dt.datetime(2026, 6, 16, 23, 30, tzinfo=dt.UTC))
    today_later = _received(researcher, force, dt.datetime(2026, 6, 17, 8, 0, tzinfo=dt.UTC))
    older = _received(researcher, force, dt.datetime(2026, 6, 14, 7, 0, tzinfo=dt.UTC))
    # Screened today: two (one progressed); screened yesterday (London): one.
    _screened(today_early, NOW - dt.timedelta(minutes=30), TriageOutcome.PROGRESS_CONTACT)
    _screened(today_later, NOW - dt.timedelta(minutes=10), TriageOutcome.RECORD_ONLY)
    _screened(
        yesterday_late,
        dt.datetime(2026, 6, 16, 22, 45, tzinfo=dt.UTC),
        TriageOutcome.PROGRESS_CONTACT,
    )
    figures = quality.today(user=researcher)
    assert figures.day == dt.date(2026, 6, 17)
    assert figures.received == 2
    assert figures.screened == 2
    assert figures.progressed == 1
    assert figures.waiting == 1
    assert figures.oldest == older
    assert figures.oldest_waited == "3 days 2 hours"  # since 08:00 London on the 14th
    assert figures.by_outcome[TriageOutcome.RECORD_ONLY] == 1


def test_the_page(researcher, force):
    oldest = _received(researcher, force, NOW - dt.timedelta(hours=5, minutes=20))
    _received(researcher, force, NOW - dt.timedelta(hours=1))
    response = _client(researcher).get(URL)
    assert response.status_code == 200
    page = text(response.content)
    assert "Today, 17 June 2026" in page
    assert "Received today 2" in page
    assert "Screened today 0" in page
    assert "Progressed to a contact today 0" in page
    assert "Still waiting 2" in page
    assert f"{oldest.reference} (Riverton Police {oldest.occurrence_reference})" in page
    assert "waiting 5 hours 20 minutes" in page
    assert f'href="/police/{oldest.pk}/"' in response.content.decode()
    # Aggregates and one reference: no child's name.
    assert "Amelia" not in page
    assert "Hart" not in page


def test_nothing_waiting(researcher):
    page = text(_client(researcher).get(URL).content)
    assert "Nothing is waiting: every notification has been screened." in page
    assert "Received today 0" in page


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (dt.timedelta(seconds=30), "0 minutes"),
        (dt.timedelta(minutes=1), "1 minute"),
        (dt.timedelta(hours=1), "1 hour"),
        (dt.timedelta(hours=2, minutes=5), "2 hours 5 minutes"),
        (dt.timedelta(days=1), "1 day"),
        (dt.timedelta(days=2, hours=1, minutes=59), "2 days 1 hour"),
        (dt.timedelta(seconds=-5), "0 minutes"),
    ],
)
def test_waited_in_words(delta, words):
    assert quality.waited(delta) == words


def test_a_hub_manager_may_see_it():
    assert _client(factories.hub_manager()).get(URL).status_code == 200


@pytest.mark.parametrize(
    "make_user",
    [
        factories.coordinator,
        factories.practitioner,
        factories.advice_line_worker,
        factories.analyst,
        factories.administrator,
    ],
)
def test_other_roles_are_refused(make_user):
    client = _client(make_user())
    assert client.get(URL).status_code == 403
    assert client.post(URL).status_code == 403
    with pytest.raises(PermissionDenied):
        quality.today(user=make_user())


def test_signed_out_and_wrong_method(researcher):
    assert Client().get(URL).status_code == 302
    assert _client(researcher).post(URL).status_code == 405


def test_queries_do_not_grow_with_the_queue(researcher, force, django_assert_max_num_queries):
    client = _client(researcher)
    _received(researcher, force, NOW - dt.timedelta(hours=1))
    with django_assert_max_num_queries(12) as one:
        client.get(URL)
    budget = len(one)
    for hours in range(2, 30):
        made = _received(researcher, force, NOW - dt.timedelta(hours=hours))
        if hours % 3 == 0:
            _screened(made, NOW - dt.timedelta(minutes=hours), TriageOutcome.SHARE_UNIVERSAL)
    with django_assert_max_num_queries(budget):
        client.get(URL)
