"""The themes page, and who may open each page of themes, hotspots, extract and wards;
an analyst never sees an identifiable record on any of them."""

from __future__ import annotations

import re

import pytest

from mash.accounts.models import Role
from mash.reporting.models import WardLookup
from tests import factories
from tests.reporting import themes_data as data
from tests.reporting.test_hotspots import _rows

pytestmark = pytest.mark.django_db

QUERY = "from=2025-01-01&to=2025-03-29"
THEME_PAGES = [
    f"/reports/themes/?{QUERY}",
    *(
        f"/reports/themes/{slug}.csv?{QUERY}"
        for slug in (
            "themes",
            "themes-by-month",
            "cohort-age",
            "cohort-sex",
            "cohort-ethnicity",
            "theme-pairs",
        )
    ),
    f"/reports/hotspots/?{QUERY}",
    f"/reports/hotspots/?{QUERY}&theme=cse",
    f"/reports/hotspots/districts.csv?{QUERY}",
    f"/reports/hotspots/wards.csv?{QUERY}",
]
EXTRACT_PAGES = [f"/reports/extract/?{QUERY}", f"/reports/extract/download/?{QUERY}"]
WARD_PAGES = ["/reports/wards/"]
MAKERS = {
    Role.HUB_MANAGER: factories.hub_manager,
    Role.REFERRAL_COORDINATOR: factories.coordinator,
    Role.AGENCY_PRACTITIONER: factories.practitioner,
    Role.POLICE_RESEARCHER: factories.police_researcher,
    Role.ADVICE_LINE_WORKER: factories.advice_line_worker,
    Role.ANALYST: factories.analyst,
    Role.ADMINISTRATOR: factories.administrator,
}
ALLOWED = {
    "themes": {Role.ANALYST, Role.HUB_MANAGER},
    "extract": {Role.ANALYST, Role.HUB_MANAGER},
    "wards": {Role.ANALYST, Role.ADMINISTRATOR},
}


@pytest.fixture
def hub(time_machine):
    time_machine.move_to(data.NOW)
    made = data.build()
    data.load_wards()
    return made


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_the_themes_page_shows_each_figure(hub, make, signed_in):
    html = signed_in(make.analyst()).get(f"/reports/themes/?{QUERY}").content.decode()
    assert re.search(r'data-testid="decided">5<', html)
    assert re.search(r'data-testid="themed">4<', html)
    assert _rows(html, "themes") == [
        ["Child sexual exploitation", "4"],
        ["Missing episodes", "2"],
        ["Domestic abuse", "1"],
        ["Trafficking and modern slavery", "1"],
    ]
    assert _rows(html, "themes-by-month") == [
        ["January 2025", "1", "0", "1", "1"],
        ["February 2025", "1", "1", "0", "0"],
        ["March 2025", "2", "0", "0", "1"],
    ]
    assert _rows(html, "cohort-age") == [
        ["Unborn", "1", "0", "0", "1", "0"],
        ["Under 1", "2", "2", "0", "0", "2"],
        ["5 to 9", "1", "1", "1", "0", "0"],
        ["10 to 15", "1", "0", "0", "0", "0"],
        ["16 to 17", "1", "1", "0", "0", "0"],
    ]
    assert _rows(html, "cohort-sex") == [
        ["Male", "3", "3", "0", "0", "2"],
        ["Female", "2", "1", "1", "0", "0"],
        ["Not known", "1", "0", "0", "1", "0"],
    ]
    assert _rows(html, "theme-pairs") == [
        ["Child sexual exploitation", "Missing episodes", "2"],
        ["Child sexual exploitation", "Domestic abuse", "1"],
        ["Child sexual exploitation", "Trafficking and modern slavery", "1"],
        ["Domestic abuse", "Missing episodes", "1"],
    ]
    # Charts are drawn from JSON beside them, with no inline script.
    assert 'id="chart-themes-data" type="application/json"' in html
    assert 'id="chart-theme-pairs-data"' in html
    assert "js/dashboard.js" in html


