"""Two-factor sign-in: an authenticator app (TOTP) and one-use recovery codes."""

import base64
import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mash.accounts import services
from mash.core.models import AuditEvent
from tests.accounts.conftest import SIGN_IN_URL, actions, is_signed_in, post_sign_in

pytestmark = pytest.mark.django_db

HOME = reverse("core:home")
SETUP_URL = reverse("accounts:two_factor_setup")
VERIFY_URL = reverse("accounts:two_factor_verify")
CODES_URL = reverse("accounts:recovery_codes")
START = dt.datetime(2025, 6, 2, 8, 30, 5, tzinfo=dt.UTC)
STEP = dt.timedelta(seconds=30)


def code(device: TOTPDevice) -> str:
    """What the user's authenticator app shows right now."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def _set_up(client, user):
    """Goes through set-up in the browser; returns the device and the recovery codes."""
    assert client.get(SETUP_URL).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP_URL, {"token": code(device)})
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(response["Location"])
    codes = re.findall(r"<li>([a-z0-9]+)</li>", page.content.decode())
    return device, codes


def _enrolled(user):
    """A user with a confirmed authenticator and recovery codes, made by the services."""
    device = services.start_totp_setup(user=user)
    codes = services.confirm_totp(user=user, device=device, token=code(device))
    assert codes is not None
    return device, codes


@pytest.fixture
def require_2fa(settings):
    settings.MASH_REQUIRE_2FA = True


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# Being sent to set it up.


@pytest.mark.usefixtures("require_2fa")
@pytest.mark.parametrize(
    "path", ["/", "/account/", "/settings/users/", "/settings/agencies/", "/audit/"]
)
def test_with_2fa_required_a_user_without_a_device_is_sent_to_set_up(make, signed_in, path):
    client = signed_in(make.administrator())
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP_URL}?next={path.replace('/', '%2F')}"


@pytest.mark.usefixtures("require_2fa")
def test_a_post_before_set_up_is_also_stopped(make, signed_in):
    admin = make.administrator()
    client = signed_in(admin)
    response = client.post(reverse("accounts:agency_create"), {"name": "Police", "kind": "police"})
    assert response.status_code == 302
    assert response["Location"] == SETUP_URL
    assert "accounts.agency_created" not in actions(actor=admin)


@pytest.mark.usefixtures("require_2fa")
def test_signing_in_with_a_password_leads_to_set_up(client, make):
    user = make.hub_manager()
    response = post_sign_in(client, user.email, make.PASSWORD)
    assert response["Location"] == HOME
    assert client.get(HOME)["Location"] == f"{SETUP_URL}?next=%2F"


def test_without_2fa_required_and_no_device_there_is_no_second_step(client, make, settings):
    settings.MASH_REQUIRE_2FA = False
    user = make.hub_manager()
    response = post_sign_in(client, user.email, make.PASSWORD)
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200
    assert client.get("/account/").status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_sign_out_and_accessibility_are_reachable_before_set_up(make, signed_in):
    client = signed_in(make.hub_manager())
    assert client.get(reverse("core:accessibility")).status_code == 200
    assert client.post(reverse("accounts:sign_out")).status_code == 302
    assert not is_signed_in(client)


# Setting it up.


@pytest.mark.usefixtures("require_2fa")
def test_set_up_page_shows_an_inline_qr_code_and_the_secret(make, signed_in):
    user = make.hub_manager()
    client = signed_in(user)
    response = client.get(SETUP_URL)
    assert response.status_code == 200
    html = response.content.decode()
    qr = re.search(r'data-testid="qr-code">(.*?)</div>', html, re.S)
    assert qr
    assert qr.group(1).strip().startswith("<svg")
    assert "<path" in qr.group(1)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    shown = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html)
    assert shown
    assert shown.group(1).replace(" ", "") == secret
    # Reloading shows the same secret, not a new device each time.
    client.get(SETUP_URL)
    assert TOTPDevice.objects.filter(user=user).count() == 1


@pytest.mark.usefixtures("require_2fa", "clock")
def test_the_right_code_confirms_the_device_and_shows_ten_recovery_codes_once(make, signed_in):
    user = make.hub_manager()
    client = signed_in(user)
    client.get(SETUP_URL + "?next=%2Faccount%2F")
    device = TOTPDevice.objects.get(user=user)
    response = client.post(SETUP_URL, {"token": code(device), "next": "/account/"})
    assert response.status_code == 302
    assert response["Location"] == f"{CODES_URL}?next=%2Faccount%2F"
    device.refresh_from_db()
    assert device.confirmed

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    codes = re.findall(r"<li>([a-z0-9]+)</li>", html)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    assert "shown only once" in html
    assert 'href="/account/"' in html

    again = client.get(CODES_URL)
    assert again.status_code == 302
    assert again["Location"] == reverse("accounts:account")
    # This session has passed its second factor.
    assert client.get(HOME).status_code == 200
    assert actions(actor=user, action__startswith="auth.two_factor") == ["auth.two_factor_set_up"]


@pytest.mark.usefixtures("require_2fa", "clock")
@pytest.mark.parametrize("typed", ["123 456", "12345", "abcdef", "9" * 32])
def test_a_wrong_code_at_set_up_gives_a_clear_error(make, signed_in, typed):
    user = make.hub_manager()
    client = signed_in(user)
    client.get(SETUP_URL)
    response = client.post(SETUP_URL, {"token": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The code is not right" in html
    assert "There is a problem" in html
    assert 'href="#id_token"' in html
    assert not TOTPDevice.objects.get(user=user).confirmed
    assert not StaticDevice.objects.filter(user=user).exists()
    assert client.get(HOME)["Location"].startswith(SETUP_URL)
    assert "auth.two_factor_setup_failed" in actions(actor=user)


@pytest.mark.usefixtures("require_2fa")
@pytest.mark.parametrize(
    ("typed", "message"), [("", "Enter the code"), ("1" * 33, "The code is too long")]
)
def test_an_empty_or_overlong_code_at_set_up_is_explained(make, signed_in, typed, message):
    client = signed_in(make.hub_manager())
    client.get(SETUP_URL)
    response = client.post(SETUP_URL, {"token": typed})
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.usefixtures("require_2fa", "clock")
def test_a_code_just_used_cannot_be_used_again(make, signed_in):
    user = make.hub_manager()
    client = signed_in(user)
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=user)
    token = code(device)
    assert services.confirm_totp(user=user, device=device, token=token) is not None
    other = TOTPDevice.objects.get(user=user)
    assert not other.verify_token(token)


# Signing in again.


@pytest.mark.usefixtures("require_2fa")
def test_after_set_up_signing_in_needs_a_fresh_code(make, clock):
    user = make.hub_manager()
    client = Client()
    post_sign_in(client, user.email, make.PASSWORD)
    device, _codes = _set_up(client, user)
    client.post(reverse("accounts:sign_out"))

    clock.shift(STEP)
    response = post_sign_in(client, user.email, make.PASSWORD)
    assert response.status_code == 302
    to_verify = client.get(HOME)
    assert to_verify["Location"] == f"{VERIFY_URL}?next=%2F"
    assert client.get("/account/")["Location"].startswith(VERIFY_URL)
    page = client.get(to_verify["Location"])
    assert page.status_code == 200
    assert "Enter your sign-in code" in page.content.decode()

    response = client.post(VERIFY_URL, {"token": code(device), "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200
    event = AuditEvent.objects.get(action="auth.two_factor_passed")
    assert event.actor == user
    assert event.detail == {"method": "TOTPDevice"}


@pytest.mark.usefixtures("require_2fa")
def test_the_code_used_at_set_up_does_not_pass_sign_in(make, clock):
    user = make.hub_manager()
    client = Client()
    post_sign_in(client, user.email, make.PASSWORD)
    device, _ = _set_up(client, user)
    used = code(device)
    client.post(reverse("accounts:sign_out"))
    post_sign_in(client, user.email, make.PASSWORD)
    response = client.post(VERIFY_URL, {"token": used})
    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert client.get(HOME)["Location"].startswith(VERIFY_URL)
    assert "auth.two_factor_failed" in actions(actor=user)


@pytest.mark.usefixtures("require_2fa")
@pytest.mark.parametrize("typed", ["000000", "", "not a code", "x" * 500])
def test_a_wrong_code_at_sign_in_is_explained_and_keeps_the_user_out(make, signed_in, clock, typed):
    user = make.hub_manager()
    _enrolled(user)
    clock.shift(STEP)
    client = signed_in(user)
    response = client.post(VERIFY_URL, {"token": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert any(
        m in html for m in ("The code is not right", "Enter the code", "The code is too long")
    )
    assert client.get(HOME)["Location"].startswith(VERIFY_URL)


def test_a_device_is_asked_for_even_when_2fa_is_not_required(make, signed_in, clock, settings):
    settings.MASH_REQUIRE_2FA = False
    user = make.hub_manager()
    device, _ = _enrolled(user)
    clock.shift(STEP)
    client = signed_in(user)
    assert client.get(HOME)["Location"] == f"{VERIFY_URL}?next=%2F"
    assert client.post(VERIFY_URL, {"token": code(device)}).status_code == 302
    assert client.get(HOME).status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_repeated_wrong_codes_are_slowed_down(make, signed_in, clock):
    user = make.hub_manager()
    device, _ = _enrolled(user)
    clock.shift(STEP)
    client = signed_in(user)
    # Each failure doubles the wait before the next code is even checked: 1, 2, 4, 8, 16 s.
    for wait in (1, 2, 4, 8, 16):
        assert client.post(VERIFY_URL, {"token": "000000"}).status_code == 200
        clock.shift(dt.timedelta(seconds=wait - 0.5))
        response = client.post(VERIFY_URL, {"token": code(device)})
        assert response.status_code == 200, "the right code was accepted while throttled"
        clock.shift(dt.timedelta(seconds=1))
    # Once the wait has passed, the right code is accepted.
    response = client.post(VERIFY_URL, {"token": code(device)})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


@pytest.mark.usefixtures("require_2fa")
def test_verify_ignores_a_next_page_on_another_site(make, signed_in, clock):
    user = make.hub_manager()
    device, _ = _enrolled(user)
    clock.shift(STEP)
    client = signed_in(user)
    response = client.post(VERIFY_URL, {"token": code(device), "next": "https://evil.example/"})
    assert response["Location"] == HOME


@pytest.mark.usefixtures("require_2fa")
def test_an_unverified_user_cannot_replace_the_authenticator(make, signed_in, clock):
    user = make.hub_manager()
    _enrolled(user)
    client = signed_in(user)
    assert client.get(SETUP_URL)["Location"] == VERIFY_URL
    response = client.post(SETUP_URL, {"token": "123456"})
    assert response["Location"] == VERIFY_URL
    assert TOTPDevice.objects.filter(user=user).count() == 1


# Recovery codes.


@pytest.mark.usefixtures("require_2fa")
def test_a_recovery_code_works_once_only(make, clock):
    user = make.hub_manager()
    _device, codes = _enrolled(user)
    recovery = codes[3]

    first = Client()
    post_sign_in(first, user.email, make.PASSWORD)
    response = first.post(VERIFY_URL, {"token": recovery})
    assert response.status_code == 302
    assert first.get(HOME).status_code == 200
    assert AuditEvent.objects.get(action="auth.two_factor_passed").detail == {
        "method": "StaticDevice"
    }
    assert StaticToken.objects.filter(device__user=user).count() == 9

    clock.shift(STEP)
    second = Client()
    post_sign_in(second, user.email, make.PASSWORD)
    response = second.post(VERIFY_URL, {"token": recovery})
    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert second.get(HOME)["Location"].startswith(VERIFY_URL)

    clock.shift(STEP)
    assert second.post(VERIFY_URL, {"token": codes[4]}).status_code == 302


@pytest.mark.usefixtures("require_2fa")
def test_a_recovery_code_may_be_typed_with_spaces_or_in_capitals(make, signed_in):
    user = make.hub_manager()
    _device, codes = _enrolled(user)
    client = signed_in(user)
    typed = " ".join([codes[0][:4], codes[0][4:]])
    assert client.post(VERIFY_URL, {"token": typed}).status_code == 302


@pytest.mark.usefixtures("require_2fa")
def test_new_recovery_codes_replace_the_old_ones(make, clock):
    user = make.hub_manager()
    device, old = _enrolled(user)
    clock.shift(STEP)
    client = Client()
    post_sign_in(client, user.email, make.PASSWORD)
    client.post(VERIFY_URL, {"token": code(device)})
    response = client.post(reverse("accounts:recovery_codes_regenerate"))
    assert response["Location"] == CODES_URL
    new = re.findall(r"<li>([a-z0-9]+)</li>", client.get(CODES_URL).content.decode())
    assert len(new) == 10
    assert not set(new) & set(old)
    assert "auth.recovery_codes_regenerated" in actions(actor=user)

    clock.shift(STEP)
    other = Client()
    post_sign_in(other, user.email, make.PASSWORD)
    assert other.post(VERIFY_URL, {"token": old[0]}).status_code == 200
    clock.shift(STEP)
    assert other.post(VERIFY_URL, {"token": new[0]}).status_code == 302


def test_recovery_codes_cannot_be_regenerated_without_passing_the_second_factor(
    make, signed_in, settings
):
    settings.MASH_REQUIRE_2FA = False
    user = make.hub_manager()
    client = signed_in(user)
    # No device at all.
    assert client.post(reverse("accounts:recovery_codes_regenerate")).status_code == 403
    _device, codes = _enrolled(user)
    # A device, but this session has not used it (the middleware sends it to verify).
    response = client.post(reverse("accounts:recovery_codes_regenerate"))
    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )


# An administrator resets someone's two-factor sign-in.


@pytest.mark.usefixtures("require_2fa")
def test_an_administrator_can_reset_a_users_two_factor(make, signed_in, clock):
    admin = make.administrator()
    admin_device, _ = _enrolled(admin)
    user = make.hub_manager()
    _enrolled(user)
    clock.shift(STEP)

    client = signed_in(admin)
    client.post(VERIFY_URL, {"token": code(admin_device)})
    page = client.get(reverse("accounts:user_edit", args=[user.pk]))
    assert "Two-factor sign-in: set up." in page.content.decode()
    response = client.post(reverse("accounts:user_reset_two_factor", args=[user.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_edit", args=[user.pk])
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="accounts.two_factor_reset")
    assert event.actor == admin
    assert event.object_id == str(user.pk)
    assert "Two-factor sign-in reset for" in client.get(response["Location"]).content.decode()

    # The user signs in with their password and is asked to set up afresh.
    user_client = Client()
    post_sign_in(user_client, user.email, make.PASSWORD)
    assert user_client.get(HOME)["Location"].startswith(SETUP_URL)


@pytest.mark.usefixtures("require_2fa")
def test_a_reset_ends_a_session_that_had_not_yet_passed_its_second_factor(make, signed_in):
    # A session halfway through sign-in cannot carry on with the old device.
    admin = make.administrator()
    user = make.hub_manager()
    _device, codes = _enrolled(user)
    client = signed_in(user)
    services.reset_two_factor(actor=admin, user=user)
    response = client.post(VERIFY_URL, {"token": codes[0]})
    assert response["Location"] == SETUP_URL


@pytest.mark.parametrize("role_factory", ["hub_manager", "coordinator", "practitioner", "analyst"])
def test_only_an_administrator_can_reset_two_factor(make, signed_in, role_factory):
    user = make.hub_manager()
    _enrolled(user)
    client = signed_in(getattr(make, role_factory)())
    response = client.post(reverse("accounts:user_reset_two_factor", args=[user.pk]))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=user).exists()


def test_reset_two_factor_by_get_is_refused(make, signed_in):
    client = signed_in(make.administrator())
    user = make.hub_manager()
    _enrolled(user)
    assert client.get(reverse("accounts:user_reset_two_factor", args=[user.pk])).status_code == 405
    assert TOTPDevice.objects.filter(user=user).exists()


def test_anonymous_users_cannot_reach_two_factor_pages(client):
    for path in (SETUP_URL, VERIFY_URL, CODES_URL):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(SIGN_IN_URL)


@pytest.mark.usefixtures("require_2fa")
def test_a_reset_sends_a_signed_in_user_to_set_up_on_their_next_page(make, clock):
    admin = make.administrator()
    user = make.hub_manager()
    device, _ = _enrolled(user)
    clock.shift(STEP)
    client = Client()
    post_sign_in(client, user.email, make.PASSWORD)
    client.post(VERIFY_URL, {"token": code(device)})
    assert client.get(HOME).status_code == 200
    services.reset_two_factor(actor=admin, user=user)
    assert client.get(HOME)["Location"] == f"{SETUP_URL}?next=%2F"


@pytest.mark.usefixtures("require_2fa")
def test_account_page_says_whether_two_factor_is_set_up(make, clock):
    user = make.hub_manager()
    client = Client()
    post_sign_in(client, user.email, make.PASSWORD)
    _set_up(client, user)
    html = client.get(reverse("accounts:account")).content.decode()
    assert "Get new recovery codes" in html
    assert "Not set up" not in html
