"""Account services: one audit event per change, in the change's transaction, with permission."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mash.accounts import services
from mash.accounts.models import Agency, AgencyKind, Role, User, UserRole
from mash.core.models import AuditEvent

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def rolled_back(change):
    """Runs the change inside a transaction that then fails; returns what was seen inside."""
    seen = {}
    try:
        with transaction.atomic():
            change()
            seen["events"] = AuditEvent.objects.count()
            raise Rollback
    except Rollback:
        pass
    return seen


@pytest.fixture
def admin(make):
    return make.administrator()


@pytest.fixture
def new_events():
    """The audit events written since the test asked, oldest first."""
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def since():
        return list(AuditEvent.objects.filter(id__gt=start).order_by("id"))

    return since


def _only(events, action):
    assert [e.action for e in events] == [action]
    return events[0]


def _code(device):
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


# Agencies.


def test_create_agency_writes_one_audit_event(admin, new_events):
    before = len(new_events())
    agency = services.create_agency(
        actor=admin,
        name="  Northshire Police ",
        kind=AgencyKind.POLICE,
        protocol_signed_on=dt.date(2024, 3, 27),
    )
    assert agency.name == "Northshire Police"
    event = _only(new_events()[before:], "accounts.agency_created")
    assert event.actor == admin
    assert event.actor_agency == admin.agency
    assert event.actor_label == admin.email
    assert event.object_type == "accounts.agency"
    assert event.object_id == str(agency.pk)
    assert event.detail == {"name": "Northshire Police", "kind": "police"}


def test_a_command_line_change_is_labelled_system(new_events):
    agency = services.create_agency(actor=None, name="Housing", kind=AgencyKind.HOUSING)
    event = _only(new_events(), "accounts.agency_created")
    assert event.actor is None
    assert event.actor_label == "system"
    assert event.object_id == str(agency.pk)


def test_update_agency_writes_one_event_with_what_changed(make, admin, new_events):
    agency = make.agency(name="Health", kind=AgencyKind.HEALTH_GP)
    before = len(new_events())
    services.update_agency(
        actor=admin, agency=agency, name="Health: GP", protocol_signed_on=dt.date(2024, 1, 2)
    )
    event = _only(new_events()[before:], "accounts.agency_updated")
    assert event.detail == {
        "changed": {"name": ["Health", "Health: GP"], "protocol_signed_on": [None, "2024-01-02"]}
    }
    agency.refresh_from_db()
    assert agency.name == "Health: GP"


def test_update_agency_without_a_change_writes_nothing(make, admin, new_events):
    agency = make.agency(name="Health", kind=AgencyKind.HEALTH_GP)
    before = len(new_events())
    services.update_agency(actor=admin, agency=agency, name="Health", kind=AgencyKind.HEALTH_GP)
    assert len(new_events()) == before


def test_update_agency_refuses_an_unknown_field_and_leaves_no_trace(make, admin, new_events):
    agency = make.agency(name="Health")
    before = len(new_events())
    with pytest.raises(TypeError):
        services.update_agency(actor=admin, agency=agency, name="Changed", pk=99)
    assert len(new_events()) == before
    agency.refresh_from_db()
    assert agency.name == "Health"


def test_create_agency_with_a_bad_value_writes_no_audit_event(admin, new_events):
    with pytest.raises(ValidationError):
        services.create_agency(actor=admin, name="x" * 500, kind=AgencyKind.POLICE)
    with pytest.raises(ValidationError):
        services.create_agency(actor=admin, name="Police", kind="wizards")
    assert new_events() == []
    assert not Agency.objects.filter(kind="wizards").exists()


# Users.


def test_create_user_writes_one_event_and_sends_one_invitation(
    make, admin, new_events, django_capture_on_commit_callbacks
):
    agency = make.agency(name="Education")
    before = len(new_events())
    with django_capture_on_commit_callbacks(execute=True):
        user = services.create_user(
            actor=admin,
            email=" Kim.Lee@Hub.Example ",
            full_name=" Kim Lee ",
            agency=agency,
            roles=[Role.AGENCY_PRACTITIONER],
        )
    assert user.email == "kim.lee@hub.example"
    assert user.full_name == "Kim Lee"
    assert user.roles == {Role.AGENCY_PRACTITIONER}
    assert not user.has_usable_password()
    event = _only(new_events()[before:], "accounts.user_created")
    assert event.actor == admin
    assert event.detail == {
        "email": "kim.lee@hub.example",
        "agency": "Education",
        "roles": [Role.AGENCY_PRACTITIONER],
    }
    assert [m.to for m in mail.outbox] == [["kim.lee@hub.example"]]
    assert "/password-reset/" in mail.outbox[0].body


def test_create_user_with_a_password_sends_no_invitation(
    make, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.create_user(
            actor=admin,
            email="kim@hub.example",
            full_name="Kim",
            agency=make.agency(),
            roles=[Role.ANALYST],
            password="a-perfectly-good-passphrase",
        )
    assert user.check_password("a-perfectly-good-passphrase")
    assert mail.outbox == []


def test_no_invitation_is_sent_when_the_transaction_is_rolled_back(
    make, admin, django_capture_on_commit_callbacks
):
    agency = make.agency()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rolled_back(
            lambda: services.create_user(
                actor=admin,
                email="kim@hub.example",
                full_name="Kim",
                agency=agency,
                roles=[Role.ANALYST],
            )
        )
    assert callbacks == []
    assert mail.outbox == []
    assert not User.objects.filter(email="kim@hub.example").exists()


def test_create_user_that_fails_part_way_leaves_neither_user_nor_audit_event(
    make, admin, new_events
):
    agency = make.agency()
    before = len(new_events())
    # The user row is written before the roles; an unknown role stops it there.
    with pytest.raises(ValueError, match="Unknown roles"):
        services.create_user(
            actor=admin,
            email="kim@hub.example",
            full_name="Kim",
            agency=agency,
            roles=[Role.ANALYST, "wizard"],
        )
    assert not User.objects.filter(email="kim@hub.example").exists()
    assert not UserRole.objects.filter(role="wizard").exists()
    assert len(new_events()) == before


def test_create_user_refuses_an_email_already_used_in_any_case(make, admin, new_events):
    make.hub_manager(email="sam@hub.example")
    before = len(new_events())
    with pytest.raises(ValidationError):
        services.create_user(
            actor=admin,
            email="SAM@hub.example",
            full_name="Another Sam",
            agency=make.agency(),
            roles=[Role.ANALYST],
        )
    assert User.objects.filter(email__iexact="sam@hub.example").count() == 1
    assert [e.action for e in new_events()[before:]] == ["accounts.agency_created"]


def test_update_user_writes_one_event_with_what_changed(make, admin, new_events):
    user = make.user(Role.ANALYST, full_name="Kim Lee")
    before = len(new_events())
    services.update_user(
        actor=admin,
        user=user,
        email=user.email,
        full_name="Kim Lee-Park",
        agency=user.agency,
        roles=[Role.ANALYST, Role.HUB_MANAGER],
    )
    event = _only(new_events()[before:], "accounts.user_updated")
    assert event.detail == {
        "changed": {
            "full_name": ["Kim Lee", "Kim Lee-Park"],
            "roles": [[Role.ANALYST], sorted([Role.ANALYST, Role.HUB_MANAGER])],
        }
    }
    assert User.objects.get(pk=user.pk).roles == {Role.ANALYST, Role.HUB_MANAGER}


def test_update_user_without_a_change_writes_nothing(make, admin, new_events):
    user = make.user(Role.ANALYST)
    before = len(new_events())
    services.update_user(
        actor=admin,
        user=user,
        email=user.email.upper(),
        full_name=user.full_name,
        agency=user.agency,
        roles=[Role.ANALYST],
    )
    assert len(new_events()) == before


def test_update_user_that_fails_leaves_no_trace(make, admin, new_events):
    user = make.user(Role.ANALYST, full_name="Kim Lee")
    before = len(new_events())
    with pytest.raises(ValidationError):
        services.update_user(
            actor=admin,
            user=user,
            email="not an email",
            full_name="Changed",
            agency=user.agency,
            roles=[Role.HUB_MANAGER],
        )
    assert len(new_events()) == before
    user = User.objects.get(pk=user.pk)
    assert user.full_name == "Kim Lee"
    assert user.roles == {Role.ANALYST}


def test_deactivate_and_reactivate_write_one_event_each(make, admin, new_events):
    user = make.hub_manager()
    before = len(new_events())
    services.set_user_active(actor=admin, user=user, active=False)
    services.set_user_active(actor=admin, user=user, active=False)  # already: no event
    services.set_user_active(actor=admin, user=user, active=True)
    services.set_user_active(actor=admin, user=user, active=True)
    events = new_events()[before:]
    assert [e.action for e in events] == [
        "accounts.user_deactivated",
        "accounts.user_reactivated",
    ]
    assert all(e.object_id == str(user.pk) and e.actor == admin for e in events)


def test_an_administrator_cannot_deactivate_themself(admin, new_events):
    before = len(new_events())
    with pytest.raises(PermissionDenied):
        services.set_user_active(actor=admin, user=admin, active=False)
    assert User.objects.get(pk=admin.pk).is_active
    assert len(new_events()) == before


# Two-factor.


def test_reset_two_factor_removes_devices_and_writes_one_event(make, admin, new_events):
    user = make.hub_manager()
    device = services.start_totp_setup(user=user)
    services.confirm_totp(user=user, device=device, token=_code(device))
    before = len(new_events())
    services.reset_two_factor(actor=admin, user=user)
    event = _only(new_events()[before:], "accounts.two_factor_reset")
    assert event.actor == admin
    assert event.object_id == str(user.pk)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert not services.has_two_factor(user)


def test_confirm_totp_with_the_right_code_writes_one_event_and_makes_ten_codes(make, new_events):
    user = make.hub_manager()
    device = services.start_totp_setup(user=user)
    assert services.start_totp_setup(user=user) == device  # the same device until confirmed
    assert not services.has_two_factor(user)
    before = len(new_events())
    codes = services.confirm_totp(user=user, device=device, token=_code(device))
    assert codes is not None
    assert len(codes) == 10
    assert len(set(codes)) == 10
    _only(new_events()[before:], "auth.two_factor_set_up")
    assert services.has_two_factor(user)
    assert set(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == set(codes)


def test_confirm_totp_with_a_wrong_code_writes_a_failure_and_confirms_nothing(make, new_events):
    user = make.hub_manager()
    device = services.start_totp_setup(user=user)
    before = len(new_events())
    assert services.confirm_totp(user=user, device=device, token="000000") is None
    _only(new_events()[before:], "auth.two_factor_setup_failed")
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=user).exists()


def test_confirm_totp_refuses_someone_elses_device(make):
    owner = make.hub_manager()
    other = make.hub_manager()
    device = services.start_totp_setup(user=owner)
    with pytest.raises(TOTPDevice.DoesNotExist):
        services.confirm_totp(user=other, device=device, token=_code(device))


def test_a_new_authenticator_replaces_the_old_one(make):
    user = make.hub_manager()
    first = services.start_totp_setup(user=user)
    services.confirm_totp(user=user, device=first, token=_code(first))
    second = services.start_totp_setup(user=user)
    assert second != first
    services.confirm_totp(user=user, device=second, token=_code(second))
    assert list(TOTPDevice.objects.filter(user=user)) == [second]


def test_regenerate_recovery_codes_writes_one_event_and_replaces_the_codes(make, new_events):
    user = make.hub_manager()
    device = services.start_totp_setup(user=user)
    old = services.confirm_totp(user=user, device=device, token=_code(device))
    before = len(new_events())
    new = services.regenerate_recovery_codes(user=user)
    _only(new_events()[before:], "auth.recovery_codes_regenerated")
    assert len(new) == 10
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == set(new)
    assert not stored & set(old or [])


# One transaction.


@pytest.mark.parametrize(
    "change",
    [
        lambda admin, make: services.create_agency(
            actor=admin, name="Police", kind=AgencyKind.POLICE
        ),
        lambda admin, make: services.update_agency(
            actor=admin, agency=make.agency(), name="Renamed"
        ),
        lambda admin, make: services.create_user(
            actor=admin,
            email="kim@hub.example",
            full_name="Kim",
            agency=make.agency(),
            roles=[Role.ANALYST],
        ),
        lambda admin, make: services.set_user_active(
            actor=admin, user=make.hub_manager(), active=False
        ),
        lambda admin, make: services.reset_two_factor(actor=admin, user=make.hub_manager()),
    ],
    ids=["create_agency", "update_agency", "create_user", "set_user_active", "reset_two_factor"],
)
def test_the_audit_event_rolls_back_with_the_change(make, admin, new_events, change):
    before = AuditEvent.objects.count()
    seen = rolled_back(lambda: change(admin, make))
    assert seen["events"] > before  # the event was written...
    assert AuditEvent.objects.count() == before  # ...and went with the change
    assert not Agency.objects.filter(name__in=["Police", "Renamed"]).exists()
    assert not User.objects.filter(email="kim@hub.example").exists()
    assert not User.objects.filter(is_active=False).exists()


# Permission.


def _attempts(make):
    agency = make.agency(name="Existing agency")
    user = make.hub_manager()
    return [
        lambda a: services.create_agency(actor=a, name="New agency", kind=AgencyKind.POLICE),
        lambda a: services.update_agency(actor=a, agency=agency, name="Renamed agency"),
        lambda a: services.create_user(
            actor=a,
            email="new@hub.example",
            full_name="New",
            agency=agency,
            roles=[Role.ADMINISTRATOR],
        ),
        lambda a: services.update_user(
            actor=a,
            user=user,
            email=user.email,
            full_name="Renamed",
            agency=agency,
            roles=[Role.ADMINISTRATOR],
        ),
        lambda a: services.set_user_active(actor=a, user=user, active=False),
        lambda a: services.reset_two_factor(actor=a, user=user),
    ]


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_only_an_administrator_may_manage_agencies_and_users(make, new_events, role):
    attempts = _attempts(make)
    actor = make.ROLE_FACTORIES[role]()
    before = len(new_events())
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt(actor)
    assert len(new_events()) == before
    assert not Agency.objects.filter(name__in=["New agency", "Renamed agency"]).exists()
    assert not User.objects.filter(email="new@hub.example").exists()
    assert not User.objects.filter(full_name="Renamed").exists()
    assert not User.objects.filter(is_active=False).exists()


def test_a_hub_manager_calling_create_user_is_refused(make):
    manager = make.hub_manager()
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=manager,
            email="new@hub.example",
            full_name="New",
            agency=manager.agency,
            roles=[Role.HUB_MANAGER],
        )
    assert not User.objects.filter(email="new@hub.example").exists()


def test_a_deactivated_administrator_may_manage_nothing(make, admin, new_events):
    former = make.administrator()
    services.set_user_active(actor=admin, user=former, active=False)
    former = User.objects.get(pk=former.pk)
    before = len(new_events())
    for attempt in _attempts(make):
        with pytest.raises(PermissionDenied):
            attempt(former)
    # Only the agency and user made by _attempts are new.
    assert [e.action for e in new_events()[before:]] == [
        "accounts.agency_created",
        "accounts.agency_created",
        "accounts.user_created",
    ]


# Nobody is deleted.


def test_a_user_with_audit_events_cannot_be_deleted(make, client):
    user = make.hub_manager()
    client.post("/sign-in/", {"username": user.email, "password": make.PASSWORD})
    assert AuditEvent.objects.filter(actor=user).exists()
    with pytest.raises(ProtectedError):
        user.delete()
    with pytest.raises(ProtectedError):
        User.objects.filter(pk=user.pk).delete()
    assert User.objects.filter(pk=user.pk).exists()


def test_an_agency_with_users_cannot_be_deleted(make):
    agency = make.agency()
    make.hub_manager(agency_=agency)
    with pytest.raises(ProtectedError):
        agency.delete()
    assert Agency.objects.filter(pk=agency.pk).exists()
