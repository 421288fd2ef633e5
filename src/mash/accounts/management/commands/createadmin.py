"""`mash createadmin`: the first hub administrator of a new installation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from mash.accounts import services
from mash.accounts.models import Agency, AgencyKind, Role, User


class Command(BaseCommand):
    help = (
        "Create a hub administrator (and their agency if it does not exist yet). They are "
        "emailed a link to set their password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="Their full name.")
        parser.add_argument(
            "--agency", required=True, help="The agency they belong to, created if missing."
        )
        parser.add_argument(
            "--agency-kind", default=AgencyKind.CHILDRENS_SOCIAL_CARE, choices=AgencyKind.values
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"Someone already signs in as {email}.")
        with transaction.atomic():
            agency = Agency.objects.filter(name__iexact=options["agency"].strip()).first()
            if agency is None:
                agency = services.create_agency(
                    actor=None, name=options["agency"], kind=options["agency_kind"]
                )
                self.stdout.write(f"Agency created: {agency.name}")
            user = services.create_user(
                actor=None,
                email=email,
                full_name=options["name"],
                agency=agency,
                roles=[Role.ADMINISTRATOR],
            )
        self.stdout.write(
            f"Administrator created: {user.email}. A link to set their password has been "
            "emailed to them (check EMAIL_URL if it does not arrive)."
        )
