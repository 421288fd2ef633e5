"""`mash worker`: background tasks (django-tasks' database worker) and the deadline sweep."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

log = logging.getLogger("mash.worker")


def sweep_forever(interval: float, stop: threading.Event) -> None:
    """Runs the deadline sweep every `interval` seconds until told to stop."""
    from mash.enquiries.deadlines import sweep

    last_prune = 0.0
    while not stop.is_set():
        close_old_connections()
        try:
            if time.time() - last_prune > 24 * 3600:
                # Finished task rows are kept a fortnight, then removed.
                call_command("prune_db_task_results", queue_name="*", min_age_days=14, verbosity=0)
                # Finished exports' files (and their rows) are kept a week.
                from mash.reporting.exports import prune_exports

                prune_exports()
                last_prune = time.time()
            result = sweep()
            if result.reminders or result.overdue:
                log.info("sweep: %s reminders, %s overdue", result.reminders, result.overdue)
        except Exception:  # one bad sweep must not stop the next
            log.exception("deadline sweep failed; trying again next time")
        finally:
            close_old_connections()
        stop.wait(interval - (time.time() % interval) if interval >= 1 else interval)
    connection.close()  # this thread's own connection, released when the loop stops


class Command(BaseCommand):
    help = (
        "Run background work: queued tasks (emails, scheduled sweeps) and the deadline sweep "
        "every MASH_SWEEP_SECONDS (60). Safe to run more than one, or to restart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sweep-seconds", type=float, default=settings.MASH_SWEEP_SECONDS)
        parser.add_argument(
            "--once",
            action="store_true",
            help="Sweep once and run the queued tasks due now, then exit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            from mash.enquiries.deadlines import sweep

            result = sweep()
            call_command(
                "db_worker",
                queue_name="*",
                batch=True,
                reload=False,
                startup_delay=False,
                verbosity=0,
            )
            self.stdout.write(f"reminders={result.reminders} overdue={result.overdue}")
            return
        stop = threading.Event()
        sweeper = threading.Thread(
            target=sweep_forever,
            args=(options["sweep_seconds"], stop),
            name="deadline-sweep",
            daemon=True,
        )
        sweeper.start()
        self.stdout.write(
            f"Worker started: tasks, and a deadline sweep every {options['sweep_seconds']:g} s."
        )
        try:
            call_command("db_worker", queue_name="*", interval=1, reload=False, startup_delay=False)
        finally:
            stop.set()
