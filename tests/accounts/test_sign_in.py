"""Signing in and out with an email address and password, and how long a session lasts."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from mash.accounts import services
from mash.core.models import AuditEvent
from tests.accounts.conftest import (
    SIGN_IN_URL,
    WRONG_CREDENTIALS,
    actions,
    is_signed_in,
    post_sign_in,
    without_csrf,
)

pytestmark = pytest.mark.django_db

HOME = reverse("core:home")


def test_sign_in_page_shows_the_form(client):
    response = client.get(SIGN_IN_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert "30 minutes without activity" in html


def test_correct_password_signs_in_goes_home_and_is_audited(client, make):
    user = make.hub_manager()
    response = post_sign_in(client, user.email, make.PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert int(client.session["_auth_user_id"]) == user.pk
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.actor == user
    assert event.object_id == str(user.pk)
    assert event.ip_address == "127.0.0.1"
    assert client.get(HOME).status_code == 200


def test_email_address_is_matched_whatever_its_case_and_spacing(client, make):
    user = make.hub_manager(email="Jo.Bloggs@hub.example")
    assert user.email == "jo.bloggs@hub.example"
    response = post_sign_in(client, "  JO.BLOGGS@Hub.Example ", make.PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_sign_in_goes_on_to_a_safe_next_page(client, make):
    user = make.administrator()
    response = post_sign_in(client, user.email, make.PASSWORD, next="/settings/users/")
    assert response.status_code == 302
    assert response["Location"] == "/settings/users/"


def test_sign_in_ignores_a_next_page_on_another_site(client, make):
    user = make.hub_manager()
    response = post_sign_in(client, user.email, make.PASSWORD, next="https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_a_signed_in_user_visiting_sign_in_is_sent_home(make, signed_in):
    client = signed_in(make.hub_manager())
    response = client.get(SIGN_IN_URL)
    assert response.status_code == 302
    assert response["Location"] == HOME


def _error_page(response):
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html  # the GOV.UK error summary
    assert "<title>Error: " in html
    return html


def test_wrong_password_reshows_the_form_with_a_clear_message(client, make):
    user = make.hub_manager()
    response = post_sign_in(client, user.email, "not-the-password")
    html = _error_page(response)
    assert WRONG_CREDENTIALS in html
    assert f'value="{user.email}"' in html  # the email typed is kept
    assert "not-the-password" not in html  # the password is not
    assert not is_signed_in(client)


def test_unknown_email_gets_exactly_the_wrong_password_message(client, make):
    user = make.hub_manager()
    known = post_sign_in(Client(), user.email, "not-the-password").content.decode()
    unknown = post_sign_in(client, "nobody@hub.example", "not-the-password").content.decode()
    assert WRONG_CREDENTIALS in unknown
    # The pages differ only in the address typed back into the form.
    normalise = [
        ('value="nobody@hub.example"', 'value="EMAIL"'),
        (f'value="{user.email}"', 'value="EMAIL"'),
    ]
    for old, new in normalise:
        known, unknown = known.replace(old, new), unknown.replace(old, new)
    assert without_csrf(known) == without_csrf(unknown)


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({"username": "", "password": ""}, ["Enter your email address", "Enter your password"]),
        ({"username": "jo@hub.example", "password": ""}, ["Enter your password"]),
        ({"username": "", "password": "something"}, ["Enter your email address"]),
        ({"username": "not an email", "password": "x"}, ["Enter an email address in the correct"]),
        ({"username": "jo\x00@hub.example", "password": "x"}, ["Null characters are not allowed"]),
        ({"username": "jo@hub.example", "password": "x\x00y"}, ["Null characters are not allowed"]),
        ({}, ["Enter your email address", "Enter your password"]),
    ],
)
def test_missing_or_malformed_fields_are_named(client, data, messages):
    html = _error_page(client.post(SIGN_IN_URL, data))
    for message in messages:
        assert message in html
    # Each message links to its field from the error summary.
    if "Enter your email address" in messages:
        assert 'href="#id_username"' in html
    if "Enter your password" in messages:
        assert 'href="#id_password"' in html


def test_a_ten_thousand_character_email_is_refused_without_an_error_page(client):
    long_email = "a" * 9_988 + "@hub.example"
    assert len(long_email) == 10_000
    response = client.post(SIGN_IN_URL, {"username": long_email, "password": "whatever"})
    html = _error_page(response)
    assert "Email address must be 254 characters or fewer" in html
    assert not is_signed_in(client)


def test_a_very_long_password_is_refused_without_an_error_page(client, make):
    user = make.hub_manager()
    response = post_sign_in(client, user.email, "x" * 10_000)
    html = _error_page(response)
    assert "Password must be 4096 characters or fewer" in html


def test_failed_sign_ins_are_audited_with_the_address_tried(client, make):
    user = make.hub_manager()
    post_sign_in(client, user.email, "not-the-password")
    post_sign_in(client, "Nobody@Hub.Example", "not-the-password")
    failed = AuditEvent.objects.filter(action="auth.sign_in_failed").order_by("id")
    assert [e.actor_label for e in failed] == [user.email, "nobody@hub.example"]
    assert all(e.actor is None for e in failed)
    assert "auth.sign_in" not in actions()
    # No password is ever written to the audit log.
    assert not AuditEvent.objects.filter(detail__icontains="not-the-password").exists()


def test_deactivated_user_cannot_sign_in_and_is_told_the_same_as_a_wrong_password(client, make):
    admin = make.administrator()
    user = make.hub_manager()
    services.set_user_active(actor=admin, user=user, active=False)
    response = post_sign_in(client, user.email, make.PASSWORD)
    html = _error_page(response)
    assert WRONG_CREDENTIALS in html
    assert not is_signed_in(client)
    assert "auth.sign_in_failed" in actions()


def test_deactivating_a_user_ends_their_existing_session(make, sign_in):
    admin = make.administrator()
    user = make.hub_manager()
    client = sign_in(user.email, make.PASSWORD)
    assert client.get(HOME).status_code == 200

    services.set_user_active(actor=admin, user=user, active=False)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN_URL)


def test_deactivating_a_user_ends_a_session_on_any_page(make, signed_in):
    admin = make.administrator()
    other_admin = make.administrator()
    client = signed_in(admin)
    assert client.get("/settings/users/").status_code == 200

    services.set_user_active(actor=other_admin, user=admin, active=False)
    response = client.get("/settings/users/")
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN_URL)


def test_sign_out_ends_the_session_and_is_audited(make, sign_in):
    user = make.hub_manager()
    client = sign_in(user.email, make.PASSWORD)
    response = client.post(reverse("accounts:sign_out"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:signed_out")
    assert not is_signed_in(client)
    assert AuditEvent.objects.filter(action="auth.sign_out", actor=user).count() == 1
    assert client.get(HOME).status_code == 302


def test_sign_out_by_get_is_refused(make, sign_in):
    # Signing out changes state, so a link or an image on another site must not do it.
    user = make.hub_manager()
    client = sign_in(user.email, make.PASSWORD)
    assert client.get(reverse("accounts:sign_out")).status_code == 405
    assert is_signed_in(client)


# Sessions.


def test_session_settings():
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_session_cookie_ends_when_the_browser_closes(client, make):
    user = make.hub_manager()
    post_sign_in(client, user.email, make.PASSWORD)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


START = dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.UTC)


def test_a_session_idle_for_more_than_30_minutes_is_signed_out(make):
    user = make.hub_manager()
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        assert post_sign_in(client, user.email, make.PASSWORD).status_code == 302
        assert client.get(HOME).status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get(HOME)
        assert response.status_code == 302
        assert response["Location"].startswith(SIGN_IN_URL)


def test_a_session_used_every_20_minutes_stays_signed_in(make):
    user = make.hub_manager()
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        assert post_sign_in(client, user.email, make.PASSWORD).status_code == 302
        for _ in range(6):  # two hours in all
            traveller.shift(dt.timedelta(minutes=20))
            assert client.get(HOME).status_code == 200
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(HOME).status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        assert client.get(HOME).status_code == 302
