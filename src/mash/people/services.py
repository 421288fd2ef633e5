"""Writes to the person index. One transaction each, audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction

from mash.core import audit
from mash.people.identifiers import clean_nhs_number, clean_upn
from mash.people.models import Address, Household, Person

if TYPE_CHECKING:
    from mash.accounts.models import User


@dataclass(frozen=True)
class NewPerson:
    given_name: str
    family_name: str
    sex: str
    ethnicity: str
    date_of_birth: dt.date | None = None
    expected_date_of_birth: dt.date | None = None
    nhs_number: str = ""
    upn: str = ""


@transaction.atomic
def create_household(
    *,
    actor: User | None,
    line_1: str,
    line_2: str = "",
    town: str = "",
    postcode: str = "",
    members: list[NewPerson],
) -> Household:
    """Creates an address, a household and its members in the person index, audited per person."""
    if actor is not None and not actor.has_perm("people.add_person"):
        raise PermissionDenied
    address = Address(line_1=line_1, line_2=line_2, town=town, postcode=postcode.upper().strip())
    address.full_clean()
    address.save()
    household = Household.objects.create(address=address)
    for member in members:
        person = Person(
            given_name=member.given_name.strip(),
            family_name=member.family_name.strip(),
            sex=member.sex,
            ethnicity=member.ethnicity,
            date_of_birth=member.date_of_birth,
            expected_date_of_birth=member.expected_date_of_birth,
            nhs_number=clean_nhs_number(member.nhs_number) or None,
            upn=clean_upn(member.upn) or None,
            household=household,
            created_by=actor,
        )
        # The household and creator were made or loaded just now, and the database
        # enforces the born-or-expected constraint: validating them again
        # would only cost queries.
        person.full_clean(exclude=["household", "created_by"], validate_constraints=False)
        person.save()
        audit.record(
            action="people.person_created",
            actor=actor,
            obj=person,
            detail={"household": household.pk},
            actor_label="" if actor else "system",
        )
    return household
