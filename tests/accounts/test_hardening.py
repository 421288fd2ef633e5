"""Fixes from the review of the foundation: each test pins one."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mash.accounts import selectors, services
from mash.accounts.models import Agency, Role, User
from mash.core.models import AuditEvent, Hub
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_platform_superuser_holds_no_hub_permission(make):
    superuser = User.objects.create_superuser("root@hub.example", "a-long-enough-password")
    for perm in (
        "accounts.manage_users",
        "core.view_audit_log",
        "people.view_person_index",
        "people.add_person",
    ):
        assert not superuser.has_perm(perm)
    # Django admin model permissions still work for the superuser.
    assert superuser.has_perm("accounts.view_user")


def test_the_django_admin_changes_nothing_and_hides_device_secrets():
    request = RequestFactory().get("/")
    request.user = User.objects.create_superuser("root@hub.example", "a-long-enough-password")
    for model in (User, Agency, Hub, AuditEvent):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    for hidden in (Group, TOTPDevice, StaticDevice):
        assert not admin.site.is_registered(hidden)


def _fail_sign_in(client, email, times):
    for _ in range(times):
        client.post(reverse("accounts:sign_in"), {"username": email, "password": "wrong-one"})


def test_attempts_during_a_lockout_do_not_extend_it(make, time_machine):
    user = make.hub_manager()
    client = Client()
    time_machine.move_to(dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC), tick=False)
    _fail_sign_in(client, user.email, 5)
    until = selectors.locked_out_until(user)
    assert until == dt.datetime(2026, 6, 1, 10, 15, tzinfo=dt.UTC)
    time_machine.move_to(dt.datetime(2026, 6, 1, 10, 10, tzinfo=dt.UTC), tick=False)
    _fail_sign_in(client, user.email, 3)
    time_machine.move_to(dt.datetime(2026, 6, 1, 10, 16, tzinfo=dt.UTC), tick=False)
    response = client.post(
        reverse("accounts:sign_in"), {"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_an_administrator_lifts_a_lockout_and_it_is_audited(make, signed_in):
    user = make.coordinator()
    _fail_sign_in(Client(), user.email, 5)
    assert selectors.locked_out_until(user) is not None
    admin_client = signed_in(make.administrator())
    page = admin_client.get(reverse("accounts:user_edit", args=[user.pk])).content.decode()
    assert "Signing in is paused" in page
    response = admin_client.post(reverse("accounts:user_unlock", args=[user.pk]))
    assert response.status_code == 302
    assert selectors.locked_out_until(user) is None
    assert AuditEvent.objects.filter(
        action="accounts.sign_in_unlocked", object_id=str(user.pk)
    ).exists()
    response = Client().post(
        reverse("accounts:sign_in"), {"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_an_administrator_cannot_change_their_own_roles(make, signed_in):
    me = make.administrator()
    client = signed_in(me)
    response = client.post(
        reverse("accounts:user_edit", args=[me.pk]),
        {
            "full_name": me.full_name,
            "email": me.email,
            "agency": me.agency_id,
            "roles": [Role.ADMINISTRATOR, Role.HUB_MANAGER],
        },
    )
    assert response.status_code == 200
    assert "You cannot change your own roles" in response.content.decode()
    me.refresh_from_db()
    assert set(User.objects.get(pk=me.pk).roles) == {Role.ADMINISTRATOR}
    with pytest.raises(PermissionDenied):
        services.update_user(
            actor=me, user=me, email=me.email, full_name=me.full_name, agency=me.agency, roles=[]
        )


def test_a_user_of_a_deactivated_agency_can_still_be_edited(make, signed_in):
    agency = make.agency()
    user = make.practitioner(agency_=agency)
    services.update_agency(actor=None, agency=agency, is_active=False)
    client = signed_in(make.administrator())
    response = client.post(
        reverse("accounts:user_edit", args=[user.pk]),
        {
            "full_name": "Renamed Person",
            "email": user.email,
            "agency": agency.pk,
            "roles": [Role.AGENCY_PRACTITIONER],
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).full_name == "Renamed Person"


def test_a_reset_link_sent_before_deactivation_no_longer_works(make):
    user = make.hub_manager()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    services.set_user_active(actor=None, user=user, active=False)
    url = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    response = Client().get(url, follow=True)
    assert response.status_code == 410


def test_a_recovery_code_is_not_counted_against_the_authenticator(make):
    user = make.hub_manager()
    device = services.start_totp_setup(user=user)
    codes = services.confirm_totp(
        user=user, device=device, token=f"{TOTP(device.bin_key).token():06d}"
    )
    assert codes is not None
    assert services.verify_second_factor(user=user, token=codes[0]) is not None
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    assert services.verify_second_factor(user=user, token=codes[0]) is None


def test_the_similarity_rule_checks_the_full_name(make):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = make.hub_manager(full_name="Bartholomew Featherstonehaugh")
    with pytest.raises(ValidationError):
        validate_password("Bartholomew Featherstonehaugh", user)


def test_the_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="MASH_ENV=production"):
        call_command("demo", people=10)
    assert not User.objects.exists()
