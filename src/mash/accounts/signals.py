"""Sign-in events are audited where Django and django-axes announce them.

These receivers only write the audit row; they hold no business rule.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from mash.accounts.lockout import username_from_request
from mash.core import audit


@receiver(user_logged_in)
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(action="auth.sign_in", actor=user, obj=user)


@receiver(user_logged_out)
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(action="auth.sign_out", actor=user, obj=user)


@receiver(user_login_failed)
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    tried = str(credentials.get("username", ""))[:254].strip().lower()
    locked = bool(getattr(request, "axes_locked_out", False))
    audit.record(
        action="auth.sign_in_failed",
        actor=None,
        actor_label=tried,
        detail={"locked_out": locked},
    )


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: Any = None, **kwargs: Any) -> None:
    tried = username_from_request(request, {"username": username} if username else None)
    audit.record(action="auth.locked_out", actor=None, actor_label=tried)
