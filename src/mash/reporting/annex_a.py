"""Ofsted's Annex A lists 1 to 3 (contacts, early help, referrals) for a date range.

Ofsted asks a local authority, at the start of an inspection of its children's
services (ILACS), for child-level lists in its Annex A template. The hub holds
what lists 1 to 3 need. Headings and codes are Ofsted's, exactly as its
template spells them ("a) Male", "a) WBRI", "g) 3A: Health services"...), so
the lists paste into the template or load into the tools councils use on it.

One row per child per event: a contact naming two children is two rows, and a
child referred twice is on list 3 twice. Dates are dd/mm/yyyy (as date cells
in the XLSX, as text in the CSV). What Ofsted asks for and the hub does not
record is left blank (docs/user-guide/hub-manager.md, "Ofsted Annex A"):
list 2's "Assessment completion date" and list 3's "Allocated Worker".

Rows are read in chunks (`.iterator()`) and written as they come (the XLSX by
XlsxWriter in constant-memory mode), so a year of a busy hub never sits in
memory; list 3's "Number of Referrals in Last 12 Months" is worked out a chunk
at a time from one query per chunk.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import itertools
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from mash.contacts.models import ContactPerson, ContactStatus, PersonRole
from mash.core import clock
from mash.enquiries.models import REFERRAL_OUTCOMES, Decision, Outcome
from mash.people.models import Ethnicity, Sex
from mash.people.selectors import re_referral_window_start

if TYPE_CHECKING:
    from mash.reporting.models import Export

# Rows fetched from the database at a time (and list 3's 12-month look-back per chunk).
CHUNK_SIZE = 2000
# Ofsted asks for six months; a year is the usual look-back; five years is the most we hold.
MAX_RANGE_DAYS = 5 * 366
EARLIEST = dt.date(2000, 1, 1)

# --- Ofsted's headings and codes -------------------------------------------------------------

COMMON_HEADINGS = (
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age of Child (Years)",
)
CONTACT_HEADINGS = (*COMMON_HEADINGS, "Date of Contact", "Contact Source")
EARLY_HELP_HEADINGS = (
    *COMMON_HEADINGS,
    "Assessment start date",
    "Assessment completion date",
    "Organisation completing assessment",
)
REFERRAL_HEADINGS = (
    *COMMON_HEADINGS,
    "Date of referral",
    "Referral Source",
    "Referral NFA?",
    "Number of Referrals in Last 12 Months",
    "Allocated Team",
    "Allocated Worker",
)
# The columns we leave blank because the hub does not record them (said on the page too).
NOT_RECORDED = {
    "List 2": ("Assessment completion date",),
    "List 3": ("Allocated Worker",),
}

GENDER: dict[str, str] = {
    Sex.MALE: "a) Male",
    Sex.FEMALE: "b) Female",
    Sex.UNKNOWN: "c) Not stated/recorded",
}
# Ofsted lists the Department for Education's codes, lettered a) to t), in this order.
_ETHNICITY_ORDER = (
    Ethnicity.WBRI,
    Ethnicity.WIRI,
    Ethnicity.WIRT,
    Ethnicity.WOTH,
    Ethnicity.WROM,
    Ethnicity.MWBC,
    Ethnicity.MWBA,
    Ethnicity.MWAS,
    Ethnicity.MOTH,
    Ethnicity.AIND,
    Ethnicity.APKN,
    Ethnicity.ABAN,
    Ethnicity.AOTH,
    Ethnicity.BCRB,
    Ethnicity.BAFR,
    Ethnicity.BOTH,
    Ethnicity.CHNE,
    Ethnicity.OOTH,
    Ethnicity.REFU,
    Ethnicity.NOBT,
)
ETHNICITY: dict[str, str] = {
    code.value: f"{letter}) {code.value}"
    for letter, code in zip("abcdefghijklmnopqrst", _ETHNICITY_ORDER, strict=True)
}
SOURCE: dict[str, str] = {
    "1A": "a) 1A: Individual",
    "1B": "b) 1B: Individual",
    "1C": "c) 1C: Individual",
    "1D": "d) 1D: Individual",
    "2A": "e) 2A: Schools",
    "2B": "f) 2B: Education services",
    "3A": "g) 3A: Health services",
    "3B": "h) 3B: Health services",
    "3C": "i) 3C: Health services",
    "3D": "j) 3D: Health services",
    "3E": "k) 3E: Health services",
    "3F": "l) 3F: Health services",
    "4": "m) 4: Housing",
    "5A": "n) 5A: LA services",
    "5B": "o) 5B: LA services",
    "5C": "p) 5C: LA services",
    "5D": "p1) 5D: LA services",
    "6": "q) 6: Police",
    "7": "r) 7: Other legal agency",
    "8": "s) 8: Other",
    "9": "t) 9: Anonymous",
    "10": "u) 10: Unknown",
}
YES, NO = "a) Yes", "b) No"
UNBORN_AGE = -1  # Ofsted: "If a child is unborn, enter their age as -1"

# A cell: text, a whole number, a date, or blank (None).
Cell = str | int | dt.date | None
Row = tuple[Cell, ...]


# --- The date range --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days on the London calendar, `start` to `end` inclusive."""

    start: dt.date
    end: dt.date

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=clock.LONDON)

    @property
    def until(self) -> dt.datetime:
        """The first moment after the range (midnight starting the day after `end`)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=clock.LONDON)

    def as_parameters(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> Period:
        return cls(
            start=dt.date.fromisoformat(str(parameters["start"])),
            end=dt.date.fromisoformat(str(parameters["end"])),
        )


def check_period(start: dt.date | None, end: dt.date | None) -> Period:
    """The range if Ofsted's lists can be made for it; else ValidationError keyed by field."""
    errors: dict[str, str] = {}
    today = clock.localtime(clock.now()).date()
    if start is None:
        errors["start"] = "Enter the first day of the lists"
    elif start < EARLIEST:
        errors["start"] = f"The first day must be on or after {EARLIEST:%-d %B %Y}"
    elif start > today:
        errors["start"] = "The first day must be today or in the past"
    if end is None:
        errors["end"] = "Enter the last day of the lists"
    elif end > today:
        errors["end"] = "The last day must be today or in the past"
    if not errors and start is not None and end is not None:
        if end < start:
            errors["end"] = "The last day must be the same as or after the first day"
        elif (end - start).days >= MAX_RANGE_DAYS:
            errors["end"] = "The lists can cover at most 5 years"
    if errors or start is None or end is None:
        raise ValidationError(errors)
    return Period(start=start, end=end)


