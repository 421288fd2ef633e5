"""Hotspots: districts and wards on the hand-made hub (themes_data.py), worked out by hand,
and the pages, with small counts hidden from analysts."""

from __future__ import annotations

import pytest

from mash.reporting import themes
from mash.reporting.themes import Place
from tests.reporting import themes_data as data

pytestmark = pytest.mark.django_db

QUERY = "from=2025-01-01&to=2025-03-29"


@pytest.fixture
def hub(time_machine):
    time_machine.move_to(data.NOW)
    return data.build()


def test_by_district_uses_the_contacts_postcode_then_the_household(hub):
    # NM1: E1 (A "NM1 4QT", D "nm1 2ab ") and E2 (B): 2 enquiries, 3 children.
    # NM2: E3 (C: no postcode on the contact; household NM2 3AB). NM3: E5 (A moved).
    # Not known: E4 (E: "UNKNOWN"), last.
    assert themes.by_district(data.PERIOD) == [
        Place("NM1", "NM1", 2, 3),
        Place("NM2", "NM2", 1, 1),
        Place("NM3", "NM3", 1, 1),
        Place("", "Postcode not known", 1, 1),
    ]


def test_by_district_for_one_theme(hub):
    # cse: A on E1 (NM1), B on E2 (NM1), C on E3 (NM2), A on E5 (NM3).
    assert themes.by_district(data.PERIOD, "cse") == [
        Place("NM1", "NM1", 2, 2),
        Place("NM2", "NM2", 1, 1),
        Place("NM3", "NM3", 1, 1),
    ]


def test_by_ward(hub):
    data.load_wards()
    # Riverside: A on E1, B on E2. Hillside: D on E1 (NM1 2AB), C on E3 (NM2 3AB).
    # Not in the lookup: A on E5 (NM3 1AA), E on E4 (no postcode).
    assert themes.by_ward(data.PERIOD) == [
        Place("E05000002", "Hillside", 2, 2),
        Place("E05000001", "Riverside", 2, 2),
        Place("", "Not in the ward lookup", 2, 2),
    ]
    assert themes.wards_loaded() == 4


def test_small_counts_go_after_the_rest_in_name_order():
    places = [
        Place("NM5", "NM5", 9, 9),
        Place("NM2", "NM2", 4, 4),
        Place("NM1", "NM1", 1, 1),
        Place("", "Postcode not known", 7, 7),
        Place("NM4", "NM4", 5, 6),
    ]
    assert [p.code for p in themes.suppressed(places)] == ["NM5", "NM4", "NM1", "NM2", ""]


def test_an_analyst_sees_fewer_than_5_and_never_the_small_count(hub, make, signed_in):
    data.add_busy_district(hub)  # six enquiries in NM9
    client = signed_in(make.analyst())
    page = client.get(f"/reports/hotspots/?{QUERY}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="small-cells"' in html
    rows = _rows(html, "districts")
    # NM9 (6) shown and first; NM1 (2), NM2, NM3 (1 each) hidden, in name order.
    assert rows == [
        ["NM9", "6", "6"],
        ["NM1", "fewer than 5", "fewer than 5"],
        ["NM2", "fewer than 5", "fewer than 5"],
        ["NM3", "fewer than 5", "fewer than 5"],
        ["Postcode not known", "fewer than 5", "fewer than 5"],
    ]
    csv = client.get(f"/reports/hotspots/districts.csv?{QUERY}").content.decode()
    assert csv.splitlines() == [
        "Postcode district,Enquiries,Children",
        "NM9,6,6",
        "NM1,fewer than 5,fewer than 5",
        "NM2,fewer than 5,fewer than 5",
        "NM3,fewer than 5,fewer than 5",
        "Postcode not known,fewer than 5,fewer than 5",
    ]


def test_a_hub_manager_sees_every_count(hub, signed_in):
    client = signed_in(hub.manager)
    html = client.get(f"/reports/hotspots/?{QUERY}").content.decode()
    assert 'data-testid="small-cells"' not in html
    assert _rows(html, "districts") == [
        ["NM1", "2", "3"],
        ["NM2", "1", "1"],
        ["NM3", "1", "1"],
        ["Postcode not known", "1", "1"],
    ]
    assert 'data-testid="no-wards"' in html


def test_the_ward_table_and_theme_filter_on_the_page(hub, signed_in):
    data.load_wards()
    client = signed_in(hub.manager)
    html = client.get(f"/reports/hotspots/?{QUERY}&theme=cse").content.decode()
    # cse by ward: Riverside A on E1, B on E2; Hillside C on E3; not in lookup A on E5.
    assert _rows(html, "wards") == [
        ["Riverside", "E05000001", "2", "2"],
        ["Hillside", "E05000002", "1", "1"],
        ["Not in the ward lookup", "", "1", "1"],
    ]
    csv = client.get(f"/reports/hotspots/wards.csv?{QUERY}&theme=cse")
    assert csv["Content-Disposition"] == (
        'attachment; filename="hotspots-wards-cse-2025-01-01-to-2025-03-29.csv"'
    )
    assert csv.content.decode().splitlines()[1] == "Riverside,E05000001,2,2"


def test_a_ward_name_that_looks_like_a_formula_is_made_harmless(hub, signed_in):
    from mash.reporting.models import WardLookup

    WardLookup.objects.create(postcode="NM14QT", ward_code="E05000009", ward_name="=HYPERLINK(1)")
    client = signed_in(hub.manager)
    csv = client.get(f"/reports/hotspots/wards.csv?{QUERY}").content.decode()
    assert "'=HYPERLINK(1),E05000009,1,1" in csv


@pytest.mark.parametrize(
    "query",
    [
        "from=2025-01-01&to=2025-03-29&theme=names",
        "from=2025-03-01&to=2025-01-01",
        "from=nonsense&to=2025-01-01",
        "from-day=31&from-month=2&from-year=2025&to-day=1&to-month=3&to-year=2025",
        "from=1999-12-31&to=2025-01-01",
        "from=2019-01-01&to=2025-03-01",
        "from=2025-01-01&to=2099-01-01",
    ],
)
def test_bad_input_is_shown_next_to_the_fields(hub, signed_in, query):
    client = signed_in(hub.manager)
    page = client.get(f"/reports/hotspots/?{query}")
    assert page.status_code == 200
    assert "There is a problem" in page.content.decode()
    assert client.get(f"/reports/hotspots/districts.csv?{query}").status_code == 400


def test_an_unknown_table_is_not_found(hub, signed_in):
    client = signed_in(hub.manager)
    assert client.get(f"/reports/hotspots/people.csv?{QUERY}").status_code == 404
    # No ward lookup loaded: no ward table to download.
    assert client.get(f"/reports/hotspots/wards.csv?{QUERY}").status_code == 404


def test_the_page_makes_the_same_queries_for_more_decisions(hub, signed_in):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    data.load_wards()
    client = signed_in(hub.manager)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/reports/hotspots/?{QUERY}")
    data.add_busy_district(hub, 20)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/reports/hotspots/?{QUERY}").status_code == 200
    assert len(many) == len(few) <= 16


def _rows(html: str, slug: str) -> list[list[str]]:
    """The body rows of the figure's table, as text."""
    import re

    section = html.split(f'data-table="{slug}"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]
