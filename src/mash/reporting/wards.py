"""Loading the hub's postcode-to-ward lookup from a CSV file (for the ward hotspots).

The file is checked whole before anything is written; then, in one transaction, the
old lookup is replaced by the new one and the load is audited. A file with any bad row
changes nothing, and the problems are reported by row number.

Accepted columns (the header row; case, spaces and hyphens do not matter, other columns
are ignored), so the ONS "postcode to ward" lookups load as they are published:
- postcode: `postcode`, `pcds`, `pcd`, `pcd7`, `pcd8` or `pcd2`;
- ward code: `ward_code`, `osward` or `wdYYcd` (for example `WD24CD`);
- ward name: `ward_name` or `wdYYnm` (for example `WD24NM`).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from mash.core import audit
from mash.core.models import AuditEvent
from mash.reporting.models import WardLookup
from mash.reporting.themes import POSTCODE_PATTERN

MAX_BYTES = 20 * 1024 * 1024
MAX_BYTES_LABEL = "20 MB"
MAX_ROWS = 300_000
MAX_ERRORS = 20  # problems listed; the rest are counted
BATCH = 5000
ACTION = "reporting.wards_loaded"

POSTCODE_COLUMNS = ("postcode", "pcds", "pcd", "pcd7", "pcd8", "pcd2")
_WARD_CODE_COLUMN = re.compile(r"ward_code|osward|wd\d\dcd")
_WARD_NAME_COLUMN = re.compile(r"ward_name|wd\d\dnm")
_WARD_CODE = re.compile(r"[EWSN]\d{8}")
_POSTCODE = re.compile(POSTCODE_PATTERN)
_NAME_MAX = WardLookup._meta.get_field("ward_name").max_length or 100


@dataclass(frozen=True)
class Loaded:
    postcodes: int
    wards: int


@dataclass(frozen=True)
class Status:
    postcodes: int
    wards: int
    loaded_at: Any = None
    loaded_by: str = ""


def _normal(heading: str) -> str:
    return re.sub(r"[\s\-]+", "_", heading.strip().lower().lstrip("\ufeff"))


def _columns(header: list[str]) -> tuple[int, int, int]:
    """The positions of the postcode, ward code and ward name columns, or a ValidationError."""
    names = [_normal(h) for h in header]
    postcode = next((names.index(c) for c in POSTCODE_COLUMNS if c in names), None)
    code = next((i for i, n in enumerate(names) if _WARD_CODE_COLUMN.fullmatch(n)), None)
    name = next((i for i, n in enumerate(names) if _WARD_NAME_COLUMN.fullmatch(n)), None)
    missing = [
        label
        for label, found in (
            ("a postcode column (postcode, pcds, pcd, pcd7 or pcd8)", postcode),
            ("a ward code column (ward_code, osward or WD24CD)", code),
            ("a ward name column (ward_name or WD24NM)", name),
        )
        if found is None
    ]
    if missing or postcode is None or code is None or name is None:
        raise ValidationError(
            "The first row of the file must name the columns. It has no " + " and no ".join(missing)
        )
    return postcode, code, name


def _lines(stream: IO[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    while chunk := stream.read(64 * 1024):
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def parse(stream: IO[bytes]) -> dict[str, tuple[str, str]]:
    """Postcode (upper case, no spaces) -> (ward code, ward name), or a ValidationError
    listing the problems by row number (the header is row 1)."""
    problems: list[str] = []
    more = 0
    found: dict[str, tuple[str, str]] = {}

    def problem(message: str) -> None:
        nonlocal more
        if len(problems) < MAX_ERRORS:
            problems.append(message)
        else:
            more += 1

    try:
        reader = csv.reader(_lines(stream))
        header = next(reader, None)
        if header is None:
            raise ValidationError("The file is empty")
        postcode_at, code_at, name_at = _columns(header)
        width = max(postcode_at, code_at, name_at) + 1
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(found) >= MAX_ROWS:
                raise ValidationError(
                    f"The file has more than {MAX_ROWS:,} postcodes: "
                    "load the postcodes of the hub's area only"
                )
            if len(row) < width:
                problem(f"Row {number}: it has too few columns")
                continue
            postcode = "".join(row[postcode_at].split()).upper()
            code = row[code_at].strip().upper()
            name = " ".join(row[name_at].split())
            if not _POSTCODE.fullmatch(postcode):
                problem(f"Row {number}: the postcode is not a whole UK postcode")
                continue
            if not _WARD_CODE.fullmatch(code):
                problem(
                    f"Row {number}: the ward code must be a letter and 8 digits, like E05000026"
                )
                continue
            if not name:
                problem(f"Row {number}: the ward name is missing")
                continue
            if len(name) > _NAME_MAX:
                problem(f"Row {number}: the ward name must be {_NAME_MAX} characters or fewer")
                continue
            earlier = found.get(postcode)
            if earlier is not None and earlier[0] != code:
                problem(f"Row {number}: the postcode is given an earlier row's different ward")
                continue
            found[postcode] = (code, name)
    except UnicodeDecodeError:
        raise ValidationError('The file must be saved as "CSV UTF-8 (comma delimited)"') from None
    except csv.Error:
        raise ValidationError("The file cannot be read as a CSV file") from None
    if problems:
        if more:
            problems.append(f"And {more:,} more rows with problems")
        raise ValidationError(problems)
    if not found:
        raise ValidationError("The file has no postcodes in it")
    return found


def load(*, actor: Any, stream: IO[bytes], size: int, file_name: str = "") -> Loaded:
    """Replaces the whole ward lookup with the file's, or changes nothing; audited."""
    if not actor.has_perm("reporting.load_wards"):
        raise PermissionDenied
    if size > MAX_BYTES:
        raise ValidationError(f"The file must be smaller than {MAX_BYTES_LABEL}")
    found = parse(stream)
    lookups = [
        WardLookup(postcode=postcode, ward_code=code, ward_name=name)
        for postcode, (code, name) in found.items()
    ]
    wards = len({code for code, _ in found.values()})
    with transaction.atomic():
        WardLookup.objects.all().delete()
        WardLookup.objects.bulk_create(lookups, batch_size=BATCH)
        audit.record(
            action=ACTION,
            actor=actor,
            object_type="reporting.wardlookup",
            detail={"postcodes": len(lookups), "wards": wards, "file_name": file_name[-100:]},
        )
    return Loaded(postcodes=len(lookups), wards=wards)


def status() -> Status:
    """What the lookup holds now, and when and by whom it was last loaded."""
    postcodes = WardLookup.objects.count()
    wards = WardLookup.objects.values("ward_code").distinct().count() if postcodes else 0
    event = (
        AuditEvent.objects.filter(action=ACTION)
        .order_by("-occurred_at", "-pk")
        .values("occurred_at", "actor_label")
        .first()
    )
    if event is None:
        return Status(postcodes, wards)
    return Status(postcodes, wards, event["occurred_at"], event["actor_label"])
