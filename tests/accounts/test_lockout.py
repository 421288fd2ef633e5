"""Lockout after repeated wrong passwords for one email address (django-axes)."""

import datetime as dt
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from mash.core.models import AuditEvent
from tests.accounts.conftest import (
    WRONG_CREDENTIALS,
    actions,
    is_signed_in,
    post_sign_in,
    without_csrf,
)

pytestmark = pytest.mark.django_db

# 10:00 UTC in summer is 11:00 in London (BST); in winter the two agree.
SUMMER = dt.datetime(2025, 7, 1, 10, 0, tzinfo=dt.UTC)
WINTER = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)
LOCKED_TITLE = "Too many attempts to sign in"


def _fail(client, email, times):
    return [post_sign_in(client, email, "wrong-password-guess").status_code for _ in range(times)]


def test_lockout_settings():
    assert settings.AXES_FAILURE_LIMIT == 5
    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == dt.timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]


def test_four_failures_still_show_the_form(client, make):
    user = make.hub_manager()
    assert _fail(client, user.email, 4) == [200, 200, 200, 200]
    response = post_sign_in(client, user.email, make.PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_fifth_and_sixth_failures_show_the_locked_out_page_with_a_london_time(client, make):
    user = make.hub_manager()
    with time_machine.travel(SUMMER, tick=False):
        assert _fail(client, user.email, 4) == [200] * 4
        fifth = post_sign_in(client, user.email, "wrong-password-guess")
        sixth = post_sign_in(client, user.email, "wrong-password-guess")
    for response in (fifth, sixth):
        assert response.status_code == 429
        html = response.content.decode()
        assert LOCKED_TITLE in html
        assert "You can try again after 11:15 on 1 July 2025." in html
        assert WRONG_CREDENTIALS not in html
        assert reverse("accounts:password_reset") in html


def test_retry_time_is_shown_in_greenwich_mean_time_in_winter(client, make):
    user = make.hub_manager()
    with time_machine.travel(WINTER, tick=False):
        _fail(client, user.email, 5)
        response = post_sign_in(client, user.email, "wrong-password-guess")
    assert response.status_code == 429
    assert "You can try again after 10:15 on 15 January 2025." in response.content.decode()


def test_locked_out_page_is_the_same_for_an_address_nobody_has(make):
    user = make.hub_manager()
    pages = {}
    with time_machine.travel(SUMMER, tick=False):
        for email in (user.email, "nobody@hub.example"):
            client = Client()
            codes = _fail(client, email, 6)
            assert codes == [200, 200, 200, 200, 429, 429]
            pages[email] = without_csrf(
                post_sign_in(client, email, "wrong-password-guess").content.decode()
            )
    assert pages[user.email] == pages["nobody@hub.example"]
    assert re.search(r"try again after \d\d:\d\d", pages[user.email])


def test_the_right_password_does_not_sign_in_during_lockout(client, make):
    user = make.hub_manager()
    with time_machine.travel(SUMMER, tick=False) as traveller:
        _fail(client, user.email, 5)
        traveller.shift(dt.timedelta(minutes=14))
        response = post_sign_in(client, user.email, make.PASSWORD)
        assert response.status_code == 429
        assert not is_signed_in(client)
        assert client.get(reverse("core:home")).status_code == 302
        assert "auth.sign_in" not in actions()


def test_lockout_follows_the_address_not_the_browser(make):
    user = make.hub_manager()
    _fail(Client(), user.email, 5)
    fresh = Client(REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Another browser")
    assert post_sign_in(fresh, user.email, make.PASSWORD).status_code == 429
    assert not is_signed_in(fresh)


def test_case_and_spaces_do_not_reset_the_count(client, make):
    user = make.hub_manager(email="sam@hub.example")
    for email in ("sam@hub.example", "SAM@hub.example", " Sam@Hub.Example", "sam@HUB.EXAMPLE"):
        assert post_sign_in(client, email, "wrong-password-guess").status_code == 200
    assert post_sign_in(client, "sAm@hub.example", "wrong-password-guess").status_code == 429
    assert post_sign_in(client, user.email, make.PASSWORD).status_code == 429


def test_lockout_of_one_address_does_not_affect_another(client, make):
    locked = make.hub_manager()
    other = make.hub_manager()
    _fail(client, locked.email, 5)
    response = post_sign_in(Client(), other.email, make.PASSWORD)
    assert response.status_code == 302


def test_sign_in_works_again_after_the_cool_off(client, make):
    user = make.hub_manager()
    with time_machine.travel(SUMMER, tick=False) as traveller:
        _fail(client, user.email, 6)
        traveller.shift(dt.timedelta(minutes=16))
        response = post_sign_in(client, user.email, make.PASSWORD)
        assert response.status_code == 302
        assert is_signed_in(client)
        # A success clears the count: four more mistakes do not lock the address.
        other = Client()
        assert _fail(other, user.email, 4) == [200] * 4


def test_a_wrong_password_after_the_cool_off_starts_a_new_count(client, make):
    user = make.hub_manager()
    with time_machine.travel(SUMMER, tick=False) as traveller:
        _fail(client, user.email, 5)
        traveller.shift(dt.timedelta(minutes=16))
        assert _fail(client, user.email, 1) == [200]


def test_lockout_is_audited(client, make):
    user = make.hub_manager()
    _fail(client, user.email, 6)
    locked = AuditEvent.objects.filter(action="auth.locked_out")
    assert locked.exists()
    assert {e.actor_label for e in locked} == {user.email}
    failed = AuditEvent.objects.filter(action="auth.sign_in_failed").order_by("id")
    assert failed.count() == 6
    assert [e.detail["locked_out"] for e in failed][-1] is True
    assert [e.detail["locked_out"] for e in failed][:4] == [False] * 4


def test_lockout_of_an_unknown_address_is_audited_the_same_way(client):
    _fail(client, "Nobody@Hub.Example", 5)
    assert AuditEvent.objects.filter(
        action="auth.locked_out", actor_label="nobody@hub.example"
    ).exists()


def test_attempts_are_stored_under_the_normalised_address(client, make):
    user = make.hub_manager()
    post_sign_in(client, user.email.upper(), "wrong-password-guess")
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [user.email]
    # The password tried is never stored.
    assert "wrong-password-guess" not in AccessAttempt.objects.get().post_data
