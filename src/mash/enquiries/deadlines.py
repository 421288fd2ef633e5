"""The deadline engine: reminders at 75% of a request's time, escalation at the deadline.

`sweep()` raises every alert that is due and not yet raised. It is safe to run
twice, after a restart, or in two workers at once: each alert is a row with a
unique (request, kind, clock) key inserted in the same transaction as its
notifications, so a second run's insert fails and notifies nobody. Re-rating
restarts a request's clock (a new key, so the new clock gets its own alerts);
answering takes the request out of the sweep, so nothing more is sent for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django_tasks import task

from mash.accounts.models import Role, User
from mash.core import audit, clock
from mash.core.models import Hub, Notification, NotificationKind
from mash.enquiries.models import (
    OPEN_STATUSES,
    AgencyRequest,
    AlertKind,
    RequestAlert,
    RequestStatus,
)

log = logging.getLogger(__name__)
REMINDER_SHARE = 0.75


def reminder_time(
    start: dt.datetime, due: dt.datetime, duration: clock.Duration, calendar: clock.WorkingCalendar
) -> dt.datetime:
    """When 75% of a clock has run, counted the same way as the clock."""
    return clock.fraction_point(start, due, REMINDER_SHARE, duration, calendar)


@dataclass
class SweepResult:
    reminders: int = 0
    overdue: int = 0


def _already_raised(kind: str) -> Exists:
    return Exists(
        RequestAlert.objects.filter(
            request=OuterRef("pk"), kind=kind, clock_started_at=OuterRef("clock_started_at")
        )
    )


def _due(now: dt.datetime) -> tuple[QuerySet[AgencyRequest], QuerySet[AgencyRequest]]:
    pending = AgencyRequest.objects.filter(
        status=RequestStatus.PENDING, enquiry__status__in=OPEN_STATUSES
    ).select_related("agency", "enquiry")
    overdue = pending.filter(deadline_at__lte=now).exclude(_already_raised(AlertKind.OVERDUE))
    reminders = pending.filter(reminder_at__lte=now, deadline_at__gt=now).exclude(
        _already_raised(AlertKind.REMINDER)
    )
    return reminders.order_by("reminder_at", "pk"), overdue.order_by("deadline_at", "pk")


def sweep() -> SweepResult:
    """Raises every reminder and overdue escalation now due; returns how many were raised."""
    now = clock.now()
    result = SweepResult()
    reminders, overdue = _due(now)
    for request in overdue:
        if _raise(request, AlertKind.OVERDUE):
            result.overdue += 1
    for request in reminders:
        if _raise(request, AlertKind.REMINDER):
            result.reminders += 1
    return result


def _recipients(request: AgencyRequest, kind: str) -> list[User]:
    active = User.objects.filter(is_active=True)
    if kind == AlertKind.REMINDER:
        return list(
            active.filter(
                agency_id=request.agency_id, role_grants__role=Role.AGENCY_PRACTITIONER
            ).distinct()
        )
    leads = active.filter(agency_id=request.agency_id, is_agency_lead=True)
    managers = active.filter(role_grants__role=Role.HUB_MANAGER)
    return list((leads | managers).distinct())


def _still_due(request: AgencyRequest, kind: str, now: dt.datetime) -> AgencyRequest | None:
    """The request as it is now (row locked), if this alert is still due for its clock.

    The sweep lists what is due and then raises alerts one by one: an answer or a
    re-rating committed in between must cancel the alert, not follow it.
    """
    current = (
        AgencyRequest.objects.select_for_update(of=("self",))
        .select_related("agency", "enquiry")
        .filter(
            pk=request.pk,
            status=RequestStatus.PENDING,
            enquiry__status__in=OPEN_STATUSES,
            clock_started_at=request.clock_started_at,
        )
        .first()
    )
    if current is None:
        return None
    if kind == AlertKind.OVERDUE:
        return current if current.deadline_at <= now else None
    reminder_at = current.reminder_at
    return current if reminder_at is not None and reminder_at <= now < current.deadline_at else None


def _raise(request: AgencyRequest, kind: str) -> bool:
    """Raises one alert in its own transaction; False when it is no longer due or already raised."""
    try:
        with transaction.atomic():
            current = _still_due(request, kind, clock.now())
            if current is None:
                return False
            request = current
            RequestAlert.objects.create(
                request=request,
                kind=kind,
                clock_started_at=request.clock_started_at,
                raised_at=clock.now(),
            )
            _notify(request, kind)
    except IntegrityError:
        return False
    return True


def _notify(request: AgencyRequest, kind: str) -> None:
    enquiry, agency = request.enquiry, request.agency
    due = clock.localtime(request.deadline_at).strftime("%H:%M on %-d %B")
    if kind == AlertKind.REMINDER:
        message = (
            f"Reminder: {enquiry.reference} ({enquiry.get_rag_display()}) needs "
            f"{agency.name}'s answer by {due}."
        )
    else:
        message = (
            f"OVERDUE: {agency.name} has not answered {enquiry.reference} "
            f"({enquiry.get_rag_display()}); it was due at {due}."
        )
    key = f"request:{request.pk}:{kind}:{request.clock_started_at.isoformat()}"
    notifications = []
    for user in _recipients(request, kind):
        link = (
            reverse("enquiries:request", args=[request.pk])
            if user.agency_id == agency.pk and not user.has_role(Role.HUB_MANAGER)
            else reverse("enquiries:detail", args=[enquiry.pk])
        )
        notifications.append(
            Notification(
                user=user,
                kind=NotificationKind.REMINDER
                if kind == AlertKind.REMINDER
                else NotificationKind.OVERDUE,
                message=message,
                link=link,
                key=key,
                created_at=clock.now(),
            )
        )
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    if kind == AlertKind.REMINDER and agency.shared_inbox:
        send_email.enqueue(
            to=agency.shared_inbox,
            subject=f"Reminder: MASH enquiry {enquiry.reference} needs your answer by {due}",
            body=(
                f"{message}\n\nSign in to {settings.MASH_SERVICE_NAME} to answer:\n"
                f"{settings.MASH_BASE_URL}{reverse('enquiries:request', args=[request.pk])}\n"
            ),
        )
    audit.record(
        action=f"enquiries.request_{kind}",
        actor=None,
        actor_label="system",
        obj=request,
        detail={"enquiry": enquiry.pk, "agency": agency.pk, "notified": len(notifications)},
    )


EMAIL_ATTEMPTS = 6


@task()
def send_email(*, to: str, subject: str, body: str, attempt: int = 1) -> None:
    """Sends one email (queued in the transaction that decided to send it).

    If the mail server is unreachable it tries again later, waiting 5, 10, 15...
    minutes, up to EMAIL_ATTEMPTS times; each failure is logged.
    """
    from django.core.mail import send_mail

    try:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
    except Exception:
        if attempt >= EMAIL_ATTEMPTS:
            log.exception("email to %s failed %s times; giving up", to, attempt)
            return
        log.warning(
            "email to %s failed (attempt %s); trying again later", to, attempt, exc_info=True
        )
        send_email.using(run_after=clock.now() + dt.timedelta(minutes=5 * attempt)).enqueue(
            to=to, subject=subject, body=body, attempt=attempt + 1
        )


@task()
def sweep_now() -> None:
    """Enqueued to run at a reminder or deadline moment; the minute sweep is the safety net."""
    result = sweep()
    if result.reminders or result.overdue:
        log.info("deadline sweep: %s reminders, %s overdue", result.reminders, result.overdue)


def schedule(moments: list[dt.datetime]) -> None:
    """Asks the worker to sweep at each of these moments (called when clocks start)."""
    for moment in sorted(set(moments)):
        sweep_now.using(run_after=moment).enqueue()


def calendar() -> clock.WorkingCalendar:
    return Hub.load().calendar()
