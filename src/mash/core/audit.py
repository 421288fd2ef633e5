"""The one helper that writes audit events.

Every sign-in, every change and every view of a child's record goes through
record(). The caller's IP address and user agent come from the request being
served (set by RequestContextMiddleware), so services need not pass them.
"""

from __future__ import annotations

import contextvars
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

from mash.core import clock
from mash.core.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from mash.accounts.models import User

MAX_DETAIL_STRING = 500


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    user_agent: str


_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "mash_audit_request", default=None
)


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, trusting X-Forwarded-For only from configured proxies."""
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = settings.MASH_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def set_request_context(request: HttpRequest) -> contextvars.Token[RequestContext | None]:
    agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    return _context.set(RequestContext(ip_address=client_ip(request), user_agent=agent))


def reset_request_context(token: contextvars.Token[RequestContext | None]) -> None:
    _context.reset(token)


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_DETAIL_STRING]
    if isinstance(value, dict):
        return {str(k)[:64]: _clip(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clip(v) for v in value[:50]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_DETAIL_STRING]


def viewed(*, actor: User, obj: models.Model, detail: dict[str, Any] | None = None) -> None:
    """Records that someone looked at a child's record, an enquiry or a request."""
    record(action=f"{obj._meta.label_lower}.viewed", actor=actor, obj=obj, detail=detail)


def record(
    *,
    action: str,
    actor: User | None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction of the change it records."""
    event = _event(
        action=action,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
        actor_label=actor_label,
    )
    event.save(force_insert=True)
    return event


def record_many(
    *,
    action: str,
    actor: User | None,
    objects: list[tuple[models.Model, dict[str, Any] | None]],
    actor_label: str = "",
) -> list[AuditEvent]:
    """One event per (object, detail), appended in one insert, in that order.

    For a service that changes several objects at once; call it inside its transaction.
    """
    return AuditEvent.objects.bulk_create(
        [
            _event(action=action, actor=actor, obj=obj, detail=detail, actor_label=actor_label)
            for obj, detail in objects
        ]
    )


def _event(
    *,
    action: str,
    actor: User | None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    context = _context.get()
    real_actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent(
        occurred_at=clock.now(),
        actor=real_actor,
        actor_agency_id=getattr(real_actor, "agency_id", None),
        actor_label=(actor_label or (real_actor.email if real_actor else ""))[:254],
        action=action,
        object_type=object_type[:64],
        object_id=str(object_id)[:64],
        ip_address=context.ip_address if context else None,
        user_agent=context.user_agent if context else "",
        detail=_clip(detail or {}),
    )
