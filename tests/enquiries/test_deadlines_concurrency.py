"""Two sweeps at the same moment (two workers): every alert, notification and email once.

Each sweep runs in its own real thread with its own database connection,
released together by a barrier, so the database decides who raises what.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connections

from mash.core.models import AuditEvent, Notification
from mash.enquiries import deadlines
from mash.enquiries.models import AlertKind, RequestAlert
from tests.enquiries.test_deadlines import (
    DEADLINE,
    HEALTH_INBOX,
    POLICE_INBOX,
    RATED,
    REMINDER,
    World,
    build_world,
    emails_queued,
    go,
    rate,
    run_tasks,
)

pytestmark = pytest.mark.django_db(transaction=True)
ENQUIRIES = 5  # 20 requests: enough for the two sweeps to overlap row by row


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls at the same moment in threads; each result or the exception it raised."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[Any] = [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[n] = call()
        except Exception as error:  # the test inspects whatever happened
            results[n] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a sweep never finished"
    return results


@pytest.fixture
def world(time_machine: Any) -> World:
    time_machine.move_to(RATED - dt.timedelta(hours=2), tick=False)
    built = build_world()
    for _ in range(ENQUIRIES):
        rate(built, time_machine)
    return built


def _each_once(kind: str, recipients: int) -> None:
    alerts = RequestAlert.objects.filter(kind=kind)
    assert alerts.count() == ENQUIRIES * 4
    keys = Counter(Notification.objects.filter(kind=kind).values_list("user_id", "key"))
    assert len(keys) == ENQUIRIES * recipients
    assert set(keys.values()) == {1}
    events = Counter(
        AuditEvent.objects.filter(action=f"enquiries.request_{kind}").values_list(
            "object_id", flat=True
        )
    )
    assert len(events) == ENQUIRIES * 4
    assert set(events.values()) == {1}


@pytest.mark.parametrize("sweeps", [2, 3])
def test_sweeps_at_the_same_moment_raise_each_reminder_and_email_once(world, time_machine, sweeps):
    go(time_machine, REMINDER)
    results = race(*[deadlines.sweep] * sweeps)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.reminders for r in results) == ENQUIRIES * 4
    assert sum(r.overdue for r in results) == 0
    # Police: three active practitioners; health, education, social care: one each.
    _each_once(AlertKind.REMINDER, recipients=6)
    assert sorted(e["to"] for e in emails_queued()) == sorted(
        [POLICE_INBOX, HEALTH_INBOX] * ENQUIRIES
    )
    # (Two workers running the queue at once is tested with real processes in
    # tests/core/test_worker_process.py: the database worker needs the main thread.)
    run_tasks()
    assert Counter(m.to[0] for m in mail.outbox) == {
        POLICE_INBOX: ENQUIRIES,
        HEALTH_INBOX: ENQUIRIES,
    }
    subjects = Counter(m.subject for m in mail.outbox)
    assert set(subjects.values()) == {2}  # each enquiry once per inbox


def test_sweeps_at_the_same_moment_escalate_each_overdue_request_once(world, time_machine):
    go(time_machine, DEADLINE)
    results = race(deadlines.sweep, deadlines.sweep)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.overdue for r in results) == ENQUIRIES * 4
    # The police lead for police's requests; the two active hub managers for every one.
    assert RequestAlert.objects.filter(kind=AlertKind.REMINDER).count() == 0
    alerts = RequestAlert.objects.filter(kind=AlertKind.OVERDUE)
    assert alerts.count() == ENQUIRIES * 4
    keys = Counter(Notification.objects.values_list("user_id", "key"))
    assert len(keys) == ENQUIRIES * (4 * 2 + 1)
    assert set(keys.values()) == {1}
    again = race(deadlines.sweep, deadlines.sweep)
    assert [(r.reminders, r.overdue) for r in again] == [(0, 0), (0, 0)]
