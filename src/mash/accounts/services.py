"""Writes for agencies, users and two-factor devices.

Each service takes keyword-only arguments and an acting user (None for the
command line), checks permission, runs in one transaction and writes its
audit event in that transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mash.accounts.models import Agency, Role, User, UserRole
from mash.core import audit, clock

AGENCY_FIELDS = (
    "name",
    "short_name",
    "kind",
    "protocol_signed_on",
    "co_located",
    "shared_inbox",
    "is_active",
)


def _require(actor: User | None, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _label(actor: User | None) -> str:
    return "" if actor is not None else "system"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Agency):
        return value.name
    return value


@transaction.atomic
def create_agency(
    *,
    actor: User | None,
    name: str,
    kind: str,
    protocol_signed_on: dt.date | None = None,
    co_located: bool = True,
    shared_inbox: str = "",
    is_active: bool = True,
    short_name: str = "",
) -> Agency:
    """Creates a member agency and audits it."""
    _require(actor, "accounts.manage_agencies")
    agency = Agency(
        name=name.strip(),
        short_name=short_name.strip(),
        kind=kind,
        protocol_signed_on=protocol_signed_on,
        co_located=co_located,
        shared_inbox=shared_inbox,
        is_active=is_active,
        created_at=clock.now(),
    )
    agency.full_clean()
    agency.save()
    audit.record(
        action="accounts.agency_created",
        actor=actor,
        obj=agency,
        detail={"name": agency.name, "kind": kind}
        | ({"short_name": agency.short_name} if agency.short_name else {}),
        actor_label=_label(actor),
    )
    return agency


@transaction.atomic
def update_agency(*, actor: User | None, agency: Agency, **changes: Any) -> Agency:
    """Changes an agency's details; records what changed."""
    _require(actor, "accounts.manage_agencies")
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    changed = {}
    for field, value in changes.items():
        if field not in AGENCY_FIELDS:
            raise TypeError(f"update_agency() got an unexpected field {field!r}")
        old = getattr(agency, field)
        if old != value:
            changed[field] = [_jsonable(old), _jsonable(value)]
            setattr(agency, field, value)
    if changed:
        agency.full_clean()
        agency.save()
        audit.record(
            action="accounts.agency_updated",
            actor=actor,
            obj=agency,
            detail={"changed": changed},
            actor_label=_label(actor),
        )
    return agency


def _set_roles(user: User, roles: list[str] | set[str] | tuple[str, ...]) -> None:
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValueError(f"Unknown roles: {sorted(unknown)}")
    UserRole.objects.filter(user=user).exclude(role__in=wanted).delete()
    existing = set(UserRole.objects.filter(user=user).values_list("role", flat=True))
    UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in sorted(wanted - existing)])
    user.__dict__.pop("roles", None)


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    agency: Agency,
    roles: list[str] | set[str] | tuple[str, ...],
    job_title: str = "",
    phone: str = "",
    is_agency_lead: bool = False,
    password: str | None = None,
    password_hash: str | None = None,
    send_invitation: bool = True,
) -> User:
    """Creates a user with agency and roles; with no password they are emailed a link to set one.

    password_hash takes an already-hashed password (an import from another
    system, or the demo, where every user shares one).
    """
    _require(actor, "accounts.manage_users")
    user = User(
        email=email.strip().lower(),
        full_name=full_name.strip(),
        agency=agency,
        job_title=job_title,
        phone=phone,
        is_agency_lead=is_agency_lead,
        date_joined=clock.now(),
    )
    if password:
        user.set_password(password)
    elif password_hash:
        user.password = password_hash
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    _set_roles(user, roles)
    audit.record(
        action="accounts.user_created",
        actor=actor,
        obj=user,
        detail={"email": user.email, "agency": agency.name, "roles": sorted(roles)}
        | ({"agency_lead": True} if is_agency_lead else {}),
        actor_label=_label(actor),
    )
    if send_invitation and not (password or password_hash):
        transaction.on_commit(lambda: _send_invitation(user))
    return user


