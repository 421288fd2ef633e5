"""The same notification sent twice at the same moment (a retry racing the original):
one is created, the other answered 200 with it. Each request runs in its own thread
with its own database connection, released together, so the database decides."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from mash.contacts.models import NotificationChild, PoliceNotification
from mash.core.models import AuditEvent
from tests.api.conftest import Api, api_for, sample

pytestmark = pytest.mark.django_db(transaction=True)


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
    assert not any(t.is_alive() for t in threads), "a request never finished"
    return results


def _post(api: Api, data: dict[str, Any]) -> Callable[[], Any]:
    own = Api(key=api.key, token=api.token, client=Client(raise_request_exception=False))
    return lambda: own.post(data)


@pytest.mark.parametrize("attempt", range(3))
def test_the_same_notification_sent_twice_at_once_is_created_once(force, attempt):
    first, second = api_for(force), api_for(force, name="Retry queue")
    responses = race(_post(first, sample()), _post(second, sample()))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 201], [r.content for r in responses]
    ids = {json.loads(r.content)["id"] for r in responses}
    assert len(ids) == 1
    assert PoliceNotification.objects.count() == 1
    assert NotificationChild.objects.count() == 1
    assert AuditEvent.objects.filter(action="contacts.police_notification_received").count() == 1


def test_a_conflicting_notification_at_the_same_moment_is_refused(force):
    first, second = api_for(force), api_for(force, name="Other")
    responses = race(_post(first, sample()), _post(second, sample(narrative="Other text")))
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert PoliceNotification.objects.count() == 1


def test_different_notifications_at_once_are_all_created(force):
    api = api_for(force)
    calls = [_post(api, sample(occurrence_reference=f"NR-{n}")) for n in range(4)]
    responses = race(*calls)
    assert [r.status_code for r in responses] == [201] * 4
    assert PoliceNotification.objects.count() == 4
