"""`mash cin-census --year 2026 > cin.xml`: the Children in Need census file.

Checks the whole year first and writes nothing if any child has an error: the errors go
to standard error (LA child IDs and person numbers, no names, as terminals are logged) and
the command exits with status 1. With --output the file is written beside its final name
and renamed into place only when complete, so a failed run leaves no file; prefer it to
redirecting standard output, which the shell creates (empty) whatever happens.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mash.core import audit
from mash.reporting import census


class Command(BaseCommand):
    help = "Write the Children in Need census XML for a year (to standard output or --output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year",
            type=int,
            default=None,
            help=f"The census year: the year of its 31 March (default: {census.default_year()}).",
        )
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")
        parser.add_argument(
            "--serial", type=int, default=1, help="The file's serial number (default 1)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"] if options["year"] is not None else census.default_year()
        latest = census.latest_year()
        if not census.FIRST_YEAR <= year <= latest:
            raise CommandError(f"The census year must be between {census.FIRST_YEAR} and {latest}.")
        if not 1 <= options["serial"] <= 999_999:
            raise CommandError("The serial number must be between 1 and 999999.")
        output: str | None = options["output"]
        try:
            if output:
                result = self._to_file(Path(output), year, options["serial"])
            else:
                result = self._to_stdout(year, options["serial"])
        except census.CensusChanged as changed:
            raise CommandError(
                f"Records changed while the file was written and now have problems ({changed}). "
                "The file is incomplete: throw it away and run the command again."
            ) from None
        if not result.ok:
            self.stderr.write(
                f"The {year} census was not written: "
                f"{result.findings.count(census.Severity.ERROR)} problem(s) to put right first."
            )
            for finding in result.findings.errors:
                person = f" [person {finding.person_id}]" if finding.person_id else ""
                self.stderr.write(f"  {finding.describe(with_name=False)}{person}")
            raise CommandError("No file was written.")
        audit.record(
            action="reporting.cin_census_exported",
            actor=None,
            actor_label="mash cin-census",
            detail={"year": year, "children": result.children, "sha256": result.sha256},
        )
        queries = result.findings.count(census.Severity.QUERY)
        self.stderr.write(
            f"Census {year}: {result.children} children, {result.referrals} referrals, "
            f"{result.size} bytes; {queries} query(ies) the Department will ask about "
            "(see the census page)."
        )

    def _to_stdout(self, year: int, serial: int) -> census.CensusResult:
        stream: Any = self.stdout._out  # the real stream, not Django's text wrapper
        binary: Any = getattr(stream, "buffer", None) or _TextSink(stream)
        result = census.write_census(year, binary, serial=serial)
        binary.flush()
        return result

    def _to_file(self, path: Path, year: int, serial: int) -> census.CensusResult:
        folder = path.resolve().parent
        if not folder.is_dir():
            raise CommandError(f"There is no folder {folder}.")
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed into place, or removed)
            dir=folder, prefix=f".{path.name}.", suffix=".part", delete=False
        )
        partial = Path(handle.name)
        try:
            with handle:
                result = census.write_census(year, handle, serial=serial)
            if result.ok:
                os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return result


class _TextSink:
    """Bytes to a text stream (when standard output is not a real file, as in tests)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, data: bytes) -> int:
        self.stream.write(data.decode())
        return len(data)

    def flush(self) -> None:
        if hasattr(self.stream, "flush"):
            self.stream.flush()
