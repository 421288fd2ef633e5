"""API keys: issued by administrators to an agency's system, shown once, stored hashed,
listed, revoked (audited, and refused from the next request)."""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import AgencyKind, Role
from mash.api import selectors, services
from mash.api.models import ApiToken
from mash.core.models import AuditEvent
from tests.api.conftest import URL, sample

pytestmark = pytest.mark.django_db

LIST = "/settings/api-tokens/"
NEW = "/settings/api-tokens/new/"


def _revoke_url(token: ApiToken) -> str:
    return f"/settings/api-tokens/{token.pk}/revoke/"


def _text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _key(response: Any) -> str:
    match = re.search(r'data-testid="api-key">([^<]+)<', response.content.decode())
    assert match, "no key on the page"
    return unescape(match.group(1))


@pytest.fixture
def administrator(make: Any) -> Any:
    return make.administrator()


@pytest.fixture
def admin_client(administrator: Any, signed_in: Any) -> Client:
    return signed_in(administrator)


# --- The services ---------------------------------------------------------------------------------


def test_a_key_is_returned_once_and_only_its_hash_is_kept(administrator, force):
    token, key = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    assert key.startswith("mash_")
    assert len(key) >= 45
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12]
    assert token.created_by == administrator
    assert token.is_active
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert key not in stored
    assert key[12:] not in stored
    event = AuditEvent.objects.get(action="api.token_issued")
    assert event.actor == administrator
    assert event.detail == {"agency": force.pk, "name": "Niche RMS", "prefix": key[:12]}
    assert key not in json.dumps(list(AuditEvent.objects.values()), default=str)
    assert selectors.token_for_key(key) == token


def test_every_key_is_different(administrator, force):
    keys = {
        services.issue_token(actor=administrator, agency=force, name=f"System {n}")[1]
        for n in range(20)
    }
    assert len(keys) == 20


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_only_an_administrator_may_issue_or_revoke(make, force, role, administrator):
    user = make.ROLE_FACTORIES[role]()
    with pytest.raises(PermissionDenied):
        services.issue_token(actor=user, agency=force, name="Niche RMS")
    token, _ = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    with pytest.raises(PermissionDenied):
        services.revoke_token(actor=user, token=token)
    with pytest.raises(PermissionDenied):
        selectors.tokens(user=user)
    assert ApiToken.objects.get().is_active


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter the name of the system that will use the key, like Niche RMS"),
        ("   ", "Enter the name of the system that will use the key, like Niche RMS"),
        ("N" * 101, "The name must be 100 characters or fewer"),
    ],
)
def test_a_bad_name_is_refused(administrator, force, name, message):
    with pytest.raises(ValidationError) as error:
        services.issue_token(actor=administrator, agency=force, name=name)
    assert error.value.message_dict == {"name": [message]}
    assert not ApiToken.objects.exists()


def test_a_name_is_used_once_per_agency_while_its_key_is_live(administrator, force, make):
    token, _ = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    with pytest.raises(ValidationError) as error:
        services.issue_token(actor=administrator, agency=force, name="Niche  RMS")
    assert error.value.message_dict == {
        "name": [
            "Riverside Police already has a key called Niche RMS: revoke it first, or use "
            "another name"
        ]
    }
    other = make.agency(name="Eastshire Police", kind=AgencyKind.POLICE)
    services.issue_token(actor=administrator, agency=other, name="Niche RMS")
    services.revoke_token(actor=administrator, token=token)
    services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    assert ApiToken.objects.filter(agency=force).count() == 2


def test_an_inactive_agency_gets_no_key(administrator, force):
    force.is_active = False
    force.save()
    with pytest.raises(ValidationError) as error:
        services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    assert error.value.message_dict == {"agency": ["Select an active agency"]}


def test_revoking_is_audited_once(administrator, force):
    token, key = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    services.revoke_token(actor=administrator, token=token)
    services.revoke_token(actor=administrator, token=token)
    token.refresh_from_db()
    assert token.revoked_by == administrator
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="api.token_revoked")
    assert event.actor == administrator
    assert event.object_id == str(token.pk)
    assert key not in json.dumps(event.detail)


