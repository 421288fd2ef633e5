"""Notification quality and the day's figures: marking a poor notification, the report, today.

Marking goes through `mark_quality` (a service: permission, one transaction, audit);
the report and today's figures are selectors that return aggregates only, never names.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from mash.contacts.models import PoliceNotification, QualityIssue, TriageOutcome
from mash.core import audit, clock
from mash.core.concurrency import bump, lock

if TYPE_CHECKING:
    from mash.accounts.models import User

MAX_QUALITY_NOTE = 2_000
MONTH_CHOICES = (3, 6, 12, 24)
DEFAULT_MONTHS = 6
NO_TEAM = "Team not given"


@transaction.atomic
def mark_quality(
    *,
    actor: User,
    notification: PoliceNotification,
    issue: str,
    note: str,
    expected_version: int | None = None,
) -> PoliceNotification:
    """Marks a notification as saying too little (or clears the mark with issue ""), audited."""
    if not actor.has_perm("contacts.triage_police"):
        raise PermissionDenied
    note = note.strip()
    errors: dict[str, list[str]] = {}
    if issue and issue not in QualityIssue.values:
        errors["issue"] = ["Choose what the notification is missing from the list"]
    if issue == QualityIssue.OTHER and not note:
        errors["note"] = ["Enter a note saying what the notification is missing"]
    if len(note) > MAX_QUALITY_NOTE:
        errors["note"] = [f"The note must be {MAX_QUALITY_NOTE:,} characters or fewer"]
    if errors:
        raise ValidationError(errors)
    notification = lock(PoliceNotification.objects.all(), notification.pk, expected_version)
    previous = notification.quality_issue
    if issue:
        notification.quality_issue, notification.quality_note = issue, note
    else:
        notification.quality_issue, notification.quality_note = "", ""
    notification.quality_marked_at, notification.quality_marked_by = clock.now(), actor
    bump(notification, "quality_issue", "quality_note", "quality_marked_at", "quality_marked_by")
    audit.record(
        action="contacts.police_notification_quality_marked",
        actor=actor,
        obj=notification,
        detail={"issue": issue, "previous": previous, "cleared": not issue},
    )
    return notification


# --- The quality report ----------------------------------------------------------------------


def _first_of_month(day: dt.date, back: int = 0) -> dt.date:
    """The first day of the month `back` months before the one `day` is in."""
    index = day.year * 12 + (day.month - 1) - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _points(value: float) -> str:
    rounded = round(value)
    return f"{abs(rounded)} point{'' if abs(rounded) == 1 else 's'}"


@dataclass(frozen=True)
class TeamMonth:
    """One police team's notifications in one month, and how many were marked poor."""

    team: str
    month: dt.date  # the first of the month, in London
    received: int
    poor: int
    previous_received: int
    previous_poor: int

    @property
    def share(self) -> float | None:
        """The share marked poor, as a percentage (None when nothing was received)."""
        return 100 * self.poor / self.received if self.received else None

    @property
    def previous_share(self) -> float | None:
        return 100 * self.previous_poor / self.previous_received if self.previous_received else None

    @property
    def change(self) -> float | None:
        """The change in share since the month before, in percentage points."""
        if self.share is None or self.previous_share is None:
            return None
        return self.share - self.previous_share

    @property
    def share_text(self) -> str:
        return "" if self.share is None else f"{round(self.share)}%"

    @property
    def trend(self) -> str:
        """The change in words: "up 5 points", "down 2 points", "no change"."""
        if self.share is None:
            return "No notifications"
        if self.previous_share is None:
            return "No notifications the month before"
        change = self.change or 0.0
        if round(change) == 0:
            return "No change"
        return f"{'Up' if change > 0 else 'Down'} {_points(change)}"


@dataclass(frozen=True)
class QualityReport:
    months: list[dt.date]  # oldest first
    teams: list[str]
    rows: list[TeamMonth]  # by team, then month
    totals: list[TeamMonth]  # all teams, by month

    def by_team(self) -> list[tuple[str, list[TeamMonth]]]:
        per = len(self.months)
        return [(team, self.rows[i * per : (i + 1) * per]) for i, team in enumerate(self.teams)]

    def chart(self) -> dict[str, object]:
        """What the chart draws: the share marked poor per team and month (the table's data)."""

        def series(rows: list[TeamMonth]) -> list[float | None]:
            return [None if r.share is None else round(r.share, 1) for r in rows]

        return {
            "labels": [f"{m:%b %Y}" for m in self.months],
            "datasets": [
                {"label": "All teams", "data": series(self.totals)},
                *({"label": team, "data": series(rows)} for team, rows in self.by_team()),
            ],
        }


