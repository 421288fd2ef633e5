"""The performance dashboard's figures: aggregate selectors, every figure computed in the database.

Each figure is counted for a period of London calendar days and for the period of equal
length just before it, in the same query (conditional aggregates), so a dashboard costs
the same number of queries for ten contacts as for a million. Definitions are in
docs/user-guide/hub-manager.md ("Performance dashboard") and on the page itself.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django import db
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When

from mash.accounts.models import Agency
from mash.contacts.models import (
    Channel,
    Contact,
    ContactStatus,
    PoliceNotification,
    ReferralSource,
    ScreeningOutcome,
    TriageOutcome,
)
from mash.core import clock
from mash.core.models import Hub
from mash.enquiries.models import (
    REFERRAL_OUTCOMES,
    AgencyRequest,
    ClosedAs,
    Decision,
    Enquiry,
    Outcome,
    Rag,
    Rating,
    RequestStatus,
)
from mash.reporting import performance_sql as sql

MAX_YEARS = 5
EARLIEST = dt.date(2000, 1, 1)
# How far before the period the calendar table reaches, for stages that started long
# before they ended; a stage starting earlier still is counted as outside its target.
CALENDAR_LOOKBACK_DAYS = 400
PERCENTILES = (0.5, 0.9)
ONE_WORKING_DAY = clock.Duration(1, clock.DurationUnit.WORKING_DAYS)
RAG_ORDER = (Rag.URGENT, Rag.RED, Rag.AMBER, Rag.GREEN)
ALL = "*"  # the group key of a total across groups (see performance_sql.grouped_stats)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Period:
    """London calendar days from `first` to `last`, both included."""

    first: dt.date
    last: dt.date

    @property
    def start_at(self) -> dt.datetime:
        return _midnight(self.first)

    @property
    def end_at(self) -> dt.datetime:
        return _midnight(self.last + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same number of days just before this one."""
        return Period(self.first - dt.timedelta(days=self.days), self.first - dt.timedelta(days=1))

    @property
    def label(self) -> str:
        return f"{_long(self.first)} to {_long(self.last)}"


def default_period(today: dt.date) -> Period:
    """The last 12 months, ending today."""
    return Period(add_years(today, -1) + dt.timedelta(days=1), today)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=clock.LONDON).astimezone(clock.UTC)


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def share(part: int | None, whole: int | None) -> float | None:
    return None if not whole else (part or 0) / whole


# --- What the page and the CSV files show -----------------------------------------------------


@dataclass(frozen=True)
class Column:
    heading: str
    kind: str = "count"  # text, count, percent (a fraction), hours; mixed: Formatted values


@dataclass
class Chart:
    """A Chart.js chart of some of a table's columns (the same numbers as the table)."""

    kind: str  # bar, horizontal_bar, line
    label_column: int
    value_columns: list[int]
    title: str


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    chart: Chart | None = None
    note: str = ""


# --- The figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    current: Any
    previous: Any


def figures_for(user: Any, period: Period, *, now: dt.datetime | None = None) -> Figures:
    """The dashboard's figures for `period` (and the one before it), if `user` may see them.

    Only aggregates: no name, date of birth, address or case reference is ever read.
    """
    if not user.has_perm("reporting.performance"):
        raise PermissionDenied
    return Figures(period, now=now or clock.now())


