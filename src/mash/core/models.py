from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from mash.core.clock import Duration, DurationUnit, WorkingCalendar


class Hub(models.Model):
    """The hub's own settings: one row (pk=1)."""

    name = models.CharField(max_length=120, default="Multi-Agency Safeguarding Hub")
    local_authority_name = models.CharField(max_length=120, blank=True)
    la_code = models.CharField(
        "local authority code",
        max_length=3,
        blank=True,
        help_text="The Department for Education's 3-digit code for the local authority.",
    )
    # The postcode areas or districts the hub covers ("NM1 NM2 NX"): a child living
    # there is the hub's own; anyone else's is another authority's responsibility.
    postcode_areas = models.CharField(max_length=500, blank=True)

    # How long agencies have to answer, per RAG rating (see core/clock.py).
    urgent_amount = models.PositiveSmallIntegerField(default=4)
    urgent_unit = models.CharField(
        max_length=16, choices=DurationUnit.choices, default=DurationUnit.CLOCK_HOURS
    )
    red_amount = models.PositiveSmallIntegerField(default=4)
    red_unit = models.CharField(
        max_length=16, choices=DurationUnit.choices, default=DurationUnit.CLOCK_HOURS
    )
    amber_amount = models.PositiveSmallIntegerField(default=24)
    amber_unit = models.CharField(
        max_length=16, choices=DurationUnit.choices, default=DurationUnit.CLOCK_HOURS
    )
    green_amount = models.PositiveSmallIntegerField(default=48)
    green_unit = models.CharField(
        max_length=16, choices=DurationUnit.choices, default=DurationUnit.CLOCK_HOURS
    )
    # When working time counts: weekdays as digits (Monday is 0), opening hours
    # in Europe/London, and whether England and Wales bank holidays are closed.
    working_weekdays = models.CharField(max_length=7, default="01234")
    opens_at = models.TimeField(default=dt.time(9, 0))
    closes_at = models.TimeField(default=dt.time(17, 0))
    skip_bank_holidays = models.BooleanField(default=True)
    # The wall board shows this many seconds per page when rows do not fit.
    board_page_seconds = models.PositiveSmallIntegerField(default=20)

    class Meta:
        verbose_name = "hub"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> Hub:
        hub, _ = cls.objects.get_or_create(pk=1)
        return hub

    def duration_for(self, rag: str) -> Duration:
        """The clock an agency request gets for a RAG rating."""
        if rag not in {"urgent", "red", "amber", "green"}:
            raise ValueError(f"Unknown RAG rating {rag!r}")
        return Duration(getattr(self, f"{rag}_amount"), getattr(self, f"{rag}_unit"))

    def calendar(self) -> WorkingCalendar:
        """The hub's working time, with its closure days."""
        return WorkingCalendar(
            weekdays=frozenset(int(d) for d in self.working_weekdays),
            opens=self.opens_at,
            closes=self.closes_at,
            closures=frozenset(ClosureDay.objects.values_list("day", flat=True)),
            bank_holidays=self.skip_bank_holidays,
        )


class ClosureDay(models.Model):
    """A day the hub is closed beyond weekends and bank holidays (working time skips it)."""

    day = models.DateField(unique=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("day",)

    def __str__(self) -> str:
        return f"{self.day:%d %B %Y} {self.description}".strip()


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be changed.")


class AuditEvent(models.Model):
    """Who did what to which object, when and from where. Append-only.

    Written only by mash.core.audit.record(); the database refuses updates
    and deletes (see the migration's triggers).
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    actor_agency = models.ForeignKey(
        "accounts.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # What the actor was called at the time (an email address, a board
    # screen's name, or the address tried at a failed sign-in).
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes: ClassVar = [
            models.Index(fields=["action", "occurred_at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")


class Team(models.Model):
    """A team in the hub that an enquiry is allocated to (screens can show one team)."""

    name = models.CharField(max_length=80, unique=True)
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(Lower("name"), name="core_team_name_unique_any_case"),
        ]

    def __str__(self) -> str:
        return self.name


class NotificationKind(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    OVERDUE = "overdue", "Overdue"


class Notification(models.Model):
    """A message in someone's notifications list, linking to what it is about."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=200)
    # What raised it, so the same event never notifies the same person twice.
    key = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "key"], name="core_notification_once"),
        ]
        indexes: ClassVar = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message


class LocalAuthority(models.Model):
    """An English local authority, by the Department for Education's 3-digit code."""

    code = models.CharField(max_length=3, unique=True)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "local authorities"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