def _month(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return clock.localtime(value).date().replace(day=1)
    return value.replace(day=1)


def _team_key(team: str) -> str:
    return " ".join(team.split()).casefold()


def quality_report(*, user: User, months: int = DEFAULT_MONTHS) -> QualityReport:
    """Per police team and month: received, marked poor, share and trend. Counts only, no names.

    One query, whatever the number of teams or notifications.
    """
    if not user.has_perm("contacts.police_quality_report"):
        raise PermissionDenied
    months = months if months in MONTH_CHOICES else DEFAULT_MONTHS
    today = clock.localtime(clock.now()).date()
    shown = [_first_of_month(today, back) for back in range(months - 1, -1, -1)]
    # The month before the first shown, for the first month's trend.
    since = dt.datetime.combine(_first_of_month(shown[0], 1), dt.time(), tzinfo=clock.LONDON)
    counts = (
        PoliceNotification.objects.filter(received_at__gte=since)
        .annotate(month=TruncMonth("received_at", tzinfo=clock.LONDON))
        .values("officer_team", "month")
        .annotate(received=Count("pk"), poor=Count("pk", filter=~Q(quality_issue="")))
        .order_by()
    )
    # Teams are typed by officers: "Riverton Response" and "riverton  response" are one team.
    cells: dict[tuple[str, dt.date], list[int]] = {}
    spellings: dict[str, Counter[str]] = {}
    for row in counts:
        name = " ".join(str(row["officer_team"] or "").split())
        key = _team_key(name)
        spellings.setdefault(key, Counter())[name or NO_TEAM] += row["received"]
        month = _month(row["month"])
        cell = cells.setdefault((key, month), [0, 0])
        cell[0] += row["received"]
        cell[1] += row["poor"]
    names = {key: counter.most_common(1)[0][0] for key, counter in spellings.items()}
    keys = sorted(names, key=lambda k: (k == "", names[k].casefold()))

    def team_months(key: str | None, team: str) -> list[TeamMonth]:
        def cell(month: dt.date) -> list[int]:
            if key is not None:
                return cells.get((key, month), [0, 0])
            found = [v for (_, m), v in cells.items() if m == month]
            return [sum(v[0] for v in found), sum(v[1] for v in found)]

        result = []
        for month in shown:
            now_, before = cell(month), cell(_first_of_month(month, 1))
            result.append(TeamMonth(team, month, now_[0], now_[1], before[0], before[1]))
        return result

    per_team = [(names[key], team_months(key, names[key])) for key in keys]
    # A team seen only in the month before the first shown has nothing to show.
    per_team = [(team, rows) for team, rows in per_team if any(r.received for r in rows)]
    return QualityReport(
        months=shown,
        teams=[team for team, _ in per_team],
        rows=[r for _, rows in per_team for r in rows],
        totals=team_months(None, "All teams"),
    )


# --- Today's screen --------------------------------------------------------------------------


def waited(delta: dt.timedelta) -> str:
    """How long something has waited, in words: "2 days 3 hours", "45 minutes"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute")


@dataclass(frozen=True)
class Today:
    day: dt.date
    received: int
    screened: int
    progressed: int
    waiting: int
    by_outcome: dict[str, int]
    oldest: PoliceNotification | None
    oldest_waited: str


def today(*, user: User) -> Today:
    """The day's figures for the triage queue (the hub's day, in London). Two queries."""
    if not user.has_perm("contacts.triage_police"):
        raise PermissionDenied
    now = clock.now()
    day = clock.localtime(now).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=clock.LONDON)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=clock.LONDON)
    screened_today = Q(triaged_at__gte=start, triaged_at__lt=end) & ~Q(outcome="")
    outcomes = {
        f"outcome_{value}": Count("pk", filter=screened_today & Q(outcome=value))
        for value in TriageOutcome.values
    }
    figures = PoliceNotification.objects.aggregate(
        received=Count("pk", filter=Q(received_at__gte=start, received_at__lt=end)),
        screened=Count("pk", filter=screened_today),
        waiting=Count("pk", filter=Q(outcome="")),
        **outcomes,
    )
    oldest = (
        PoliceNotification.objects.filter(outcome="")
        .order_by("received_at", "id")
        .only("pk", "received_at", "occurrence_reference", "force__name")
        .select_related("force")
        .first()
    )
    by_outcome = {value: figures[f"outcome_{value}"] for value in TriageOutcome.values}
    return Today(
        day=day,
        received=figures["received"],
        screened=figures["screened"],
        progressed=by_outcome[TriageOutcome.PROGRESS_CONTACT],
        waiting=figures["waiting"],
        by_outcome=by_outcome,
        oldest=oldest,
        oldest_waited=waited(now - oldest.received_at) if oldest else "",
    )
