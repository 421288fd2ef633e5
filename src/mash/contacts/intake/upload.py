"""Police notifications arriving in a CSV file: the template, reading and checking, importing.

A file is read into a `Preview` (every row, every problem, by spreadsheet row number)
without writing anything; `import_csv` then receives every row in one transaction, or
none. Both use `police.check` and `police.receive_notification`, as the API does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from mash.accounts.models import Agency, AgencyKind
from mash.contacts import police
from mash.contacts.intake.manual import CHILDREN, parse_time
from mash.contacts.models import (
    AdultRole,
    DashRisk,
    IncidentType,
    PoliceNotification,
    ReceivedVia,
)
from mash.core import audit, clock

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from mash.accounts.models import User


MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_LABEL = "2MB"
MAX_ROWS = 1_000
CSV_CHILD_FIELDS = ("given_name", "family_name", "date_of_birth", "seen", "spoken_to")
CSV_ADULT_FIELDS = ("given_name", "family_name", "role", "date_of_birth")
NOTIFICATION_COLUMNS = (
    "occurrence_reference",
    "incident_date",
    "incident_time",
    "incident_type",
    "dash_risk",
    "location",
    "narrative",
    "officer_name",
    "officer_collar_number",
    "officer_team",
)
REQUIRED_COLUMNS = (
    *NOTIFICATION_COLUMNS,
    *(f"child_1_{name}" for name in CSV_CHILD_FIELDS),
)
_GROUP = re.compile(r"^(child|adult)_(\d{1,3})_([a-z_]+)$")
# The template's example groups: a force adds child_4_..., adult_3_... as it needs them.
TEMPLATE_CHILDREN, TEMPLATE_ADULTS = 3, 2


def template_header() -> list[str]:
    header = list(NOTIFICATION_COLUMNS)
    for n in range(1, TEMPLATE_CHILDREN + 1):
        header += [f"child_{n}_{name}" for name in CSV_CHILD_FIELDS]
    for n in range(1, TEMPLATE_ADULTS + 1):
        header += [f"adult_{n}_{name}" for name in CSV_ADULT_FIELDS]
    return header


def template_rows() -> list[list[str]]:
    """The downloadable template: the header and one example notification."""
    example = {
        "occurrence_reference": "RVP/12345/26",
        "incident_date": "14/06/2026",
        "incident_time": "21:45",
        "incident_type": "domestic_abuse",
        "dash_risk": "medium",
        "location": "12 Mill Lane, Riverton RV1 2AB",
        "narrative": "Officers attended a verbal argument between the parents. Two children "
        "were in the house; the elder was seen and spoken to and said she was upset.",
        "officer_name": "PC Jo Bell",
        "officer_collar_number": "4521",
        "officer_team": "Riverton response team",
        "child_1_given_name": "Amelia",
        "child_1_family_name": "Hart",
        "child_1_date_of_birth": "04/05/2018",
        "child_1_seen": "yes",
        "child_1_spoken_to": "yes",
        "child_2_given_name": "Leo",
        "child_2_family_name": "Hart",
        "child_2_date_of_birth": "19/11/2022",
        "child_2_seen": "yes",
        "child_2_spoken_to": "no",
        "adult_1_given_name": "Dawn",
        "adult_1_family_name": "Hart",
        "adult_1_role": "victim",
        "adult_1_date_of_birth": "03/02/1990",
        "adult_2_given_name": "Craig",
        "adult_2_family_name": "Hart",
        "adult_2_role": "suspect",
    }
    header = template_header()
    return [header, [example.get(name, "") for name in header]]


class UploadError(Exception):
    """The file cannot be read as a notifications CSV; `message` says why, plainly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_upload(upload: UploadedFile | None) -> str:
    """The uploaded file's text, or UploadError saying what is wrong with the file."""
    if upload is None:
        raise UploadError("Select a CSV file")
    name = str(upload.name or "")
    if not name.lower().endswith(".csv"):
        raise UploadError("The selected file must be a CSV")
    if not upload.size:
        raise UploadError("The selected file is empty")
    if upload.size > MAX_UPLOAD_BYTES:
        raise UploadError(f"The selected file must be smaller than {MAX_UPLOAD_LABEL}")
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    return decode(content)


