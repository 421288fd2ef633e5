"""The Children in Need census export on an already-seeded database (bench/reports.py).

census_figures() runs the export in a fresh Python process, so that its peak memory is
the export's own and nothing the seeding left behind, and returns:
  cin_export_seconds   wall-clock time of the whole export: the check of every child,
                       then the XML written (goal on PostgreSQL, 2 cores: < 30)
  cin_export_peak_mb   the export process's peak resident memory, Python and Django
                       included (goal: < 300)

The year is the last complete census year of the seeded data (its 31 March on or before
the latest referral decision) unless one is given. The child process finds the same
database through the environment (DATABASE_URL or MASH_VAR_DIR, as _setup.py sets them).
The file is written to a counting sink: the figures measure the database and the XML, not
the disk. The seeded data's errors, if any, do not stop the measurement (strict=False).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def _census_year_of_latest_referral() -> int:
    from django.db.models import Max

    from mash.core import clock
    from mash.enquiries.models import REFERRAL_OUTCOMES, Decision

    latest = Decision.objects.filter(outcome__in=REFERRAL_OUTCOMES).aggregate(Max("decided_at"))[
        "decided_at__max"
    ]
    if latest is None:
        raise SystemExit("No referral decisions: seed the database first")
    day = clock.localtime(latest).date()
    return day.year if (day.month, day.day) >= (3, 31) else day.year - 1


def census_figures(year: int | None = None) -> dict[str, str]:
    """The census export's time and peak memory, measured in a child process."""
    if year is None:
        year = _census_year_of_latest_referral()
    from django.db import connections

    connections.close_all()  # the child must see everything committed, SQLite included
    completed = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, os.path.abspath(__file__), str(year)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if completed.returncode != 0:
        raise RuntimeError(f"census benchmark failed:\n{completed.stderr[-4000:]}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    return {
        "cin_export_seconds": f"{figures['seconds']:.2f}",
        "cin_export_peak_mb": f"{figures['peak_mb']:.1f}",
    }


class _CountingSink:
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def _peak_rss_kb() -> float:
    """This process's peak resident memory in kilobytes. Linux's VmHWM belongs to this
    program alone; getrusage's ru_maxrss survives exec and so may be the parent's."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _measure(year: int) -> dict[str, float]:
    """In the child process: one full export, as `mash cin-census` makes it."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
    django.setup()
    from mash.core.models import Hub
    from mash.reporting import census

    hub = Hub.load()
    sink = _CountingSink()
    start = time.perf_counter()
    result = census.preview(year, hub=hub)  # the first pass: every rule on every child
    for piece in census.stream_census(year, hub=hub, strict=False):
        sink.write(piece)
    seconds = time.perf_counter() - start
    peak_kb = _peak_rss_kb()
    return {
        "seconds": seconds,
        "peak_mb": peak_kb / 1024,
        "children": result.children,
        "referrals": result.referrals,
        "errors": result.findings.count(census.Severity.ERROR),
        "bytes": sink.size,
    }


if __name__ == "__main__":
    print(json.dumps(_measure(int(sys.argv[1]))))
