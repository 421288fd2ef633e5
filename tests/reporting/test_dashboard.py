"""The performance dashboard's pages: who may open them, what analysts never see, bad input, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Role
from mash.reporting import performance
from tests.reporting import dashboard_data as data

pytestmark = pytest.mark.django_db

PAGE = "/reports/performance/"
QUERY = "from=2025-02-03&to=2025-03-02"
BOXES = "from-day=3&from-month=2&from-year=2025&to-day=2&to-month=3&to-year=2025"
CSV_URLS = [f"/reports/performance/{slug}.csv?{QUERY}" for slug in performance.TABLES]


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(data.NOW, tick=False)


@pytest.fixture
def hub(frozen):
    return data.build()


def _errors(html: str) -> list[str]:
    """The messages shown next to fields (GOV.UK's error message component)."""
    found = re.findall(r'<p id="[^"]*-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    return [re.sub(r"<[^>]+>", "", m).replace("Error:", "").strip() for m in found]


# --- Who may open it --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HUB_MANAGER, Role.ANALYST])
def test_hub_managers_and_analysts_open_every_page_and_file(role, make, signed_in, frozen):
    client = signed_in(make.ROLE_FACTORIES[role]())
    assert client.get("/reports/").status_code == 200
    assert client.get(PAGE).status_code == 200
    for url in CSV_URLS:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    "role", [r for r in Role.values if r not in (Role.HUB_MANAGER, Role.ANALYST)]
)
def test_every_other_role_is_refused(role, make, signed_in, frozen):
    client = signed_in(make.ROLE_FACTORIES[role]())
    for url in ["/reports/", PAGE, f"{PAGE}?{QUERY}", *CSV_URLS]:
        assert client.get(url).status_code == 403, url
        assert client.post(url).status_code == 403, url


def test_a_user_with_no_role_is_refused_and_a_visitor_is_sent_to_sign_in(make, signed_in, client):
    assert signed_in(make.user()).get(PAGE).status_code == 403
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
    assert client.get(CSV_URLS[0]).status_code == 302


def test_the_pages_answer_only_get(make, signed_in, frozen):
    client = signed_in(make.hub_manager())
    for url in ["/reports/", PAGE, CSV_URLS[0]]:
        assert client.post(url).status_code == 405, url


def test_an_unknown_table_is_not_found(make, signed_in, frozen):
    client = signed_in(make.analyst())
    assert client.get(f"/reports/performance/contacts.csv?{QUERY}").status_code == 404
    assert client.get(f"/reports/performance/x.csv?{QUERY}").status_code == 404


def test_the_index_links_to_the_dashboard(make, signed_in, frozen):
    html = signed_in(make.analyst()).get("/reports/").content.decode()
    assert 'href="/reports/performance/"' in html


# --- Analysts see no one ----------------------------------------------------------------------


def _identifying_strings() -> list[str]:
    found = ["Ms Referrer Smallbone", "Ignatius", "Pemberton-Smythe", "NM1 4QT"]
    for given, family, born in data.CHILDREN.values():
        found += [
            given,
            family,
            born.isoformat(),
            born.strftime("%d/%m/%Y"),
            f"{born.day} {born:%B %Y}",
        ]
    return found


def test_an_analyst_sees_no_names_dates_of_birth_or_references(hub, make, signed_in):
    client = signed_in(make.analyst())
    pages = {
        "page": client.get(f"{PAGE}?{BOXES}").content.decode(),
        "default page": client.get(PAGE).content.decode(),
        "index": client.get("/reports/").content.decode(),
    }
    for url in CSV_URLS:
        pages[url] = client.get(url).content.decode()
    assert "Northmoor Police" in pages["page"]  # the figures are there: agencies by name
    for name, text in pages.items():
        for secret in _identifying_strings():
            assert secret not in text, (name, secret)
        # No case references (C-000001, E-000001, PN-000001) nor links to case pages.
        assert not re.search(r"\b(C|E|PN)-\d{6}\b", text), name
        assert not re.search(r'href="/(contacts|enquiries|people|police)/\d', text), name


# --- The page ---------------------------------------------------------------------------------


def test_the_page_shows_every_figure_for_the_period_asked(hub, signed_in):
    html = signed_in(hub.manager).get(f"{PAGE}?{BOXES}").content.decode()
    assert "3 February 2025 to 2 March 2025" in html
    assert "6 January 2025 to 2 February 2025" in html
    for slug in performance.TABLES:
        assert f'data-table="{slug}"' in html, slug
        assert f'href="/reports/performance/{slug}.csv?{QUERY}"' in html.replace("&amp;", "&")
    # Every chart has its data beside it, and a table with the same numbers under it.
    assert html.count("<canvas data-chart=") == sum(
        1 for slug in performance.TABLES if slug != "headline"
    )
    assert 'id="chart-contacts-by-channel-data" type="application/json"' in html
    # A headline figure, formatted.
    assert re.search(r"Referrals decided within one working day</th>\s*<td[^>]*>66.7%</td>", html)


def test_with_no_dates_the_page_shows_the_last_twelve_months(signed_in, make, frozen):
    html = signed_in(make.hub_manager()).get(PAGE).content.decode()
    # Today is 5 March 2025.
    assert "6 March 2024 to 5 March 2025" in html
    # The previous period has the same number of days (365): 2024 had a 29 February.
    assert "7 March 2023 to 5 March 2024" in html
    # The boxes show the dates used.
    boxes = dict(
        re.findall(r'name="((?:from|to)-(?:day|month|year))" type="text" value="(\d+)"', html)
    )
    assert boxes == {
        "from-day": "6",
        "from-month": "3",
        "from-year": "2024",
        "to-day": "5",
        "to-month": "3",
        "to-year": "2025",
    }


def test_the_page_costs_the_same_queries_for_any_amount_of_data(hub, signed_in, make):
    client = signed_in(hub.manager)
    client.get(f"{PAGE}?{BOXES}")
    with CaptureQueriesContext(connection) as small:
        client.get(f"{PAGE}?{BOXES}")
    for n in range(5):
        from tests.reporting.test_performance import _more

        _more(n)
    with CaptureQueriesContext(connection) as large:
        client.get(f"{PAGE}?{BOXES}")
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(small.captured_queries) <= 40


# --- Bad input --------------------------------------------------------------------------------


BAD = [
    # (query, the messages next to the fields)
    (
        "from-day=31&from-month=2&from-year=2025&to-day=2&to-month=3&to-year=2025",
        ["From must be a real date"],
    ),
    ("from-day=1&from-month=2&from-year=2025", ["Enter the date the period ends"]),
    ("to-day=1&to-month=2&to-year=2025", ["Enter the date the period starts"]),
    (
        "from-day=&from-month=&from-year=&to-day=&to-month=&to-year=",
        ["Enter the date the period starts", "Enter the date the period ends"],
    ),
    (
        "from-day=1&from-month=&from-year=2025&to-day=2&to-month=3&to-year=2025",
        ["From must include a month"],
    ),
    (
        "from-day=2&from-month=3&from-year=2025&to-day=1&to-month=3&to-year=2025",
        ["The date the period ends must be on or after the date it starts"],
    ),
    (
        "from-day=1&from-month=1&from-year=2019&to-day=1&to-month=1&to-year=2025",
        ["The period must be 5 years or shorter: choose a later start or an earlier end"],
    ),
    (
        "from-day=1&from-month=1&from-year=1999&to-day=1&to-month=1&to-year=2000",
        ["The date the period starts must be 1 January 2000 or later"],
    ),
    (
        "from-day=1&from-month=1&from-year=2025&to-day=6&to-month=3&to-year=2025",
        ["The date the period ends must be today or in the past"],
    ),
    (
        "from-day=<script>&from-month=1&from-year=2025&to-day=1&to-month=2&to-year=2025",
        ["From must be a real date, written in numbers"],
    ),
    (
        "from-day=1&from-month=1&from-year=99999999999999999999&to-day=1&to-month=2&to-year=2025",
        ["From year must include 4 numbers"],
    ),
    (
        "from-day=99999999999999999999&from-month=1&from-year=2025&to-day=1&to-month=2&to-year=2025",
        ["From must be a real date"],
    ),
    (
        "from-day=%D9%A1&from-month=1&from-year=2025&to-day=1&to-month=2&to-year=2025",
        ["From must be a real date, written in numbers"],
    ),
    (
        "from-day=1%00&from-month=1&from-year=2025&to-day=1&to-month=2&to-year=2025",
        ["From must be a real date, written in numbers"],
    ),
    ("from=2025-13-01&to=2025-02-01", ["From must be a real date"]),
    ("from=yesterday&to=2025-02-01", ["From must be a real date, written in numbers"]),
    ("from=2025-02-01&to=" + "9" * 5000, ["To must be a real date, written in numbers"]),
    (
        "from='%3B DROP TABLE contacts_contact%3B--&to=2025-02-01",
        ["From must be a real date, written in numbers"],
    ),
    ("from=2025-02-01", ["Enter the date the period ends"]),
]


@pytest.mark.parametrize(("query", "messages"), BAD)
def test_bad_dates_are_shown_next_to_the_fields_never_a_server_error(
    query, messages, make, signed_in, frozen
):
    client = signed_in(make.hub_manager())
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert _errors(html) == messages
    assert "There is a problem" in html
    assert "<title>Error: Performance" in html
    assert "<canvas" not in html
    assert "<script>" not in html.split("</header>")[1]  # what was typed comes back escaped
    csv_response = client.get(f"/reports/performance/headline.csv?{query}")
    assert csv_response.status_code == 400
    assert _errors(csv_response.content.decode()) == messages


def test_repeated_and_odd_parameters_do_no_harm(make, signed_in, frozen):
    client = signed_in(make.hub_manager())
    assert client.get(f"{PAGE}?{QUERY}&{QUERY}&page=2&format=json").status_code == 200
    response = client.get(f"{PAGE}?{QUERY}&from-day=4")  # the boxes win over the ISO date
    assert _errors(response.content.decode()) == ["From must include a month and a year"]


# --- CSV files --------------------------------------------------------------------------------


def _csv(client, slug: str, query: str = QUERY) -> list[list[str]]:
    response = client.get(f"/reports/performance/{slug}.csv?{query}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="performance-{slug}-2025-02-03-to-2025-03-02.csv"'
    )
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_table_downloads_as_csv_with_the_same_figures(hub, signed_in):
    client = signed_in(hub.manager)
    assert _csv(client, "agencies") == [
        [
            "Agency",
            "Requests received",
            "Answered on time (%)",
            "Median time to answer (hours)",
            "Overdue now",
            "Previous period (2025-01-06 to 2025-02-02): requests received",
            "Previous period (2025-01-06 to 2025-02-02): answered on time (%)",
            "Previous period (2025-01-06 to 2025-02-02): median time to answer (hours)",
        ],
        ["Northmoor Health Visiting", "2", "100.0", "17.0", "1", "1", "0.0", "6.0"],
        ["Northmoor Police", "4", "50.0", "3.5", "1", "1", "100.0", "1.0"],
    ]
    headline = _csv(client, "headline")
    assert headline[0] == [
        "Figure",
        "This period (2025-02-03 to 2025-03-02)",
        "Previous period (2025-01-06 to 2025-02-02)",
    ]
    assert ["Re-referral rate", "33.3%", "0.0%"] in headline
    assert ["Contacts received", "8", "3"] in headline
    channel = _csv(client, "contacts-by-channel")
    assert ["Phone", "5", "2"] in channel
    weekly = _csv(client, "weekly-shares")
    assert weekly[2] == ["10 Feb 2025", "", "50.0", "0.0", ""]  # no figure: an empty cell


def test_a_csv_cell_never_runs_as_a_formula(hub, signed_in, make):
    make.agency(name='=HYPERLINK("http://evil.example","Click")')
    make.agency(name="@SUM(1+1)")
    rows = _csv(signed_in(hub.manager), "agencies")
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","Click")' in names
    assert "'@SUM(1+1)" in names
    assert not [n for n in names if n[:1] in "=+-@"]


def test_an_agency_name_in_a_chart_cannot_break_out_of_its_script(hub, signed_in, make):
    make.agency(name="</script><script>alert(1)</script>")
    html = signed_in(hub.manager).get(f"{PAGE}?{BOXES}").content.decode()
    assert "<script>alert(1)" not in html
    assert "\\u003C/script\\u003E\\u003Cscript\\u003Ealert(1)" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html  # in the table


def test_dates_in_a_csv_link_are_the_period_shown(hub, signed_in):
    html = signed_in(hub.manager).get(f"{PAGE}?{BOXES}").content.decode()
    links = set(re.findall(r'href="(/reports/performance/[\w-]+\.csv\?[^"]+)"', html))
    assert len(links) == len(performance.TABLES)
    assert all(link.endswith("from=2025-02-03&amp;to=2025-03-02") for link in links)


def test_today_is_london_today(make, signed_in, time_machine):
    # 23:30 UTC on 30 June is already 1 July in London (summer time).
    time_machine.move_to(dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False)
    html = signed_in(make.hub_manager()).get(PAGE).content.decode()
    assert "2 July 2024 to 1 July 2025" in html
