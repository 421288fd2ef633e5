"""An incoming transfer from another local authority: a contact with source 5C that says which
authority sent it, required then and only then, shown on the contact."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError

from mash.contacts import services
from mash.contacts.models import Contact, ContactStatus
from mash.core.local_authorities import sync
from mash.core.models import LocalAuthority
from tests.contacts.test_pages_support import (
    NOW,
    error_for,
    summary_links,
    text,
    valid_post,
)
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

REQUIRED = (
    "Select the local authority that sent it: a transfer from another authority (source 5C) "
    "must say which"
)
NOT_A_TRANSFER = (
    "Choose a local authority only for a transfer from another authority: select referral "
    "source 5C, or choose 'Not a transfer from another authority'"
)
NOT_IN_LIST = "Select the local authority that sent it"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hub():
    sync(LocalAuthority)
    return journey.small_hub()


@pytest.fixture
def coordinator(hub, signed_in):
    return signed_in(hub.coordinator)


def _transfer_post(**overrides):
    fields = {
        "referral_source": "5C",
        "channel": "other_la",
        "from_local_authority": "202",
        "referrer_name": "Jo Duty",
        "referrer_organisation": "Camden MASH",
    }
    fields.update(overrides)
    return valid_post(**fields)


def test_the_form_asks_which_authority_sent_it(coordinator):
    html = coordinator.get("/contacts/new/").content.decode()
    assert '<label class="govuk-label" for="id_from_local_authority">' in html
    assert "Which local authority sent it?" in html
    assert '<option value="">Not a transfer from another authority</option>' in html
    assert '<option value="202">Camden (202)</option>' in html
    assert '<option value="943">Westmorland and Furness (943)</option>' in html
    assert 'value="909"' not in html  # Cumbria was abolished in 2023


def test_an_incoming_transfer_is_recorded_with_the_authority_and_shown(coordinator):
    response = coordinator.post("/contacts/new/", _transfer_post())
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.status == ContactStatus.AWAITING_SCREENING
    assert contact.referral_source == "5C"
    assert contact.from_local_authority == LocalAuthority.objects.get(code="202")
    page = text(coordinator.get(f"/contacts/{contact.pk}/").content)
    assert "Sent by the local authority Camden (202)" in page


@pytest.mark.parametrize(
    "overrides",
    [
        {"from_local_authority": ""},  # source 5C
        {"from_local_authority": "", "referral_source": "6"},  # from another authority
        {"from_local_authority": "", "channel": "phone"},  # 5C by phone
    ],
)
def test_a_transfer_without_the_authority_is_an_error_next_to_the_field(coordinator, overrides):
    response = coordinator.post("/contacts/new/", _transfer_post(**overrides))
    assert response.status_code == 200
    assert error_for(response.content, "id_from_local_authority") == REQUIRED
    assert summary_links(response.content)[REQUIRED] == "id_from_local_authority"
    assert Contact.objects.get().status == ContactStatus.DRAFT  # kept as a draft


def test_an_authority_on_a_contact_that_is_not_a_transfer_is_an_error(coordinator):
    response = coordinator.post(
        "/contacts/new/", valid_post(referral_source="2A", from_local_authority="202")
    )
    assert response.status_code == 200
    assert error_for(response.content, "id_from_local_authority") == NOT_A_TRANSFER


@pytest.mark.parametrize(
    "value",
    [
        "999",
        "909",  # abolished
        "<script>alert(1)</script>",
        "202' OR 1=1 --",
        "2" * 5000,
        "٢٠٢",
    ],
)
def test_hostile_or_unknown_authorities_are_refused(coordinator, value):
    response = coordinator.post("/contacts/new/", _transfer_post(from_local_authority=value))
    assert response.status_code == 200
    assert error_for(response.content, "id_from_local_authority") == NOT_IN_LIST
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Contact.objects.filter(status=ContactStatus.AWAITING_SCREENING).exists()


def test_a_nul_in_the_value_is_dropped_as_in_every_field(coordinator):
    response = coordinator.post("/contacts/new/", _transfer_post(from_local_authority="20\x002"))
    assert response.status_code == 302
    assert Contact.objects.get().from_local_authority == LocalAuthority.objects.get(code="202")


def test_a_draft_keeps_the_authority_chosen(coordinator):
    response = coordinator.post("/contacts/new/", {**_transfer_post(), "action": "save"})
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.draft["from_local_authority"] == ["202"]
    html = coordinator.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert '<option value="202" selected>Camden (202)</option>' in html


def test_the_service_refuses_an_authority_on_a_contact_that_is_not_a_transfer(hub):
    camden = LocalAuthority.objects.get(code="202")
    with pytest.raises(ValidationError) as error:
        services.submit_contact(
            actor=hub.coordinator,
            details=journey.details(from_local_authority=camden),
            people=[journey.child()],
        )
    assert "from_local_authority" in error.value.message_dict
    cumbria = LocalAuthority.objects.get(code="909")
    with pytest.raises(ValidationError) as error:
        services.submit_contact(
            actor=hub.coordinator,
            details=journey.details(referral_source="5C", from_local_authority=cumbria),
            people=[journey.child()],
        )
    assert error.value.message_dict["from_local_authority"] == [
        "Select the local authority that sent it from the list"
    ]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "overrides", [{"referral_source": "5C"}, {"channel": "other_la", "referral_source": "6"}]
)
def test_the_service_needs_the_sending_authority_for_a_transfer(hub, overrides):
    # Whatever form or import calls it, a transfer in names who sent it.
    with pytest.raises(ValidationError) as error:
        services.submit_contact(
            actor=hub.coordinator,
            details=journey.details(**overrides),
            people=[journey.child()],
        )
    assert error.value.message_dict["from_local_authority"] == [
        "Select the local authority that sent it"
    ]
    assert not Contact.objects.exists()


def test_a_contact_that_is_not_a_transfer_needs_no_authority(coordinator):
    assert coordinator.post("/contacts/new/", valid_post()).status_code == 302
    contact = Contact.objects.get()
    assert contact.from_local_authority is None
    assert "Sent by the local authority" not in text(
        coordinator.get(f"/contacts/{contact.pk}/").content
    )
