"""Wall screens: created and revoked by administrators, signed in by a token.

The raw token is shown once, inside the screen's connect URL; only its
SHA-256 hash is stored. A revoked screen gets nothing from the next request on.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from mash.core import audit, clock
from mash.core.models import Hub
from mash.enquiries.models import BoardScreen

if TYPE_CHECKING:
    from mash.accounts.models import User

COOKIE = "mash_board"
# A screen stays signed in to the board for a year unless revoked (no idle timeout).
COOKIE_SECONDS = 365 * 24 * 3600


PAGE_SECONDS_MIN, PAGE_SECONDS_MAX = 5, 600


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def create_screen(*, actor: User, name: str, filters: str = "") -> tuple[BoardScreen, str]:
    """A new wall screen and its raw token (shown once; never stored)."""
    if not actor.has_perm("enquiries.manage_board_screens"):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Enter a name for the screen, like 2nd floor screen"]
    elif len(name) > 80:
        errors["name"] = ["The name must be 80 characters or fewer"]
    if len(filters) > 200:
        errors["filters"] = ["The filters must be 200 characters or fewer"]
    if errors:
        raise ValidationError(errors)
    raw = secrets.token_urlsafe(32)
    screen = BoardScreen.objects.create(
        name=name.strip(),
        filters=filters.strip(),
        token_hash=_hash(raw),
        created_by=actor,
        created_at=clock.now(),
    )
    audit.record(
        action="board.screen_created", actor=actor, obj=screen, detail={"name": screen.name}
    )
    return screen, raw


@transaction.atomic
def revoke_screen(*, actor: User, screen: BoardScreen) -> BoardScreen:
    """Withdraws a screen's access at once."""
    if not actor.has_perm("enquiries.manage_board_screens"):
        raise PermissionDenied
    screen = BoardScreen.objects.select_for_update().get(pk=screen.pk)
    if screen.revoked_at is None:
        screen.revoked_at, screen.revoked_by = clock.now(), actor
        screen.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            action="board.screen_revoked", actor=actor, obj=screen, detail={"name": screen.name}
        )
    return screen


def screen_for_token(raw: str | None) -> BoardScreen | None:
    """The active screen this token belongs to, or None (unknown, malformed or revoked)."""
    if not raw or len(raw) > 100:
        return None
    screen = BoardScreen.objects.filter(token_hash=_hash(raw)).first()
    if screen is None or screen.revoked_at is not None:
        return None
    return screen


def seen(screen: BoardScreen, *, page: bool) -> None:
    """Audits a screen's view: every page load, and its polling at most once a minute."""
    now = clock.now()
    last = screen.last_seen_at
    if page or last is None or (now - last).total_seconds() >= 60:
        BoardScreen.objects.filter(pk=screen.pk).update(last_seen_at=now)
        audit.record(
            action="board.viewed" if page else "board.polled",
            actor=None,
            actor_label=f"board screen: {screen.name}"[:254],
            obj=screen,
        )


@transaction.atomic
def set_page_seconds(*, actor: User, seconds: int) -> Hub:
    """How often every board turns its page when the rows do not fit on one screen."""
    if not actor.has_perm("enquiries.manage_board_screens"):
        raise PermissionDenied
    if not PAGE_SECONDS_MIN <= seconds <= PAGE_SECONDS_MAX:
        raise ValidationError(
            {
                "seconds": [
                    f"Enter a whole number of seconds from {PAGE_SECONDS_MIN} to {PAGE_SECONDS_MAX}"
                ]
            }
        )
    hub = Hub.objects.select_for_update().get_or_create(pk=1)[0]
    if hub.board_page_seconds != seconds:
        audit.record(
            action="board.page_seconds_changed",
            actor=actor,
            obj=hub,
            detail={"changed": {"board_page_seconds": [hub.board_page_seconds, seconds]}},
        )
        hub.board_page_seconds = seconds
        hub.save(update_fields=["board_page_seconds"])
    return hub