def decode(content: bytes) -> str:
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The selected file must be smaller than {MAX_UPLOAD_LABEL}")
    if b"\x00" in content:
        raise UploadError(
            "The selected file is not a CSV file (it holds binary data). Save the spreadsheet "
            "as 'CSV UTF-8 (comma delimited)' and upload that"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(
            "The selected file must be saved as UTF-8 text: in the spreadsheet, save it as "
            "'CSV UTF-8 (comma delimited)'"
        ) from None
    if not text.strip():
        raise UploadError("The selected file is empty")
    return text


@dataclass(frozen=True)
class Problem:
    row: int  # as numbered in the spreadsheet: the header is row 1
    column: str
    message: str


@dataclass
class Row:
    number: int
    entry: police.NotificationEntry | None = None
    problems: list[Problem] = field(default_factory=list)
    existing: PoliceNotification | None = None  # already received, identical
    same_as: int | None = None  # an identical row earlier in the file

    @property
    def reference(self) -> str:
        return self.entry.occurrence_reference if self.entry else ""


@dataclass
class Preview:
    """A file read and checked: every row, its problems, and what importing would do."""

    rows: list[Row] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for row in self.rows for p in row.problems]

    @property
    def rows_with_problems(self) -> list[int]:
        return [row.number for row in self.rows if row.problems]

    @property
    def ready(self) -> bool:
        return bool(self.rows) and not self.file_problems and not self.problems

    @property
    def new_rows(self) -> list[Row]:
        return [r for r in self.rows if r.existing is None and r.same_as is None and not r.problems]

    @property
    def already_received(self) -> list[Row]:
        return [r for r in self.rows if r.existing is not None]


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each record; a quoted cell may span lines, as in a spreadsheet."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UploadError(_csv_error(number, error)) from None
        yield number, record


def _csv_error(number: int, error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return f"Row {number} has a value too long to read: no value can be that long"
    return (
        f"Row {number} cannot be read as CSV ({text}). Check its quotation marks, "
        "or save the file again from the spreadsheet as CSV"
    )


def _header(cells: list[str]) -> tuple[list[str], list[str]]:
    """The column names (tidied) and every problem with them."""
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    problems: list[str] = []
    if len(names) == 1 and (";" in cells[0] or "\t" in cells[0] or "|" in cells[0]):
        separator = "semicolons" if ";" in cells[0] else "tabs" if "\t" in cells[0] else "bars"
        return names, [
            f"The columns are separated by {separator}: a CSV file's columns must be separated "
            "by commas. Save it from the spreadsheet as 'CSV UTF-8 (comma delimited)'"
        ]
    known = set(NOTIFICATION_COLUMNS)
    seen: set[str] = set()
    unknown: list[str] = []
    repeated: list[str] = []
    groups: dict[tuple[str, int], set[str]] = {}
    for name in names:
        if name == "":
            continue
        if name in seen:
            repeated.append(name)
        seen.add(name)
        match = _GROUP.match(name)
        if match is not None:
            kind, number, part = match.group(1), int(match.group(2)), match.group(3)
            fields_ = CSV_CHILD_FIELDS if kind == "child" else CSV_ADULT_FIELDS
            limit = police.MAX_CHILDREN if kind == "child" else police.MAX_ADULTS
            if part in fields_ and 1 <= number <= limit:
                groups.setdefault((kind, number), set()).add(part)
                continue
        if name not in known:
            unknown.append(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        problems.append(f"The file is missing these columns: {', '.join(missing)}")
    if unknown:
        problems.append(
            f"These columns are not ones we know: {', '.join(_clip(u) for u in unknown[:10])}. "
            "Check their names against the template"
        )
    if repeated:
        problems.append(f"These columns appear twice: {', '.join(sorted(set(repeated)))}")
    for (kind, number), parts in sorted(groups.items()):
        wanted = CSV_CHILD_FIELDS if kind == "child" else CSV_ADULT_FIELDS
        absent = [f"{kind}_{number}_{p}" for p in wanted if p not in parts]
        if absent and (kind, number) != ("child", 1):
            problems.append(f"The {kind} {number} columns are incomplete: add {', '.join(absent)}")
    return names, problems


def _clip(value: str, length: int = 40) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


_DATE_FORMATS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), (3, 2, 1)),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), (1, 2, 3)),
)


