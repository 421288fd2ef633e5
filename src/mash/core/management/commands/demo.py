"""`mash demo`: seed the demo hub into an empty database."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mash.core import demo


class Command(BaseCommand):
    help = (
        "Create the demo hub (agencies, users, a synthetic person index, two years of contacts "
        "and enquiries, and today's open work). Does nothing to a database that already holds "
        "data unless --reset is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Erase every record (the audit log included) and seed afresh.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only into an empty database (the default; kept for clarity).",
        )
        parser.add_argument(
            "--people",
            type=int,
            default=2200,
            help="How many people the person index should hold (at least).",
        )
        parser.add_argument(
            "--contacts",
            type=int,
            default=demo.DEFAULT_CONTACTS,
            help="How many contacts the two years of history should hold (about).",
        )
        parser.add_argument(
            "--open",
            type=int,
            default=demo.DEFAULT_OPEN,
            dest="open_enquiries",
            help="How many enquiries are open today, in every state.",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # The demo's users share a published password: never in production.
            raise CommandError(
                "The demo hub is for development and training machines; refusing with "
                "MASH_ENV=production."
            )
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("Database erased.")
        if demo.is_empty():
            self.stdout.write("Seeding the demo hub…")
            demo.seed(
                people=options["people"],
                seed_value=options["seed"],
                contacts=max(0, options["contacts"]),
                open_enquiries=max(0, options["open_enquiries"]),
                log=lambda line: self.stdout.write(f"  {line}"),
            )
        else:
            self.stdout.write(
                "The database already holds data; the demo hub was not re-seeded "
                "(use --reset to start again)."
            )
        for line in demo.sign_in_lines():
            self.stdout.write(line)