def check_parameters(parameters: dict[str, Any]) -> dict[str, str]:
    """The parameters of an Annex A export, checked (for exports.request_export)."""

    def day(name: str) -> dt.date | None:
        value = parameters.get(name)
        if not value:
            return None
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValidationError({name: "Enter a real date"}) from None

    return check_period(day("start"), day("end")).as_parameters()


# --- Values ----------------------------------------------------------------------------------


def _day(moment: dt.datetime) -> dt.date:
    return clock.localtime(moment).date()


def _age(born: dt.date | None, expected: dt.date | None, on: dt.date) -> int | None:
    """Age in whole years at the last birthday before `on`; -1 for a child not yet born."""
    if born is None:
        return UNBORN_AGE if expected is not None else None
    if born > on:
        return UNBORN_AGE  # born since: unborn when this happened
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _child(
    person_id: int,
    sex: str,
    ethnicity: str,
    born: dt.date | None,
    expected: dt.date | None,
    day: dt.date,
) -> Row:
    """The five columns every list starts with, for a child on the day of the event."""
    return (
        str(person_id),
        GENDER.get(sex, GENDER[Sex.UNKNOWN]),
        ETHNICITY.get(ethnicity, ETHNICITY[Ethnicity.NOBT]),
        born,  # an unborn child has none (its expected date is not a date of birth)
        _age(born, expected, day),
    )


_PERSON = ("sex", "ethnicity", "date_of_birth", "expected_date_of_birth")


# --- List 1: contacts ------------------------------------------------------------------------


