"""Themes and hotspots for analysts: counts over decisions, computed in the database.

Every figure here counts decisions made in a period (London days, both included):
themes by month, cohorts by age band, sex and ethnicity, themes that occur together,
and where the children live (postcode district, ward). Nothing returns a row about
one child, only counts, and every query is an aggregate whose size is bounded by the
number of themes, months, cohorts, districts or wards, never by the number of records.

Where a child lives is the postcode recorded for them on the contact that led to the
decision (as the referrer gave it at the time); when that is blank, their household's
current address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    Left,
    Length,
    NullIf,
    Replace,
    TruncMonth,
    Upper,
)

from mash.contacts.models import ContactPerson
from mash.core import clock
from mash.enquiries.models import Decision, DecisionTheme, Theme
from mash.people.models import Ethnicity, Sex
from mash.reporting.models import WardLookup
from mash.reporting.performance import Period

# A whole UK postcode, upper case with no space: outward code, then the inward code
# (a digit and two letters). The district is the outward code.
POSTCODE_PATTERN = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"
SMALL_CELL = 5  # counts below this are shown as "fewer than 5" to analysts

AGE_BANDS: list[tuple[str, str]] = [
    ("unborn", "Unborn"),
    ("0", "Under 1"),
    ("1-4", "1 to 4"),
    ("5-9", "5 to 9"),
    ("10-15", "10 to 15"),
    ("16-17", "16 to 17"),
    ("18+", "18 or over"),
    ("unknown", "Date of birth not known"),
]
NOT_KNOWN_DISTRICT = ""  # shown as "Postcode not known"
NOT_IN_LOOKUP = ""  # shown as "Not in the ward lookup"


def decisions_in(period: Period) -> QuerySet[Decision]:
    """Decisions made in the period (London days, both included)."""
    return Decision.objects.filter(decided_at__gte=period.start_at, decided_at__lt=period.end_at)


def _themes_in(period: Period) -> QuerySet[DecisionTheme]:
    return DecisionTheme.objects.filter(
        decision__decided_at__gte=period.start_at, decision__decided_at__lt=period.end_at
    )


# --- Themes over time ---------------------------------------------------------------------------


def months_of(period: Period) -> list[dt.date]:
    """The first day of each calendar month the period touches."""
    month = period.first.replace(day=1)
    months = []
    while month <= period.last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def theme_totals(period: Period) -> dict[str, int]:
    """Theme -> enquiries with a decision in the period carrying that theme."""
    rows = (
        _themes_in(period)
        .values("theme")
        .annotate(n=Count("decision__enquiry_id", distinct=True))
        .order_by()
    )
    return {row["theme"]: row["n"] for row in rows}


def enquiries_decided(period: Period) -> tuple[int, int]:
    """(Enquiries with a decision in the period, of which with at least one theme)."""
    everything = decisions_in(period).aggregate(n=Count("enquiry_id", distinct=True))["n"]
    themed = _themes_in(period).aggregate(n=Count("decision__enquiry_id", distinct=True))["n"]
    return everything or 0, themed or 0


def themes_by_month(period: Period) -> dict[tuple[dt.date, str], int]:
    """(First of the month, theme) -> enquiries with that theme decided that London month."""
    rows = (
        _themes_in(period)
        .annotate(
            month=TruncMonth("decision__decided_at", output_field=DateField(), tzinfo=clock.LONDON)
        )
        .values("month", "theme")
        .annotate(n=Count("decision__enquiry_id", distinct=True))
        .order_by()
    )
    return {(row["month"], row["theme"]): row["n"] for row in rows}


# --- Cohorts ------------------------------------------------------------------------------------


def _age_band(prefix: str = "") -> Case:
    """The age band from `_age` (see _with_age_band); unborn when born after the decision."""
    born = f"{prefix}child__date_of_birth"
    expected = f"{prefix}child__expected_date_of_birth"
    return Case(
        When(**{f"{born}__isnull": True, f"{expected}__isnull": False}, then=Value("unborn")),
        When(**{f"{born}__isnull": True}, then=Value("unknown")),
        When(_age__lt=0, then=Value("unborn")),
        When(_age__lt=1, then=Value("0")),
        When(_age__lt=5, then=Value("1-4")),
        When(_age__lt=10, then=Value("5-9")),
        When(_age__lt=16, then=Value("10-15")),
        When(_age__lt=18, then=Value("16-17")),
        default=Value("18+"),
        output_field=CharField(),
    )


def _with_age_band(queryset: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
    """The queryset annotated with `band`: the child's age band when decided."""
    decided = f"{prefix}decided_at"
    born = f"{prefix}child__date_of_birth"
    return (
        queryset.annotate(
            _decided_md=ExtractMonth(decided, tzinfo=clock.LONDON) * 100
            + ExtractDay(decided, tzinfo=clock.LONDON),
            _born_md=ExtractMonth(born) * 100 + ExtractDay(born),
        )
        .annotate(
            _age=ExtractYear(decided, tzinfo=clock.LONDON)
            - ExtractYear(born)
            - Case(
                When(_born_md__gt=F("_decided_md"), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .annotate(band=_age_band(prefix))
    )


COHORTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "age": ("Age band when decided", AGE_BANDS),
    "sex": ("Sex", list(Sex.choices)),
    "ethnicity": ("Ethnicity", list(Ethnicity.choices)),
}


def cohort(period: Period, dimension: str) -> dict[tuple[str, str], int]:
    """(Category, theme or "" for all decisions) -> decisions in the period.

    One count per decision: a child decided twice in the period is counted twice.
    """
    if dimension not in COHORTS:
        raise ValueError(dimension)
    everything: QuerySet[Any] = decisions_in(period)
    themed: QuerySet[Any] = _themes_in(period)
    if dimension == "age":
        everything = _with_age_band(everything)
        themed = _with_age_band(themed, "decision__")
        key, themed_key = "band", "band"
    else:
        key, themed_key = f"child__{dimension}", f"decision__child__{dimension}"
    counts: dict[tuple[str, str], int] = {}
    for row in everything.values(key).annotate(n=Count("pk")).order_by():
        counts[(row[key], "")] = row["n"]
    for row in themed.values(themed_key, "theme").annotate(n=Count("pk")).order_by():
        counts[(row[themed_key], row["theme"])] = row["n"]
    return counts


# --- Themes that occur together -----------------------------------------------------------------


def theme_pairs(period: Period) -> list[tuple[str, str, int]]:
    """(Theme, other theme, enquiries) for each pair recorded on the same enquiry's decisions
    made in the period, most frequent first. Each pair once (in theme-code order)."""
    themes = DecisionTheme._meta.db_table
    decisions = Decision._meta.db_table
    sql = f"""
        SELECT a.theme, b.theme, COUNT(DISTINCT d1.enquiry_id)
        FROM {themes} a
        JOIN {decisions} d1 ON d1.id = a.decision_id
        JOIN {decisions} d2 ON d2.enquiry_id = d1.enquiry_id
        JOIN {themes} b ON b.decision_id = d2.id
        WHERE a.theme < b.theme
          AND d1.decided_at >= %s AND d1.decided_at < %s
          AND d2.decided_at >= %s AND d2.decided_at < %s
        GROUP BY a.theme, b.theme
    """  # noqa: S608 (table names from the models; values are parameters)
    start, end = period.start_at, period.end_at
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end, start, end])
        rows = [(str(a), str(b), int(n)) for a, b, n in cursor.fetchall()]
    labels = dict(Theme.choices)
    rows.sort(key=lambda r: (-r[2], labels.get(r[0], r[0]), labels.get(r[1], r[1])))
    return rows