def parse_date(value: str) -> dt.date | None:
    """A date as DD/MM/YYYY (a UK spreadsheet's) or YYYY-MM-DD; None if it is neither."""
    for pattern, (d, m, y) in _DATE_FORMATS:
        match = pattern.match(value)
        if match is not None:
            try:
                return dt.date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                return None
    return None


_YES_NO = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
_NOT_KNOWN = {"", "not known", "not_known", "unknown"}


def _choice(value: str, choices: Any) -> str | None:
    """A choice by its value or its label, in any case ("Domestic abuse", "domestic_abuse")."""
    wanted = value.strip().lower()
    for code, label in choices:
        if wanted in (str(code).lower(), str(label).lower()):
            return str(code)
    return None


class _RowReader:
    """Reads one record's cells into an entry, noting each cell it cannot read."""

    def __init__(self, number: int, cells: dict[str, str]) -> None:
        self.number = number
        self.cells = cells
        self.problems: list[Problem] = []

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.number, column, message))

    def date(self, column: str, label: str) -> dt.date | None:
        value = self.get(column)
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.problem(
                column, f"{label} must be a real date written as DD/MM/YYYY, like 14/06/2026"
            )
        return parsed

    def yes_no(self, column: str) -> bool | None:
        value = self.get(column).lower()
        if value in _NOT_KNOWN:
            return None
        if value in _YES_NO:
            return _YES_NO[value]
        self.problem(column, "Enter yes, no, or leave it blank if not known")
        return None

    def entry(self) -> tuple[police.NotificationEntry, dict[int, int], dict[int, int]]:
        """The notification, and which child_N / adult_N group each entry's child came from."""
        day = self.date("incident_date", "The incident date")
        time_value = self.get("incident_time")
        time = parse_time(time_value) if time_value else None
        if not self.get("incident_date"):
            self.problem("incident_date", "Enter the date of the incident")
        if not time_value:
            self.problem("incident_time", "Enter the time of the incident")
        elif time is None:
            self.problem("incident_time", "Enter the time in 24-hour format, like 21:45")
        incident_at = dt.datetime.combine(day, time, tzinfo=clock.LONDON) if day and time else None
        incident_type = ""
        if self.get("incident_type"):
            incident_type = _choice(self.get("incident_type"), IncidentType.choices) or ""
            if not incident_type:
                self.problem(
                    "incident_type",
                    "The type must be one of: " + ", ".join(IncidentType.values),
                )
        else:
            self.problem("incident_type", "Enter the type of incident")
        dash_risk = ""
        if self.get("dash_risk"):
            dash_risk = _choice(self.get("dash_risk"), DashRisk.choices) or ""
            if not dash_risk:
                self.problem("dash_risk", "The DASH risk level must be standard, medium or high")
        children: list[police.ChildEntry] = []
        child_groups: dict[int, int] = {}
        for n in range(1, police.MAX_CHILDREN + 1):
            prefix = f"child_{n}_"
            if not any(self.get(prefix + f) for f in CSV_CHILD_FIELDS):
                continue
            child_groups[len(children)] = n
            children.append(
                police.ChildEntry(
                    given_name=self.get(prefix + "given_name"),
                    family_name=self.get(prefix + "family_name"),
                    date_of_birth=self.date(prefix + "date_of_birth", "The date of birth"),
                    seen=self.yes_no(prefix + "seen"),
                    spoken_to=self.yes_no(prefix + "spoken_to"),
                )
            )
        adults: list[police.AdultEntry] = []
        adult_groups: dict[int, int] = {}
        for n in range(1, police.MAX_ADULTS + 1):
            prefix = f"adult_{n}_"
            if not any(self.get(prefix + f) for f in CSV_ADULT_FIELDS):
                continue
            role = _choice(self.get(prefix + "role"), AdultRole.choices)
            if role is None:
                self.problem(prefix + "role", "The role must be victim, suspect, witness or other")
            adult_groups[len(adults)] = n
            adults.append(
                police.AdultEntry(
                    role=role or "",
                    given_name=self.get(prefix + "given_name"),
                    family_name=self.get(prefix + "family_name"),
                    date_of_birth=self.date(prefix + "date_of_birth", "The date of birth"),
                )
            )
        entry = police.NotificationEntry(
            occurrence_reference=self.get("occurrence_reference"),
            incident_at=incident_at or clock.now(),
            incident_type=incident_type,
            dash_risk=dash_risk,
            location=self.get("location"),
            narrative=self.get("narrative"),
            officer_name=self.get("officer_name"),
            officer_collar_number=self.get("officer_collar_number"),
            officer_team=self.get("officer_team"),
            children=children,
            adults=adults,
        )
        return entry, child_groups, adult_groups


