"""Intake: finding people in a 100,000-person index, and saving contacts.

Prints `name=value` lines:
  person_search_p95_ms   95th percentile of find() for a real person's name with one typo
                         (a swapped, dropped or changed letter) and their date of birth
  floor_p95_ms           95th percentile of an exact indexed lookup by date of birth
  search_ratio_to_floor  the two p95s divided (goal on PostgreSQL, 2 cores: <= 10)
  search_recall          share of those searches that rank the intended person first
  contacts_per_s         contacts (two children, one adult; one of the three found with
                         find() and linked, two new) saved through submit_contact by a
                         co-ordinator, per second of wall-clock (goal: >= 50)

Runs on a scratch database (see _setup.py): SQLite by default, PostgreSQL when
DATABASE_URL is set. Sizes can be changed with BENCH_PEOPLE, BENCH_SEARCHES and
BENCH_CONTACTS.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import analyse, scratch_database

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "100000"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "200"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "300"))
BATCH = 5000
SEED = 3
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


class Names:
    """Realistic English names (Faker's en_GB lists), drawn fast and reproducibly."""

    def __init__(self, rng: random.Random) -> None:
        from faker.providers.person.en_GB import Provider

        self.rng = rng
        self.female = list(Provider.first_names_female)
        self.male = list(Provider.first_names_male)
        families = dict(Provider.last_names)
        self.family_names = list(families)
        self.family_weights = list(families.values())

    def given(self, sex: str) -> str:
        return self.rng.choice(self.female if sex == "F" else self.male)

    def family(self) -> str:
        return self.rng.choices(self.family_names, self.family_weights)[0]


def nhs_numbers(rng: random.Random) -> Iterator[str]:
    """Valid, unique NHS numbers from the 999 range (never issued to patients)."""
    from mash.people.identifiers import nhs_check_digit

    starts = list(range(1_000_000))
    rng.shuffle(starts)
    for n in starts:
        first_nine = f"999{n:06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            yield f"{first_nine}{check}"


def build_index(rng: random.Random, today: dt.date) -> None:
    """PEOPLE people in households of one to six, most with an NHS number."""
    from faker import Faker

    from mash.people.matching import name_key
    from mash.people.models import Address, Household, Person

    faker = Faker("en_GB")
    faker.seed_instance(SEED)
    names = Names(rng)
    numbers = nhs_numbers(rng)
    made = 0
    while made < PEOPLE:
        addresses = [
            Address(
                line_1=faker.street_address().replace("\n", ", "),
                town="London",
                postcode=faker.postcode(),
            )
            for _ in range(BATCH // 3)
        ]
        Address.objects.bulk_create(addresses)
        households = Household.objects.bulk_create(Household(address=a) for a in addresses)
        people: list[Person] = []
        for household in households:
            family = names.family()
            for i in range(rng.choice((2, 2, 3, 3, 4, 5))):
                adult = i < 2
                sex = ("F", "M")[i] if adult else rng.choice("FM")
                years = rng.uniform(19, 60) if adult else rng.uniform(0, 18)
                given = names.given(sex)
                surname = family if not adult or i == 0 or rng.random() < 0.7 else names.family()
                people.append(
                    Person(
                        given_name=given,
                        family_name=surname,
                        given_key=name_key(given),
                        family_key=name_key(surname),
                        sex=sex,
                        date_of_birth=today - dt.timedelta(days=int(years * 365.25)),
                        nhs_number=next(numbers) if rng.random() < 0.9 else None,
                        household=household,
                    )
                )
        people = people[: PEOPLE - made]
        Person.objects.bulk_create(people, batch_size=1000)
        made += len(people)


def typo(name: str, rng: random.Random) -> str:
    """The name with one letter swapped with the next, dropped or changed."""
    if len(name) < 3:
        return name + rng.choice(LETTERS)
    i = rng.randrange(1, len(name) - 1)
    kind = rng.choice(("swap", "drop", "change"))
    if kind == "swap" and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == "drop":
        return name[:i] + name[i + 1 :]
    changed = rng.choice([c for c in LETTERS if c != name[i].lower()])
    return name[:i] + changed + name[i + 1 :]


def measure_search(rng: random.Random) -> dict[str, str]:
    from mash.people.matching import Query, find
    from mash.people.models import Person

    ids = list(Person.objects.values_list("pk", flat=True))
    targets = Person.objects.in_bulk(rng.sample(ids, SEARCHES))
    queries = []
    for person in targets.values():
        given, family = person.given_name, person.family_name
        if rng.random() < 0.5:
            given = typo(given, rng)
        else:
            family = typo(family, rng)
        queries.append(
            (
                person.pk,
                Query(given_name=given, family_name=family, date_of_birth=person.date_of_birth),
            )
        )
    find(queries[0][1])  # warm the connection and caches
    search_times, first = [], 0
    for pk, query in queries:
        elapsed, found = timed(functools.partial(find, query))
        search_times.append(elapsed)
        first += bool(found) and found[0].person.pk == pk
    days = [p.date_of_birth for p in targets.values()]
    rng.shuffle(days)

    def born_on(day: dt.date | None) -> list[Person]:
        return list(Person.objects.filter(date_of_birth=day))

    floor_times = [timed(functools.partial(born_on, day))[0] for day in days]
    search, floor = p95(search_times), p95(floor_times)
    return {
        "person_search_p95_ms": f"{search:.2f}",
        "floor_p95_ms": f"{floor:.2f}",
        "search_ratio_to_floor": f"{search / floor:.2f}",
        "search_recall": f"{first / len(queries):.3f}",
    }


def measure_contacts(rng: random.Random, today: dt.date) -> dict[str, str]:
    from mash.accounts import services as account_services
    from mash.accounts.models import AgencyKind, Role
    from mash.contacts import services as contact_services
    from mash.core import clock
    from mash.people.matching import Query, find
    from mash.people.models import Person

    agency = account_services.create_agency(
        actor=None, name="Children's Social Care", kind=AgencyKind.CHILDRENS_SOCIAL_CARE
    )
    coordinator = account_services.create_user(
        actor=None,
        email="coordinator@bench.example",
        full_name="Bench Co-ordinator",
        agency=agency,
        roles=[Role.REFERRAL_COORDINATOR],
        password_hash="!",  # noqa: S106  (an unusable password: nobody signs in)
        send_invitation=False,
    )
    names = Names(rng)
    ids = list(Person.objects.values_list("pk", flat=True))
    known = Person.objects.in_bulk(rng.sample(ids, CONTACTS))
    plans = []
    for n, person in enumerate(known.values()):
        family = names.family()
        home: dict[str, Any] = {
            "address_line_1": f"{n + 1} Bench Road",
            "town": "London",
            "postcode": "SE1 1AA",
        }

        def child(years: float, family: str = family, home: dict = home) -> Any:
            sex = rng.choice("FM")
            return contact_services.PersonEntry(
                role="child",
                given_name=names.given(sex),
                family_name=family,
                date_of_birth=today - dt.timedelta(days=int(years * 365.25)),
                sex=sex,
                **home,
            )

        new = [child(rng.uniform(0, 17)), child(rng.uniform(0, 17))]
        plans.append((person, new, home))

    details = contact_services.Details(
        received_at=clock.now() - dt.timedelta(hours=1),
        channel="phone",
        referral_source="2A",
        concern="Child came to school with bruising and said she was scared to go home.",
        family_told="Mother has been told the school is contacting the hub.",
        referrer_name="Sam Teacher",
        referrer_organisation="Riverside Primary",
    )
    started = time.perf_counter()
    for person, new, home in plans:
        found = find(
            Query(
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth,
            )
        )
        match = found[0]
        adult = person.age_on(today) is not None and (person.age_on(today) or 0) >= 18
        linked = contact_services.PersonEntry(
            role="adult" if adult else "child",
            given_name=person.given_name,
            family_name=person.family_name,
            link_to=match.person.pk,
            match_score=match.score,
            match_reasons=match.reasons,
            **home,
        )
        people = [*new, linked] if adult else [new[0], linked, _adult(names, new[0], home)]
        contact_services.submit_contact(
            actor=coordinator,
            details=details,
            people=people,
            relationships=[
                contact_services.RelationshipEntry(adult=0, child=0, relationship="parent")
            ],
        )
    elapsed = time.perf_counter() - started
    return {"contacts_per_s": f"{len(plans) / elapsed:.1f}"}


def _adult(names: Names, child: Any, home: dict) -> Any:
    from mash.contacts import services as contact_services

    return contact_services.PersonEntry(
        role="adult",
        given_name=names.given("F"),
        family_name=child.family_name,
        date_of_birth=dt.date(1988, 3, 14),
        sex="F",
        **home,
    )


def main() -> None:
    with scratch_database() as vendor:
        from django.utils import timezone

        today = timezone.localdate()
        rng = random.Random(SEED)
        started = time.perf_counter()
        build_index(rng, today)
        analyse()
        print(f"# {vendor}: {PEOPLE:,} people built in {time.perf_counter() - started:.0f}s")
        figures = measure_search(rng)
        figures.update(measure_contacts(rng, today))
        for name in (
            "person_search_p95_ms",
            "floor_p95_ms",
            "search_ratio_to_floor",
            "search_recall",
            "contacts_per_s",
        ):
            print(f"{name}={figures[name]}")


if __name__ == "__main__":
    main()