@pytest.mark.parametrize("raw", ["", "x", "mash_" + "a" * 200, "\x00"])
def test_odd_keys_find_nothing(raw):
    assert selectors.token_for_key(raw) is None


# --- The pages ------------------------------------------------------------------------------------


def test_issuing_a_key_shows_it_once(admin_client, administrator, force):
    response = admin_client.post(NEW, {"agency": force.pk, "name": "  Niche   RMS "})
    assert response.status_code == 200  # the key is in this response, not behind a redirect
    key = _key(response)
    token = ApiToken.objects.get()
    assert token.name == "Niche RMS"
    assert token.agency == force
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    page = _text(response)
    assert "API key issued" in page
    assert "This key will not be shown again." in page
    assert f"Authorization: Bearer {token.prefix}…" in page
    assert "http://testserver/api/docs/" in page
    assert "cannot send police notifications" not in page
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control
    assert response["Pragma"] == "no-cache"
    # It works at once, and no later page shows it.
    api = Client()
    assert api.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    for url in (LIST, NEW, _revoke_url(token), "/"):
        assert key not in admin_client.get(url).content.decode(), url
    assert key not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_key_for_an_agency_that_is_not_police_says_what_it_cannot_do(admin_client, make):
    school = make.agency(name="Riverside Primary", kind=AgencyKind.EDUCATION)
    page = _text(admin_client.post(NEW, {"agency": school.pk, "name": "MIS"}))
    assert "Riverside Primary is not a police force, so this key cannot send police" in page
    assert "Not a police force: cannot send police notifications" in _text(admin_client.get(LIST))


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        (
            {},
            [
                "Select the agency whose system will use the key",
                "Enter the name of the system that will use the key, like Niche RMS",
            ],
        ),
        ({"agency": "999999", "name": "X"}, ["Select an agency from the list"]),
        ({"agency": "abc", "name": "X"}, ["Select an agency from the list"]),
        ({"agency": "FORCE", "name": "N" * 101}, ["The name must be 100 characters or fewer"]),
        ({"agency": "FORCE", "name": "   "}, ["Enter the name of the system"]),
    ],
)
def test_a_bad_form_is_answered_with_its_errors(admin_client, force, data, messages):
    data = {k: (str(force.pk) if v == "FORCE" else v) for k, v in data.items()}
    response = admin_client.post(NEW, data)
    assert response.status_code == 200
    page = _text(response)
    assert "There is a problem" in page
    assert "<title>Error:" in response.content.decode()
    for message in messages:
        assert message in page
    assert not ApiToken.objects.exists()


def test_a_duplicate_name_is_answered_next_to_the_field(admin_client, administrator, force):
    services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    page = _text(admin_client.post(NEW, {"agency": force.pk, "name": "Niche RMS"}))
    assert "Riverside Police already has a key called Niche RMS" in page
    assert ApiToken.objects.count() == 1


def test_an_inactive_agency_is_not_offered(admin_client, make):
    gone = make.agency(name="Old Police", kind=AgencyKind.POLICE)
    gone.is_active = False
    gone.save()
    assert "Old Police" not in admin_client.get(NEW).content.decode()
    page = _text(admin_client.post(NEW, {"agency": gone.pk, "name": "X"}))
    assert "Select an agency from the list" in page


def test_markup_in_a_name_is_shown_as_text(admin_client, force):
    name = '<script>alert("x")</script>'
    response = admin_client.post(NEW, {"agency": force.pk, "name": name})
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in admin_client.get(LIST).content.decode()