def test_the_themes_csv(hub, make, signed_in):
    response = signed_in(make.analyst()).get(f"/reports/themes/cohort-ethnicity.csv?{QUERY}")
    assert response["Content-Disposition"] == (
        'attachment; filename="themes-cohort-ethnicity-2025-01-01-to-2025-03-29.csv"'
    )
    assert response.content.decode().splitlines() == [
        "Ethnicity,All decisions,Child sexual exploitation,Trafficking and modern slavery,"
        "Domestic abuse,Missing episodes",
        "White: British,3,2,0,0,2",
        "Asian: Indian,1,1,0,0,0",
        "Black: African,1,1,1,0,0",
        "Information not yet obtained,1,0,0,1,0",
    ]


def test_the_default_period_is_the_last_12_months(hub, make, signed_in):
    html = signed_in(make.analyst()).get("/reports/themes/").content.decode()
    assert "30 March 2024 to 29 March 2025" in html
    # E6 (31 December 2024) is now inside the period: cse on five enquiries.
    assert _rows(html, "themes")[0] == ["Child sexual exploitation", "5"]


@pytest.mark.parametrize(
    "query",
    [
        "from=2025-03-01&to=2025-01-01",
        "from-day=31&from-month=2&from-year=2025&to-day=&to-month=&to-year=",
        "from=1999-12-31&to=2025-01-01",
        "from=2025-01-01&to=2099-01-01",
        "from=" + "9" * 500 + "&to=2025-01-01",
    ],
)
def test_bad_dates_are_shown_next_to_the_fields(hub, make, signed_in, query):
    client = signed_in(make.analyst())
    html = client.get(f"/reports/themes/?{query}").content.decode()
    assert "There is a problem" in html
    assert "govuk-error-message" in html
    assert 'data-table="themes"' not in html
    assert client.get(f"/reports/themes/themes.csv?{query}").status_code == 400
    assert client.get(f"/reports/themes/people.csv?{QUERY}").status_code == 404


@pytest.mark.parametrize("role", list(MAKERS))
def test_only_the_allowed_roles_reach_each_page(hub, signed_in, role):
    client = signed_in(MAKERS[role]())
    for kind, urls in (("themes", THEME_PAGES), ("extract", EXTRACT_PAGES), ("wards", WARD_PAGES)):
        for url in urls:
            status = client.get(url).status_code
            assert status == (200 if role in ALLOWED[kind] else 403), (url, status)
    expected = 302 if role in ALLOWED["extract"] else 403
    assert (
        client.post("/reports/extract/", {"from": "2025-01-01", "to": "2025-01-31"}).status_code
        == expected
    )
    assert client.post("/reports/wards/", {}).status_code == (
        400 if role in ALLOWED["wards"] else 403
    )
    assert client.delete(f"/reports/themes/?{QUERY}").status_code in (403, 405)


def test_a_visitor_is_sent_to_sign_in(hub, client):
    for url in [*THEME_PAGES, *EXTRACT_PAGES, *WARD_PAGES]:
        response = client.get(url)
        assert response.status_code == 302, url


@pytest.mark.parametrize("role", [Role.ANALYST, Role.HUB_MANAGER])
def test_no_page_or_file_names_a_child(hub, signed_in, role):
    client = signed_in(MAKERS[role]())
    WardLookup.objects.update(ward_name="Riverside")
    pages = [*THEME_PAGES, *EXTRACT_PAGES, "/reports/", "/reports/themes/", "/reports/hotspots/"]
    if role == Role.ANALYST:
        pages.append("/reports/wards/")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _body(response)
        for forbidden in data.FORBIDDEN:
            assert forbidden not in text, (url, forbidden)
        # No link to any record.
        assert not re.search(r'href="/(people|enquiries|contacts)/\d', text), url
