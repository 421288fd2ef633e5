"""Writes to the person index. One transaction each, audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from mash.core import audit, clock
from mash.people.identifiers import clean_nhs_number, clean_upn
from mash.people.matching import name_key
from mash.people.models import Address, Household, Person, PersonAlias

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


def _require(actor: User | None, permission: str = "people.add_person") -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _label(actor: User | None) -> str:
    return "" if actor is not None else "system"


def new_household(
    *, line_1: str, line_2: str = "", town: str = "", postcode: str = ""
) -> Household:
    """An address and a household at it (callers hold the transaction and audit the people)."""
    address = Address(
        line_1=line_1,
        line_2=line_2,
        town=town,
        postcode=postcode.upper().strip(),
        created_at=clock.now(),
    )
    address.full_clean()
    address.save()
    return Household.objects.create(address=address, created_at=clock.now())


def _person(actor: User | None, member: NewPerson, household: Household | None) -> Person:
    return Person(
        given_name=member.given_name.strip(),
        family_name=member.family_name.strip(),
        given_key=name_key(member.given_name),
        family_key=name_key(member.family_name),
        sex=member.sex,
        ethnicity=member.ethnicity,
        date_of_birth=member.date_of_birth,
        expected_date_of_birth=member.expected_date_of_birth,
        nhs_number=clean_nhs_number(member.nhs_number) or None,
        upn=clean_upn(member.upn) or None,
        household=household,
        created_at=clock.now(),
        created_by=actor,
    )


def add_person(
    *, actor: User | None, member: NewPerson, household: Household | None = None
) -> Person:
    """Adds one person to the index with their phonetic keys, audited. Call inside a transaction."""
    _require(actor)
    person = _person(actor, member, household)
    # The household and creator were made or loaded just now, and the database
    # enforces the born-or-expected constraint: validating them again would
    # only cost queries.
    person.full_clean(exclude=["household", "created_by"], validate_constraints=False)
    person.save()
    audit.record(
        action="people.person_created",
        actor=actor,
        obj=person,
        detail={"household": household.pk if household else None},
        actor_label=_label(actor),
    )
    return person


def add_people(
    *,
    actor: User | None,
    members: list[tuple[NewPerson, Household | None]],
    error_keys: list[str] | None = None,
) -> list[Person]:
    """Adds several people as add_person does each, in one insert and one audit insert.

    Call inside a transaction. A ValidationError names each person by its
    entry in `error_keys` (by default its position in `members`).
    """
    _require(actor, "people.add_person_from_contact")
    if not members:
        return []
    keys = error_keys or [str(i) for i in range(len(members))]
    people = [_person(actor, member, household) for member, household in members]
    errors: dict[str, list[str]] = {}
    for key, person in zip(keys, people, strict=True):
        try:
            person.full_clean(
                exclude=["household", "created_by"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors.setdefault(key, []).extend(error.messages)
    # NHS and pupil numbers are unique: one query for all of them, not one per person.
    numbers: set[str] = {p.nhs_number for p in people if p.nhs_number}
    pupils: set[str] = {p.upn for p in people if p.upn}
    taken_nhs: set[str] = set()
    taken_upn: set[str] = set()
    if numbers or pupils:
        for nhs_number, upn in Person.objects.filter(
            Q(nhs_number__in=numbers) | Q(upn__in=pupils)
        ).values_list("nhs_number", "upn"):
            if nhs_number in numbers:
                taken_nhs.add(nhs_number)
            if upn in pupils:
                taken_upn.add(upn)
    seen_nhs: set[str] = set()
    seen_upn: set[str] = set()
    for key, person in zip(keys, people, strict=True):
        if person.nhs_number in taken_nhs:
            errors.setdefault(key, []).append(
                "Someone in the index already has this NHS number: find them and link them"
            )
        elif person.nhs_number in seen_nhs:
            errors.setdefault(key, []).append("Another new person here has this NHS number")
        if person.upn in taken_upn:
            errors.setdefault(key, []).append(
                "Someone in the index already has this unique pupil number: find them and link them"
            )
        elif person.upn in seen_upn:
            errors.setdefault(key, []).append(
                "Another new person here has this unique pupil number"
            )
        if person.nhs_number:
            seen_nhs.add(person.nhs_number)
        if person.upn:
            seen_upn.add(person.upn)
    if errors:
        raise ValidationError(errors)
    Person.objects.bulk_create(people)
    audit.record_many(
        action="people.person_created",
        actor=actor,
        objects=[
            (person, {"household": household.pk if household else None})
            for person, (_, household) in zip(people, members, strict=True)
        ],
        actor_label=_label(actor),
    )
    return people


def add_alias(*, actor: User | None, person: Person, given_name: str, family_name: str) -> None:
    """Records another name for a person, unless it is the same as one already known."""
    given_name, family_name = given_name.strip(), family_name.strip()
    same = (given_name.lower(), family_name.lower()) == (
        person.given_name.lower(),
        person.family_name.lower(),
    )
    if same or not (given_name and family_name):
        return
    alias, created = PersonAlias.objects.get_or_create(
        person=person,
        given_name=given_name,
        family_name=family_name,
        defaults={
            "given_key": name_key(given_name),
            "family_key": name_key(family_name),
            "created_at": clock.now(),
        },
    )
    if created:
        audit.record(
            action="people.alias_added",
            actor=actor,
            obj=person,
            detail={"alias": alias.pk},
            actor_label=_label(actor),
        )


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
    _require(actor)
    household = new_household(line_1=line_1, line_2=line_2, town=town, postcode=postcode)
    for member in members:
        add_person(actor=actor, member=member, household=household)
    return household
