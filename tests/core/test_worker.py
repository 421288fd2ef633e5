"""`mash worker` in this process: `--once`, and the sweep loop the long-running form runs.

The long-running command itself (and `mash serve`, which supervises it) is
tested as real processes in test_worker_process.py.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from mash.core.management.commands.worker import sweep_forever
from mash.core.models import Notification
from mash.enquiries.models import AlertKind, RequestAlert
from tests.enquiries.test_deadlines import (
    DEADLINE,
    RATED,
    REMINDER,
    SWEEP_NOW,
    build_world,
    go,
    rate,
)

# The worker checks its database connection between tasks, which a test holding
# its transaction open cannot allow: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def once() -> str:
    out = io.StringIO()
    call_command("worker", once=True, stdout=out)
    return out.getvalue().strip()


def test_once_with_nothing_due_says_so(time_machine):
    go(time_machine, RATED)
    assert once() == "reminders=0 overdue=0"


def test_once_sweeps_runs_the_due_tasks_and_leaves_future_ones(time_machine):
    go(time_machine, RATED - dt.timedelta(hours=2))
    world = build_world()
    rate(world, time_machine)
    go(time_machine, REMINDER)
    assert once() == "reminders=4 overdue=0"
    assert len(mail.outbox) == 2  # police's and health's shared inboxes, sent in the same run
    statuses = dict(
        DBTaskResult.objects.filter(task_path=SWEEP_NOW).values_list("run_after", "status")
    )
    assert statuses == {REMINDER: "SUCCESSFUL", DEADLINE: "READY"}
    go(time_machine, DEADLINE)
    assert once() == "reminders=0 overdue=4"
    assert once() == "reminders=0 overdue=0"
    assert len(mail.outbox) == 2


def test_the_sweep_loop_raises_alerts_as_they_fall_due_and_stops_when_told(time_machine):
    go(time_machine, RATED - dt.timedelta(hours=2))
    world = build_world()
    rate(world, time_machine)
    go(time_machine, REMINDER)
    # Other tests' threads in this process may still hold connections: count from here.
    before = _connections() if connection.vendor == "postgresql" else 0
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_forever, args=(0.05, stop), daemon=True)
    sweeper.start()
    try:
        _wait(lambda: RequestAlert.objects.filter(kind=AlertKind.REMINDER).count() == 4)
        go(time_machine, DEADLINE)  # a later round sees the deadline pass
        _wait(lambda: RequestAlert.objects.filter(kind=AlertKind.OVERDUE).count() == 4)
        time.sleep(0.3)  # several more rounds: nothing new
        assert RequestAlert.objects.count() == 8
        assert Notification.objects.filter(kind="overdue").count() == 4 * 2 + 1
    finally:
        stop.set()
        sweeper.join(timeout=5)
    assert not sweeper.is_alive()
    if connection.vendor == "postgresql":
        # The stopped loop released its own connection (else the database stays in use).
        # A closed connection's server process ends a moment after the client hangs up.
        _wait(lambda: _connections() <= before, timeout=10)


def _connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _wait(check: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the sweep loop")
