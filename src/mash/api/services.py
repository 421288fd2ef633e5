"""Writes for API tokens: issuing one to an agency's system, revoking it, noting its use.

The key is shown once, to the administrator who issued it; only its SHA-256 and
its first characters are stored, so neither the database nor the audit log can
give it away. A revoked key is refused from the next request on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from mash.api.models import ApiToken
from mash.core import audit, clock

if TYPE_CHECKING:
    from mash.accounts.models import Agency, User

# Every key starts with this, so a key pasted somewhere it should not be is recognisable.
KEY_PREFIX = "mash_"
PREFIX_LENGTH = 12  # ApiToken.prefix: "mash_" and 7 random characters
NAME_MAX = 100
# Writing last_used_at on every request would cost a write per notification.
LAST_USED_EVERY = dt.timedelta(minutes=1)


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def issue_token(*, actor: User, agency: Agency, name: str) -> tuple[ApiToken, str]:
    """A new token for the agency's system, and its key (returned once; never stored)."""
    if not actor.has_perm("api.manage_tokens"):
        raise PermissionDenied
    name = " ".join(name.split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter the name of the system that will use the key, like Niche RMS"]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"The name must be {NAME_MAX} characters or fewer"]
    if not agency.is_active:
        errors["agency"] = ["Select an active agency"]
    if (
        "name" not in errors
        and ApiToken.objects.filter(agency=agency, name=name, revoked_at__isnull=True).exists()
    ):
        errors["name"] = [
            f"{agency.name} already has a key called {name}: revoke it first, or use another name"
        ]
    if errors:
        raise ValidationError(errors)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                agency=agency,
                name=name,
                prefix=raw[:PREFIX_LENGTH],
                key_hash=key_hash(raw),
                created_by=actor,
                created_at=clock.now(),
            )
    except IntegrityError as error:  # the same name issued twice at the same moment
        raise ValidationError(
            {"name": [f"{agency.name} already has a key called {name}: use another name"]}
        ) from error
    audit.record(
        action="api.token_issued",
        actor=actor,
        obj=token,
        detail={"agency": agency.pk, "name": token.name, "prefix": token.prefix},
    )
    return token, raw


@transaction.atomic
def revoke_token(*, actor: User, token: ApiToken) -> ApiToken:
    """Withdraws a token: every request with its key is refused from now on."""
    if not actor.has_perm("api.manage_tokens"):
        raise PermissionDenied
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by = clock.now(), actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            action="api.token_revoked",
            actor=actor,
            obj=token,
            detail={"agency": token.agency_id, "name": token.name, "prefix": token.prefix},
        )
    return token


def note_use(token: ApiToken, *, now: dt.datetime | None = None) -> None:
    """Records when the token was last used, at most once a minute (not a write per request)."""
    now = now or clock.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