def test_the_list_shows_each_key_without_its_secret(make, admin_client, administrator, force):
    token, key = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    old, _ = services.issue_token(actor=administrator, agency=force, name="Athena")
    services.revoke_token(actor=administrator, token=old)
    client = Client()
    client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    response = admin_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    page = _text(response)
    assert key not in html
    assert f"<code>{token.prefix}…</code>" in html
    assert "&lt;" not in html
    assert "Niche RMS" in page
    assert "Riverside Police" in page
    assert "Revoked" in page
    assert "Not used yet" in page  # Athena
    assert administrator.full_name in page
    names = re.findall(r'data-testid="token-name">([^<]+)<', html)
    assert names == ["Niche RMS", "Athena"]  # live first
    assert html.count("Revoke<span") == 1


def test_the_list_costs_the_same_queries_for_3_and_30_keys(make, admin_client, administrator):
    def add(count: int) -> None:
        for n in range(count):
            agency = make.agency(kind=AgencyKind.POLICE)
            token, _ = services.issue_token(actor=administrator, agency=agency, name=f"S{n}")
            if n % 2:
                services.revoke_token(actor=make.administrator(), token=token)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(LIST).status_code == 200
        return len(captured.captured_queries)

    add(3)
    few = queries()
    add(27)
    assert queries() == few


def test_revoking_asks_first_then_refuses_the_key_at_once(admin_client, administrator, force):
    token, key = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    api = Client()
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert api.get(URL, **headers).status_code == 200
    confirm = admin_client.get(_revoke_url(token))
    assert confirm.status_code == 200
    assert "Revoke Niche RMS" in _text(confirm)
    token.refresh_from_db()
    assert token.is_active  # a GET changes nothing
    response = admin_client.post(_revoke_url(token))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert api.get(URL, **headers).status_code == 401
    post = api.post(URL, json.dumps(sample()), content_type="application/json", **headers)
    assert post.status_code == 401
    event = AuditEvent.objects.get(action="api.token_revoked")
    assert event.actor == administrator
    page = _text(admin_client.get(LIST))
    assert "Niche RMS (Riverside Police) is revoked: its key is refused from now on." in page
    assert "This key was revoked on" in _text(admin_client.get(_revoke_url(token)))
    admin_client.post(_revoke_url(token))
    assert AuditEvent.objects.filter(action="api.token_revoked").count() == 1


def test_revoking_an_unknown_key_is_not_found(admin_client):
    assert admin_client.get("/settings/api-tokens/999999/revoke/").status_code == 404
    assert admin_client.post("/settings/api-tokens/999999/revoke/").status_code == 404


def test_the_list_needs_a_get(admin_client):
    assert admin_client.post(LIST).status_code == 405


def test_the_pages_open_for_an_administrator_and_are_in_their_navigation(
    admin_client, administrator, force
):
    token, _ = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    for url in (LIST, NEW, _revoke_url(token)):
        assert admin_client.get(url).status_code == 200, url
    assert f'href="{LIST}"' in admin_client.get("/").content.decode()


# --- Who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_the_pages_are_refused_to_everyone_but_administrators(role, make, administrator, force):
    token, key = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    client = Client()
    client.force_login(make.ROLE_FACTORIES[role]())
    for url in (LIST, NEW, _revoke_url(token)):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"agency": force.pk, "name": "Taken"}).status_code == 403, url
    assert ApiToken.objects.count() == 1
    assert selectors.token_for_key(key) == token
    assert token.is_active
    assert f'href="{LIST}"' not in client.get("/").content.decode()


def test_the_pages_are_refused_to_a_user_with_no_role(make, signed_in, force):
    client = signed_in(make.user())
    assert client.get(LIST).status_code == 403
    assert client.post(NEW, {"agency": force.pk, "name": "Taken"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_visitor_is_sent_to_sign_in(client, administrator, force):
    token, _ = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    for url in (LIST, NEW, _revoke_url(token)):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/sign-in/")
    assert ApiToken.objects.get().is_active


def test_an_api_key_is_no_way_into_the_pages(administrator, force):
    _, key = services.issue_token(actor=administrator, agency=force, name="Niche RMS")
    response = Client().get(LIST, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 302
