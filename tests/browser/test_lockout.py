"""Lockout after repeated wrong passwords (django-axes), as a person sees it."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.page_status(429)]

LONDON = ZoneInfo("Europe/London")
RETRY = re.compile(r"You can try again after (\d\d:\d\d) on \d{1,2} \w+ \d{4}\.")


PAUSED = (
    "Signing in with this email address has been paused because the password "
    "was entered wrongly too many times."
)


def _shown_retry_time(page) -> str:
    """Checks the lockout page, the same for every address, and returns its HH:MM."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts to sign in")
    expect(page).to_have_title(re.compile(r"^Too many attempts to sign in"))
    expect(page.get_by_text(PAUSED)).to_be_visible()
    retry = page.get_by_test_id("retry-at")
    expect(retry).to_have_text(RETRY)
    shown = RETRY.search(retry.inner_text())
    assert shown is not None
    return shown.group(1)


def _retry_time(email: str) -> str:
    latest = AccessAttempt.objects.filter(username=email).latest("attempt_time").attempt_time
    return (latest + settings.AXES_COOLOFF_TIME).astimezone(LONDON).strftime("%H:%M")


def test_five_wrong_passwords_lock_the_address_even_against_the_right_one(page, make, sign_in):
    user = make.practitioner()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, user, "wrong-password-entirely")
        expect(page.locator(".govuk-error-summary")).to_be_visible()

    sign_in(page, user, "wrong-password-entirely")
    assert _shown_retry_time(page) == _retry_time(user.email)

    # The right password does not get through while the lock lasts.
    sign_in(page, user)
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts to sign in")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))


def test_an_unknown_address_is_answered_exactly_like_a_real_one(page, sign_in):
    email = "nobody-here@hub.example"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, email, "wrong-password-entirely")
    assert _shown_retry_time(page) == _retry_time(email)
