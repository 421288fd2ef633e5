"""The audit log page: who may see it, searching it, paging it and downloading it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mash.accounts.models import Role
from mash.core import audit
from mash.core.models import AuditEvent
from mash.core.views import AUDIT_PAGE_SIZE

pytestmark = pytest.mark.django_db

URL = reverse("core:audit_log")
LONDON = dt.timezone(dt.timedelta(0))  # the dates below are in winter: London is on GMT


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def _record_at(when: dt.datetime, **kwargs: Any) -> AuditEvent:
    with time_machine.travel(when, tick=False):
        return audit.record(**kwargs)


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def _rows(html: str) -> int:
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return body.count('<tr class="govuk-table__row">')


@pytest.fixture
def manager(make):
    return make.hub_manager(email="manager@hub.example")


# --- Who may see it ---------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


@pytest.mark.parametrize("role", [Role.HUB_MANAGER, Role.ADMINISTRATOR])
def test_manager_and_administrator_may_see_it(role, make, signed_in):
    response = signed_in(make.ROLE_FACTORIES[role]()).get(URL)
    assert response.status_code == 200
    assert '<h1 class="govuk-heading-l">Audit log</h1>' in response.content.decode()


@pytest.mark.parametrize(
    "role",
    [Role.REFERRAL_COORDINATOR, Role.AGENCY_PRACTITIONER, Role.ADVICE_LINE_WORKER, Role.ANALYST],
)
def test_everyone_else_is_refused(role, make, signed_in):
    client = signed_in(make.ROLE_FACTORIES[role]())
    assert client.get(URL).status_code == 403
    response = client.get(URL, {"format": "csv"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_a_deactivated_manager_is_refused(make, signed_in):
    from mash.accounts import services as account_services

    manager = make.hub_manager()
    client = signed_in(manager)
    account_services.set_user_active(actor=None, user=manager, active=False)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


# --- Searching --------------------------------------------------------------------------------


@pytest.fixture
def history(make):
    """Events across two agencies, three people and three days in January 2025."""
    police = make.agency(name="Police")
    health = make.agency(name="Health Visiting")
    alice = make.practitioner(email="alice.smith@police.example", agency_=police)
    bob = make.practitioner(email="bob.jones@health.example", agency_=health)
    carol = make.coordinator(email="carol@csc.example", agency_=health)
    _record_at(_at(dt.date(2025, 1, 10)), action="auth.sign_in", actor=alice, obj=alice)
    _record_at(_at(dt.date(2025, 1, 11)), action="auth.sign_in", actor=bob, obj=bob)
    _record_at(
        _at(dt.date(2025, 1, 11), 23),
        action="people.person_viewed",
        actor=bob,
        object_type="people.person",
        object_id="42",
    )
    _record_at(
        _at(dt.date(2025, 1, 12)),
        action="people.person_viewed",
        actor=carol,
        object_type="people.person",
        object_id="7",
    )
    _record_at(
        _at(dt.date(2025, 1, 12), 1),
        action="auth.sign_in_failed",
        actor=None,
        actor_label="ALICE.smith@police.example",
    )
    return {"police": police, "health": health, "alice": alice, "bob": bob, "carol": carol}


def _search(client, **params: Any) -> list[str]:
    """The events a search shows, read back from the CSV of the same search."""
    response = client.get(URL, {**params, "format": "csv"})
    assert response.status_code == 200
    rows = _csv(response)[1:]
    return [row[3] + " " + row[1] for row in rows]


def _page(client, **params: Any) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def test_search_by_part_of_an_email_address_ignores_case(history, manager, signed_in):
    client = signed_in(manager)
    found = _search(client, actor="Alice.Smith")
    assert sorted(found) == [
        "auth.sign_in alice.smith@police.example",
        "auth.sign_in_failed ALICE.smith@police.example",
    ]
    assert _search(client, actor="@health.example") == [
        "people.person_viewed bob.jones@health.example",
        "auth.sign_in bob.jones@health.example",
    ]


def test_search_by_agency(history, manager, signed_in):
    client = signed_in(manager)
    found = _search(client, agency=history["health"].pk)
    assert sorted(found) == [
        "auth.sign_in bob.jones@health.example",
        "people.person_viewed bob.jones@health.example",
        "people.person_viewed carol@csc.example",
    ]


def test_search_by_action(history, manager, signed_in):
    client = signed_in(manager)
    assert sorted(_search(client, action="auth.sign_in")) == [
        "auth.sign_in alice.smith@police.example",
        "auth.sign_in bob.jones@health.example",
        "auth.sign_in manager@hub.example",  # the test client's own sign-in
    ]
    html = _page(client)
    assert '<option value="people.person_viewed"' in html  # the list offers every action held


def test_search_by_object_type_and_id(history, manager, signed_in):
    client = signed_in(manager)
    assert len(_search(client, object_type="people.person")) == 2
    assert _search(client, object_type="people.person", object_id="42") == [
        "people.person_viewed bob.jones@health.example"
    ]
    # An ID matches exactly, not in part.
    assert _search(client, object_type="people.person", object_id="4") == []


def test_search_by_date_range_takes_whole_days_in_london(history, manager, signed_in):
    client = signed_in(manager)
    one_day = {"date_from-day": "11", "date_from-month": "1", "date_from-year": "2025"}
    one_day |= {"date_to-day": "11", "date_to-month": "1", "date_to-year": "2025"}
    assert sorted(_search(client, **one_day)) == [
        "auth.sign_in bob.jones@health.example",
        "people.person_viewed bob.jones@health.example",  # at 23:00, still the 11th
    ]
    from_only = {"date_from-day": "12", "date_from-month": "1", "date_from-year": "2025"}
    assert len(_search(client, **from_only)) > 2  # the 12th and everything since
    twelfth = from_only | {"date_to-day": "12", "date_to-month": "1", "date_to-year": "2025"}
    assert sorted(_search(client, **twelfth)) == [
        "auth.sign_in_failed ALICE.smith@police.example",  # at 01:00
        "people.person_viewed carol@csc.example",
    ]
    to_only = {"date_to-day": "10", "date_to-month": "01", "date_to-year": "2025"}
    assert _search(client, **to_only) == ["auth.sign_in alice.smith@police.example"]


def test_search_filters_combine(history, manager, signed_in):
    client = signed_in(manager)
    found = _search(
        client,
        agency=history["health"].pk,
        action="people.person_viewed",
        **{"date_from-day": "12", "date_from-month": "1", "date_from-year": "2025"},
    )
    assert found == ["people.person_viewed carol@csc.example"]


def test_page_shows_the_matching_events(history, manager, signed_in):
    html = _page(signed_in(manager), actor="carol")
    assert "1 event." in html
    assert _rows(html) == 1
    assert "carol@csc.example" in html
    assert "people.person 7" in html
    assert "bob.jones@health.example" not in html


def test_page_shows_times_in_london(manager, signed_in):
    summer = dt.datetime(2025, 7, 1, 11, 30, tzinfo=dt.UTC)  # 12:30 British Summer Time
    _record_at(summer, action="test.summer", actor=None, actor_label="someone")
    html = _page(signed_in(manager), action="test.summer")
    assert "01/07/2025 12:30:00" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"date_from-day": "31", "date_from-month": "2", "date_from-year": "2025"},
            "From must be a real date",
        ),
        (
            {"date_to-day": "aa", "date_to-month": "bb", "date_to-year": "cccc"},
            "To must be a real date, written in numbers",
        ),
        (
            {"date_from-day": "1", "date_from-month": "1", "date_from-year": "25"},
            "From year must include 4 numbers",
        ),
        (
            {"date_from-day": "1", "date_from-month": "", "date_from-year": "2025"},
            "From must include a month",
        ),
        (
            {
                "date_from-day": "12",
                "date_from-month": "1",
                "date_from-year": "2025",
                "date_to-day": "11",
                "date_to-month": "1",
                "date_to-year": "2025",
            },
            "The &#39;to&#39; date must be the same as or after the &#39;from&#39; date",
        ),
        (
            {"date_from-day": "1", "date_from-month": "13", "date_from-year": "2025"},
            "From must be a real date",
        ),
        (
            {
                "date_from-day": "99999999999999999999",
                "date_from-month": "1",
                "date_from-year": "2025",
            },
            "From must be a real date",
        ),
        (
            {"date_from-day": "1", "date_from-month": "1", "date_from-year": "0000"},
            "From must be a real date",
        ),
    ],
)
def test_a_bad_date_gives_a_clear_message(params, message, history, manager, signed_in):
    client = signed_in(manager)
    response = client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert message in html
    assert "<title>Error: Audit log" in html
    assert "govuk-table__body" not in html  # no results under a search that failed
    csv_response = client.get(URL, {**params, "format": "csv"})
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/html")  # the form again, no download


def test_a_very_long_email_search_gives_a_clear_message(history, manager, signed_in):
    response = signed_in(manager).get(URL, {"actor": "a" * 10_000})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "User&#39;s email address must be 254 characters or fewer" in html


@pytest.mark.parametrize(
    "params",
    [
        {"agency": "not-a-number"},
        {"agency": "999999"},
        {"action": "no.such.action"},
        {"object_type": "x" * 65},
        {"object_id": "1" * 65},
        {"page": "lots"},
        {"page": "-1"},
        {"page": "99999999999999999999999"},
        {"actor": "\x00"},
        {"actor": "' OR 1=1 --"},
    ],
)
def test_odd_searches_never_fail(params, history, manager, signed_in):
    response = signed_in(manager).get(URL, params)
    assert response.status_code == 200


# --- Paging -----------------------------------------------------------------------------------


def _many(count: int, agencies: list[Any], start: dt.datetime | None = None) -> None:
    start = start or timezone.now() - dt.timedelta(days=1)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            occurred_at=start + dt.timedelta(seconds=i),
            action="test.bulk",
            actor_label=f"user{i}@hub.example",
            actor_agency=agencies[i % len(agencies)],
            object_type="people.person",
            object_id=str(i),
            ip_address="192.0.2.1",
        )
        for i in range(count)
    )


def test_results_come_50_to_a_page_newest_first(make, manager, signed_in):
    _many(120, [make.agency()])
    client = signed_in(manager)
    first = _page(client, action="test.bulk")
    assert AUDIT_PAGE_SIZE == 50
    assert "120 events." in first
    assert _rows(first) == 50
    assert "user119@hub.example" in first
    assert "Page 1 of 3" in first
    assert "action=test.bulk&amp;page=2" in first
    third = _page(client, action="test.bulk", page="3")
    assert _rows(third) == 20
    assert "user0@hub.example" in third
    assert "Page 3 of 3" in third


def test_query_count_does_not_grow_with_the_number_of_events(
    make, manager, signed_in, django_assert_max_num_queries
):
    agencies = [make.agency() for _ in range(5)]
    users = [make.practitioner(agency_=a) for a in agencies]
    for u in users:
        audit.record(action="test.real", actor=u, obj=u)
    _many(5, agencies)
    client = signed_in(manager)
    client.get(URL)  # the session and the hub settings exist from now on
    with CaptureQueriesContext(connection) as few:
        assert _rows(_page(client)) >= 10
    _many(500, agencies, start=timezone.now() - dt.timedelta(days=2))
    for u in users:
        audit.record(action="test.real", actor=u, obj=u)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert _rows(_page(client)) == AUDIT_PAGE_SIZE


# --- Downloading ------------------------------------------------------------------------------


def test_csv_holds_the_same_filtered_rows_with_a_header(history, manager, signed_in):
    client = signed_in(manager)
    response = client.get(URL, {"agency": history["health"].pk, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    rows = _csv(response)
    assert rows[0] == [
        "occurred_at",
        "actor",
        "agency",
        "action",
        "object_type",
        "object_id",
        "ip_address",
        "user_agent",
        "detail",
    ]
    page_ids = {
        e.pk
        for e in AuditEvent.objects.filter(actor_agency=history["health"]).order_by("-occurred_at")
    }
    assert len(rows) - 1 == len(page_ids) == 3
    assert [r[3] for r in rows[1:]] == [
        "people.person_viewed",
        "people.person_viewed",
        "auth.sign_in",
    ]
    assert {r[2] for r in rows[1:]} == {"Health Visiting"}
    assert rows[1][0] == "2025-01-12T12:00:00+00:00"
    assert rows[2][5] == "42"


def test_csv_is_not_cut_at_one_page(make, manager, signed_in):
    _many(130, [make.agency()])
    rows = _csv(signed_in(manager).get(URL, {"action": "test.bulk", "format": "csv"}))
    assert len(rows) == 131


def test_download_is_audited_with_its_filters(history, manager, signed_in):
    client = signed_in(manager)
    response = client.get(URL, {"action": "auth.sign_in", "actor": "bob", "format": "csv"})
    _csv(response)
    event = AuditEvent.objects.get(action="audit.exported")
    assert event.actor == manager
    assert event.detail == {"filters": {"action": "auth.sign_in", "actor": "bob"}}
    # Looking at the page is not a download.
    client.get(URL, {"action": "auth.sign_in"})
    assert AuditEvent.objects.filter(action="audit.exported").count() == 1


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(first, make, manager, signed_in):
    # Agency names are stripped when saved, so a tab or return cannot lead one.
    lead = first if first.strip() else "="
    agency = make.agency(name=f'{lead}HYPERLINK("http://evil.example") agency')
    formula = f"{first}cmd|' /C calc'!A0"
    AuditEvent.objects.create(
        action="test.injection",
        actor_label=formula,
        actor_agency=agency,
        user_agent=formula,
        detail={},
    )
    rows = _csv(signed_in(manager).get(URL, {"action": "test.injection", "format": "csv"}))
    assert len(rows) == 2
    row = rows[1]
    for cell in row:
        assert not cell or cell[0] not in "=+-@\t\r", row
    assert row[1] == "'" + formula
    assert row[2] == "'" + agency.name
    assert row[7] == "'" + formula


def test_csv_keeps_ordinary_values_as_they_are(make, manager, signed_in):
    detail = {"changed": {"name": ["Zoë", "Zoe"]}, "locked_out": False, "note": None, "n": 3}
    audit.record(action="test.plain", actor=None, actor_label="plain@hub.example", detail=detail)
    rows = _csv(signed_in(manager).get(URL, {"action": "test.plain", "format": "csv"}))
    assert rows[1][1] == "plain@hub.example"
    assert json.loads(rows[1][8]) == detail  # JSON that any tool can read back
    assert "Zoë" in rows[1][8]


def test_page_escapes_what_people_typed(make, manager, signed_in):
    audit.record(action="test.markup", actor=None, actor_label="<script>alert(1)</script>")
    html = _page(signed_in(manager), action="test.markup")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_search_form_is_kept_on_the_page(history, manager, signed_in):
    html = _page(
        signed_in(manager),
        actor="bob",
        **{"date_from-day": "11", "date_from-month": "1", "date_from-year": "2025"},
    )
    assert re.search(r'name="actor"[^>]*value="bob"', html)
    assert re.search(r'name="date_from-day"[^>]*value="11"', html)
    assert "format=csv" in html
