"""core.clock against a simple minute-by-minute reference, and named cases."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mash.core import clock
from mash.core.clock import LONDON, UTC, Duration, WorkingCalendar


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def reference_deadline(start: dt.datetime, minutes: int, cal: WorkingCalendar) -> dt.datetime:
    """Walk a minute at a time, counting minutes whose start is working time."""
    t = start.astimezone(UTC)
    remaining = minutes
    while remaining > 0:
        if cal.is_working_time(t):
            remaining -= 1
        t += dt.timedelta(minutes=1)
    return t


def reference_between(start: dt.datetime, end: dt.datetime, cal: WorkingCalendar) -> int:
    t, total = start.astimezone(UTC), 0
    while t < end:
        if cal.is_working_time(t):
            total += 1
        t += dt.timedelta(minutes=1)
    return total


# Start times around the clock changes, bank holidays and ordinary weeks.
ANCHORS = [
    london(2026, 3, 27, 12),  # the Friday before the March change
    london(2026, 10, 23, 12),  # the Friday before the October change
    london(2026, 12, 22, 12),  # Christmas and Boxing Day (observed) 2026
    london(2026, 4, 1, 12),  # Easter 2026
    london(2027, 8, 25, 12),  # an ordinary late-summer week
]

starts = st.builds(
    lambda anchor, minutes: anchor.astimezone(UTC) + dt.timedelta(minutes=minutes),
    st.sampled_from(ANCHORS),
    st.integers(min_value=-3 * 24 * 60, max_value=4 * 24 * 60),
)
calendars = st.builds(
    lambda days, opens, length, closures, bank: WorkingCalendar(
        weekdays=frozenset(days),
        opens=dt.time(opens // 60, opens % 60),
        closes=dt.time((opens + length) // 60, (opens + length) % 60),
        closures=frozenset(closures),
        bank_holidays=bank,
    ),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(min_value=0, max_value=12 * 60).map(lambda m: m - m % 15),
    st.integers(min_value=60, max_value=11 * 60).map(lambda m: m - m % 15),
    st.lists(st.dates(dt.date(2026, 3, 20), dt.date(2027, 9, 10)), max_size=4),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(start=starts, minutes=st.integers(min_value=0, max_value=3 * 8 * 60), cal=calendars)
def test_working_deadline_matches_minute_by_minute_reference(start, minutes, cal):
    got = clock.add_working_time(start, dt.timedelta(minutes=minutes), cal)
    assert got == reference_deadline(start, minutes, cal)
    assert got.tzinfo is not None


@settings(max_examples=40, deadline=None)
@given(start=starts, span=st.integers(min_value=0, max_value=4 * 24 * 60), cal=calendars)
def test_working_time_between_matches_reference(start, span, cal):
    end = start + dt.timedelta(minutes=span)
    got = clock.working_time_between(start, end, cal)
    assert got == dt.timedelta(minutes=reference_between(start, end, cal))


@settings(max_examples=40, deadline=None)
@given(start=starts, hours=st.integers(min_value=0, max_value=72))
def test_clock_hours_are_elapsed_hours_across_the_changes(start, hours):
    got = clock.deadline(start, Duration(hours, "clock_hours"), clock.DEFAULT_CALENDAR)
    assert (got - start.astimezone(UTC)).total_seconds() == hours * 3600


def test_friday_1630_amber_one_working_day_ends_monday_1630():
    start = london(2026, 11, 20, 16, 30)
    got = clock.deadline(start, Duration(1, "working_days"), clock.DEFAULT_CALENDAR)
    assert got.astimezone(LONDON) == london(2026, 11, 23, 16, 30)


def test_friday_1630_amber_24_clock_hours_ends_saturday_1630():
    start = london(2026, 11, 20, 16, 30)
    got = clock.deadline(start, Duration(24, "clock_hours"), clock.DEFAULT_CALENDAR)
    assert got.astimezone(LONDON) == london(2026, 11, 21, 16, 30)


def test_red_at_2300_on_the_saturday_before_the_october_change():
    # 23:00 BST is 22:00 UTC; four real hours later is 02:00 UTC, which is
    # 02:00 GMT because the clocks went back at 02:00 BST.
    start = london(2026, 10, 24, 23, 0)
    got = clock.deadline(start, Duration(4, "clock_hours"), clock.DEFAULT_CALENDAR)
    assert got == dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert got.astimezone(LONDON).strftime("%H:%M %Z") == "02:00 GMT"


def test_red_at_2330_before_the_march_change_skips_the_missing_hour():
    start = london(2026, 3, 28, 23, 30)  # GMT
    got = clock.deadline(start, Duration(4, "clock_hours"), clock.DEFAULT_CALENDAR)
    assert got.astimezone(LONDON) == london(2026, 3, 29, 4, 30)  # BST: 4 real hours


def test_working_days_skip_christmas_and_observed_boxing_day():
    start = london(2026, 12, 24, 16, 0)
    got = clock.deadline(start, Duration(3, "working_days"), clock.DEFAULT_CALENDAR)
    # 24th: 1h; 25th, 26th (Sat), 27th (Sun), 28th (Boxing Day observed) closed;
    # 29th: 8h; 30th: 8h; 31st: 7h -> 16:00.
    assert got.astimezone(LONDON) == london(2026, 12, 31, 16, 0)


def test_hub_closure_days_are_skipped():
    cal = WorkingCalendar(closures=frozenset({dt.date(2026, 11, 23)}))
    got = clock.deadline(london(2026, 11, 20, 16, 30), Duration(1, "working_days"), cal)
    assert got.astimezone(LONDON) == london(2026, 11, 24, 16, 30)


def test_time_left_in_working_time_pauses_outside_hours_and_says_so():
    start = london(2026, 11, 20, 16, 30)
    duration = Duration(1, "working_days")
    due = clock.deadline(start, duration, clock.DEFAULT_CALENDAR)
    saturday = london(2026, 11, 21, 12, 0)
    left = clock.time_left(due, duration, clock.DEFAULT_CALENDAR, saturday)
    assert left.remaining == dt.timedelta(hours=7, minutes=30)
    assert left.paused
    assert "paused" in str(left)
    monday = london(2026, 11, 23, 10, 0)
    left = clock.time_left(due, duration, clock.DEFAULT_CALENDAR, monday)
    assert left.remaining == dt.timedelta(hours=6, minutes=30)
    assert not left.paused


def test_time_left_overdue_says_overdue():
    due = london(2026, 11, 20, 12, 0)
    left = clock.time_left(due, Duration(4), clock.DEFAULT_CALENDAR, london(2026, 11, 20, 13, 5))
    assert left.overdue
    assert str(left) == "OVERDUE by 1h 5m"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.deadline(dt.datetime(2026, 1, 1, 9), Duration(4), clock.DEFAULT_CALENDAR)  # noqa: DTZ001


def test_a_calendar_with_no_working_time_is_refused():
    with pytest.raises(ValueError, match="open before"):
        WorkingCalendar(opens=dt.time(17), closes=dt.time(9))


def test_clock_at_sets_now_for_a_block():
    moment = london(2025, 1, 6, 10, 0)
    with clock.at(moment):
        assert clock.now() == moment
    assert clock.now() != moment
