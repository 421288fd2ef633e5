"""A user's own account page and changing their password."""

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from mash.core.models import AuditEvent
from tests.accounts.conftest import SIGN_IN_URL, post_sign_in

pytestmark = pytest.mark.django_db

ACCOUNT_URL = reverse("accounts:account")
CHANGE_URL = reverse("accounts:password_change")
NEW_PASSWORD = "a-brand-new-passphrase-42"


def test_account_page_shows_who_you_are(make, signed_in, settings):
    settings.MASH_REQUIRE_2FA = False
    agency = make.agency(name="Northshire Police")
    user = make.user("hub_manager", "analyst", agency_=agency, full_name="Ada Lovelace")
    html = signed_in(user).get(ACCOUNT_URL).content.decode()
    assert "Ada Lovelace" in html
    assert user.email in html
    assert "Northshire Police" in html
    assert "Hub manager, Analyst" in html
    assert "Not set up" in html
    assert "Not set up (required)" not in html


def test_account_page_needs_sign_in(client):
    response = client.get(ACCOUNT_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN_URL)


def test_changing_the_password_keeps_this_session_and_ends_others(make, sign_in):
    user = make.hub_manager()
    here = sign_in(user.email, make.PASSWORD)
    elsewhere = sign_in(user.email, make.PASSWORD)
    response = here.post(
        CHANGE_URL,
        {
            "old_password": make.PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == ACCOUNT_URL
    assert "Your password has been changed." in here.get(ACCOUNT_URL).content.decode()
    assert elsewhere.get(ACCOUNT_URL).status_code == 302
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=user).count() == 1
    assert post_sign_in(Client(), user.email, NEW_PASSWORD).status_code == 302
    assert post_sign_in(Client(), user.email, make.PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "Your current password is not right",
        ),
        (
            {"old_password": "", "new_password1": "", "new_password2": ""},
            "Enter your current password",
        ),
        (
            {"old_password": "PASSWORD", "new_password1": "short", "new_password2": "short"},
            "at least 12 characters",
        ),
        (
            {
                "old_password": "PASSWORD",
                "new_password1": "password1234",
                "new_password2": "password1234",
            },
            "This password is too common.",
        ),
        (
            {
                "old_password": "PASSWORD",
                "new_password1": NEW_PASSWORD,
                "new_password2": "different",
            },
            "The two passwords do not match",
        ),
    ],
)
def test_a_bad_password_change_is_explained(make, signed_in, data, message):
    user = make.hub_manager()
    data = {k: (make.PASSWORD if v == "PASSWORD" else v) for k, v in data.items()}
    response = signed_in(user).post(CHANGE_URL, data)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "There is a problem" in html
    assert message in html
    user.refresh_from_db()
    assert user.check_password(make.PASSWORD)
    assert not AuditEvent.objects.filter(action="auth.password_changed").exists()
