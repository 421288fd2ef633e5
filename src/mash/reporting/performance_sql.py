"""SQL pieces for the performance figures, for PostgreSQL and SQLite alike.

Everything here runs in the database: moments as epoch seconds, London calendar
days as day numbers, the hub's working calendar as a small inline table (one row
per day in range, built with mash.core.clock), and percentiles: PostgreSQL's
`percentile_cont`, and on SQLite (which has none) the same interpolation over the
values' ranks from window functions. Nothing here loads case rows into Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import (
    Case,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    QuerySet,
    Value,
    When,
)

from mash.core import clock

# Day numbers count from Monday 1 January 1900, so day // 7 is a Monday-based week.
DAY_ZERO = dt.date(1900, 1, 1)


def day_number(day: dt.date) -> int:
    return (day - DAY_ZERO).days


def day_of(number: int) -> dt.date:
    return DAY_ZERO + dt.timedelta(days=number)


def _unsupported(*_args: Any, **_kwargs: Any) -> Any:
    raise NotSupportedError("The performance figures run on PostgreSQL or SQLite only")


class Epoch(Func):
    """A moment as seconds since 1970 (UTC), as a float."""

    arity = 1
    output_field = FloatField()
    as_sql = _unsupported

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return Func.as_sql(
            self,
            compiler,
            connection,
            # date_part gives a double; EXTRACT gives numeric, slower to compute with.
            template="date_part('epoch', %(expressions)s)",
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # julianday() keeps about 50 microseconds of precision: round to the second.
        return Func.as_sql(
            self,
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
        )


class _DayOfEpoch(Func):
    """Seconds since 1970 (already shifted to local time) as a day number (see DAY_ZERO)."""

    arity = 1
    output_field = IntegerField()
    # 25567 days from 1 January 1900 to 1 January 1970. SQLite's CAST truncates, which is
    # the floor for the positive numbers here; PostgreSQL's rounds, so it floors first.
    template = "(CAST((%(expressions)s) / 86400.0 AS INTEGER) + 25567)"

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = "(CAST(floor((%(expressions)s) / 86400.0) AS integer) + 25567)"
        return Func.as_sql(self, compiler, connection, template=template)


@lru_cache(maxsize=64)
def _summer_time(year: int) -> tuple[dt.datetime, dt.datetime] | None:
    """When British Summer Time starts and ends in `year` (UTC), from the time zone data."""
    changes = []
    for month in (3, 10):
        moment = dt.datetime(year, month, 1, tzinfo=dt.UTC)
        offset = moment.astimezone(clock.LONDON).utcoffset()
        while moment.month == month:
            moment += dt.timedelta(hours=1)
            now = moment.astimezone(clock.LONDON).utcoffset()
            if now != offset:
                changes.append(moment)
                break
    return (changes[0], changes[1]) if len(changes) == 2 else None


def summer_time(first: dt.date, last: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """The spans of British Summer Time (UTC, start included) in the years first to last."""
    spans = (_summer_time(year) for year in range(first.year, last.year + 1))
    return tuple(span for span in spans if span is not None)


def _summer_offset(field: str, summer: Sequence[tuple[dt.datetime, dt.datetime]]) -> Case:
    """3600 (seconds) for a moment inside one of the summer-time spans, else 0. Integers:
    a decimal constant would be NUMERIC on PostgreSQL, converted for every row."""
    return Case(
        *(
            When(**{f"{field}__gte": start, f"{field}__lt": end}, then=Value(3600))
            for start, end in summer
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


def _local_epoch(field: str, summer: Sequence[tuple[dt.datetime, dt.datetime]]) -> Expression:
    shifted = Epoch(field) + _summer_offset(field, summer)
    return ExpressionWrapper(shifted, output_field=FloatField())


def local_day(field: str, summer: Sequence[tuple[dt.datetime, dt.datetime]]) -> Func:
    """The London calendar day of a moment, as a day number (see DAY_ZERO).

    Arithmetic on the moment's epoch seconds, an hour later inside the summer-time spans
    given (summer_time() for the years reported on): cheaper than converting every row's
    time zone, and the same on both databases. Right for moments in those years only;
    the figures use it for nothing else.
    """
    return _DayOfEpoch(_local_epoch(field, summer))


class _WeekOfEpoch(Func):
    """Seconds since 1970 (already shifted to local time) as a week number: the day number
    (see DAY_ZERO) // 7, in one step. 1 January 1970 is day 25,567 = 7 * 3,652 + 3, so the
    week is 3,652 + floor((seconds + 3 days) / 7 days)."""

    arity = 1
    output_field = IntegerField()
    template = "(CAST((%(expressions)s + 259200) / 604800.0 AS INTEGER) + 3652)"

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = "(CAST(floor((%(expressions)s + 259200) / 604800.0) AS integer) + 3652)"
        return Func.as_sql(self, compiler, connection, template=template)


class _WeekAmongStarts(Func):
    """PostgreSQL: a moment's week number, found among the weeks' starts (width_bucket, a
    binary search over an array of moments): no arithmetic on every row."""

    arity = 2
    output_field = IntegerField()
    template = "(width_bucket(%(expressions)s) + %(before)s)"


def week_starts(first: dt.date, last: dt.date) -> list[dt.datetime]:
    """When each Monday-based London week from the one holding `first` to the one holding
    `last` starts (midnight, London time), in UTC."""
    monday = first - dt.timedelta(days=first.weekday())
    starts = []
    while monday <= last:
        midnight = dt.datetime.combine(monday, dt.time.min, tzinfo=clock.LONDON)
        starts.append(midnight.astimezone(dt.UTC))
        monday += dt.timedelta(days=7)
    return starts


def local_week(field: str, first: dt.date, last: dt.date) -> Func:
    """The Monday-based London week of a moment on the London days `first` to `last`, as a
    week number (its day number // 7; see DAY_ZERO). Right for moments in those days only.

    PostgreSQL: the moment's place among the weeks' starts (from the time zone data).
    SQLite (no width_bucket): arithmetic on its epoch seconds, as local_day.
    """
    if connection.vendor == "postgresql":
        starts = week_starts(first, last)
        before = day_number(first - dt.timedelta(days=first.weekday())) // 7 - 1
        return _WeekAmongStarts(F(field), Value(starts), before=before)
    summer = summer_time(first, last + dt.timedelta(days=1))
    return _WeekOfEpoch(_local_epoch(field, summer))


class YearBefore(Func):
    """The same moment a year earlier on the London calendar (29 February: the 28th)."""

    arity = 1
    as_sql = _unsupported

    def __init__(self, expression: Expression | Any, **extra: Any) -> None:
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # PostgreSQL's interval arithmetic already takes 29 February to the 28th.
        return Func.as_sql(
            self,
            compiler,
            connection,
            template=(
                "((%(expressions)s AT TIME ZONE 'Europe/London') - INTERVAL '1 year')"
                " AT TIME ZONE 'Europe/London'"
            ),
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # SQLite keeps UTC text; a year apart the clocks are (but for a few days around
        # the changes) in the same offset, so UTC arithmetic gives the London answer.
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(CASE WHEN substr({sql}, 6, 5) = '02-29' "
            f"THEN datetime({sql}, '-1 year', '-1 day') ELSE datetime({sql}, '-1 year') END)",
            (*params, *params, *params),
        )


def settle_for_reports() -> None:
    """Settings for this transaction's report queries (PostgreSQL; inside an atomic block).

    No JIT: PostgreSQL compiles the larger report queries with LLVM, which took longer
    (seconds) than running them. More sort memory: a period's values sort in memory,
    not on disk. No parallel workers: the dashboard already runs its queries on
    MASH_REPORT_CONNECTIONS connections at once, and workers on top of those only
    contend for the same cores (bench/reports.py ran faster without). SET LOCAL lasts
    only until the transaction ends.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; "
            "SET LOCAL max_parallel_workers_per_gather = 0"
        )


