"""Who reaches the contact pages: hub managers and co-ordinators only, for every URL and method."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from mash.accounts.models import Role
from mash.contacts import services
from mash.contacts.models import Contact, ContactStatus
from mash.core.models import AuditEvent
from tests.contacts.test_pages_support import valid_post
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

ALLOWED = {Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR}


@pytest.fixture
def contacts():
    hub = journey.small_hub()
    draft = services.save_draft(actor=hub.coordinator, data={"concern": ["draft"]})
    submitted = journey.submitted_contact(hub)
    return hub, draft, submitted


def _urls(draft: Contact, submitted: Contact) -> list[str]:
    return [
        "/contacts/",
        "/contacts/new/",
        f"/contacts/{draft.pk}/",
        f"/contacts/{draft.pk}/edit/",
        f"/contacts/{submitted.pk}/",
        f"/contacts/{submitted.pk}/edit/",
    ]


def _user_for(role: str, hub: journey.Hub, make):
    if role == "practitioner_same_agency":
        return make.practitioner(agency_=hub.social_care)
    return make.ROLE_FACTORIES[role]()


REFUSED = [
    Role.AGENCY_PRACTITIONER,
    "practitioner_same_agency",  # of the co-ordinator's own agency: still not a hub role
    Role.ANALYST,
    Role.ADMINISTRATOR,
]


@pytest.mark.parametrize("role", REFUSED)
def test_other_roles_are_refused_every_contact_page(role, contacts, make, signed_in):
    hub, draft, submitted = contacts
    client = signed_in(_user_for(role, hub, make))
    for url in _urls(draft, submitted):
        assert client.get(url).status_code == 403, url
        response = client.post(url, {**valid_post(), "outcome": "nfa", "reason": "Taken over"})
        assert response.status_code == 403, url
    assert Contact.objects.count() == 2
    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert submitted.status == ContactStatus.AWAITING_SCREENING
    assert draft.draft == {"concern": ["draft"]}
    assert not AuditEvent.objects.filter(action="contacts.contact.viewed").exists()


@pytest.mark.parametrize("role", [Role.POLICE_RESEARCHER, Role.ADVICE_LINE_WORKER])
def test_researchers_and_advice_workers_record_contacts_but_see_no_one_elses(
    role, contacts, make, signed_in
):
    # They progress a notification or a call to a contact; the hub's list, its
    # contacts and other people's drafts stay closed to them.
    _, draft, submitted = contacts
    user = make.ROLE_FACTORIES[role]()
    client = signed_in(user)
    own = services.save_draft(actor=user, data={"concern": ["mine"]})
    expected = {
        "/contacts/": 403,
        "/contacts/new/": 200,
        f"/contacts/{draft.pk}/": 403,
        f"/contacts/{draft.pk}/edit/": 404,
        f"/contacts/{submitted.pk}/": 403,
        f"/contacts/{submitted.pk}/edit/": 404,
        f"/contacts/{own.pk}/edit/": 200,
    }
    assert {url: client.get(url).status_code for url in expected} == expected
    response = client.post(f"/contacts/{draft.pk}/edit/", {**valid_post(), "action": "save"})
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.draft == {"concern": ["draft"]}
    html = client.get(f"/contacts/{own.pk}/edit/").content.decode()
    assert 'href="/contacts/"' not in html  # no link to a list they cannot open


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_hub_roles_reach_every_contact_page(role, contacts, make, signed_in):
    _, draft, submitted = contacts
    client = signed_in(make.ROLE_FACTORIES[role]())
    expected = {
        "/contacts/": 200,
        "/contacts/new/": 200,
        f"/contacts/{draft.pk}/": 302,  # to its edit page
        f"/contacts/{draft.pk}/edit/": 200,
        f"/contacts/{submitted.pk}/": 200,
        f"/contacts/{submitted.pk}/edit/": 302,  # submitted: to its page
    }
    assert {url: client.get(url).status_code for url in expected} == expected


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_hub_roles_may_post_to_every_contact_page(role, contacts, make, signed_in):
    _, draft, submitted = contacts
    client = signed_in(make.ROLE_FACTORIES[role]())
    assert client.post("/contacts/new/", {"action": "save"}).status_code == 302
    response = client.post(
        f"/contacts/{draft.pk}/edit/", {"action": "save", "version": draft.version}
    )
    assert response.status_code == 302
    response = client.post(
        f"/contacts/{submitted.pk}/",
        {"outcome": "advice", "reason": "Advice to school.", "version": submitted.version},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ContactStatus.SCREENED
    # The list takes no posts; a draft's page takes no screening.
    assert client.post("/contacts/").status_code == 405
    assert client.post(f"/contacts/{draft.pk}/", {"outcome": "nfa"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(contacts):
    _, draft, submitted = contacts
    client = Client()
    for url in _urls(draft, submitted):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/sign-in/"), (method, url)
    assert Contact.objects.count() == 2


def test_a_contact_that_does_not_exist_is_not_found(make, signed_in):
    client = signed_in(make.coordinator())
    assert client.get("/contacts/999999/").status_code == 404
    assert client.get("/contacts/999999/edit/").status_code == 404
    assert client.post("/contacts/999999/edit/", {"action": "save"}).status_code == 404


def _nav(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Menu".*?</nav>', html, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(0))


@pytest.mark.parametrize("role", Role.values)
def test_the_contacts_navigation_item_only_for_hub_roles(role, make, signed_in):
    html = signed_in(make.ROLE_FACTORIES[role]()).get("/").content.decode()
    assert ("/contacts/" in _nav(html)) == (role in ALLOWED)