def _send_invitation(user: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    context = {
        "user": user,
        "path": path,
        "base_url": settings.MASH_BASE_URL,
        "service_name": settings.MASH_SERVICE_NAME,
    }
    send_mail(
        subject=f"Your {settings.MASH_SERVICE_NAME} account",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def update_user(
    *,
    actor: User | None,
    user: User,
    email: str,
    full_name: str,
    agency: Agency,
    roles: list[str] | set[str] | tuple[str, ...],
    job_title: str = "",
    phone: str = "",
    is_agency_lead: bool | None = None,
) -> User:
    """Changes a user's details and roles; records what changed.

    is_agency_lead None leaves whether they lead their agency as it is.
    """
    _require(actor, "accounts.manage_users")
    user = User.objects.select_for_update().get(pk=user.pk)
    if actor is not None and actor.pk == user.pk and set(roles) != set(user.roles):
        # Nobody grants themself a role, or removes the last administrator by accident.
        raise PermissionDenied("You cannot change your own roles.")
    before = {
        "email": user.email,
        "full_name": user.full_name,
        "agency": user.agency_id,
        "job_title": user.job_title,
        "phone": user.phone,
        "is_agency_lead": user.is_agency_lead,
        "roles": sorted(user.roles),
    }
    user.email, user.full_name, user.agency = email.strip().lower(), full_name.strip(), agency
    user.job_title, user.phone = job_title, phone
    if is_agency_lead is not None:
        user.is_agency_lead = is_agency_lead
    user.full_clean(exclude=["password"])
    user.save()
    _set_roles(user, roles)
    after = {
        "email": user.email,
        "full_name": user.full_name,
        "agency": agency.pk,
        "job_title": job_title,
        "phone": phone,
        "is_agency_lead": user.is_agency_lead,
        "roles": sorted(set(roles)),
    }
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        audit.record(
            action="accounts.user_updated",
            actor=actor,
            obj=user,
            detail={"changed": changed},
            actor_label=_label(actor),
        )
    return user


@transaction.atomic
def set_user_active(*, actor: User | None, user: User, active: bool) -> User:
    """Deactivates (or reactivates) a user. Nobody is deleted: audit events point at them."""
    _require(actor, "accounts.manage_users")
    if actor is not None and actor.pk == user.pk and not active:
        raise PermissionDenied("You cannot deactivate yourself.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            action="accounts.user_reactivated" if active else "accounts.user_deactivated",
            actor=actor,
            obj=user,
            detail={"email": user.email},
            actor_label=_label(actor),
        )
    return user


@transaction.atomic
def reset_two_factor(*, actor: User | None, user: User) -> None:
    """Removes a user's authenticator and recovery codes so they set up afresh."""
    _require(actor, "accounts.manage_users")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit.record(
        action="accounts.two_factor_reset",
        actor=actor,
        obj=user,
        detail={"email": user.email},
        actor_label=_label(actor),
    )


# Two-factor set-up by the user themselves.


def start_totp_setup(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator to scan, made once so a reload shows the same code."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        return device


@transaction.atomic
def confirm_totp(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirms the authenticator when the code matches; returns fresh recovery codes, or None."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token(token):
        audit.record(action="auth.two_factor_setup_failed", actor=user, obj=user)
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    audit.record(action="auth.two_factor_set_up", actor=user, obj=user)
    return codes


@transaction.atomic
def regenerate_recovery_codes(*, user: User) -> list[str]:
    """Replaces the user's recovery codes; the old ones stop working."""
    codes = _new_recovery_codes(user)
    audit.record(action="auth.recovery_codes_regenerated", actor=user, obj=user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.MASH_RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def verify_second_factor(*, user: User, token: str) -> TOTPDevice | StaticDevice | None:
    """The device a sign-in code belongs to, or None.

    Six digits are checked only against the authenticator and anything else
    only against recovery codes, so a recovery code never counts as a failed
    authenticator attempt (django-otp throttles each device separately).
    """
    if len(token) == 6 and token.isdigit():
        for totp in TOTPDevice.objects.filter(user=user, confirmed=True):
            if totp.verify_token(token):
                return totp
        return None
    for static in StaticDevice.objects.filter(user=user, confirmed=True):
        if static.verify_token(token.lower()):
            return static
    return None


@transaction.atomic
def unlock_sign_in(*, actor: User | None, user: User) -> int:
    """Lifts a sign-in lockout on a user's email address; returns how many records it cleared."""
    from axes.utils import reset

    _require(actor, "accounts.manage_users")
    cleared = int(reset(username=user.email) or 0)
    audit.record(
        action="accounts.sign_in_unlocked",
        actor=actor,
        obj=user,
        detail={"email": user.email, "cleared": cleared},
        actor_label=_label(actor),
    )
    return cleared


def has_two_factor(user: User) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))
