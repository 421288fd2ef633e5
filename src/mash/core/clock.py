"""Every deadline in the hub is computed here.

Times are timezone-aware. Arithmetic is done in UTC (Python subtracts two
datetimes that share a tzinfo by wall clock, which is wrong across the
clock changes); working hours are read in the hub's local time
(Europe/London). "Clock hours" are elapsed hours, nights and weekends
included; "working hours" and "working days" count only the hub's working
time, skipping England and Wales bank holidays and the hub's own closure days.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db import models
from django.utils import timezone

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")

_frozen_now: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar(
    "mash_clock_now", default=None
)


def now() -> dt.datetime:
    """The current time; the demo and imports may set it with `at()`."""
    return _frozen_now.get() or timezone.now()


@contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Runs a block as if it were `moment` (for seeding history through the services)."""
    if moment.tzinfo is None:
        raise ValueError("clock.at() needs a timezone-aware datetime")
    token = _frozen_now.set(moment)
    try:
        yield
    finally:
        _frozen_now.reset(token)


class DurationUnit(models.TextChoices):
    CLOCK_HOURS = "clock_hours", "clock hours"
    WORKING_HOURS = "working_hours", "working hours"
    WORKING_DAYS = "working_days", "working days"


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str = DurationUnit.CLOCK_HOURS

    def __str__(self) -> str:
        label = DurationUnit(self.unit).label
        if self.amount == 1:
            label = label.replace("hours", "hour").replace("days", "day")
        return f"{self.amount} {label}"

    @property
    def counts_working_time(self) -> bool:
        return self.unit != DurationUnit.CLOCK_HOURS


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


@dataclass(frozen=True)
class WorkingCalendar:
    """When the hub counts working time."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(17, 0)
    closures: frozenset[dt.date] = field(default_factory=frozenset)
    bank_holidays: bool = True
    tz: ZoneInfo = LONDON

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("The working day must open before it closes")
        if not self.weekdays:
            raise ValueError("At least one working weekday is needed")

    def is_working_day(self, day: dt.date) -> bool:
        if day.weekday() not in self.weekdays or day in self.closures:
            return False
        return not (self.bank_holidays and day in _bank_holidays(day.year))

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The working window of a day, in UTC."""
        opens = dt.datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)
        closes = dt.datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)
        return opens, closes

    @property
    def day_length(self) -> dt.timedelta:
        today = dt.date(2001, 1, 1)
        return dt.datetime.combine(today, self.closes) - dt.datetime.combine(today, self.opens)

    def is_working_time(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.tz)
        if not self.is_working_day(local.date()):
            return False
        opens, closes = self.window(local.date())
        return opens <= moment.astimezone(UTC) < closes


DEFAULT_CALENDAR = WorkingCalendar()
# Searching further than this for working time means the calendar has none.
_MAX_DAYS = 3 * 366


def add_working_time(
    start: dt.datetime, amount: dt.timedelta, calendar: WorkingCalendar
) -> dt.datetime:
    """The moment when `amount` of working time has passed after `start`."""
    _require_aware(start)
    remaining = amount
    cursor = start.astimezone(UTC)
    if remaining <= dt.timedelta(0):
        return cursor
    day = cursor.astimezone(calendar.tz).date()
    for _ in range(_MAX_DAYS):
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += dt.timedelta(days=1)
        cursor = max(
            cursor, dt.datetime.combine(day, dt.time.min, tzinfo=calendar.tz).astimezone(UTC)
        )
    raise ValueError("No working time found within three years: check the hub's calendar")


def working_time_between(
    start: dt.datetime, end: dt.datetime, calendar: WorkingCalendar
) -> dt.timedelta:
    """Working time in [start, end); negative when end is before start."""
    _require_aware(start)
    _require_aware(end)
    if end < start:
        return -working_time_between(end, start, calendar)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = dt.timedelta(0)
    day = start.astimezone(calendar.tz).date()
    last = end.astimezone(calendar.tz).date()
    while day <= last:
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            begin, finish = max(start, opens), min(end, closes)
            if begin < finish:
                total += finish - begin
        day += dt.timedelta(days=1)
    return total


def deadline(start: dt.datetime, duration: Duration, calendar: WorkingCalendar) -> dt.datetime:
    """When a clock started at `start` for `duration` runs out (in UTC)."""
    _require_aware(start)
    if duration.unit == DurationUnit.CLOCK_HOURS:
        return start.astimezone(UTC) + dt.timedelta(hours=duration.amount)
    if duration.unit == DurationUnit.WORKING_HOURS:
        return add_working_time(start, dt.timedelta(hours=duration.amount), calendar)
    if duration.unit == DurationUnit.WORKING_DAYS:
        return add_working_time(start, calendar.day_length * duration.amount, calendar)
    raise ValueError(f"Unknown duration unit {duration.unit!r}")


def fraction_point(
    start: dt.datetime,
    end: dt.datetime,
    fraction: float,
    duration: Duration,
    calendar: WorkingCalendar,
) -> dt.datetime:
    """The moment a share of the clock has run (counted the way the clock counts)."""
    if not duration.counts_working_time:
        return start.astimezone(UTC) + (end - start) * fraction
    whole = working_time_between(start, end, calendar)
    return add_working_time(start, whole * fraction, calendar)


@dataclass(frozen=True)
class TimeLeft:
    remaining: dt.timedelta  # negative once overdue
    counts_working_time: bool
    paused: bool  # working time, and the hub is closed now

    @property
    def overdue(self) -> bool:
        return self.remaining <= dt.timedelta(0)

    def __str__(self) -> str:
        if self.overdue:
            return f"OVERDUE by {_format(-self.remaining)}"
        text = f"{_format(self.remaining)} left"
        if self.counts_working_time:
            text += (
                " (working time; paused until the hub opens)" if self.paused else " (working time)"
            )
        return text


def time_left(
    deadline_at: dt.datetime,
    duration: Duration,
    calendar: WorkingCalendar,
    at_: dt.datetime | None = None,
) -> TimeLeft:
    """Time left on a clock, counted the same way its deadline was set."""
    moment = at_ or now()
    if not duration.counts_working_time or moment >= deadline_at:
        return TimeLeft(deadline_at - moment, duration.counts_working_time, paused=False)
    return TimeLeft(
        working_time_between(moment, deadline_at, calendar),
        counts_working_time=True,
        paused=not calendar.is_working_time(moment),
    )


def _format(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Deadlines need timezone-aware datetimes")


def localtime(moment: dt.datetime) -> dt.datetime:
    """A moment in the hub's time zone (Europe/London), for messages."""
    return moment.astimezone(LONDON)
