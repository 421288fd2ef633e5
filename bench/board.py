"""The board: what a wall screen costs to load and to poll, with 1,000 open enquiries.

Prints `name=value` lines:
  board_html_p95_ms_1000  95th percentile of GET /board/ (the wall screen's page)
  board_data_p95_ms_1000  95th percentile of GET /board/data/ (what the page polls)
  floor_p95_ms_1000       95th percentile of one hand-written SQL query returning the
                          same rows (each enquiry's reference, RAG and status, its
                          children's raw name and birth fields, each agency's status and
                          deadline), fetched with a cursor and serialised with json.dumps
  html_ratio_to_floor     board_html / floor (goal on PostgreSQL: <= 4)
  data_ratio_to_floor     board_data / floor (goal on PostgreSQL: <= 2)
  queries_100             queries issued by one /board/data/ request, 100 open enquiries
  queries_1000            the same with 1,000 (goal: equal, and <= 10)

Every open enquiry has 16 agency requests (mixed statuses, some overdue) and one
to three children. They are written with bulk_create, not through the services:
this measures reading the board, not writing cases. The screen is a real board
screen (enquiries.screens.create_screen) and the requests go through Django's
whole stack with its cookie (django.test.Client).

Runs on a scratch database (see _setup.py): SQLite by default, PostgreSQL when
DATABASE_URL is set. Sizes: BENCH_BOARD_ENQUIRIES, BENCH_BOARD_SMALL,
BENCH_BOARD_REQUESTS.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import analyse, scratch_database

LARGE = int(os.environ.get("BENCH_BOARD_ENQUIRIES", "1000"))
SMALL = int(os.environ.get("BENCH_BOARD_SMALL", "100"))
REQUESTS = int(os.environ.get("BENCH_BOARD_REQUESTS", "200"))
WARM_UPS = 10
AGENCIES = 16
SEED = 4
HOST = "127.0.0.1"  # one of the development ALLOWED_HOSTS
AGENCY_NAMES = [
    ("Children's Social Care", "CSC"),
    ("Police", "Police"),
    ("Health Visiting", "HV"),
    ("School Nursing", "SN"),
    ("GP Practices", "GP"),
    ("Midwifery", "Midwife"),
    ("Education", "Educ"),
    ("Early Help", "EH"),
    ("Housing", "Housing"),
    ("Probation", "Probation"),
    ("Youth Justice", "YJS"),
    ("Adult Mental Health", "AMH"),
    ("CAMHS", "CAMHS"),
    ("Substance Misuse", "Drugs"),
    ("Domestic Abuse Service", "DA"),
    ("Ambulance", "Ambulance"),
]


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    for _ in range(WARM_UPS):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def hub_people() -> tuple[Any, Any, list[Any]]:
    """The agencies, an administrator (who makes the screen) and a hub manager."""
    from mash.accounts import services as account_services
    from mash.accounts.models import Agency, AgencyKind, Role

    agencies = [
        account_services.create_agency(actor=None, name=name, kind=AgencyKind.OTHER)
        for name, _ in AGENCY_NAMES[:AGENCIES]
    ]
    for agency, (_, short) in zip(agencies, AGENCY_NAMES, strict=False):
        Agency.objects.filter(pk=agency.pk).update(short_name=short)  # the board's column

    def person(email: str, role: str) -> Any:
        return account_services.create_user(
            actor=None,
            email=email,
            full_name=email.split("@")[0].title(),
            agency=agencies[0],
            roles=[role],
            password_hash="!",  # noqa: S106  (an unusable password: nobody signs in)
            send_invitation=False,
        )

    return (
        person("admin@bench.example", Role.ADMINISTRATOR),
        person("manager@bench.example", Role.HUB_MANAGER),
        agencies,
    )


def seed(count: int, manager: Any, agencies: list[Any], rng: random.Random) -> None:
    """`count` open enquiries: 1-3 children each, 16 agency requests (bulk_create)."""
    from faker.providers.person.en_GB import Provider

    from mash.contacts.models import Contact, ContactPerson, ContactStatus, PersonRole
    from mash.core import clock
    from mash.enquiries.models import AgencyRequest, Enquiry, EnquiryStatus, RequestStatus
    from mash.people.matching import name_key
    from mash.people.models import Person

    now = clock.now()
    today = clock.localtime(now).date()
    given = list(Provider.first_names_female) + list(Provider.first_names_male)
    family = list(dict(Provider.last_names))
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                status=ContactStatus.SCREENED,
                received_at=now - dt.timedelta(hours=rng.uniform(1, 72)),
                channel="phone",
                referral_source="2A",
                referrer_name="Sam Teacher",
                concern="Came to school with bruising and said she was scared to go home.",
                created_by=manager,
                submitted_at=now,
                submitted_by=manager,
                screening_outcome="progress",
                screening_reason="Needs checks.",
                screened_at=now,
                screened_by=manager,
            )
            for _ in range(count)
        ],
        batch_size=500,
    )
    plans = []
    for contact in contacts:
        surname = rng.choice(family)
        for position in range(rng.choice((1, 1, 2, 2, 3))):
            first = rng.choice(given)
            unborn = rng.random() < 0.03
            born = None if unborn else today - dt.timedelta(days=rng.randrange(30, 17 * 365))
            due = today + dt.timedelta(days=rng.randrange(10, 200)) if unborn else None
            plans.append((contact, position, first, surname, born, due))
    persons = Person.objects.bulk_create(
        [
            Person(
                given_name=first,
                family_name=surname,
                given_key=name_key(first),
                family_key=name_key(surname),
                date_of_birth=born,
                expected_date_of_birth=due,
            )
            for _, _, first, surname, born, due in plans
        ],
        batch_size=1000,
    )
    ContactPerson.objects.bulk_create(
        [
            ContactPerson(
                contact=contact,
                person=person,
                role=PersonRole.CHILD,
                position=position,
                given_name=first,
                family_name=surname,
                date_of_birth=born,
                expected_date_of_birth=due,
                address_line_1="1 Bench Road",
                postcode="SE1 1AA",
            )
            for (contact, position, first, surname, born, due), person in zip(
                plans, persons, strict=True
            )
        ],
        batch_size=1000,
    )
    rags = ["urgent", "red", "red", "amber", "amber", "amber", "green", "green", "green", ""]
    enquiries = Enquiry.objects.bulk_create(
        [
            Enquiry(
                contact=contact,
                contact_received_at=contact.received_at or now,
                status=EnquiryStatus.CHECKS if rag else EnquiryStatus.AWAITING_RATING,
                opened_at=now - dt.timedelta(hours=rng.uniform(1, 72)),
                opened_by=manager,
                rag=rag,
                rated_at=now if rag else None,
                summary_for_agencies="Bruising to arm." if rag else "",
            )
            for contact, rag in ((c, rng.choice(rags)) for c in contacts)
        ],
        batch_size=500,
    )
    requests = []
    statuses = [RequestStatus.PENDING] * 5 + [
        RequestStatus.ANSWERED,
        RequestStatus.ANSWERED,
        RequestStatus.NOTHING_HELD,
        RequestStatus.NOT_REQUIRED,
    ]
    for enquiry in enquiries:
        if not enquiry.rag:
            continue  # awaiting rating: no agency asked yet
        # About one enquiry in eight is overdue; the rest have hours or days to go.
        started = now - dt.timedelta(hours=rng.uniform(0.5, 30))
        late = rng.random() < 0.125
        deadline = now - dt.timedelta(minutes=rng.uniform(5, 300)) if late else None
        unit = rng.choice(("clock_hours", "clock_hours", "working_hours", "working_days"))
        for agency in agencies:
            due = deadline or now + dt.timedelta(minutes=rng.uniform(10, 3000))
            requests.append(
                AgencyRequest(
                    enquiry=enquiry,
                    agency=agency,
                    status=rng.choice(statuses),
                    requested_at=started,
                    clock_started_at=started,
                    deadline_at=due,
                    reminder_at=due - (due - started) / 4,
                    duration_amount=4,
                    duration_unit=unit,
                    answered_at=None,
                )
            )
    AgencyRequest.objects.bulk_create(requests, batch_size=2000)


def floor_query() -> tuple[str, list[Any]]:
    """One query for the board's raw rows: each open enquiry's requests, then its children."""
    from mash.contacts.models import ContactPerson, PersonRole
    from mash.enquiries.models import OPEN_STATUSES, AgencyRequest, Enquiry

    enquiry = Enquiry._meta.db_table
    request = AgencyRequest._meta.db_table
    person = ContactPerson._meta.db_table
    open_list = ", ".join(["%s"] * len(OPEN_STATUSES))
    sql = f"""
        SELECT e.id, e.rag, e.status, 'r', r.agency_id, r.status, NULL, r.deadline_at,
               NULL, NULL
        FROM {enquiry} e LEFT JOIN {request} r ON r.enquiry_id = e.id
        WHERE e.status IN ({open_list})
        UNION ALL
        SELECT e.id, e.rag, e.status, 'c', NULL, p.given_name, p.family_name, NULL,
               p.date_of_birth, p.expected_date_of_birth
        FROM {enquiry} e JOIN {person} p ON p.contact_id = e.contact_id AND p.role = %s
        WHERE e.status IN ({open_list})
        ORDER BY 1
    """  # noqa: S608  (table names from the models, values as parameters)
    return sql, [*OPEN_STATUSES, PersonRole.CHILD, *OPEN_STATUSES]


def floor(sql: str, params: list[Any]) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return json.dumps(rows, default=str)


def data_queries(client: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/board/data/")  # the screen was seen this minute: a poll writes nothing
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/board/data/")
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries)


def main() -> None:
    with scratch_database() as vendor:
        from django.test import Client

        from mash.enquiries import screens

        rng = random.Random(SEED)
        started = time.perf_counter()
        admin, manager, agencies = hub_people()
        seed(SMALL, manager, agencies, rng)
        analyse()
        _screen, token = screens.create_screen(actor=admin, name="2nd floor screen")
        client = Client(HTTP_HOST=HOST)
        client.cookies[screens.COOKIE] = token
        page = client.get("/board/")
        assert page.status_code == 200, page.status_code
        queries_small = data_queries(client)
        seed(LARGE - SMALL, manager, agencies, rng)
        analyse()
        rows = len(json.loads(client.get("/board/data/").content)["rows"])
        assert rows == LARGE, rows
        print(
            f"# {vendor}: {LARGE:,} open enquiries x {AGENCIES} agencies built in "
            f"{time.perf_counter() - started:.0f}s"
        )
        queries_large = data_queries(client)

        def get(url: str) -> Callable[[], None]:
            def call() -> None:
                response = client.get(url)
                assert response.status_code == 200, response.status_code

            return call

        html = p95(timed(get("/board/"), REQUESTS))
        data = p95(timed(get("/board/data/"), REQUESTS))
        sql, params = floor_query()
        floor_ms = p95(timed(lambda: floor(sql, params), REQUESTS))
        figures = {
            "board_html_p95_ms_1000": f"{html:.2f}",
            "board_data_p95_ms_1000": f"{data:.2f}",
            "floor_p95_ms_1000": f"{floor_ms:.2f}",
            "html_ratio_to_floor": f"{html / floor_ms:.2f}",
            "data_ratio_to_floor": f"{data / floor_ms:.2f}",
            "queries_100": str(queries_small),
            "queries_1000": str(queries_large),
        }
        for name, value in figures.items():
            print(f"{name}={value}")


if __name__ == "__main__":
    main()
