"""Two-factor sign-in in a real browser: set-up, a fresh code, recovery codes.

The server runs in a thread of this process, so a frozen clock would not
reliably reach it; instead codes are computed from the real clock. django-otp
refuses a code for a time step at or before the last one used, and accepts
one up to `tolerance` steps ahead, so the second sign-in uses the code for the
step after the last one used (waiting for it only if it is too far ahead).
"""

from __future__ import annotations

import base64
import re
import time

import pytest
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from mash.accounts import services

pytestmark = pytest.mark.django_db(transaction=True)

CODE_PAGE = re.compile(r"/sign-in/two-factor/\?next=(/|%2F)$")


def _code(key: bytes, step: int, digits: int = 6) -> str:
    return f"{hotp(key, step, digits=digits):0{digits}d}"


def _fresh_code(device: TOTPDevice) -> str:
    """A code the server will take now: for a step after the last one used."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    wanted = max(totp.t(), device.last_t + 1)
    while wanted - totp.t() > device.tolerance:
        # Too far ahead of the server's clock: wait for the next step to begin.
        time.sleep(device.step - (time.time() - device.t0) % device.step + 0.05)
    return _code(device.bin_key, wanted, device.digits)


def _enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device, services.regenerate_recovery_codes(user=user)


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")


def test_set_up_then_sign_in_again_with_a_fresh_code(page, make, sign_in, settings):
    settings.MASH_REQUIRE_2FA = True
    user = make.coordinator()

    sign_in(page, user)
    expect(page).to_have_url(re.compile(r"/account/two-factor/\?next=(/|%2F)$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()

    page.get_by_text("I cannot scan the QR code").click()
    secret = page.get_by_test_id("totp-secret")
    expect(secret).to_be_visible()
    shown = secret.inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown)
    base32 = shown.replace(" ", "")
    key = base64.b32decode(base32 + "=" * (-len(base32) % 8))
    assert key == TOTPDevice.objects.get(user=user).bin_key

    page.get_by_label("Code from your app").fill(_code(key, TOTP(key).t()))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.get_by_text("Two-factor sign-in is set up.")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(settings.MASH_RECOVERY_CODE_COUNT)
    page.get_by_role("link", name="I have kept my codes safe").click()
    expect(page.locator('[data-role-panel="referral_coordinator"]')).to_be_visible()

    _sign_out(page)
    sign_in(page, user)
    expect(page).to_have_url(CODE_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    # Home is out of reach until the code is entered.
    page.goto("/")
    expect(page).to_have_url(CODE_PAGE)

    page.get_by_label("Code").fill(_fresh_code(TOTPDevice.objects.get(user=user)))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator('[data-role-panel="referral_coordinator"]')).to_be_visible()


def test_a_recovery_code_signs_in_once(page, make, sign_in):
    user = make.hub_manager()
    _, codes = _enrolled(user)

    sign_in(page, user)
    expect(page).to_have_url(CODE_PAGE)
    # People copy codes with spaces or dashes; both are forgiven.
    page.get_by_label("Code").fill(f"{codes[0][:4]} {codes[0][4:]}")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator('[data-role-panel="hub_manager"]')).to_be_visible()

    _sign_out(page)
    sign_in(page, user)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not right")
    expect(page).to_have_url(CODE_PAGE)


def test_a_wrong_code_shows_the_error_summary(page, make, sign_in):
    user = make.practitioner()
    device, _ = _enrolled(user)
    totp = TOTP(device.bin_key)
    now = totp.t()
    valid = {_code(device.bin_key, now + offset) for offset in (-1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)

    sign_in(page, user)
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Continue").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("The code is not right"))).to_have_attribute(
        "href", "#id_token"
    )
    expect(page.locator("#id_token-error")).to_contain_text("The code is not right")
    expect(page).to_have_title(re.compile(r"^Error: Enter your sign-in code"))
    expect(page).to_have_url(CODE_PAGE)
