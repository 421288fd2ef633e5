"""/reports/census/: who may open it, the year, the problems named, and the download."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from mash.core.models import AuditEvent
from mash.reporting import census, exports
from mash.reporting.models import Export, ExportKind
from tests import factories
from tests.reporting import test_census_data as data

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 10, 12, 0, tzinfo=dt.UTC)
D = dt.date
PAGE = "/reports/census/"
DOWNLOAD = "/reports/census/download/"
PREPARE = "/reports/census/prepare/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager_client(signed_in):
    data.hub()
    return signed_in(factories.hub_manager())


def _referred(given="Amelia", family="Hart", **kw):
    by = factories.hub_manager()
    kid = data.person(given, family, **kw)
    data.referral(kid, by, received=D(2025, 6, 2))
    return kid


def test_the_urls():
    assert reverse("reporting:census") == PAGE
    assert reverse("reporting:census_download") == DOWNLOAD
    assert reverse("reporting:census_prepare") == PREPARE


@pytest.mark.parametrize(
    "role", ["analyst", "coordinator", "practitioner", "administrator", "advice_line_worker"]
)
@pytest.mark.parametrize("url", [PAGE, DOWNLOAD + "?year=2026"])
def test_only_hub_managers_may_open_it(signed_in, role, url):
    client = signed_in(getattr(factories, role)())
    assert client.get(url).status_code == 403
    assert client.post(PREPARE, {"year": "2026"}).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client):
    for url in (PAGE, DOWNLOAD + "?year=2026"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/sign-in/" in response["Location"]


def test_the_page_checks_the_default_year_and_shows_the_counts(manager_client):
    _referred(upn=data.UPN)
    response = manager_client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="2026"' in body
    assert 'data-testid="counts"' in body
    assert 'data-testid="download"' in body
    assert f"{DOWNLOAD}?year=2026" in body
    event = AuditEvent.objects.get(action="reporting.cin_census_checked")
    assert event.detail == {"year": 2026, "children": 1, "errors": 0}


def test_the_page_names_children_with_problems_and_offers_no_file(manager_client):
    kid = _referred(given="<script>alert(1)</script>", family="O'Neil & Sons", born=None)
    body = manager_client.get(PAGE + "?year=2026").content.decode()
    assert 'data-testid="errors"' in body
    assert 'data-testid="download"' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body
    assert reverse("people:record", args=[kid.pk]) in body
    assert census.la_child_id(kid.pk) in body
    assert "Rule 8525" in body


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("", "Enter the census year as 4 digits, like 2026"),
        ("abc", "Enter the census year as 4 digits, like 2026"),
        ("2026.5", "Enter the census year as 4 digits, like 2026"),
        ("<script>", "Enter the census year as 4 digits, like 2026"),
        ("9" * 5000, "Enter the census year as 4 digits, like 2026"),
        ("1999", "Census year must be 2000 or later"),
        ("-2026", "Census year must be 2000 or later"),
        ("2028", "Census year must be 2027 or earlier"),
    ],
)
def test_a_wrong_year_is_explained_next_to_the_field(manager_client, year, message):
    response = manager_client.get(PAGE, {"year": year})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "govuk-error-summary" in body
    assert "<title>Error:" in body
    assert 'data-testid="counts"' not in body
    assert "<script>" not in body


def test_the_latest_year_is_the_census_in_progress(manager_client):
    response = manager_client.get(PAGE, {"year": "2027"})
    assert response.status_code == 200
    assert "Census 2027" in response.content.decode()


def test_the_download_streams_the_checked_file(manager_client):
    _referred(upn=data.UPN)
    response = manager_client.get(DOWNLOAD, {"year": "2026"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="cin-census-2026-881.xml"'
    content = b"".join(response.streaming_content)
    assert b"Amelia" not in content
    root = data.parse(content)
    assert root.findtext("Header/Source/LEA") == "881"
    assert len(list(root.iter("Child"))) == 1
    event = AuditEvent.objects.get(action="reporting.cin_census_downloaded")
    assert event.detail == {"year": 2026, "children": 1, "referrals": 1}


def test_the_download_is_refused_while_a_child_has_a_problem(manager_client):
    _referred(born=None)
    response = manager_client.get(DOWNLOAD, {"year": "2026"})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?year=2026"
    assert not AuditEvent.objects.filter(action="reporting.cin_census_downloaded").exists()


@pytest.mark.parametrize("year", ["", "abc", "1999", "2099", "9" * 300])
def test_the_download_with_a_wrong_year_goes_back_to_the_page(manager_client, year):
    response = manager_client.get(DOWNLOAD, {"year": year})
    assert response.status_code == 302
    assert response["Location"] == PAGE


def test_the_download_only_answers_get(manager_client):
    assert manager_client.post(DOWNLOAD, {"year": "2026"}).status_code == 405
    assert manager_client.get(PREPARE).status_code == 405


def test_the_page_issues_the_same_queries_for_1_child_as_for_25(manager_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert manager_client.get(PAGE).status_code == 200
        return len(context)

    _referred(given="Child0", born=D(2015, 1, 1))
    manager_client.get(PAGE)  # warm the session
    one = queries()
    for n in range(1, 25):
        _referred(given=f"Child{n}", born=D(2015, 1, 1) + dt.timedelta(days=n))
    assert queries() == one


def test_prepare_queues_a_background_export_when_exports_can_make_it(manager_client, monkeypatch):
    _referred(upn=data.UPN)
    monkeypatch.setitem(
        exports.EXPORTERS, ExportKind.CIN_CENSUS, exports.lazy("mash.reporting.census:export_file")
    )
    body = manager_client.get(PAGE).content.decode()
    assert 'data-testid="prepare"' in body
    response = manager_client.post(PREPARE, {"year": "2026"})
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:exports")
    export = Export.objects.get()
    assert export.kind == ExportKind.CIN_CENSUS
    assert export.parameters == {"year": 2026}


def test_prepare_is_not_offered_until_exports_can_make_it(manager_client, monkeypatch):
    monkeypatch.delitem(exports.EXPORTERS, ExportKind.CIN_CENSUS, raising=False)
    _referred(upn=data.UPN)
    assert 'data-testid="prepare"' not in manager_client.get(PAGE).content.decode()
    response = manager_client.post(PREPARE, {"year": "2026"})
    assert response.status_code == 302
    assert not Export.objects.exists()


@pytest.mark.parametrize("year", ["", "abc", "1999", "<b>"])
def test_prepare_with_a_wrong_year_queues_nothing(manager_client, monkeypatch, year):
    monkeypatch.setitem(
        exports.EXPORTERS, ExportKind.CIN_CENSUS, exports.lazy("mash.reporting.census:export_file")
    )
    response = manager_client.post(PREPARE, {"year": year})
    assert response.status_code == 302
    assert not Export.objects.exists()
