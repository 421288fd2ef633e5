"""Forgotten passwords: a one-use, time-limited link by email."""

import base64
import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from mash.accounts import services
from mash.accounts.models import User
from mash.core.models import AuditEvent
from tests.accounts.conftest import is_signed_in, post_sign_in

pytestmark = pytest.mark.django_db

RESET_URL = reverse("accounts:password_reset")
DONE_URL = reverse("accounts:password_reset_done")
EXPIRED = "This link has expired or has already been used"
NEW_PASSWORD = "a-brand-new-passphrase-42"
START = dt.datetime(2025, 5, 6, 14, 0, tzinfo=dt.UTC)


def _link_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _request_link(client, email) -> str:
    response = client.post(RESET_URL, {"email": email})
    assert response.status_code == 302
    assert response["Location"] == DONE_URL
    assert len(mail.outbox) == 1
    return _link_path(mail.outbox[0])


def _set_password(client, link, password, confirm=None):
    opened = client.get(link)
    assert opened.status_code == 302, opened.status_code
    form_url = opened["Location"]
    assert form_url.endswith("/set-password/")  # the token is kept out of the address bar
    return client.post(form_url, {"new_password1": password, "new_password2": confirm or password})


def test_reset_page_shows_the_form(client):
    response = client.get(RESET_URL)
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_a_real_account_is_sent_a_link(client, make):
    user = make.hub_manager()
    client.post(RESET_URL, {"email": user.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "/password-reset/" in message.body
    assert "\n" not in message.subject
    assert AuditEvent.objects.filter(
        action="auth.password_reset_requested", actor_label=user.email
    ).exists()


def test_the_address_is_matched_whatever_its_case(client, make):
    user = make.hub_manager(email="pat@hub.example")
    client.post(RESET_URL, {"email": "PAT@Hub.Example"})
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_an_unknown_address_gets_the_same_confirmation_and_no_email(client, make):
    user = make.hub_manager()
    known = client.post(RESET_URL, {"email": user.email}, follow=True)
    mail.outbox.clear()
    unknown = Client().post(RESET_URL, {"email": "nobody@hub.example"}, follow=True)
    assert mail.outbox == []
    assert known.redirect_chain == unknown.redirect_chain == [(DONE_URL, 302)]
    assert known.content == unknown.content
    html = unknown.content.decode()
    assert "Check your email" in html
    assert "If the address you entered belongs to an account" in html
    assert "within 2 hours" in html


def test_a_deactivated_account_is_sent_nothing(client, make):
    admin = make.administrator()
    user = make.hub_manager()
    services.set_user_active(actor=admin, user=user, active=False)
    response = client.post(RESET_URL, {"email": user.email})
    assert response.status_code == 302
    assert mail.outbox == []


def test_an_invited_user_who_never_set_a_password_can_ask_for_a_new_link(client, make):
    # Invitations expire like any link; the way to a fresh one is this page.
    user = make.hub_manager(password=None)
    assert not user.has_usable_password()
    link = _request_link(client, user.email)
    response = _set_password(client, link, NEW_PASSWORD)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address"),
        ("not-an-email", "Enter an email address in the correct format"),
        ("a" * 9_988 + "@hub.example", "Email address must be 254 characters or fewer"),
    ],
)
def test_bad_addresses_are_explained(client, email, message):
    response = client.post(RESET_URL, {"email": email})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "There is a problem" in html
    assert mail.outbox == []


