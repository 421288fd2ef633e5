"""English local authorities (DfE codes), the hub's postcode areas and where a postcode lies."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from mash.core import services
from mash.core.local_authorities import (
    AUTHORITIES,
    in_areas,
    outward_code,
    parse_areas,
    sync,
)
from mash.core.models import AuditEvent, Hub, LocalAuthority

BY_CODE = {a.code: a for a in AUTHORITIES}


# --- The list ---------------------------------------------------------------------------------


def test_codes_are_unique_and_three_digits():
    codes = [a.code for a in AUTHORITIES]
    assert len(codes) == len(set(codes))
    assert all(len(c) == 3 and c.isascii() and c.isdigit() for c in codes)
    names = [a.name for a in AUTHORITIES if a.active]
    assert len(names) == len(set(names)), "two current authorities share a name"


def test_there_are_153_current_english_authorities():
    # 33 London boroughs (with the City), 36 metropolitan districts, 63 unitary
    # authorities (with the Isles of Scilly) and 21 county councils since April 2023.
    assert sum(a.active for a in AUTHORITIES) == 153


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("201", "City of London"),
        ("202", "Camden"),
        ("213", "Westminster"),
        ("320", "Waltham Forest"),
        ("330", "Birmingham"),
        ("394", "Sunderland"),
        ("420", "Isles of Scilly"),
        ("800", "Bath and North East Somerset"),
        ("815", "North Yorkshire"),
        ("825", "Buckinghamshire"),
        ("838", "Dorset"),
        ("839", "Bournemouth, Christchurch and Poole"),
        ("895", "Cheshire East"),
        ("896", "Cheshire West and Chester"),
        ("933", "Somerset"),
        ("938", "West Sussex"),
        ("940", "North Northamptonshire"),
        ("941", "West Northamptonshire"),
        ("942", "Cumberland"),
        ("943", "Westmorland and Furness"),
    ],
)
def test_known_current_authorities_are_present(code, name):
    assert BY_CODE[code].name == name
    assert BY_CODE[code].active


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("820", "Bedfordshire"),
        ("835", "Dorset"),
        ("836", "Poole"),
        ("837", "Bournemouth"),
        ("875", "Cheshire"),
        ("909", "Cumbria"),
        ("928", "Northamptonshire"),
    ],
)
def test_abolished_authorities_are_kept_inactive(code, name):
    assert BY_CODE[code].name == name
    assert not BY_CODE[code].active


@pytest.mark.django_db
def test_sync_fills_the_table_and_is_idempotent():
    LocalAuthority.objects.all().delete()
    sync(LocalAuthority)
    sync(LocalAuthority)
    assert LocalAuthority.objects.count() == len(AUTHORITIES)
    assert LocalAuthority.objects.get(code="943").name == "Westmorland and Furness"
    assert not LocalAuthority.objects.get(code="909").is_active


@pytest.mark.django_db
def test_sync_corrects_a_changed_row_and_leaves_others_alone():
    sync(LocalAuthority)
    LocalAuthority.objects.filter(code="202").update(name="Camden (typo)", is_active=False)
    LocalAuthority.objects.create(code="999", name="Local test authority")
    sync(LocalAuthority)
    camden = LocalAuthority.objects.get(code="202")
    assert (camden.name, camden.is_active) == ("Camden", True)
    assert LocalAuthority.objects.filter(code="999").exists()


@pytest.mark.django_db
def test_the_data_migration_loads_the_list():
    LocalAuthority.objects.all().delete()
    migration = importlib.import_module("mash.core.migrations.0007_seed_local_authorities")
    migration.seed(apps, None)
    assert set(LocalAuthority.objects.values_list("code", flat=True)) == set(BY_CODE)


# --- Postcode areas ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "areas", "wrong"),
    [
        ("NM NM1 NX12", ["NM", "NM1", "NX12"], []),
        ("nm, nx12;  n", ["NM", "NX12", "N"], []),
        ("NM1,NM1 nm1", ["NM1"], []),
        ("", [], []),
        ("   , ,", [], []),
        ("EC1A W1", ["EC1A", "W1"], []),
        ("NM1 2AB", ["NM1"], ["2AB"]),
        ("NMX1 1 !! <b>", [], ["NMX1", "1", "!!", "<B>"]),
        ("NM\nNX", ["NM", "NX"], []),
    ],
)
def test_areas_are_read_from_a_space_or_comma_separated_list(text, areas, wrong):
    assert parse_areas(text) == (areas, wrong)


@pytest.mark.parametrize(
    ("postcode", "outward"),
    [
        ("NM1 2AB", "NM1"),
        ("nm1 2ab", "NM1"),
        ("NM12AB", "NM1"),
        ("NM123AB", "NM12"),
        (" nx12  3cd ", "NX12"),
        ("EC1A 1BB", "EC1A"),
        ("W1A1AA", "W1A"),
        ("NM1", "NM1"),
        ("", None),
        ("not a postcode", None),
        ("NM1 2A", None),
        ("12345", None),
        ("NM1 2AB\n", "NM1"),
        ("NM1 2AB extra", None),
        ("\uff2e\uff2d1 2AB", None),  # full-width letters
    ],
)
def test_the_outward_code_of_a_postcode(postcode, outward):
    assert outward_code(postcode) == outward


@pytest.mark.parametrize(
    ("postcode", "areas", "inside"),
    [
        ("NM1 2AB", ["NM"], True),  # the area's letters
        ("nm12ab", ["NM"], True),  # lower case, no space
        ("NM12 3AB", ["NM1"], False),  # NM12 is another district than NM1
        ("NM1 2AB", ["NM1"], True),
        ("NX12 3CD", ["NM", "NX12"], True),
        ("N1 2AB", ["NM"], False),  # N is not NM
        ("NM1 2AB", ["N"], False),  # nor NM N
        ("EC1A 1BB", ["EC1"], True),  # a London sub-district lies in its district
        ("EC1A 1BB", ["EC1A"], True),
        ("EC1 1BB", ["EC1A"], False),
        ("SW1A 2AA", ["SW"], True),
        ("ZZ9 9ZZ", ["NM", "NX"], False),
        ("not a postcode", ["NM"], None),  # cannot tell
        ("", ["NM"], None),
        ("NM1 2AB", [], None),  # no areas set: cannot tell
    ],
)
def test_whether_a_postcode_lies_in_the_areas(postcode, areas, inside):
    assert in_areas(postcode, areas) is inside


# --- The hub's settings page ------------------------------------------------------------------

URL = reverse("core:hub_settings")
VALID = {"name": "Northbridge MASH", "local_authority_name": "Northbridge", "la_code": "210"}


@pytest.fixture
def admin_client(make, signed_in):
    return signed_in(make.administrator(email="admin@hub.example"))


@pytest.mark.django_db
def test_an_administrator_sets_the_postcode_areas_tidied_and_audited(admin_client):
    response = admin_client.post(URL, {**VALID, "postcode_areas": "nm1, nm2  nx nm1"})
    assert response.status_code == 302
    assert Hub.load().postcode_areas == "NM1 NM2 NX"
    event = AuditEvent.objects.filter(action="core.hub_updated").latest("id")
    assert event.detail["changed"]["postcode_areas"] == ["", "NM1 NM2 NX"]
    page = admin_client.get(URL).content.decode()
    assert 'value="NM1 NM2 NX"' in page
    assert "Postcode areas the hub covers" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NM1 2AB", "Not an area or district: 2AB"),
        ("<script>x</script>", "Not an area or district: &lt;SCRIPT&gt;X&lt;/SCRIPT&gt;"),
        ("NM " * 200, "Postcode areas must be 500 characters or fewer"),
    ],
)
def test_postcode_areas_that_are_not_areas_are_refused_next_to_the_field(
    admin_client, value, message
):
    Hub.objects.update_or_create(pk=1, defaults={**VALID, "postcode_areas": "NM"})
    response = admin_client.post(URL, {**VALID, "postcode_areas": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_postcode_areas-error"' in html
    assert message in html
    assert "<script>x</script>" not in html
    assert Hub.load().postcode_areas == "NM"


@pytest.mark.django_db
def test_blank_areas_are_allowed():
    services.update_hub(actor=None, **VALID, postcode_areas="NM")
    services.update_hub(actor=None, **VALID, postcode_areas="")
    assert Hub.load().postcode_areas == ""
    # Left out (as older callers do): kept.
    services.update_hub(actor=None, **VALID, postcode_areas="NX")
    services.update_hub(actor=None, **VALID)
    assert Hub.load().postcode_areas == "NX"