def _contacts(period: Period) -> QuerySet[ContactPerson]:
    return ContactPerson.objects.filter(
        role=PersonRole.CHILD,
        contact__received_at__gte=period.since,
        contact__received_at__lt=period.until,
    ).exclude(contact__status=ContactStatus.DRAFT)


def contact_rows(period: Period) -> Iterator[Row]:
    """List 1: each child on each contact received in the range."""
    rows = (
        _contacts(period)
        .order_by("contact__received_at", "contact_id", "position", "id")
        .values_list(
            "person_id",
            *(f"person__{f}" for f in _PERSON),
            "contact__received_at",
            "contact__referral_source",
        )
    )
    for person_id, sex, ethnicity, born, expected, received_at, source in rows.iterator(
        chunk_size=CHUNK_SIZE
    ):
        day = _day(received_at)
        yield (
            *_child(person_id, sex, ethnicity, born, expected, day),
            day,
            SOURCE.get(source),
        )


# --- List 2: early help ----------------------------------------------------------------------


def _own_decisions(period: Period) -> QuerySet[Decision]:
    # Children another authority is responsible for are on that authority's lists.
    return Decision.objects.filter(
        decided_at__gte=period.since,
        decided_at__lt=period.until,
        enquiry__responsible_la__isnull=True,
    )


def _early_help(period: Period) -> QuerySet[Decision]:
    return _own_decisions(period).filter(outcome=Outcome.EARLY_HELP)


def early_help_rows(period: Period) -> Iterator[Row]:
    """List 2: each decision in the range for an early help assessment, with its lead agency."""
    rows = (
        _early_help(period)
        .order_by("decided_at", "id")
        .values_list(
            "child_id",
            *(f"child__{f}" for f in _PERSON),
            "decided_at",
            "lead_professional_agency__name",
        )
    )
    for person_id, sex, ethnicity, born, expected, decided_at, agency in rows.iterator(
        chunk_size=CHUNK_SIZE
    ):
        day = _day(decided_at)
        yield (
            *_child(person_id, sex, ethnicity, born, expected, day),
            day,  # the hub's decision starts the assessment
            None,  # completed outside the hub: not recorded here
            agency or None,
        )


# --- List 3: referrals -----------------------------------------------------------------------


def _referrals(period: Period) -> QuerySet[Decision]:
    return _own_decisions(period).filter(outcome__in=REFERRAL_OUTCOMES)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _earlier_referrals(
    chunk: list[tuple[Any, ...]],
) -> dict[int, list[tuple[dt.datetime, int]]]:
    """Each child's referral decisions (moment, id) that the chunk's rows may look back on."""
    children = sorted({row[1] for row in chunk})
    since = re_referral_window_start(min(row[6] for row in chunk))
    until = max(row[6] for row in chunk)
    earlier: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    found = (
        Decision.objects.filter(
            child_id__in=children,
            outcome__in=REFERRAL_OUTCOMES,
            decided_at__gte=since,
            decided_at__lte=until,
        )
        .order_by("child_id", "decided_at", "id")
        .values_list("child_id", "decided_at", "id")
    )
    for child_id, decided_at, pk in found.iterator(chunk_size=CHUNK_SIZE):
        earlier[child_id].append((decided_at, pk))
    return earlier


def referral_rows(period: Period) -> Iterator[Row]:
    """List 3: each referral (a decision for a section 47 enquiry or a section 17
    assessment) in the range, with how many referrals the child had in the 12 months
    before it: the hub's re-referral rule (people.selectors.re_referral_since)."""
    rows = (
        _referrals(period)
        .order_by("decided_at", "id")
        .values_list(
            "id",
            "child_id",
            *(f"child__{f}" for f in _PERSON),
            "decided_at",
            "enquiry__contact__referral_source",
            "next_team",
        )
    )
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
        earlier = _earlier_referrals(chunk)
        for pk, person_id, sex, ethnicity, born, expected, decided_at, source, team in chunk:
            history = earlier.get(person_id, [])
            first = bisect.bisect_left(history, (re_referral_window_start(decided_at), 0))
            before = bisect.bisect_left(history, (decided_at, pk))
            day = _day(decided_at)
            yield (
                *_child(person_id, sex, ethnicity, born, expected, day),
                day,
                SOURCE.get(source),
                NO,  # a decision to refer is never "no further action" on the referral
                max(before - first, 0),
                team or None,
                None,  # the worker is allocated by the receiving team, outside the hub
            )