def compiled(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    """A queryset's SQL and parameters, to use as a subquery in hand-written SQL."""
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def greatest(a: str, b: str) -> str:
    name = "GREATEST" if connection.vendor == "postgresql" else "max"
    return f"{name}({a}, {b})"


def least(a: str, b: str) -> str:
    name = "LEAST" if connection.vendor == "postgresql" else "min"
    return f"{name}({a}, {b})"


# --- The hub's working calendar as a table ----------------------------------------------------


def calendar_rows(calendar: clock.WorkingCalendar, first: dt.date, last: dt.date) -> str:
    """Per London day in [first, last]: `(d, cum, op, cl)`: its day number, the working
    seconds in the days before it (from `first`), and its working window in epoch seconds
    (op = cl on a day the hub is closed: weekends, bank holidays, closure days).

    Built with the hub's WorkingCalendar (mash.core.clock), one row per day: bounded by the
    range asked for, not by the number of rows reported on. Only integers are written in.
    """
    rows: list[str] = []
    cumulative = 0
    day = first
    while day <= last:
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            op, cl = int(opens.timestamp()), int(closes.timestamp())
        else:
            midnight = dt.datetime.combine(day, dt.time.min, tzinfo=calendar.tz)
            op = cl = int(midnight.timestamp())
        rows.append(f"({day_number(day)}, {cumulative}, {op}, {cl})")
        cumulative += cl - op
        day += dt.timedelta(days=1)
    if not rows:  # never empty: VALUES needs a row
        rows.append("(-1, 0, 0, 0)")
    return ", ".join(rows)


CALENDAR_TABLE = "mash_report_calendar"


def calendar_table(
    calendar: clock.WorkingCalendar, first: dt.date, last: dt.date
) -> tuple[str, str]:
    """The calendar (see calendar_rows) as a table to join on `d`: (WITH clause body, name).

    PostgreSQL: an inline VALUES list in a WITH clause (it hashes it for the join).
    SQLite: a temporary table keyed by day, this connection's only (three statements),
    because SQLite would scan an inline list once per row joined to it.
    """
    rows = calendar_rows(calendar, first, last)
    if connection.vendor == "postgresql":
        return f"cal(d, cum, op, cl) AS (VALUES {rows})", "cal"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {CALENDAR_TABLE} (d INTEGER PRIMARY KEY, "
            "cum INTEGER NOT NULL, op INTEGER NOT NULL, cl INTEGER NOT NULL)"
        )
        cursor.execute(f"DELETE FROM {CALENDAR_TABLE}")  # noqa: S608 (a constant name)
        cursor.execute(f"INSERT INTO {CALENDAR_TABLE} (d, cum, op, cl) VALUES {rows}")  # noqa: S608
    return "", CALENDAR_TABLE


def _working_seconds_at(moment: str, day: str) -> str:
    """Working seconds from the calendar's first day to `moment`, whose day's row is `day`."""
    return f"({day}.cum + {least(greatest(f'{moment} - {day}.op', '0'), f'{day}.cl - {day}.op')})"


def within_sql(
    duration: clock.Duration,
    calendar: clock.WorkingCalendar,
    *,
    start: str = "b.s",
    end: str = "b.e",
    start_day: str = "cs",
    end_day: str = "ce",
) -> str:
    """A condition: `end` is at or before clock.deadline(start, duration, calendar).

    Clock hours: end - start <= the hours. Working time (with cal joined as `start_day`
    and `end_day` on the two moments' day numbers): the working time between them is
    under the duration, or exactly the duration with `end` inside a working window (the
    deadline itself). A start before the calendar's first day is never within.
    """
    amount = int(duration.amount)
    if duration.unit == clock.DurationUnit.CLOCK_HOURS:
        return f"({end} - {start} <= {amount * 3600})"
    if duration.unit == clock.DurationUnit.WORKING_HOURS:
        allowed = amount * 3600
    elif duration.unit == clock.DurationUnit.WORKING_DAYS:
        allowed = amount * int(calendar.day_length.total_seconds())
    else:
        raise ValueError(f"Unknown duration unit {duration.unit!r}")
    elapsed = f"({_working_seconds_at(end, end_day)} - {_working_seconds_at(start, start_day)})"
    return (
        f"({start_day}.d IS NOT NULL AND {end_day}.d IS NOT NULL AND "
        f"({elapsed} < {allowed} OR ({elapsed} = {allowed} "
        f"AND {end} > {end_day}.op AND {end} <= {end_day}.cl)))"
    )


# --- Counts and percentiles per group in one query --------------------------------------------


def grouped_stats(
    source: tuple[str, Sequence[Any]],
    *,
    groups: Sequence[str] = (),
    aggregates: Mapping[str, str] | None = None,
    values: Sequence[str] = (),
    fractions: Sequence[float] = (),
    total_over: str | None = None,
    with_sql: str = "",
) -> list[dict[str, Any]]:
    """Per group of `source`'s rows: the aggregates, and the percentiles of each value.

    One query on either database. `source` is SQL with parameters; `groups` and
    `values` name its columns; `aggregates` map a name to an aggregate over the
    columns as `s.<column>`. Percentiles (record["percentiles"][value][fraction])
    interpolate like PostgreSQL's percentile_cont and leave nulls out (None for a
    group with no values). With `total_over`, there are also rows with that group
    column set to '*': the totals across it. `with_sql` is a WITH clause's body.
    """
    sql_source, params = source
    aggregates = dict(aggregates or {})
    names = {
        (value, fraction): f"p{v}_{f}"
        for v, value in enumerate(values)
        for f, fraction in enumerate(fractions)
    }
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        _unsupported()
    if total_over is not None and vendor == "sqlite":
        # SQLite has no GROUPING SETS: every row is counted a second time under '*'.
        columns = ", ".join(
            f"CASE WHEN t.tot = 1 THEN '*' ELSE x.{g} END AS {g}" if g == total_over else f"x.{g}"
            for g in groups
        )
        keep = [c for c in _source_columns(aggregates, values) if c not in groups]
        extra = "".join(f", x.{c}" for c in keep)
        # Column names come from the caller's code, never from a request.
        sql_source = (
            f"SELECT {columns}{extra} FROM ({sql_source}) x "  # noqa: S608
            "CROSS JOIN (SELECT 0 AS tot UNION ALL SELECT 1) t"
        )
    group_list = ", ".join(f"s.{g}" for g in groups)
    if total_over is not None and vendor == "postgresql":
        selected = [
            f"CASE WHEN GROUPING(s.{g}) = 1 THEN '*' ELSE s.{g} END AS {g}"
            if g == total_over
            else f"s.{g} AS {g}"
            for g in groups
        ]
        rest = ", ".join(f"s.{g}" for g in groups if g != total_over)
        group_by = f"GROUPING SETS (({group_list}), ({rest}))"
    else:
        selected = [f"s.{g} AS {g}" for g in groups]
        group_by = group_list
    selected += [f"{expression} AS {name}" for name, expression in aggregates.items()]
    inner = f"({sql_source}) s"
    if vendor == "postgresql":
        selected += [
            f"percentile_cont({float(fraction)!r}) WITHIN GROUP (ORDER BY s.{value}) AS {name}"
            for (value, fraction), name in names.items()
        ]
    elif names:
        ranks = []
        for v, value in enumerate(values):
            partition = f"PARTITION BY {group_list}" if groups else ""
            ranked = f"PARTITION BY {group_list + ', ' if groups else ''}s.{value} IS NULL"
            ranks.append(f"ROW_NUMBER() OVER ({ranked} ORDER BY s.{value}) AS _rn{v}")
            ranks.append(f"COUNT(s.{value}) OVER ({partition}) AS _n{v}")
        for (value, fraction), name in names.items():
            v = values.index(value)
            position = f"({float(fraction)!r} * (s._n{v} - 1))"
            floor = f"CAST({position} AS INTEGER)"
            selected.append(
                f"SUM(CASE WHEN s.{value} IS NULL THEN NULL "
                f"WHEN s._rn{v} = {floor} + 1 THEN s.{value} * (1 - ({position} - {floor})) "
                f"WHEN s._rn{v} = {floor} + 2 THEN s.{value} * ({position} - {floor}) END) "
                f"AS {name}"
            )
        inner = f"(SELECT s.*, {', '.join(ranks)} FROM ({sql_source}) s) s"  # noqa: S608
    sql = f"SELECT {', '.join(selected)} FROM {inner}"  # noqa: S608 (see above)
    if groups:
        sql += f" GROUP BY {group_by}"
    if with_sql:
        sql = f"WITH {with_sql} {sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params))
        columns_found = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    found = []
    for row in rows:
        record = dict(zip(columns_found, row, strict=True))
        percentiles: dict[str, dict[float, float | None]] = {value: {} for value in values}
        for (value, fraction), name in names.items():
            number = record.pop(name)
            percentiles[value][fraction] = None if number is None else float(number)
        record["percentiles"] = percentiles
        found.append(record)
    return found


def grouped_by_sets(
    source: tuple[str, Sequence[Any]],
    sets: Sequence[Sequence[str]],
    aggregates: Mapping[str, str],
) -> list[list[dict[str, Any]]]:
    """`source`'s rows grouped several ways in one pass: per set of group columns (each set
    different), its groups' rows (the set's columns and the aggregates, over `s.<column>`).

    PostgreSQL: GROUPING SETS, one scan of the rows. SQLite has none: the same groups from
    a UNION ALL of one GROUP BY per set, over the rows as a common table expression.
    """
    sql_source, params = source
    columns = list(dict.fromkeys(column for group in sets for column in group))
    aggregated = ", ".join(f"{expression} AS {name}" for name, expression in aggregates.items())
    if connection.vendor == "postgresql":
        # GROUPING(...) has a bit set, from the left, for each column not in the row's set.
        masks = {
            sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in group): n
            for n, group in enumerate(sets)
        }
        listed = ", ".join(f"s.{c}" for c in columns)
        grouping = ", ".join("(" + ", ".join(f"s.{c}" for c in group) + ")" for group in sets)
        # Column names and aggregates come from the caller's code, never from a request.
        sql = (
            f"SELECT {listed}, {aggregated}, GROUPING({listed}) AS _set "  # noqa: S608
            f"FROM ({sql_source}) s GROUP BY GROUPING SETS ({grouping})"
        )
    elif connection.vendor == "sqlite":
        masks = {n: n for n in range(len(sets))}
        selects = []
        for n, group in enumerate(sets):
            listed = ", ".join(f"s.{c}" if c in group else f"NULL AS {c}" for c in columns)
            by = ", ".join(f"s.{c}" for c in group)
            selects.append(
                f"SELECT {listed}, {aggregated}, {n} AS _set FROM s GROUP BY {by}"  # noqa: S608
            )
        sql = f"WITH s AS ({sql_source}) " + " UNION ALL ".join(selects)
    else:
        _unsupported()
    found: list[list[dict[str, Any]]] = [[] for _ in sets]
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params))
        names = [column[0] for column in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row, strict=True))
            n = masks[record.pop("_set")]
            found[n].append({k: v for k, v in record.items() if k in sets[n] or k in aggregates})
    return found


def _source_columns(aggregates: Mapping[str, str], values: Sequence[str]) -> list[str]:
    """The source columns the aggregates and the values read (as `s.<name>`)."""
    names = set(re.findall(r"\bs\.(\w+)", " ".join(aggregates.values())))
    return sorted(names | set(values))
