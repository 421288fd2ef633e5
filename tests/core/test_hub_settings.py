"""The hub's settings page: its name, local authority and DfE code."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mash.accounts.models import Role
from mash.core import services
from mash.core.models import AuditEvent, Hub

pytestmark = pytest.mark.django_db

URL = reverse("core:hub_settings")
VALID = {
    "name": "Northbridge MASH",
    "local_authority_name": "Northbridge Council",
    "la_code": "210",
}


@pytest.fixture
def admin_client(make, signed_in):
    return signed_in(make.administrator(email="admin@hub.example"))


def test_the_form_shows_the_current_settings(admin_client):
    Hub.objects.update_or_create(pk=1, defaults=VALID)
    html = admin_client.get(URL).content.decode()
    assert '<h1 class="govuk-heading-l">Hub settings</h1>' in html
    assert 'value="Northbridge MASH"' in html
    assert 'value="Northbridge Council"' in html
    assert 'value="210"' in html
    assert 'inputmode="numeric"' in html


def test_an_administrator_changes_the_settings_and_it_is_audited(admin_client):
    Hub.load()  # the default row, as a fresh install has it
    response = admin_client.post(URL, VALID)
    assert response.status_code == 302
    assert response["Location"] == URL
    hub = Hub.load()
    assert (hub.name, hub.local_authority_name, hub.la_code) == (
        "Northbridge MASH",
        "Northbridge Council",
        "210",
    )
    event = AuditEvent.objects.get(action="core.hub_updated")
    assert event.actor_label == "admin@hub.example"
    assert event.object_type == "core.hub"
    assert event.object_id == "1"
    assert event.detail == {
        "changed": {
            "name": ["Multi-Agency Safeguarding Hub", "Northbridge MASH"],
            "local_authority_name": ["", "Northbridge Council"],
            "la_code": ["", "210"],
        }
    }
    page = admin_client.get(URL).content.decode()
    assert "Hub settings saved." in page
    assert "Northbridge MASH" in page.split("</header>")[0]  # the header carries the new name


def test_only_what_changed_is_recorded(admin_client):
    admin_client.post(URL, VALID)
    admin_client.post(URL, {**VALID, "la_code": "211"})
    latest = AuditEvent.objects.filter(action="core.hub_updated").order_by("-id").first()
    assert latest is not None
    assert latest.detail == {"changed": {"la_code": ["210", "211"]}}


@pytest.mark.parametrize(
    "code", ["ab1", "12", "1234", "2 0", "٢١٠", "²¹⁰", "-21", "21a", "9" * 5000]
)
def test_a_code_that_is_not_3_numbers_is_refused_with_a_clear_message(code, admin_client):
    Hub.objects.update_or_create(pk=1, defaults=VALID)
    response = admin_client.post(URL, {**VALID, "la_code": code})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Local authority code must be 3 numbers, for example 204" in html
    assert "<title>Error: Hub settings" in html
    assert Hub.load().la_code == "210"
    assert not AuditEvent.objects.filter(action="core.hub_updated").exists()


def test_the_code_may_be_left_blank_and_is_trimmed(admin_client):
    admin_client.post(URL, {**VALID, "la_code": ""})
    assert Hub.load().la_code == ""
    admin_client.post(URL, {**VALID, "la_code": " 204 "})
    assert Hub.load().la_code == "204"


def test_a_name_is_required_and_its_length_is_limited(admin_client):
    response = admin_client.post(URL, {**VALID, "name": ""})
    assert response.status_code == 200
    assert "Enter the hub&#39;s name" in response.content.decode()
    response = admin_client.post(URL, {**VALID, "name": "N" * 121})
    assert response.status_code == 200
    assert "Hub name must be 120 characters or fewer" in response.content.decode()
    assert not AuditEvent.objects.filter(action="core.hub_updated").exists()


def test_markup_in_the_name_is_shown_as_text(admin_client, make, signed_in):
    markup = '<script>alert("hub")</script><b>Hub</b>'
    admin_client.post(URL, {**VALID, "name": markup})
    assert Hub.load().name == markup
    for client in (admin_client, signed_in(make.coordinator())):
        html = client.get("/").content.decode()
        assert markup not in html
        assert "&lt;script&gt;alert(&#34;hub&#34;)&lt;/script&gt;&lt;b&gt;Hub&lt;/b&gt;" in html
        assert "<b>Hub</b>" not in html


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_no_one_else_may_change_the_settings(role, make, signed_in):
    Hub.objects.update_or_create(pk=1, defaults=VALID)
    client = signed_in(make.ROLE_FACTORIES[role]())
    assert client.get(URL).status_code == 403
    assert client.post(URL, {**VALID, "name": "Taken over"}).status_code == 403
    assert Hub.load().name == "Northbridge MASH"


def test_the_service_refuses_someone_without_the_permission(make):
    with pytest.raises(PermissionDenied):
        services.update_hub(actor=make.hub_manager(), **VALID)
    assert not AuditEvent.objects.filter(action="core.hub_updated").exists()


def test_the_service_validates_what_it_saves():
    with pytest.raises(ValidationError):
        services.update_hub(actor=None, name="", local_authority_name="", la_code="")


def test_the_command_line_is_recorded_as_the_system():
    services.update_hub(actor=None, **VALID)
    event = AuditEvent.objects.get(action="core.hub_updated")
    assert event.actor is None
    assert event.actor_label == "system"


def test_only_get_and_post_are_answered(admin_client):
    assert admin_client.put(URL).status_code == 405
    assert admin_client.delete(URL).status_code == 405