def _column(key: str, child_groups: dict[int, int], adult_groups: dict[int, int]) -> str:
    """The CSV column a `police.check` error key is about."""
    parts = key.split(".")
    if key == "incident_at":
        return "incident_date"
    if key == "children":
        return "child_1_given_name"
    if key == "adults":
        return "adult_1_given_name"
    if len(parts) == 3 and parts[1].isdigit():
        index = int(parts[1])
        if parts[0] == CHILDREN:
            return f"child_{child_groups.get(index, index + 1)}_{parts[2]}"
        return f"adult_{adult_groups.get(index, index + 1)}_{parts[2]}"
    return key


def read_csv(text: str, *, force: Agency | None) -> Preview:
    """Every row of the file read and checked, as `police.check` and the queue would see it.

    Nothing is written. Problems are numbered by spreadsheet row (the header is row 1).
    """
    preview = Preview()
    try:
        records = _records(text)
        first = next(records, None)
        if first is None:
            preview.file_problems.append("The selected file is empty")
            return preview
        names, header_problems = _header(first[1])
        if force is None or force.kind != AgencyKind.POLICE or not force.is_active:
            header_problems.append("Select the police force that sent the file")
        if header_problems:
            preview.file_problems.extend(header_problems)
            return preview
        for number, cells in records:
            if not any(c.strip() for c in cells):
                continue
            if len(preview.rows) >= MAX_ROWS:
                preview.file_problems.append(
                    f"The file has more than {MAX_ROWS:,} notifications: split it into files of "
                    f"{MAX_ROWS:,} rows or fewer"
                )
                preview.rows = []
                return preview
            preview.rows.append(_read_row(number, names, cells, force))
    except UploadError as error:
        preview.file_problems.append(error.message)
        preview.rows = []
        return preview
    if not preview.rows:
        preview.file_problems.append("The file has no notifications: only a header row")
    _check_repeats(preview)
    _check_received(preview, force)
    return preview


def _read_row(number: int, names: list[str], cells: list[str], force: Agency | None) -> Row:
    row = Row(number)
    if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
        row.problems.append(
            Problem(
                number,
                "",
                f"This row has {len(cells)} values but there are {len(names)} columns: "
                "check for an extra comma",
            )
        )
        return row
    if any(c.strip() for n, c in zip(names, cells, strict=False) if not n):
        row.problems.append(
            Problem(number, "", "This row has a value in a column with no name in the first row")
        )
        return row
    reader = _RowReader(number, {n: c for n, c in zip(names, cells, strict=False) if n})
    entry, child_groups, adult_groups = reader.entry()
    unread = {p.column for p in reader.problems}
    for key, messages in police.check(entry, force=force).items():
        if key == "force":
            continue  # said once for the whole file, not on every row
        column = _column(key, child_groups, adult_groups)
        if column in unread or (column == "incident_date" and "incident_time" in unread):
            continue
        if column == "dash_risk" and "incident_type" in unread:
            continue  # whether a DASH level belongs depends on the type, which is unread
        reader.problem(column, messages[0])
    row.problems = reader.problems
    row.entry = entry
    return row


