"""Loading the postcode-to-ward lookup: all or nothing, errors by row, audited."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mash.core.models import AuditEvent
from mash.reporting import wards
from mash.reporting.models import WardLookup

pytestmark = pytest.mark.django_db

GOOD = (
    "PCD7,PCD8,PCDS,WD24CD,WD24NM,LAD24CD\r\n"
    "NM1 4QT,NM1  4QT,NM1 4QT,E05000001,Riverside,E06000001\r\n"
    "NM17XY,NM1  7XY,NM1 7XY,E05000001,Riverside,E06000001\r\n"
    "NM2 3AB,NM2  3AB,NM2 3AB,E05000002,Hillside,E06000001\r\n"
)


def _post(client, content: bytes, name: str = "wards.csv"):
    return client.post("/reports/wards/", {"file": SimpleUploadedFile(name, content, "text/csv")})


@pytest.fixture
def analyst_client(make, signed_in):
    return signed_in(make.analyst())


def test_an_ons_lookup_loads_and_replaces_the_old_one(analyst_client):
    WardLookup.objects.create(postcode="ZZ11ZZ", ward_code="E05009999", ward_name="Old")
    response = _post(analyst_client, ("\ufeff" + GOOD).encode())
    assert response.status_code == 302
    assert sorted(WardLookup.objects.values_list("postcode", "ward_code", "ward_name")) == [
        ("NM14QT", "E05000001", "Riverside"),
        ("NM17XY", "E05000001", "Riverside"),
        ("NM23AB", "E05000002", "Hillside"),
    ]
    event = AuditEvent.objects.get(action="reporting.wards_loaded")
    assert event.detail == {"postcodes": 3, "wards": 2, "file_name": "wards.csv"}
    page = analyst_client.get("/reports/wards/").content.decode()
    assert "The ward lookup now holds 3 postcodes in 2 wards." in page


def test_plain_column_names_load(analyst_client):
    content = b"Postcode,Ward code,Ward name\nnm1 4qt,e05000001,  River   side \n\n"
    assert _post(analyst_client, content).status_code == 302
    assert WardLookup.objects.get().ward_name == "River side"
    assert WardLookup.objects.get().ward_code == "E05000001"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Select a CSV file"),
        (b"pcds,osward\nNM1 4QT,E05000001\n", "no a ward name column"),
        (b"name,dob\nZebedee,2014-01-01\n", "It has no a postcode column"),
        (b"postcode,ward_code,ward_name\n", "The file has no postcodes in it"),
        (
            b"postcode,ward_code,ward_name\nNM1,E05000001,Riverside\n",
            "Row 2: the postcode is not a whole UK postcode",
        ),
        (
            b"postcode,ward_code,ward_name\nNM1 4QT,E050001,Riverside\n",
            "Row 2: the ward code must be",
        ),
        (b"postcode,ward_code,ward_name\nNM1 4QT,E05000001,\n", "Row 2: the ward name is missing"),
        (b"postcode,ward_code,ward_name\nNM1 4QT,E05000001\n", "Row 2: it has too few columns"),
        (
            b"postcode,ward_code,ward_name\nNM1 4QT,E05000001,A\nNM1 4QT,E05000002,B\n",
            "Row 3: the postcode is given an earlier",
        ),
        (
            b"postcode,ward_code,ward_name\nNM1 4QT,E05000001,"
            + "Caf\u00e9".encode("latin-1")
            + b"\n",
            "CSV UTF-8",
        ),
        (
            b"postcode,ward_code,ward_name\nNM1 4QT,E05000001," + b"x" * 101 + b"\n",
            "100 characters or fewer",
        ),
        (
            b'postcode,ward_code,ward_name\nNM1 4QT,E05000001,"' + b"x" * 200_000 + b'"\n',
            "cannot be read as a CSV",
        ),
    ],
)
def test_a_bad_file_changes_nothing_and_says_why(analyst_client, content, message):
    WardLookup.objects.create(postcode="ZZ11ZZ", ward_code="E05009999", ward_name="Old")
    response = _post(analyst_client, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert message in html.replace("&#34;", '"').replace("&quot;", '"')
    assert list(WardLookup.objects.values_list("ward_name", flat=True)) == ["Old"]
    assert not AuditEvent.objects.filter(action="reporting.wards_loaded").exists()


def test_problems_are_listed_by_row_up_to_a_limit(analyst_client):
    rows = "".join(f"BAD{i},E05000001,X\n" for i in range(30))
    html = _post(
        analyst_client, ("postcode,ward_code,ward_name\n" + rows).encode()
    ).content.decode()
    assert "Row 2: the postcode" in html
    assert "Row 21: the postcode" in html
    assert "Row 22:" not in html
    assert "And 10 more rows with problems" in html


def test_a_file_too_large_is_refused_before_it_is_read(analyst_client, monkeypatch):
    monkeypatch.setattr(wards, "MAX_BYTES", 50)
    response = _post(analyst_client, GOOD.encode())
    assert response.status_code == 400
    assert "The file must be smaller than 20 MB" in response.content.decode()
    assert not WardLookup.objects.exists()


def test_too_many_postcodes_are_refused(analyst_client, monkeypatch):
    monkeypatch.setattr(wards, "MAX_ROWS", 2)
    response = _post(analyst_client, GOOD.encode())
    assert response.status_code == 400
    assert "more than 2 postcodes" in response.content.decode()


def test_an_administrator_may_load_and_a_hub_manager_may_not(make, signed_in):
    assert _post(signed_in(make.administrator()), GOOD.encode()).status_code == 302
    assert WardLookup.objects.count() == 3
    manager = signed_in(make.hub_manager())
    assert manager.get("/reports/wards/").status_code == 403
    assert _post(manager, b"postcode,ward_code,ward_name\n").status_code == 403
    assert WardLookup.objects.count() == 3


def test_the_service_checks_permission(make):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        wards.load(actor=make.hub_manager(), stream=None, size=0)  # type: ignore[arg-type]