# --- The lists, and the two files ------------------------------------------------------------


@dataclass(frozen=True)
class AnnexList:
    sheet: str  # the sheet's name in Ofsted's template
    title: str
    file_name: str  # inside the zip of CSVs
    headings: tuple[str, ...]
    rows: Callable[[Period], Iterator[Row]]
    count: Callable[[Period], int]


LISTS = (
    AnnexList(
        "List 1",
        "Contacts",
        "list-1-contacts.csv",
        CONTACT_HEADINGS,
        contact_rows,
        lambda p: _contacts(p).count(),
    ),
    AnnexList(
        "List 2",
        "Early help",
        "list-2-early-help.csv",
        EARLY_HELP_HEADINGS,
        early_help_rows,
        lambda p: _early_help(p).count(),
    ),
    AnnexList(
        "List 3",
        "Referrals",
        "list-3-referrals.csv",
        REFERRAL_HEADINGS,
        referral_rows,
        lambda p: _referrals(p).count(),
    ),
)


def row_counts(period: Period) -> dict[str, int]:
    """How many rows each list will have (three COUNT queries)."""
    return {annex.sheet: annex.count(period) for annex in LISTS}


class _Tally:
    """Counts rows written and reports progress to the export, now and then."""

    EVERY = 200  # rows between reports (the export saves them at most twice a second)

    def __init__(self, progress: Callable[[int, int | None], None], total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        progress(0, total)

    def tick(self) -> None:
        self.done += 1
        if self.done % self.EVERY == 0:
            self.progress(self.done, self.total)

    def finish(self) -> None:
        self.progress(self.done, max(self.total, self.done))


def write_xlsx(export: Export, out: IO[bytes], progress: Callable[[int, int | None], None]) -> None:
    """The three lists as one workbook, a sheet each, written row by row.

    XlsxWriter's constant-memory mode keeps one row in memory and the rest of each
    sheet in a temporary file (in the export folder: the rows name children).
    """
    import xlsxwriter
    from django.conf import settings

    period = Period.from_parameters(export.parameters)
    tally = _Tally(progress, sum(row_counts(period).values()))
    scratch = Path(settings.MASH_EXPORT_DIR)
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(
        out, {"constant_memory": True, "tmpdir": str(scratch), "strings_to_formulas": False}
    )
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    for annex in LISTS:
        sheet = book.add_worksheet(annex.sheet)
        for column, heading in enumerate(annex.headings):
            sheet.set_column(column, column, max(14, min(len(heading) + 2, 40)))
            sheet.write_string(0, column, heading, bold)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(annex.rows(period), start=1):
            for column, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    sheet.write_datetime(number, column, value, day)
                elif isinstance(value, int):
                    sheet.write_number(number, column, value)
                else:
                    sheet.write_string(number, column, value)  # text, never a formula
            tally.tick()
    book.close()
    tally.finish()


def write_csv_zip(
    export: Export, out: IO[bytes], progress: Callable[[int, int | None], None]
) -> None:
    """The three lists as three CSV files (UTF-8 with a byte-order mark, for Excel) in a zip."""
    from mash.core.spreadsheet import safe_cell as _csv_safe

    period = Period.from_parameters(export.parameters)
    tally = _Tally(progress, sum(row_counts(period).values()))
    now = clock.localtime(clock.now())
    made = (now.year, now.month, now.day, now.hour, now.minute, now.second)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for annex in LISTS:
            entry = zipfile.ZipInfo(annex.file_name, date_time=made)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with (
                archive.open(entry, "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
            ):
                writer = csv.writer(text)
                writer.writerow(annex.headings)
                for row in annex.rows(period):
                    writer.writerow([_csv_cell(value, _csv_safe) for value in row])
                    tally.tick()
    tally.finish()


def _csv_cell(value: Cell, safe: Callable[[str], str]) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int):
        return str(value)
    return safe(value)