def _check_repeats(preview: Preview) -> None:
    """The same reference twice in one file: fine if identical (imported once), else a problem."""
    first: dict[str, Row] = {}
    for row in preview.rows:
        if row.entry is None or not row.reference:
            continue
        earlier = first.get(row.reference)
        if earlier is None or earlier.entry is None:
            first[row.reference] = row
        elif earlier.entry.content_hash() == row.entry.content_hash():
            row.same_as = earlier.number
        else:
            row.problems.append(
                Problem(
                    row.number,
                    "occurrence_reference",
                    f"Row {earlier.number} has the same occurrence reference with different "
                    "details: each notification needs its own reference",
                )
            )


def _check_received(preview: Preview, force: Agency | None) -> None:
    """Rows the hub already has: identical ones are replays, different ones are problems."""
    if force is None:
        return
    references = sorted({r.reference for r in preview.rows if r.reference})
    existing: dict[str, PoliceNotification] = {}
    for start in range(0, len(references), 500):
        chunk = references[start : start + 500]
        for notification in PoliceNotification.objects.filter(
            force=force, occurrence_reference__in=chunk
        ).only("pk", "occurrence_reference", "content_hash"):
            existing[notification.occurrence_reference] = notification
    for row in preview.rows:
        found = existing.get(row.reference)
        if found is None or row.entry is None or row.problems:
            continue
        if found.content_hash == row.entry.content_hash():
            row.existing = found
        else:
            row.problems.append(
                Problem(
                    row.number,
                    "occurrence_reference",
                    f"{row.reference} was already received from this force as {found.reference} "
                    "with different details: check the reference",
                )
            )


class ImportRefused(Exception):
    """A row could not be received; nothing from the file was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    created: list[PoliceNotification]
    already: list[tuple[int, PoliceNotification]]  # (row, notification received before)


@transaction.atomic
def import_csv(
    *, actor: User, force: Agency | None, preview: Preview, file_name: str, digest: str
) -> Imported:
    """Receives every row of a checked file in one transaction: all of them, or none.

    Each row goes through `police.receive_notification` (which audits it); a replay of
    an identical notification is reported, not created again.
    """
    if not actor.has_perm("contacts.record_police"):
        raise PermissionDenied
    if not preview.ready:
        raise ImportRefused(preview.problems)
    created: list[PoliceNotification] = []
    already: list[tuple[int, PoliceNotification]] = []
    problems: list[Problem] = []
    for row in preview.rows:
        if row.entry is None or row.same_as is not None:
            continue
        try:
            notification, new = police.receive_notification(
                actor=actor, force=force, entry=row.entry, via=ReceivedVia.CSV
            )
        except police.ReplayConflict as conflict:
            problems.append(
                Problem(
                    row.number,
                    "occurrence_reference",
                    f"{row.reference} was already received from this force as "
                    f"{conflict.existing.reference} with different details",
                )
            )
            continue
        except ValidationError as error:
            problems += [
                Problem(row.number, _column(key, {}, {}), messages[0])
                for key, messages in error.message_dict.items()
            ]
            continue
        if new:
            created.append(notification)
        else:
            already.append((row.number, notification))
    if problems:
        raise ImportRefused(problems)  # the transaction rolls back: nothing is imported
    audit.record(
        action="contacts.police_csv_imported",
        actor=actor,
        object_type="accounts.agency",
        object_id=force.pk if force else "",
        detail={
            "file": file_name,
            "sha256": digest,
            "rows": len(preview.rows),
            "created": len(created),
            "already_received": len(already),
        },
    )
    return Imported(created, already)
