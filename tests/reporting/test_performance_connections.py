"""The dashboard's queries on two connections at once (PostgreSQL) give the same figures as
on one, never leave a connection open, pass a helper's error on, and stay on the caller's
connection while it holds a transaction open (others could not see its writes).

Transactional tests: the helpers' connections must see the hand-made hub, so it is committed.
On SQLite the queries always run one after another; the comparison still holds.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mash.reporting import performance
from mash.reporting.performance import Figures
from tests.reporting import dashboard_data as data

pytestmark = pytest.mark.django_db(transaction=True)


def _tables() -> dict[str, list[list[Any]]]:
    tables = performance.build_tables(Figures(data.PERIOD, now=data.NOW))
    return {slug: table.rows for slug, table in tables.items()}


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def test_two_connections_give_the_figures_one_gives(settings):
    data.build()
    settings.MASH_REPORT_CONNECTIONS = 1
    with CaptureQueriesContext(connection) as alone:
        one = _tables()
    settings.MASH_REPORT_CONNECTIONS = 2
    with CaptureQueriesContext(connection) as shared:
        two = _tables()
    assert two == one
    assert one["headline"], "the hub has figures"
    if connection.vendor == "postgresql":
        # Some of the queries ran elsewhere: on the helper's connection.
        assert len(shared.captured_queries) < len(alone.captured_queries)


def test_the_helpers_connections_are_closed(settings):
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL uses more than one connection")
    data.build()
    settings.MASH_REPORT_CONNECTIONS = 2
    _tables()
    before = _backends()
    for _ in range(3):
        _tables()
    # A closed connection's server process ends a moment after the close.
    deadline = time.monotonic() + 10
    while _backends() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _backends() == before


def test_an_error_on_a_helper_reaches_the_request(settings, monkeypatch):
    data.build()
    settings.MASH_REPORT_CONNECTIONS = 2

    def broken(self: Figures) -> Any:
        raise RuntimeError("the query failed")

    # Every query fails, whichever connection runs it.
    for name in performance.QUERIES:
        monkeypatch.setattr(Figures, name, property(broken))
    with pytest.raises(RuntimeError, match="the query failed"):
        _tables()


def test_inside_an_open_transaction_every_query_stays_on_its_connection(settings):
    settings.MASH_REPORT_CONNECTIONS = 2
    with transaction.atomic():
        data.build()  # not yet committed: only this connection sees it
        with CaptureQueriesContext(connection) as captured:
            inside = _tables()
        assert len(captured.captured_queries) >= len(performance.QUERIES)
        transaction.set_rollback(True)
    data.build()
    assert _tables() == inside