def test_the_link_sets_a_new_password_that_signs_in(client, make):
    user = make.hub_manager()
    link = _request_link(client, user.email)
    form = client.get(client.get(link)["Location"])
    assert form.status_code == 200
    assert "Set a new password" in form.content.decode()

    response = _set_password(client, link, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(make.PASSWORD)
    assert AuditEvent.objects.filter(action="auth.password_reset", actor=user).count() == 1

    fresh = Client()
    assert post_sign_in(fresh, user.email, make.PASSWORD).status_code == 200
    assert post_sign_in(fresh, user.email, NEW_PASSWORD).status_code == 302
    assert is_signed_in(fresh)


def test_resetting_the_password_ends_other_sessions(make, sign_in):
    user = make.hub_manager()
    elsewhere = sign_in(user.email, make.PASSWORD)
    assert elsewhere.get("/").status_code == 200
    client = Client()
    _set_password(client, _request_link(client, user.email), NEW_PASSWORD)
    assert elsewhere.get("/").status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw1", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("73920418563021", "This password is entirely numeric."),
        ("", "Enter a new password"),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_message(client, make, password, message):
    user = make.hub_manager()
    link = _request_link(client, user.email)
    response = _set_password(client, link, password, confirm=password or "x")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "There is a problem" in html
    user.refresh_from_db()
    assert user.check_password(make.PASSWORD)


def test_a_password_like_the_email_address_is_refused(client, make):
    user = make.hub_manager(email="margaret.hamilton@hub.example")
    link = _request_link(client, user.email)
    response = _set_password(client, link, "margaret.hamilton")
    assert response.status_code == 200
    assert "The password is too similar to the" in response.content.decode()


def test_the_two_passwords_must_match(client, make):
    user = make.hub_manager()
    link = _request_link(client, user.email)
    response = _set_password(client, link, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert response.status_code == 200
    assert "The two passwords do not match" in response.content.decode()


def test_a_used_link_answers_410(client, make):
    user = make.hub_manager()
    link = _request_link(client, user.email)
    assert _set_password(client, link, NEW_PASSWORD).status_code == 302
    for c in (client, Client()):
        response = c.get(link)
        assert response.status_code == 410
        assert EXPIRED in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_link_older_than_the_timeout_answers_410(client, make):
    user = make.hub_manager()
    with time_machine.travel(START, tick=False) as traveller:
        link = _request_link(client, user.email)
        traveller.shift(dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60))
        assert Client().get(link).status_code == 302
        traveller.shift(dt.timedelta(seconds=120))
        response = Client().get(link)
    assert response.status_code == 410
    assert EXPIRED in response.content.decode()


def test_a_link_that_expires_while_the_form_is_open_cannot_be_used(client, make):
    user = make.hub_manager()
    with time_machine.travel(START, tick=False) as traveller:
        link = _request_link(client, user.email)
        form_url = client.get(link)["Location"]
        traveller.shift(dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60))
        response = client.post(
            form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
    assert response.status_code == 410
    user.refresh_from_db()
    assert user.check_password(make.PASSWORD)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "path",
    [
        "/password-reset/garbage/garbage-token/",
        "/password-reset/MQ/set-password/",  # no token in the session
        f"/password-reset/{_b64('1')}/abc-123/",
        f"/password-reset/{_b64('99999999999999999999999999')}/abc-123/",
        f"/password-reset/{_b64('-1')}/abc-123/",
        f"/password-reset/{_b64('not a number')}/abc-123/",
        "/password-reset/%FF%FE/abc-123/",
        "/password-reset/_w/abc-123/",  # decodes to bytes that are not UTF-8
        f"/password-reset/{'A' * 5000}/{'b' * 5000}/",
    ],
)
def test_a_garbage_link_answers_410_never_500(client, make, path):
    make.hub_manager()
    response = client.get(path)
    assert response.status_code == 410
    assert EXPIRED in response.content.decode()
    post = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert post.status_code == 410


def test_a_token_for_another_user_does_not_work(client, make):
    alice = make.hub_manager()
    bob = make.hub_manager()
    link = _request_link(client, alice.email)
    uid_alice = link.split("/")[2]
    bob_link = link.replace(uid_alice, _b64(str(bob.pk)))
    assert Client().get(bob_link).status_code == 410
    assert User.objects.get(pk=bob.pk).check_password(make.PASSWORD)