# --- Where: postcode districts and wards --------------------------------------------------------


def _postcode_then() -> Coalesce:
    """The child's postcode on the contact that led to the decision, else their household's."""
    on_contact = ContactPerson.objects.filter(
        contact_id=OuterRef("enquiry__contact_id"), person_id=OuterRef("child_id")
    ).values("postcode")[:1]
    return Coalesce(
        NullIf(Subquery(on_contact, output_field=CharField()), Value("")),
        F("child__household__address__postcode"),
        Value(""),
        output_field=CharField(),
    )


def with_district(queryset: QuerySet[Decision]) -> QuerySet[Any]:
    """Decisions annotated with `compact` (the postcode, upper case, no spaces) and
    `district` (its outward code, or "" when it is not a whole postcode)."""
    return queryset.annotate(
        compact=Upper(Replace(_postcode_then(), Value(" "), Value(""))),
    ).annotate(
        district=Case(
            When(compact__regex=POSTCODE_PATTERN, then=Left("compact", Length("compact") - 3)),
            default=Value(NOT_KNOWN_DISTRICT),
            output_field=CharField(),
        )
    )


@dataclass(frozen=True)
class Place:
    code: str  # the district or ward code; "" when not known
    name: str
    enquiries: int
    children: int


def _filtered(period: Period, theme: str | None) -> QuerySet[Decision]:
    queryset = decisions_in(period)
    if theme:
        queryset = queryset.filter(themes__theme=theme)
    return queryset


