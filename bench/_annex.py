"""Ofsted Annex A on an already-seeded database: called by bench/reports.py.

`annex_figures()` makes the lists for the 12 months up to the latest contact,
the way the worker does (through the exporter, into a file), and returns:
  annex_a_seconds      the XLSX workbook, lists 1 to 3
  annex_a_csv_seconds  the same lists as CSV files in a zip
  annex_a_rows         rows in the three lists together
  annex_a_peak_mb      the most memory Python held while making the workbook
                       (tracemalloc, a second run: tracing slows it down)
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
import tracemalloc


def _make(kind: str, parameters: dict[str, str]) -> tuple[float, int]:
    from mash.reporting import annex_a
    from mash.reporting.models import Export, ExportKind

    writer = annex_a.write_xlsx if kind == ExportKind.ANNEX_A_XLSX else annex_a.write_csv_zip
    rows = [0]

    def progress(done: int, total: int | None = None) -> None:
        rows[0] = max(rows[0], done)

    export = Export(kind=kind, parameters=parameters)
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        writer(export, out, progress)
        return time.perf_counter() - started, rows[0]


def annex_figures() -> dict[str, str]:
    from django.db.models import Max

    from mash.contacts.models import Contact
    from mash.core import clock
    from mash.reporting import annex_a
    from mash.reporting.models import ExportKind

    latest = Contact.objects.aggregate(latest=Max("received_at"))["latest"] or clock.now()
    end = clock.localtime(latest).date()
    try:
        start = end.replace(year=end.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 1, day=28) + dt.timedelta(days=1)
    parameters = annex_a.Period(start=start, end=end).as_parameters()

    xlsx_seconds, rows = _make(ExportKind.ANNEX_A_XLSX, parameters)
    csv_seconds, _ = _make(ExportKind.ANNEX_A_CSV, parameters)
    tracemalloc.start()
    try:
        _make(ExportKind.ANNEX_A_XLSX, parameters)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "annex_a_seconds": f"{xlsx_seconds:.2f}",
        "annex_a_csv_seconds": f"{csv_seconds:.2f}",
        "annex_a_rows": str(rows),
        "annex_a_peak_mb": f"{peak / 1024 / 1024:.1f}",
    }