class Figures:
    """Each query runs once, when a table first needs it.

    Counts are grouped by their thing (source, outcome...), by period (0: this one, 1: the
    one before) and by week in one query each, so the period's figures, the previous
    period's and the weekly trend come from the same pass over the rows; Python only adds
    up those few hundred group counts.
    """

    def __init__(self, period: Period, *, now: dt.datetime) -> None:
        self.period = period
        self.previous = period.previous()
        self.now = now

    # Filters: both periods, and which of the two a row falls in.
    def _both(self, name: str) -> Q:
        return Q(**{f"{name}__gte": self.previous.start_at, f"{name}__lt": self.period.end_at})

    def _current(self, name: str) -> Q:
        return Q(**{f"{name}__gte": self.period.start_at, f"{name}__lt": self.period.end_at})

    def _which(self, name: str) -> Case:
        """0 for a moment in this period, 1 in the previous one (rows already in either)."""
        return Case(When(**{f"{name}__gte": self.period.start_at}, then=Value(0)), default=1)

    def _week(self, moment: str) -> Case:
        """The week of a moment in this period; -1 in the previous one (not worked out)."""
        return Case(
            When(
                **{f"{moment}__gte": self.period.start_at},
                then=sql.local_week(moment, self.period.first, self.period.last),
            ),
            default=Value(-1),
        )

    def _grouped(
        self,
        queryset: QuerySet[Any],
        group: str | None,
        moment: str,
        counted: str = "pk",
        **aggregates: Any,
    ) -> list[dict[str, Any]]:
        """Counts (n, of non-null `counted`, and the named aggregates) per group, period and
        week. Grouped by week alone: the previous period is the one week -1 (see _week)."""
        fields = [*([group] if group else []), "wk"]
        rows = (
            queryset.filter(self._both(moment))
            .annotate(wk=self._week(moment))
            .values(*fields)
            .annotate(n=Count(counted), **aggregates)
            .order_by()
        )
        return [{**row, "per": 1 if row["wk"] == -1 else 0} for row in rows]

    @staticmethod
    def _pairs(rows: list[dict[str, Any]], group: str, key: str = "n") -> dict[Any, Pair]:
        """Per group: (this period's total, the previous period's)."""
        totals: dict[Any, list[int]] = {}
        for row in rows:
            totals.setdefault(row[group], [0, 0])[int(row["per"])] += row[key] or 0
        return {value: Pair(*pair) for value, pair in totals.items()}

    @staticmethod
    def _weekly_sums(rows: list[dict[str, Any]], *keys: str) -> dict[int, dict[str, int]]:
        """Per week of this period: the totals of `keys`."""
        weeks: dict[int, dict[str, int]] = {}
        for row in rows:
            if int(row["per"]) != 0:
                continue
            week = weeks.setdefault(int(row["wk"]), dict.fromkeys(keys, 0))
            for key in keys:
                week[key] += row[key] or 0
        return weeks

    def prepare(self) -> None:
        """Reads what every query shares, so that queries may then run on other threads."""
        self._calendar_table  # noqa: B018 (reads the hub and its calendar)
        self.agencies  # noqa: B018
        self._summer  # noqa: B018

    @cached_property
    def hub(self) -> Hub:
        return Hub.load()

    @cached_property
    def calendar(self) -> clock.WorkingCalendar:
        return self.hub.calendar()

    @cached_property
    def _summer(self) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """British Summer Time in the years the figures read (see sql.local_day)."""
        return sql.summer_time(self._calendar_first, self.period.last + dt.timedelta(days=1))

    @property
    def _calendar_first(self) -> dt.date:
        return self.previous.first - dt.timedelta(days=CALENDAR_LOOKBACK_DAYS)

    @cached_property
    def _calendar_table(self) -> tuple[str, str]:
        """(WITH clause body, table name) of the working calendar the figures join to."""
        return sql.calendar_table(self.calendar, self._calendar_first, self.period.last)

    # Volumes.
    @cached_property
    def _contacts(self) -> list[list[dict[str, Any]]]:
        """Contacts by source (per period and week), by channel and by screening outcome
        (per period), from one pass over them."""
        rows = (
            _submitted()
            .filter(self._both("received_at"))
            .annotate(per=self._which("received_at"), wk=self._week("received_at"))
            .values("referral_source", "channel", "screening_outcome", "per", "wk")
            .order_by()
        )
        return sql.grouped_by_sets(
            sql.compiled(rows),
            [("referral_source", "per", "wk"), ("channel", "per"), ("screening_outcome", "per")],
            {"n": "COUNT(*)"},
        )

    @cached_property
    def contacts_by_source(self) -> dict[Any, Pair]:
        return self._pairs(self._contacts[0], "referral_source")

    @cached_property
    def weekly_contacts(self) -> dict[int, dict[str, int]]:
        return self._weekly_sums(self._contacts[0], "n")

    @cached_property
    def contacts_by_channel(self) -> dict[Any, Pair]:
        return self._pairs(self._contacts[1], "channel")

    @cached_property
    def screening_outcomes(self) -> dict[Any, Pair]:
        return self._pairs(self._contacts[2], "screening_outcome")

    @cached_property
    def _enquiries(self) -> list[dict[str, Any]]:
        return self._grouped(Enquiry.objects.all(), "rag", "opened_at")

    @cached_property
    def enquiries_by_rag(self) -> dict[Any, Pair]:
        return self._pairs(self._enquiries, "rag")

    @cached_property
    def weekly_enquiries(self) -> dict[int, dict[str, int]]:
        return self._weekly_sums(self._enquiries, "n")

    # Timeliness.
    def _durations(self) -> dict[str, clock.Duration]:
        return {rag: self.hub.duration_for(rag) for rag in RAG_ORDER}

    def _timed(
        self,
        rows: QuerySet[Any],
        *,
        stages: dict[str, str],
        targets: dict[str, clock.Duration],
        groups: tuple[str, ...],
        fractions: tuple[float, ...] = (),
        total_over: str | None = None,
    ) -> list[dict[str, Any]]:
        """Per group of `rows` (with grp, e, ed, each stage's start `<s>` and its day `<s>d`,
        and the group columns): the count, and per stage the number ended within the target
        of their grp (`within_<s>`) and the percentiles of its hours (`percentiles[<s>]`)."""
        working = _counts_working_time(targets)
        with_sql, table = self._calendar_table if working else ("", "")
        columns, joins = [], []
        if working:
            joins.append(f"LEFT JOIN {table} ce ON ce.d = b.ed")
        for name, start in stages.items():
            day = f"c{name}"
            if working:
                joins.append(f"LEFT JOIN {table} {day} ON {day}.d = b.{start}d")
            within = " ".join(
                f"WHEN b.grp = '{key}' AND "
                f"{sql.within_sql(d, self.calendar, start=f'b.{start}', start_day=day)} THEN 1"
                for key, d in targets.items()
            )
            columns.append(f"(b.e - b.{start}) / 3600.0 AS {name}")
            columns.append(f"CASE {within} ELSE 0 END AS w_{name}")
        inner, params = sql.compiled(rows)
        keep = "".join(f"b.{g}, " for g in groups if g != "grp")
        source = f"SELECT b.grp, {keep}{', '.join(columns)} FROM b {' '.join(joins)}"  # noqa: S608
        # The rows first, then the calendar: left to itself, PostgreSQL may join the
        # calendar to every contact before it narrows them to the period's.
        rows_first = f"b AS MATERIALIZED ({inner})"
        return sql.grouped_stats(
            (source, params),
            groups=groups,
            aggregates={
                "n": "COUNT(*)",
                **{f"within_{name}": f"SUM(s.w_{name})" for name in stages},
            },
            values=tuple(stages) if fractions else (),
            fractions=fractions,
            total_over=total_over,
            with_sql=f"{with_sql}, {rows_first}" if with_sql else rows_first,
        )

    def _moments(
        self,
        queryset: QuerySet[Any],
        end: str,
        *starts: str,
        targets: dict[str, clock.Duration],
        extra: tuple[str, ...] = (),
    ) -> Any:
        """Each row's end (e, ed) and starts (s0, s0d, s1, s1d...), as epoch seconds and days
        (the days only where one of the `targets` _timed checks counts working time: they
        cost a little per row, and _timed joins the calendar on them then only)."""
        days = _counts_working_time(targets)
        moments: dict[str, Any] = {"e": sql.Epoch(end)}
        if days:
            moments["ed"] = sql.local_day(end, self._summer)
        for index, start in enumerate(starts):
            moments[f"s{index}"] = sql.Epoch(start)
            if days:
                moments[f"s{index}d"] = sql.local_day(start, self._summer)
        return queryset.annotate(**moments).values("grp", *moments, *extra).order_by()

    @staticmethod
    def _stage(found: list[dict[str, Any]], name: str) -> dict[tuple[str, int], dict[str, Any]]:
        return {
            (r["grp"], int(r["per"])): {
                "n": r["n"],
                "within": r[f"within_{name}"],
                "percentiles": r["percentiles"].get(name, {}),
            }
            for r in found
        }

    @cached_property
    def time_to_rating(self) -> dict[tuple[str, int], dict[str, Any]]:
        # The first rating (a re-rating records the rating it replaced).
        rows = Rating.objects.filter(self._both("rated_at"), previous_rag="").annotate(
            grp=F("rag"), per=self._which("rated_at")
        )
        targets = self._durations()
        rows = self._moments(
            rows, "rated_at", "enquiry__contact_received_at", targets=targets, extra=("per",)
        )
        found = self._timed(
            rows,
            stages={"rating": "s0"},
            targets=targets,
            groups=("grp", "per"),
            fractions=PERCENTILES,
            total_over="grp",
        )
        return self._stage(found, "rating")

    @cached_property
    def _decided(self) -> list[dict[str, Any]]:
        """Enquiries decided in either period: from the latest rating, and from the contact."""
        decided = (
            Enquiry.objects.filter(self._both("closed_at"), closed_as=ClosedAs.DECIDED)
            .exclude(rag="")
            .annotate(grp=F("rag"), per=self._which("closed_at"))
        )
        targets = self._durations()
        rows = self._moments(
            decided,
            "closed_at",
            "rated_at",
            "contact_received_at",
            targets=targets,
            extra=("per",),
        )
        return self._timed(
            rows,
            stages={"rating_decision": "s0", "contact_decision": "s1"},
            targets=targets,
            groups=("grp", "per"),
            fractions=PERCENTILES,
            total_over="grp",
        )

    @cached_property
    def rating_to_decision(self) -> dict[tuple[str, int], dict[str, Any]]:
        return self._stage(self._decided, "rating_decision")

    @cached_property
    def contact_to_decision(self) -> dict[tuple[str, int], dict[str, Any]]:
        return self._stage(self._decided, "contact_decision")

    @cached_property
    def _one_day(self) -> list[dict[str, Any]]:
        rows = Decision.objects.filter(
            self._both("decided_at"), outcome__in=REFERRAL_OUTCOMES
        ).annotate(
            grp=F("outcome"),
            per=self._which("decided_at"),
            wk=self._week("decided_at"),
        )
        targets = {str(o): ONE_WORKING_DAY for o in REFERRAL_OUTCOMES}
        rows = self._moments(
            rows, "decided_at", "enquiry__contact_received_at", targets=targets, extra=("per", "wk")
        )
        found = self._timed(
            rows,
            stages={"day": "s0"},
            targets=targets,
            groups=("grp", "per", "wk"),
        )
        return [{**r, "within": r["within_day"]} for r in found]

    @cached_property
    def referrals_one_day(self) -> dict[tuple[str, int], dict[str, Any]]:
        totals: dict[tuple[str, int], dict[str, Any]] = {}
        for row in self._one_day:
            for key in (row["grp"], ALL):
                total = totals.setdefault((key, int(row["per"])), {"n": 0, "within": 0})
                total["n"] += row["n"]
                total["within"] += row["within"] or 0
        return totals

    @cached_property
    def weekly_one_day(self) -> dict[int, dict[str, int]]:
        return self._weekly_sums(self._one_day, "n", "within")

    # Agencies.
    @cached_property
    def _requests(self) -> list[dict[str, Any]]:
        answered = Q(answered_at__isnull=False)
        # Every agency named (agency_id IN ...): PostgreSQL then reads the index by agency
        # and time (enquiries/0007) as one range per agency; asked for a time range alone,
        # it would read all of that index (it has no skip scan) or the whole table. Counting
        # agency_id (never null), not id, keeps to the columns the index holds.
        every_agency = [pk for pk, _, _ in self.agencies]
        return self._grouped(
            AgencyRequest.objects.filter(agency_id__in=every_agency).exclude(
                status=RequestStatus.NOT_REQUIRED
            ),
            "agency_id",
            "requested_at",
            counted="agency_id",
            ontime=Count("agency_id", filter=answered & Q(answered_at__lte=F("deadline_at"))),
            due=Count("agency_id", filter=answered | Q(deadline_at__lte=self.now)),
        )

    @cached_property
    def _answer_medians(self) -> dict[tuple[int, int], float | None]:
        if db.connection.vendor == "postgresql":
            return self._answer_medians_by_agency()
        rows = (
            AgencyRequest.objects.filter(self._both("requested_at"), answered_at__isnull=False)
            .exclude(status=RequestStatus.NOT_REQUIRED)
            .annotate(
                grp=F("agency_id"),
                per=self._which("requested_at"),
                v=(sql.Epoch("answered_at") - sql.Epoch("requested_at")) / Value(3600.0),
            )
            .values("grp", "per", "v")
            .order_by()
        )
        found = sql.grouped_stats(
            sql.compiled(rows), groups=("grp", "per"), values=("v",), fractions=(0.5,)
        )
        return {(int(r["grp"]), int(r["per"])): r["percentiles"]["v"][0.5] for r in found}

    def _answer_medians_by_agency(self) -> dict[tuple[int, int], float | None]:
        """_answer_medians on PostgreSQL: for each agency and period, its own requests from
        the index by agency and time (migration enquiries/0007), already in order; grouping
        all the requests by agency instead would sort them all first.

        The times to answer are sorted as timestamps ('epoch' + the time taken), which
        PostgreSQL sorts fastest; percentile_cont takes no timestamp, so percentile_disc
        gives the two middle values (the 0.5 and a hair above: the same value for an odd
        count; exact below 500 million requests per agency and period) and their mean is
        percentile_cont's median.
        """
        requests, agencies = AgencyRequest._meta.db_table, Agency._meta.db_table
        statement = f"""
            WITH x AS MATERIALIZED (
                SELECT a.id, p.per, (
                    SELECT percentile_disc(ARRAY[0.5, 0.500000001]) WITHIN GROUP
                        (ORDER BY TIMESTAMP 'epoch' + (r.answered_at - r.requested_at))
                    FROM {requests} r
                    WHERE r.agency_id = a.id AND r.status <> %s
                    AND r.answered_at IS NOT NULL
                    AND r.requested_at >= p.s AND r.requested_at < p.e
                ) AS m
                FROM {agencies} a CROSS JOIN (
                    VALUES (0, %s::timestamptz, %s::timestamptz), (1, %s, %s)
                ) AS p(per, s, e)
            )
            SELECT x.id, x.per, (date_part('epoch', x.m[1] - TIMESTAMP 'epoch')
                + date_part('epoch', x.m[2] - TIMESTAMP 'epoch')) / 7200.0
            FROM x WHERE x.m IS NOT NULL
        """  # noqa: S608 (table names from the models)
        params = (
            RequestStatus.NOT_REQUIRED,
            self.period.start_at,
            self.period.end_at,
            self.previous.start_at,
            self.previous.end_at,
        )
        with db.connection.cursor() as cursor:
            cursor.execute(statement, params)
            return {(int(pk), int(per)): median for pk, per, median in cursor.fetchall()}

    @cached_property
    def agency_requests(self) -> dict[tuple[int, int], dict[str, Any]]:
        totals: dict[tuple[int, int], dict[str, Any]] = {}
        for row in self._requests:
            key = (int(row["agency_id"]), int(row["per"]))
            total = totals.setdefault(key, {"n": 0, "ontime": 0, "due": 0})
            for name in ("n", "ontime", "due"):
                total[name] += row[name]
        medians = self._answer_medians
        for key, total in totals.items():
            total["percentiles"] = {0.5: medians.get(key)}
        return totals

    @cached_property
    def weekly_on_time(self) -> dict[int, dict[str, int]]:
        return self._weekly_sums(self._requests, "ontime", "due")

    @cached_property
    def overdue_now(self) -> dict[int, int]:
        rows = (
            AgencyRequest.objects.filter(status=RequestStatus.PENDING, deadline_at__lte=self.now)
            .values("agency_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return {row["agency_id"]: row["n"] for row in rows}

    @cached_property
    def agencies(self) -> list[tuple[int, str, bool]]:
        return list(Agency.objects.order_by("name", "pk").values_list("pk", "name", "is_active"))

    # Decisions.
    @cached_property
    def _decisions(self) -> list[dict[str, Any]]:
        referral = Q(outcome__in=REFERRAL_OUTCOMES)
        return self._grouped(
            Decision.objects.annotate(rr=_had_referral_in_year_before()),
            "outcome",
            "decided_at",
            rr=Count("pk", filter=referral & Q(rr=True)),
        )

    @cached_property
    def decisions(self) -> dict[str, dict[str, Any]]:
        counts, re_referrals = (
            self._pairs(self._decisions, "outcome"),
            self._pairs(self._decisions, "outcome", "rr"),
        )
        return {
            outcome: {
                "cur": pair.current,
                "prev": pair.previous,
                "rr_cur": re_referrals[outcome].current,
                "rr_prev": re_referrals[outcome].previous,
            }
            for outcome, pair in counts.items()
        }

    @cached_property
    def weekly_decisions(self) -> dict[int, dict[str, int]]:
        rows = [
            {
                **row,
                "early_help": row["n"] if row["outcome"] == Outcome.EARLY_HELP else 0,
                "referrals": row["n"] if row["outcome"] in REFERRAL_OUTCOMES else 0,
            }
            for row in self._decisions
        ]
        sums = self._weekly_sums(rows, "n", "early_help", "referrals", "rr")
        for week in sums.values():
            week["re_referrals"] = week.pop("rr")
        return sums

    # Police notifications.
    @cached_property
    def _police(self) -> list[dict[str, Any]]:
        return self._grouped(
            PoliceNotification.objects.all(),
            None,
            "received_at",
            progressed=Count("pk", filter=Q(outcome=TriageOutcome.PROGRESS_CONTACT)),
            poor=Count("pk", filter=~Q(quality_issue="")),
        )

    @cached_property
    def police(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for key in ("n", "progressed", "poor"):
            for suffix, per in (("cur", 0), ("prev", 1)):
                found[f"{key}_{suffix}"] = sum(r[key] for r in self._police if int(r["per"]) == per)
        return found

    @cached_property
    def weekly_police(self) -> dict[int, dict[str, int]]:
        return self._weekly_sums(self._police, "n")

    # Weekly trends (this period only), keyed by week number (see performance_sql).
    @cached_property
    def weeks(self) -> list[int]:
        first = sql.day_number(self.period.first) // 7
        last = sql.day_number(self.period.last) // 7
        return list(range(first, last + 1))

    @cached_property
    def weekly_contact_to_decision(self) -> dict[int, Any]:
        decided = (
            Enquiry.objects.filter(self._current("closed_at"), closed_as=ClosedAs.DECIDED)
            .exclude(rag="")
            .annotate(wk=sql.local_week("closed_at", self.period.first, self.period.last))
            .annotate(v=(sql.Epoch("closed_at") - sql.Epoch("contact_received_at")) / Value(3600.0))
            .values("wk", "v")
            .order_by()
        )
        found = sql.grouped_stats(
            sql.compiled(decided),
            groups=("wk",),
            aggregates={"n": "COUNT(*)"},
            values=("v",),
            fractions=(0.5,),
        )
        return {int(r["wk"]): {"n": r["n"], "percentiles": r["percentiles"]["v"]} for r in found}


def _counts_working_time(targets: dict[str, clock.Duration]) -> bool:
    """Whether any target counts working time: then the stage needs the calendar."""
    return any(d.counts_working_time for d in targets.values())


def _submitted() -> QuerySet[Contact]:
    return Contact.objects.exclude(status=ContactStatus.DRAFT).filter(received_at__isnull=False)


def _had_referral_in_year_before() -> Exists:
    """Whether the decision's child had another referral decision in the 12 months before it
    (the rule of people.selectors.re_referral_since, for every decision in one query)."""
    return Exists(
        Decision.objects.filter(
            child_id=OuterRef("child_id"),
            outcome__in=REFERRAL_OUTCOMES,
            decided_at__gte=sql.YearBefore(OuterRef("decided_at")),
        ).filter(
            Q(decided_at__lt=OuterRef("decided_at"))
            | Q(decided_at=OuterRef("decided_at"), pk__lt=OuterRef("pk"))
        )
    )


# --- Tables -----------------------------------------------------------------------------------

THIS, PREVIOUS = "This period", "Previous period"


def _breakdown(
    slug: str,
    title: str,
    heading: str,
    found: dict[Any, Pair],
    choices: Iterable[tuple[str, str]],
    *,
    blank: str,
    chart: str = "bar",
) -> Table:
    table = Table(
        slug,
        title,
        [Column(heading, "text"), Column(THIS), Column(PREVIOUS)],
        chart=Chart(chart, 0, [1, 2], title),
    )
    labels = dict(choices)
    for value, label in [*labels.items(), ("", blank)]:
        pair = found.get(value, Pair(0, 0))
        if value == "" and not (pair.current or pair.previous):
            continue  # no blank values: no row for them
        table.rows.append([label, pair.current, pair.previous])
    # Values no longer among the choices (renamed codes) are shown as stored.
    for value, pair in sorted(found.items(), key=lambda item: str(item[0])):
        if value not in labels and value not in ("", None):
            table.rows.append([str(value), pair.current, pair.previous])
    return table


def _rag_label(key: str) -> str:
    return "All ratings" if key == ALL else Rag(key).label


def _stage_table(
    slug: str, title: str, found: dict[tuple[str, int], dict[str, Any]], hub: Hub
) -> Table:
    columns = [
        Column("RAG rating", "text"),
        Column("Enquiries"),
        Column("Median (hours)", "hours"),
        Column("90th percentile (hours)", "hours"),
        Column("Within target", "percent"),
        Column("Target", "text"),
        Column("Previous period: enquiries"),
        Column("Previous period: median (hours)", "hours"),
        Column("Previous period: 90th percentile (hours)", "hours"),
        Column("Previous period: within target", "percent"),
    ]
    table = Table(slug, title, columns, chart=Chart("bar", 0, [2, 3], title))
    for key in [*RAG_ORDER, ALL]:
        cells: list[Any] = [_rag_label(key)]
        for per in (0, 1):
            row = found.get((key, per), {"n": 0, "within": 0, "percentiles": {}})
            n = row["n"] or 0
            cells += [
                n,
                row["percentiles"].get(0.5),
                row["percentiles"].get(0.9),
                share(row["within"], n),
            ]
            if per == 0:
                cells.append("Each rating's own" if key == ALL else str(hub.duration_for(key)))
        table.rows.append(cells)
    return table


def _percent_pair(numerator: Callable[[int], Any], denominator: Callable[[int], Any]) -> list[Any]:
    return [share(numerator(per), denominator(per)) for per in (0, 1)]


# The queries of the whole dashboard, costliest first (as measured by bench/reports.py), so
# that those left for last are the short ones whichever connection takes them.
QUERIES = (
    "_requests",
    "_decisions",
    "_one_day",
    "_contacts",
    "time_to_rating",
    "_decided",
    "_answer_medians",
    "weekly_contact_to_decision",
    "_enquiries",
    "_police",
    "overdue_now",
)


def build_tables(figures: Figures, slugs: Iterable[str] | None = None) -> dict[str, Table]:
    """The named tables (all of them by default), in the dashboard's order.

    The whole dashboard on PostgreSQL runs its queries on settings.MASH_REPORT_CONNECTIONS
    connections at once (see run_queries), unless the caller holds a transaction open: other
    connections could not see what it has written.
    """
    wanted = list(TABLES) if slugs is None else list(slugs)
    together = slugs is None and not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        sql.settle_for_reports()
        if together:
            run_queries(figures, QUERIES, connections=settings.MASH_REPORT_CONNECTIONS)
        return {slug: TABLES[slug][1](figures) for slug in wanted}


def run_queries(figures: Figures, names: Sequence[str], *, connections: int) -> None:
    """Works out the named figures, each query on the first of `connections` connections
    free (this thread's and helper threads' own, PostgreSQL only).

    Read committed, like the one-connection dashboard: each query sees what was committed
    when it started. What the queries share (the hub, its calendar) is read first.
    """
    figures.prepare()
    if connections < 2 or transaction.get_connection().vendor != "postgresql":
        for name in names:
            getattr(figures, name)
        return
    queue = iter(names)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                name = next(queue, None)
            if name is None:
                return
            getattr(figures, name)

    def helper() -> None:
        try:
            with transaction.atomic():
                sql.settle_for_reports()
                work()
        finally:
            db.connections.close_all()  # this thread's connection only

    count = min(connections, len(names)) - 1
    with ThreadPoolExecutor(max_workers=count) as pool:
        helpers = [pool.submit(helper) for _ in range(count)]
        work()
        for running in helpers:
            running.result()  # a helper's error is raised here


def _headline(f: Figures) -> Table:
    table = Table(
        "headline",
        "Headline figures",
        [Column("Figure", "text"), Column(THIS, "mixed"), Column(PREVIOUS, "mixed")],
    )
    kinds: list[tuple[str, str, list[Any]]] = []

    def total(found: dict[Any, Pair]) -> list[int]:
        return [sum(p.current for p in found.values()), sum(p.previous for p in found.values())]

    decisions = f.decisions

    def decided(per: int, outcomes: Iterable[str] | None = None) -> int:
        key = "cur" if per == 0 else "prev"
        return sum(
            row[key]
            for outcome, row in decisions.items()
            if outcomes is None or outcome in outcomes
        )

    one_day = f.referrals_one_day
    requests = f.agency_requests
    police = f.police
    to_decision = f.contact_to_decision
    kinds.append(("Contacts received", "count", total(f.contacts_by_source)))
    kinds.append(("Enquiries opened", "count", total(f.enquiries_by_rag)))
    kinds.append(("Children decided", "count", [decided(0), decided(1)]))
    kinds.append(
        (
            "Median time from contact to decision (hours)",
            "hours",
            [
                to_decision.get((ALL, p), {"percentiles": {}})["percentiles"].get(0.5)
                for p in (0, 1)
            ],
        )
    )
    kinds.append(
        (
            "Referrals decided within one working day",
            "percent",
            _percent_pair(
                lambda p: one_day.get((ALL, p), {}).get("within"),
                lambda p: one_day.get((ALL, p), {}).get("n"),
            ),
        )
    )
    kinds.append(
        (
            "Agency requests answered on time",
            "percent",
            _percent_pair(
                lambda p: sum(r["ontime"] or 0 for (_, per), r in requests.items() if per == p),
                lambda p: sum(r["due"] or 0 for (_, per), r in requests.items() if per == p),
            ),
        )
    )
    kinds.append(
        (
            "Conversion to early help",
            "percent",
            _percent_pair(lambda p: decided(p, (Outcome.EARLY_HELP,)), decided),
        )
    )
    kinds.append(
        (
            "Re-referral rate",
            "percent",
            _percent_pair(
                lambda p: sum(r["rr_cur" if p == 0 else "rr_prev"] for r in decisions.values()),
                lambda p: decided(p, REFERRAL_OUTCOMES),
            ),
        )
    )
    kinds.append(("Police notifications received", "count", [police["n_cur"], police["n_prev"]]))
    for label, kind, values in kinds:
        table.rows.append([label, *[Formatted(v, kind) for v in values]])
    return table


@dataclass(frozen=True)
class Formatted:
    """A value with its kind, in a column that mixes kinds (the headline table)."""

    value: Any
    kind: str


def _contacts_by_source(f: Figures) -> Table:
    return _breakdown(
        "contacts-by-source",
        "Contacts by referral source",
        "Referral source",
        f.contacts_by_source,
        ReferralSource.choices,
        blank="Not recorded",
        chart="horizontal_bar",
    )


def _contacts_by_channel(f: Figures) -> Table:
    return _breakdown(
        "contacts-by-channel",
        "Contacts by channel",
        "Channel",
        f.contacts_by_channel,
        Channel.choices,
        blank="Not recorded",
    )


def _screening_outcomes(f: Figures) -> Table:
    return _breakdown(
        "screening-outcomes",
        "Contacts by screening outcome",
        "Screening outcome",
        f.screening_outcomes,
        ScreeningOutcome.choices,
        blank="Not screened yet",
    )


def _enquiries_by_rag(f: Figures) -> Table:
    return _breakdown(
        "enquiries-by-rag",
        "Enquiries opened, by RAG rating",
        "RAG rating",
        f.enquiries_by_rag,
        [(str(r), Rag(r).label) for r in RAG_ORDER],
        blank="Not rated yet",
    )


def _time_to_rating(f: Figures) -> Table:
    return _stage_table(
        "time-to-rating", "Time from contact to RAG rating", f.time_to_rating, f.hub
    )


def _rating_to_decision(f: Figures) -> Table:
    return _stage_table(
        "rating-to-decision", "Time from RAG rating to decision", f.rating_to_decision, f.hub
    )


def _contact_to_decision(f: Figures) -> Table:
    return _stage_table(
        "contact-to-decision", "Time from contact to decision", f.contact_to_decision, f.hub
    )


def _referrals_one_day(f: Figures) -> Table:
    title = "Referrals decided within one working day of the contact"
    table = Table(
        "referrals-one-working-day",
        title,
        [
            Column("Outcome", "text"),
            Column("Referrals decided"),
            Column("Within one working day"),
            Column("Share within one working day", "percent"),
            Column("Previous period: referrals decided"),
            Column("Previous period: within one working day"),
            Column("Previous period: share within one working day", "percent"),
        ],
        chart=Chart("bar", 0, [3, 6], title),
    )
    found = f.referrals_one_day
    for key, label in [
        (str(Outcome.SECTION_47), "Strategy discussion / section 47 enquiry"),
        (str(Outcome.SECTION_17), "Child and family assessment (section 17)"),
        (ALL, "All referrals"),
    ]:
        cells: list[Any] = [label]
        for per in (0, 1):
            row = found.get((key, per), {"n": 0, "within": 0})
            cells += [row["n"] or 0, row["within"] or 0, share(row["within"], row["n"])]
        table.rows.append(cells)
    return table


def _agencies(f: Figures) -> Table:
    title = "Agency requests"
    table = Table(
        "agencies",
        title,
        [
            Column("Agency", "text"),
            Column("Requests received"),
            Column("Answered on time", "percent"),
            Column("Median time to answer (hours)", "hours"),
            Column("Overdue now"),
            Column("Previous period: requests received"),
            Column("Previous period: answered on time", "percent"),
            Column("Previous period: median time to answer (hours)", "hours"),
        ],
        chart=Chart("horizontal_bar", 0, [2, 6], "Agency requests answered on time"),
    )
    found, overdue = f.agency_requests, f.overdue_now
    for pk, name, active in f.agencies:
        rows = [found.get((pk, per)) for per in (0, 1)]
        if not active and not any(rows) and not overdue.get(pk):
            continue  # an agency that has left the hub and had nothing to do here
        cells: list[Any] = [name]
        for per, row in enumerate(rows):
            row = row or {"n": 0, "ontime": 0, "due": 0, "percentiles": {}}
            cells += [row["n"], share(row["ontime"], row["due"]), row["percentiles"].get(0.5)]
            if per == 0:
                cells.append(overdue.get(pk, 0))
        table.rows.append(cells)
    return table


def _decisions_by_outcome(f: Figures) -> Table:
    found = {o: Pair(r["cur"], r["prev"]) for o, r in f.decisions.items()}
    return _breakdown(
        "decisions-by-outcome",
        "Decisions by outcome (one per child)",
        "Outcome",
        found,
        Outcome.choices,
        blank="Not recorded",
    )


def _early_help_and_re_referrals(f: Figures) -> Table:
    title = "Conversion to early help and re-referrals"
    table = Table(
        "early-help-and-re-referrals",
        title,
        [
            Column("Figure", "text"),
            Column("Count"),
            Column("Out of"),
            Column("Share", "percent"),
            Column("Previous period: count"),
            Column("Previous period: out of"),
            Column("Previous period: share", "percent"),
        ],
        chart=Chart("bar", 0, [3, 6], title),
    )
    rows = f.decisions

    def count(per: int, outcomes: Iterable[str] | None = None, key: str = "") -> int:
        column = key or ("cur" if per == 0 else "prev")
        return sum(r[column] for o, r in rows.items() if outcomes is None or o in outcomes)

    early_help, referrals = [], []
    for per in (0, 1):
        eh, all_ = count(per, (Outcome.EARLY_HELP,)), count(per)
        early_help += [eh, all_, share(eh, all_)]
        rr = count(per, None, "rr_cur" if per == 0 else "rr_prev")
        refs = count(per, REFERRAL_OUTCOMES)
        referrals += [rr, refs, share(rr, refs)]
    table.rows.append(["Conversion to early help (children decided)", *early_help])
    table.rows.append(["Re-referral rate (referrals)", *referrals])
    return table


def _police(f: Figures) -> Table:
    title = "Police notifications"
    table = Table(
        "police-notifications",
        title,
        [
            Column("Figure", "text"),
            Column("Notifications"),
            Column("Share of those received", "percent"),
            Column("Previous period: notifications"),
            Column("Previous period: share of those received", "percent"),
        ],
        chart=Chart("bar", 0, [1, 3], title),
    )
    p = f.police
    for label, key in (
        ("Received", "n"),
        ("Progressed to a contact", "progressed"),
        ("Marked poor quality", "poor"),
    ):
        cells: list[Any] = [label]
        for suffix in ("cur", "prev"):
            count = p[f"{key}_{suffix}"]
            cells += [count, None if key == "n" else share(count, p[f"n_{suffix}"])]
        table.rows.append(cells)
    return table


def week_label(week: int, period: Period) -> str:
    first = sql.day_of(week * 7)
    label = f"{first.day} {first:%b %Y}"
    if first < period.first or first + dt.timedelta(days=6) > period.last:
        label += " (part week)"
    return label


def _weekly_volumes(f: Figures) -> Table:
    title = "Weekly trend: volumes"
    table = Table(
        "weekly-volumes",
        title,
        [
            Column("Week beginning", "text"),
            Column("Contacts received"),
            Column("Enquiries opened"),
            Column("Children decided"),
            Column("Police notifications received"),
        ],
        chart=Chart("line", 0, [1, 2, 3, 4], title),
    )
    sources = (f.weekly_contacts, f.weekly_enquiries, f.weekly_decisions, f.weekly_police)
    for week in f.weeks:
        table.rows.append(
            [week_label(week, f.period), *[s.get(week, {}).get("n", 0) for s in sources]]
        )
    return table


def _weekly_shares(f: Figures) -> Table:
    title = "Weekly trend: shares"
    table = Table(
        "weekly-shares",
        title,
        [
            Column("Week beginning", "text"),
            Column("Referrals decided within one working day", "percent"),
            Column("Agency requests answered on time", "percent"),
            Column("Conversion to early help", "percent"),
            Column("Re-referral rate", "percent"),
        ],
        chart=Chart("line", 0, [1, 2, 3, 4], title),
    )
    one_day, on_time, decisions = f.weekly_one_day, f.weekly_on_time, f.weekly_decisions
    for week in f.weeks:
        d = decisions.get(week, {})
        o = one_day.get(week, {})
        t = on_time.get(week, {})
        table.rows.append(
            [
                week_label(week, f.period),
                share(o.get("within"), o.get("n")),
                share(t.get("ontime"), t.get("due")),
                share(d.get("early_help"), d.get("n")),
                share(d.get("re_referrals"), d.get("referrals")),
            ]
        )
    return table


def _weekly_times(f: Figures) -> Table:
    title = "Weekly trend: median time from contact to decision"
    table = Table(
        "weekly-times",
        title,
        [
            Column("Week beginning", "text"),
            Column("Enquiries decided"),
            Column("Median time from contact to decision (hours)", "hours"),
        ],
        chart=Chart("line", 0, [2], title),
    )
    found = f.weekly_contact_to_decision
    for week in f.weeks:
        row = found.get(week, {"n": 0, "percentiles": {}})
        table.rows.append([week_label(week, f.period), row["n"], row["percentiles"].get(0.5)])
    return table


TABLES: dict[str, tuple[str, Callable[[Figures], Table]]] = {
    "headline": ("Headline figures", _headline),
    "contacts-by-source": ("Contacts by referral source", _contacts_by_source),
    "contacts-by-channel": ("Contacts by channel", _contacts_by_channel),
    "screening-outcomes": ("Contacts by screening outcome", _screening_outcomes),
    "enquiries-by-rag": ("Enquiries opened, by RAG rating", _enquiries_by_rag),
    "time-to-rating": ("Time from contact to RAG rating", _time_to_rating),
    "rating-to-decision": ("Time from RAG rating to decision", _rating_to_decision),
    "contact-to-decision": ("Time from contact to decision", _contact_to_decision),
    "referrals-one-working-day": ("Referrals decided within one working day", _referrals_one_day),
    "agencies": ("Agency requests", _agencies),
    "decisions-by-outcome": ("Decisions by outcome", _decisions_by_outcome),
    "early-help-and-re-referrals": (
        "Conversion to early help and re-referrals",
        _early_help_and_re_referrals,
    ),
    "police-notifications": ("Police notifications", _police),
    "weekly-volumes": ("Weekly trend: volumes", _weekly_volumes),
    "weekly-shares": ("Weekly trend: shares", _weekly_shares),
    "weekly-times": ("Weekly trend: median time from contact to decision", _weekly_times),
}
