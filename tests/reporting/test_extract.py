"""The pseudonymised extract on the hand-made hub (themes_data.py)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.core.models import AuditEvent
from mash.reporting import exports, extract
from mash.reporting.models import Export, PseudonymKey
from tests.reporting import themes_data as data

pytestmark = pytest.mark.django_db

QUERY = "from=2025-01-01&to=2025-03-29"


@pytest.fixture
def hub(time_machine):
    time_machine.move_to(data.NOW)
    return data.build()


def _download(client, query=QUERY):
    response = client.get(f"/reports/extract/download/?{query}")
    assert response.status_code == 200, response
    text = b"".join(response.streaming_content).decode()
    return response, list(csv.DictReader(io.StringIO(text))), text


def _by_hand(person_id: int) -> str:
    key = bytes.fromhex(PseudonymKey.objects.get().key)
    return hmac.new(key, str(person_id).encode(), hashlib.sha256).hexdigest()[:16]


def test_one_row_per_child_per_decision_with_no_identifiers(hub, make, signed_in):
    response, rows, text = _download(signed_in(make.analyst()))
    assert response["Content-Disposition"] == (
        'attachment; filename="pseudonymised-extract-2025-01-01-to-2025-03-29.csv"'
    )
    assert list(rows[0]) == extract.HEADER
    # Oldest first: A@E1 15 Jan, D@E1 20 Jan, E@E4 31 Jan, B@E2 19 Feb, C@E3 1 Mar, A@E5 10 Mar.
    a, b, c, d, e = (_by_hand(hub.people[x].pk) for x in "ABCDE")
    assert [r["pseudonym"] for r in rows] == [a, d, e, b, c, a]
    assert rows[0] == {
        "pseudonym": a,
        "birth_month": "2024-06",
        "unborn": "",
        "sex": "M",
        "ethnicity": "WBRI",
        "postcode_district": "NM1",
        "referral_source": "2A",
        "rag": "amber",
        "outcome": "s17",
        "primary_need": "N1",
        "themes": "cse;missing",
        "decision_month": "2025-01",
    }
    assert rows[1]["birth_month"] == "2025-06"  # D: the expected month
    assert rows[1]["unborn"] == "yes"
    assert rows[1]["postcode_district"] == "NM1"
    assert rows[1]["themes"] == "domestic_abuse"
    assert rows[2]["postcode_district"] == ""  # E: not a postcode
    assert rows[2]["themes"] == ""
    assert (rows[3]["themes"], rows[3]["outcome"], rows[3]["decision_month"]) == (
        "cse;trafficking",
        "s47",
        "2025-02",
    )
    assert rows[4]["postcode_district"] == "NM2"  # C: the household's address
    assert rows[5]["postcode_district"] == "NM3"
    for forbidden in data.FORBIDDEN:
        assert forbidden not in text
    assert "E-0000" not in text
    assert "C-0000" not in text


def test_the_pseudonym_is_stable_and_the_key_made_once(hub, make, signed_in):
    client = signed_in(make.analyst())
    _, first, _ = _download(client)
    _, again, _ = _download(client)
    assert [r["pseudonym"] for r in first] == [r["pseudonym"] for r in again]
    assert PseudonymKey.objects.count() == 1
    assert len(PseudonymKey.objects.get().key) == 64
    assert AuditEvent.objects.filter(action="reporting.pseudonym_key_created").count() == 1
    downloads = AuditEvent.objects.filter(action="reporting.pseudonymised_extract")
    assert downloads.count() == 2
    assert [e.detail for e in downloads] == [{"from": "2025-01-01", "to": "2025-03-29"}] * 2


def test_another_hubs_key_gives_other_pseudonyms(hub):
    assert extract.pseudonym(b"one", 1) != extract.pseudonym(b"two", 1)
    assert len(extract.pseudonym(b"one", 1)) == 16


def test_queries_grow_with_chunks_not_rows(hub, monkeypatch):
    data.add_busy_district(hub, 10)
    key = extract.pseudonym_key()
    monkeypatch.setattr(extract, "CHUNK", 4)
    with CaptureQueriesContext(connection) as queries:
        rows = list(extract.rows(data.PERIOD, key))
    assert len(rows) == 16
    # 16 rows in chunks of 4: one query for the decisions, one for each chunk's themes
    # (on SQLite the decisions come in one query; PostgreSQL fetches from a cursor).
    assert len(queries) <= 1 + 4 + 4


def test_the_background_exporter_writes_the_same_file(hub, make, signed_in):
    analyst = make.analyst()
    _, _rows, text = _download(signed_in(analyst))
    export = Export.objects.create(
        kind="pseudonymised",
        parameters={"from": "2025-01-01", "to": "2025-03-29"},
        created_by=analyst,
    )
    out = io.BytesIO()
    seen = []
    extract.write_csv(export, out, lambda done, total=None: seen.append((done, total)))
    assert out.getvalue().decode() == text
    assert seen[0] == (0, 6)
    assert seen[-1] == (6, 6)


def test_the_exporter_is_registered():
    assert "pseudonymised" in exports.EXPORTERS


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({}, "from"),
        ({"from": "2025-01-01"}, "to"),
        ({"from": "nonsense", "to": "2025-01-01"}, "from"),
        ({"from": "2025-03-01", "to": "2025-01-01"}, "to"),
        ({"from": "1999-01-01", "to": "2025-01-01"}, "from"),
        ({"from": "2018-01-01", "to": "2025-01-01"}, "to"),
        ({"from": "2025-01-01", "to": "2099-01-01"}, "to"),
    ],
)
def test_the_exporters_parameters_are_checked(hub, parameters, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        extract.check_parameters(parameters)
    assert field in caught.value.message_dict


def test_the_page_counts_the_rows_and_links_the_download(hub, make, signed_in):
    page = signed_in(make.analyst()).get(f"/reports/extract/?{QUERY}")
    html = page.content.decode()
    assert "<strong>6</strong> rows" in html
    assert "/reports/extract/download/?from=2025-01-01&amp;to=2025-03-29" in html


@pytest.mark.parametrize("query", ["from=2025-03-01&to=2025-01-01", "from=x&to=y", "to=2025-01-01"])
def test_a_bad_period_is_refused_with_the_error_by_the_field(hub, make, signed_in, query):
    client = signed_in(make.analyst())
    response = client.get(f"/reports/extract/download/?{query}")
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not AuditEvent.objects.filter(action="reporting.pseudonymised_extract").exists()


def test_the_extract_can_be_prepared_in_the_background(hub, make, signed_in):
    client = signed_in(make.analyst())
    response = client.post("/reports/extract/", {"from": "2025-01-01", "to": "2025-03-29"})
    assert response.status_code == 302
    export = Export.objects.get()
    assert (export.kind, export.parameters) == (
        "pseudonymised",
        {"from": "2025-01-01", "to": "2025-03-29"},
    )
    bad = client.post("/reports/extract/", {"from": "2025-03-29", "to": "2025-01-01"})
    assert bad.status_code == 302
    assert Export.objects.count() == 1
