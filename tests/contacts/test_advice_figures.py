"""The advice line's monthly figures: exact counts for a seeded month, the page and its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine

from mash.accounts.models import AgencyKind
from mash.contacts import advice
from mash.contacts.models import Consultation, ConsultationOutcome
from mash.contacts.views_advice import csv_safe
from mash.core.models import AuditEvent
from tests.contacts.test_advice_support import NOW, call, line, text

pytestmark = pytest.mark.django_db

MAY = dt.date(2025, 5, 1)
UTC = dt.UTC
EH = ConsultationOutcome.EARLY_HELP
CONTACT = ConsultationOutcome.CONTACT
ADVICE = ConsultationOutcome.ADVICE_ONLY


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def seeded() -> Any:
    """Seven calls in May 2025 (London time), and one each side of it."""
    the_line = line()
    w, m = the_line.worker, the_line.manager

    def at(day: int, hour: int = 10, month: int = 5) -> dt.datetime:
        return dt.datetime(2025, month, day, hour, tzinfo=UTC)

    support = {"early_help_support": "Sent the early help form"}
    # 23:30 UTC on 30 April is 00:30 on 1 May in London: May's.
    call(w, at=dt.datetime(2025, 4, 30, 23, 30, tzinfo=UTC), caller_name="First Of-May")
    call(w, at=at(2), outcome=ADVICE)
    call(m, at=at(6), outcome=EH, **support)
    call(
        w,
        at=at(9),
        caller_agency_kind=AgencyKind.HEALTH_GP,
        caller_agency="Mill Lane Surgery",
        outcome=EH,
        **support,
    )
    call(w, at=at(12), caller_agency_kind=AgencyKind.HEALTH_GP, outcome=CONTACT)
    call(w, at=at(20), caller_agency_kind=AgencyKind.HOUSING, outcome=ADVICE)
    call(
        the_line.colleague,
        at=at(31, 12),
        caller_agency_kind=AgencyKind.POLICE,
        outcome=EH,
        **support,
    )
    # Either side of May, in London: 23:30 BST on 30 April, 00:30 BST on 1 June.
    call(w, at=dt.datetime(2025, 4, 30, 22, 30, tzinfo=UTC))
    call(w, at=dt.datetime(2025, 5, 31, 23, 30, tzinfo=UTC), outcome=EH, **support)
    return the_line


def test_the_numbers_for_a_seeded_month(seeded):
    figures = advice.month_figures(user=seeded.worker, month=MAY)
    assert figures.month == MAY
    assert figures.calls == 7
    assert [(r.label, r.calls) for r in figures.by_agency_kind] == [
        ("Education", 3),
        ("Health: GP", 2),
        ("Housing", 1),
        ("Police", 1),
    ]
    assert [(r.label, r.calls) for r in figures.by_outcome] == [
        ("Advice only", 3),
        ("Early help assessment recommended", 3),
        ("Progressed to a contact", 1),
    ]
    assert figures.early_help == 3
    assert figures.early_help_share == 43  # 3 / 7 = 42.9%
    june = advice.month_figures(user=seeded.worker, month=dt.date(2025, 6, 20))
    assert (june.calls, june.early_help, june.early_help_share) == (1, 1, 100)
    april = advice.month_figures(user=seeded.worker, month=dt.date(2025, 4, 1))
    assert (april.calls, april.early_help_share) == (1, 0)


def test_an_empty_month_has_no_share_rather_than_a_division_by_zero(seeded):
    figures = advice.month_figures(user=seeded.worker, month=dt.date(2024, 1, 1))
    assert figures.calls == 0
    assert figures.early_help_share is None
    assert figures.by_agency_kind == []
    assert [r.calls for r in figures.by_outcome] == [0, 0, 0]


def test_a_call_with_no_kind_of_agency_is_counted_not_dropped(seeded):
    Consultation.objects.create(
        called_at=dt.datetime(2025, 5, 15, 10, tzinfo=UTC),
        caller_name="Stored before kinds were asked",
        caller_agency="Somewhere",
        caller_agency_kind="",
        worry="w",
        advice="a",
        outcome=ADVICE,
        created_by=seeded.worker,
    )
    figures = advice.month_figures(user=seeded.worker, month=MAY)
    assert figures.calls == 8
    assert ("Not recorded", 1) in [(r.label, r.calls) for r in figures.by_agency_kind]


def test_the_page_shows_the_figures_and_the_formula(seeded, signed_in, make):
    client = signed_in(make.analyst())
    response = client.get("/advice/figures/?month=2025-05")
    assert response.status_code == 200
    shown = text(response)
    assert "Monthly figures: May 2025" in shown
    assert "7 calls in May 2025." in shown
    assert "43% (3 of 7 calls)" in shown
    assert "divided by all calls logged in the month, times 100, rounded" in shown
    assert "Education 3" in shown
    assert "Health: GP 2" in shown
    assert "Advice only 3" in shown
    assert "Early help assessment recommended 3" in shown
    assert "Progressed to a contact 1" in shown
    # Aggregates only: no caller's name, no agency's name.
    assert "Priya Shah" not in shown
    assert "Mill Lane Surgery" not in shown
    assert "First Of-May" not in shown
    # Navigation to the months either side.
    body = response.content.decode()
    assert 'href="?month=2025-04"' in body
    assert 'href="?month=2025-06"' in body


def test_the_page_defaults_to_this_month_and_goes_no_further(seeded, signed_in):
    response = signed_in(seeded.worker).get("/advice/figures/")
    shown = text(response)
    assert "Monthly figures: June 2025" in shown
    assert "1 call in June 2025." in shown
    body = response.content.decode()
    assert 'href="?month=2025-05"' in body
    assert "?month=2025-07" not in body


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2025-13", "Month must be a year and month, like 2025-06"),
        ("May 2025", "Month must be a year and month, like 2025-06"),
        ("2025-07", "Month cannot be in the future"),
        ("1999-12", "Month must be in the year 2000 or later"),
        ("<script>alert(1)</script>", "Month must be a year and month, like 2025-06"),
        ("9" * 5000, "Month must be a year and month, like 2025-06"),
    ],
)
def test_a_wrong_month_is_explained(seeded, signed_in, month, message):
    client = signed_in(seeded.worker)
    response = client.get("/advice/figures/", {"month": month})
    assert response.status_code == 400
    shown = text(response)
    assert "There is a problem" in shown
    assert message in shown
    assert "<script>alert(1)</script>" not in response.content.decode()
    response = client.get("/advice/figures/", {"month": month, "format": "csv"})
    assert response.status_code == 400
    assert response.content.decode() == message


def test_the_csv_holds_the_same_figures(seeded, signed_in):
    response = signed_in(seeded.manager).get("/advice/figures/?month=2025-05&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="advice-line-2025-05.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["month", "figure", "category", "calls"],
        ["2025-05", "All calls", "", "7"],
        ["2025-05", "Calls by caller's kind of agency", "Education", "3"],
        ["2025-05", "Calls by caller's kind of agency", "Health: GP", "2"],
        ["2025-05", "Calls by caller's kind of agency", "Housing", "1"],
        ["2025-05", "Calls by caller's kind of agency", "Police", "1"],
        ["2025-05", "Calls by outcome", "Advice only", "3"],
        ["2025-05", "Calls by outcome", "Early help assessment recommended", "3"],
        ["2025-05", "Calls by outcome", "Progressed to a contact", "1"],
        [
            "2025-05",
            "Share leading to an early help assessment recommendation (percent)",
            "early help recommended / all calls x 100, rounded",
            "43",
        ],
    ]
    event = AuditEvent.objects.get(action="contacts.advice_figures_exported")
    assert event.actor == seeded.manager
    assert event.detail == {"month": "2025-05"}


def test_no_cell_of_the_csv_can_run_as_a_formula(seeded, signed_in):
    rows = signed_in(seeded.worker).get("/advice/figures/?format=csv").content.decode()
    for row in csv.reader(io.StringIO(rows)):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", " =1", "|calc", "%0A"],
)
def test_a_formula_is_made_harmless(hostile):
    assert csv_safe(hostile).startswith("'")
    assert csv_safe("Education") == "Education"
    assert csv_safe("") == ""


def test_the_figures_take_a_fixed_number_of_queries(
    seeded, signed_in, django_assert_max_num_queries
):
    client = signed_in(seeded.worker)
    with django_assert_max_num_queries(16) as few:
        client.get("/advice/figures/?month=2025-05")
    for day in range(1, 29):
        call(
            seeded.worker,
            at=dt.datetime(2025, 5, day, 9, tzinfo=UTC),
            outcome=EH,
            early_help_support="Form sent",
            caller_agency_kind=AgencyKind.CAMHS,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        shown = text(client.get("/advice/figures/?month=2025-05"))
    assert "35 calls in May 2025." in shown