def by_district(period: Period, theme: str | None = None) -> list[Place]:
    """Enquiries and children decided in the period by postcode district, most first."""
    rows = (
        with_district(_filtered(period, theme))
        .values("district")
        .annotate(
            enquiries=Count("enquiry_id", distinct=True),
            children=Count("child_id", distinct=True),
        )
        .order_by()
    )
    places = [
        Place(r["district"], r["district"] or "Postcode not known", r["enquiries"], r["children"])
        for r in rows
    ]
    return _ranked(places)


def wards_loaded() -> int:
    """How many postcodes the ward lookup holds (0: none loaded)."""
    return WardLookup.objects.count()


def by_ward(period: Period, theme: str | None = None) -> list[Place]:
    """Enquiries and children decided in the period by electoral ward (from the lookup)."""
    ward = WardLookup.objects.filter(postcode=OuterRef("compact")).values("ward_code")[:1]
    found = (
        with_district(_filtered(period, theme))
        .annotate(ward=Coalesce(Subquery(ward), Value(NOT_IN_LOOKUP), output_field=CharField()))
        .values("ward")
        .annotate(
            enquiries=Count("enquiry_id", distinct=True),
            children=Count("child_id", distinct=True),
        )
        .order_by()
    )
    rows = list(found)
    codes = [r["ward"] for r in rows if r["ward"]]
    names: dict[str, str] = {}
    for code, name in (
        WardLookup.objects.filter(ward_code__in=codes)
        .values_list("ward_code", "ward_name")
        .order_by("ward_code", "ward_name")
        .distinct()
    ):
        names.setdefault(code, name)
    places = [
        Place(
            r["ward"],
            str(names.get(r["ward"], r["ward"])) if r["ward"] else "Not in the ward lookup",
            r["enquiries"],
            r["children"],
        )
        for r in rows
    ]
    return _ranked(places)


def _ranked(places: list[Place]) -> list[Place]:
    # Most enquiries first; "not known" last whatever its count.
    return sorted(places, key=lambda p: (p.code == "", -p.enquiries, -p.children, p.name))


def suppressed(places: list[Place]) -> list[Place]:
    """Places in the order an analyst sees them: those with fewer than SMALL_CELL enquiries
    after the rest, in name order, so the ranking does not reveal a hidden count."""
    known = [p for p in places if p.code]
    shown = [p for p in known if p.enquiries >= SMALL_CELL]
    hidden = sorted((p for p in known if p.enquiries < SMALL_CELL), key=lambda p: p.name)
    return shown + hidden + [p for p in places if not p.code]


def themed_count_rows(
    counts: dict[tuple[str, str], int], categories: list[tuple[str, str]], themes: list[str]
) -> list[list[Any]]:
    """Rows for a cohort table: category label, all decisions, then each theme."""
    seen = {category for category, _ in counts}
    known = {value for value, _ in categories}
    # A code no longer in the list is shown as itself, after the rest.
    labelled = [(v, label) for v, label in categories if v in seen]
    labelled += [(v, v or "Not recorded") for v in sorted(seen - known)]
    return [
        [label, counts.get((value, ""), 0), *(counts.get((value, t), 0) for t in themes)]
        for value, label in labelled
    ]


def themes_present(totals: dict[str, int]) -> list[str]:
    """Theme codes with any enquiry in the period, in the list's order."""
    return [value for value in Theme.values if totals.get(value)]


def grid(
    counts: dict[tuple[dt.date, str], int], months: list[dt.date], themes: list[str]
) -> list[list[Any]]:
    """Rows for the monthly table: the month, then each theme's count."""
    return [[month, *(counts.get((month, t), 0) for t in themes)] for month in months]
