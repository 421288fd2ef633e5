"""Reads for the core app, narrowed to what the user may see."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from mash.core.models import AuditEvent

if TYPE_CHECKING:
    from mash.accounts.models import Agency, User


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(
    *,
    user: User,
    actor: str = "",
    agency: Agency | None = None,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events matching the filters, newest first; only for those allowed to search the log."""
    if not user.has_perm("core.view_audit_log"):
        raise PermissionDenied
    events = AuditEvent.objects.select_related("actor", "actor_agency").order_by(
        "-occurred_at", "-id"
    )
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if agency is not None:
        events = events.filter(actor_agency=agency)
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if date_from:
        events = events.filter(occurred_at__gte=_start_of_day(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_start_of_day(date_to + dt.timedelta(days=1)))
    return events


def audit_actions() -> list[str]:
    """Every action name the log holds, for the search form's list."""
    return list(AuditEvent.objects.order_by().values_list("action", flat=True).distinct())
