"""`mash serve`: the production-grade web server (gunicorn), never runserver."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Mash with gunicorn on MASH_HOST:PORT (default 127.0.0.1:8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("MASH_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("MASH_WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("MASH_WEB_THREADS", "4"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
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
            "--forwarded-allow-ips",
            os.environ.get("MASH_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606  (our own interpreter and arguments)
