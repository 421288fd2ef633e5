"""`mash serve`: the production-grade web server (gunicorn), never runserver.

By default it also runs `mash worker` beside it (reminders, escalations,
queued emails), stops both together, and restarts the worker if it dies.
In production run them as two services instead (see docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Mash with gunicorn on MASH_HOST:PORT (default 127.0.0.1:8000), with a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("MASH_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("MASH_WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("MASH_WEB_THREADS", "4"))
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Serve pages only (run `mash worker` separately).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "mash.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--timeout",
            "60",
            "--access-logfile",
            "-",
            "--logger-class",
            "mash.core.gunicorn_logging.RedactingLogger",
            "--forwarded-allow-ips",
            os.environ.get("MASH_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        if options["no_worker"]:
            sys.stdout.flush()
            os.execv(sys.executable, web)  # noqa: S606  (our own interpreter and arguments)
        worker_cmd = [sys.executable, "-m", "mash.cli", "worker"]
        children: dict[str, subprocess.Popen[bytes]] = {}
        signalled: set[int] = set()
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True
            for child in children.values():
                if child.poll() is None and child.pid not in signalled:
                    signalled.add(child.pid)
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        children["web"] = subprocess.Popen(web)  # noqa: S603
        children["worker"] = subprocess.Popen(worker_cmd)  # noqa: S603
        while not stopping:
            if children["web"].poll() is not None:
                break
            if children["worker"].poll() is not None:
                self.stderr.write("The worker stopped; starting it again.")
                time.sleep(2)
                if stopping:  # told to stop during the pause: start nothing new
                    break
                children["worker"] = subprocess.Popen(worker_cmd)  # noqa: S603
            time.sleep(1)
        # Every child still running is told once, including one started as the signal came.
        stop(signal.SIGTERM, None)
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(children["web"].returncode or 0)
