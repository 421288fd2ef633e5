"""The notification quality report: per police team and month, as a chart, a table and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
import time_machine
from django.test import Client

from mash.contacts import quality
from mash.contacts.models import PoliceNotification
from tests import factories
from tests.contacts import test_intake_support as support
from tests.contacts.test_pages_support import text

pytestmark = pytest.mark.django_db

# Mid-June 2026: the last six months are January to June.
NOW = dt.datetime(2026, 6, 17, 13, 0, tzinfo=dt.UTC)
URL, CSV_URL = "/police/quality/", "/police/quality.csv"


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


@pytest.fixture
def analyst():
    return factories.analyst()


def _client(user) -> Client:
    signed = Client()
    signed.force_login(user)
    return signed


def received(researcher, force, when: dt.datetime, team: str = "Response", poor: bool = False):
    notification = support.notification(
        actor=researcher, force_=force, received_at=when, officer_team=team
    )
    if poor:
        quality.mark_quality(
            actor=researcher, notification=notification, issue="no_narrative", note=""
        )
    return notification


def at(month: int, day: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, 0, tzinfo=dt.UTC)


def test_counts_share_and_trend_per_team_and_month(researcher, force, analyst):
    # Response: April 4 received, 1 poor (25%); May 2 received, 1 poor (50%): up 25 points.
    for i in range(4):
        received(researcher, force, at(4), poor=i == 0)
    for i in range(2):
        received(researcher, force, at(5), poor=i == 0)
    # Neighbourhood: May 1 poor of 1 (100%); June 0 poor of 2 (0%): down 100 points.
    received(researcher, force, at(5), team="Neighbourhood", poor=True)
    received(researcher, force, at(6), team="Neighbourhood")
    received(researcher, force, at(6), team="Neighbourhood")
    report = quality.quality_report(user=analyst)
    assert report.months == [dt.date(2026, m, 1) for m in range(1, 7)]
    assert report.teams == ["Neighbourhood", "Response"]
    rows = {(r.team, r.month.month): r for r in report.rows}
    april, may = rows["Response", 4], rows["Response", 5]
    assert (april.received, april.poor, april.share_text) == (4, 1, "25%")
    assert april.trend == "No notifications the month before"
    assert (may.received, may.poor, may.share_text, may.trend) == (2, 1, "50%", "Up 25 points")
    assert rows["Response", 6].trend == "No notifications"
    assert rows["Neighbourhood", 6].trend == "Down 100 points"
    totals = {r.month.month: r for r in report.totals}
    assert (totals[5].received, totals[5].poor) == (3, 2)
    assert totals[6].share_text == "0%"


def test_trend_words(researcher, force, analyst):
    for _ in range(3):
        received(researcher, force, at(5), poor=True)
    received(researcher, force, at(5))
    for _ in range(3):
        received(researcher, force, at(6), poor=True)
    received(researcher, force, at(6))
    rows = {r.month.month: r for r in quality.quality_report(user=analyst).rows}
    assert rows[6].trend == "No change"
    assert (
        quality.TeamMonth(
            "x",
            dt.date(2026, 6, 1),
            100,
            26,
            100,
            25,
        ).trend
        == "Up 1 point"
    )
    assert quality.TeamMonth("x", dt.date(2026, 6, 1), 100, 20, 100, 25).trend == "Down 5 points"


def test_the_previous_month_before_the_window_gives_the_first_trend(researcher, force, analyst):
    received(researcher, force, at(12, 5).replace(year=2025), poor=True)  # December: 100%
    received(researcher, force, at(1))  # January: 0%
    report = quality.quality_report(user=analyst)
    first = report.rows[0]
    assert first.month == dt.date(2026, 1, 1)
    assert first.trend == "Down 100 points"
    assert all(r.month.year == 2026 for r in report.rows)


def test_a_team_seen_only_before_the_window_is_not_listed(researcher, force, analyst):
    received(researcher, force, at(12, 5).replace(year=2025), team="Old team")
    received(researcher, force, at(3))
    assert quality.quality_report(user=analyst).teams == ["Response"]


def test_teams_typed_differently_are_one_team_and_blank_is_not_given(researcher, force, analyst):
    received(researcher, force, at(6), team="Riverton Response")
    received(researcher, force, at(6), team="Riverton Response")
    received(researcher, force, at(6), team="riverton  response ")
    received(researcher, force, at(6), team="")
    report = quality.quality_report(user=analyst)
    assert report.teams == ["Riverton Response", quality.NO_TEAM]
    assert {r.team: r.received for r in report.rows if r.month.month == 6} == {
        "Riverton Response": 3,
        "Team not given": 1,
    }


def test_months_follow_london_time(researcher, force, analyst):
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (BST).
    received(researcher, force, dt.datetime(2026, 5, 31, 23, 30, tzinfo=dt.UTC))
    rows = {r.month.month: r.received for r in quality.quality_report(user=analyst).rows}
    assert rows[6] == 1
    assert rows[5] == 0


def test_a_cleared_mark_does_not_count(researcher, force, analyst):
    notification = received(researcher, force, at(6), poor=True)
    quality.mark_quality(actor=researcher, notification=notification, issue="", note="")
    (row,) = [r for r in quality.quality_report(user=analyst).rows if r.month.month == 6]
    assert row.poor == 0


@pytest.mark.parametrize("months", [3, 6, 12, 24])
def test_the_window_can_be_chosen(researcher, force, analyst, months):
    received(researcher, force, at(6))
    report = quality.quality_report(user=analyst, months=months)
    assert len(report.months) == months
    assert report.months[-1] == dt.date(2026, 6, 1)


# --- The page -------------------------------------------------------------------------------------


def test_the_page_shows_the_table_and_the_charts_data(researcher, force, analyst):
    received(researcher, force, at(5), poor=True)
    received(researcher, force, at(6))
    response = _client(analyst).get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    page = text(content)
    assert "Notification quality" in page
    assert "Response May 2026 1 1 100% No notifications the month before" in page
    assert "June 2026 1 0 0% Down 100 points" in page
    data = re.search(
        r'<script type="application/json" id="quality-chart-data">(.*?)</script>', content, re.S
    )
    assert data is not None
    chart = json.loads(data.group(1))
    assert chart["labels"][-2:] == ["May 2026", "Jun 2026"]
    assert chart["datasets"][0]["label"] == "All teams"
    assert chart["datasets"][1] == {
        "label": "Response",
        "data": [None, None, None, None, 100.0, 0.0],
    }
    # The chart points to the table, and no script runs inline.
    assert 'href="#quality-table"' in content
    assert 'id="quality-table"' in content
    assert 'role="img"' in content
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", content) == []
    assert "js/chart.umd.min.js" in content
    assert "js/quality-chart.js" in content
    assert f'href="{CSV_URL}?months=6"' in content


def test_aggregates_only_no_names(researcher, force, analyst):
    received(researcher, force, at(6), poor=True)
    page = _client(analyst).get(URL).content.decode()
    for name in ("Amelia", "Hart", "Dawn", "PC Jo Bell", "4521", "Mill Lane", "OCC/"):
        assert name not in page
    body = _client(analyst).get(CSV_URL).getvalue().decode()
    for name in ("Amelia", "Hart", "Dawn", "PC Jo Bell", "4521", "Mill Lane", "OCC/"):
        assert name not in body


def test_a_team_name_in_the_chart_data_cannot_break_out(researcher, force, analyst):
    received(researcher, force, at(6), team="</script><script>alert(1)</script>")
    content = _client(analyst).get(URL).content.decode()
    assert "</script><script>alert(1)" not in content
    data = re.search(
        r'<script type="application/json" id="quality-chart-data">(.*?)</script>', content, re.S
    )
    assert data is not None
    assert json.loads(data.group(1))["datasets"][1]["label"].startswith("</script>")


def test_an_empty_report_says_so(analyst):
    response = _client(analyst).get(URL)
    assert "No notifications were received in the last 6 months" in text(response.content)
    assert "chart.umd.min.js" not in response.content.decode()


@pytest.mark.parametrize("value", ["5", "abc", "-6", "999999999999", "6 OR 1=1", "\uff11\uff12"])
def test_a_bad_months_value_is_an_error_and_the_default(analyst, value):
    response = _client(analyst).get(URL, {"months": value})
    assert response.status_code == 200
    assert "Choose how many months to show from the list" in text(response.content)
    assert 'href="#months"' in response.content.decode()


def test_the_months_filter(researcher, force, analyst):
    received(researcher, force, at(6))
    page = text(_client(analyst).get(URL, {"months": "12"}).content)
    assert "July 2025" in page
    assert "June 2026" in page


# --- The CSV download -----------------------------------------------------------------------------


def test_the_csv_has_the_tables_figures(researcher, force, analyst):
    received(researcher, force, at(5), poor=True)
    received(researcher, force, at(6))
    response = _client(analyst).get(CSV_URL, {"months": "3"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.getvalue().decode().lstrip("\ufeff"))))
    assert rows[0] == [
        "team",
        "month",
        "received",
        "marked_poor",
        "share_marked_poor_percent",
        "change_in_points",
        "trend",
    ]
    assert [
        "Response",
        "2026-05",
        "1",
        "1",
        "100.0",
        "",
        "No notifications the month before",
    ] in rows
    assert ["Response", "2026-06", "1", "0", "0.0", "-100.0", "Down 100 points"] in rows
    assert ["All teams", "2026-04", "0", "0", "", "", "No notifications"] in rows
    assert len(rows) == 1 + 3 + 3


@pytest.mark.parametrize(
    "team", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", " =spaced"]
)
def test_the_csv_guards_against_formulas(researcher, force, analyst, team):
    received(researcher, force, at(6), team=team)
    body = _client(analyst).get(CSV_URL).getvalue().decode().lstrip("\ufeff")
    teams = {r[0] for r in csv.reader(io.StringIO(body))} - {"team", "All teams"}
    assert len(teams) == 1
    (written,) = teams
    assert written.lstrip("'").strip() == " ".join(team.split())
    assert written[0] not in "=+-@\t\r"


# --- Who may, and bounded queries -----------------------------------------------------------------


@pytest.mark.parametrize("make_user", [factories.police_researcher, factories.hub_manager])
def test_researchers_and_managers_may_see_it(make_user):
    client = _client(make_user())
    assert client.get(URL).status_code == 200
    assert client.get(CSV_URL).status_code == 200


@pytest.mark.parametrize(
    "make_user",
    [
        factories.coordinator,
        factories.practitioner,
        factories.advice_line_worker,
        factories.administrator,
    ],
)
def test_other_roles_are_refused(make_user):
    client = _client(make_user())
    for url in (URL, CSV_URL):
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403


def test_signed_out_goes_to_sign_in():
    assert Client().get(URL).status_code == 302
    assert Client().get(CSV_URL).status_code == 302


def test_the_selector_refuses_without_permission():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        quality.quality_report(user=factories.coordinator())


def test_wrong_method_is_405(analyst):
    assert _client(analyst).post(URL).status_code == 405
    assert _client(analyst).delete(CSV_URL).status_code == 405


def test_queries_do_not_grow_with_teams_or_notifications(
    researcher, force, analyst, django_assert_max_num_queries
):
    client = _client(analyst)
    received(researcher, force, at(6), poor=True)
    with django_assert_max_num_queries(12) as one:
        client.get(URL)
    budget = len(one)
    for team in range(15):
        for month in (2, 4, 6):
            received(researcher, force, at(month), team=f"Team {team}", poor=team % 2 == 0)
    assert PoliceNotification.objects.count() == 46
    with django_assert_max_num_queries(budget):
        client.get(URL)
    with django_assert_max_num_queries(budget):
        client.get(CSV_URL, {"months": "24"}).getvalue()
