"""Reports on five years of a busy hub: the performance dashboard (and the statutory returns).

Prints `name=value` lines:
  dashboard_p95_ms     95th percentile of GET /reports/performance/ (the default period: the
                       last 12 months and the 12 before them) by a hub manager, through
                       Django's whole stack (goal on PostgreSQL, 2 cores: <= 1,000)
  dashboard_median_ms  its median
  dashboard_queries    queries issued by one such request (bounded: the same for any size),
                       counted with the queries on one connection (MASH_REPORT_CONNECTIONS=1)
  seed_seconds         how long the seed took
  cin_export_seconds, cin_export_peak_mb, annex_a_seconds: see the marked place in main().

The seed is five years ending now: 250,000 contacts (BENCH_REPORTS_CONTACTS), 100,000 of
them progressed to enquiries (BENCH_REPORTS_ENQUIRIES), their children from a pool of
150,000, first ratings and some re-ratings, a request to each of 12 agencies per enquiry
(answered, late, nothing held, not required, a few still pending), one decision per child
with themes, and 60,000 police notifications. It is written straight to the tables
(COPY on PostgreSQL, executemany on SQLite), not through the services: this measures
reading reports, not writing cases, and must be quick. Everything is drawn from a seeded
random generator, so two runs build the same hub.

Runs on a scratch database (see _setup.py): SQLite by default, PostgreSQL when
DATABASE_URL is set. BENCH_REPORTS_REQUESTS sets the number of timed requests (>= 20).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _annex
import _census
from _setup import analyse, scratch_database

CONTACTS = int(os.environ.get("BENCH_REPORTS_CONTACTS", "250000"))
ENQUIRIES = int(os.environ.get("BENCH_REPORTS_ENQUIRIES", "100000"))
REQUESTS = max(20, int(os.environ.get("BENCH_REPORTS_REQUESTS", "30")))
CHILDREN = max(100, CONTACTS * 3 // 5)
NOTIFICATIONS = CONTACTS * 6 // 25
YEARS = 5
WARM_UPS = 3
SEED = 6
HOST = "127.0.0.1"
LA_CODE = "204"
AGENCIES = [
    ("Children's Social Care", "childrens_social_care"),
    ("Northmoor Police", "police"),
    ("Health Visiting", "health_visiting"),
    ("School Nursing", "health_school_nursing"),
    ("GP Practices", "health_gp"),
    ("Midwifery", "health_maternity"),
    ("Education", "education"),
    ("Early Years", "early_years"),
    ("Housing", "housing"),
    ("Probation", "probation"),
    ("Youth Justice", "youth_justice"),
    ("Adult Mental Health", "adult_mental_health"),
]
RAG_HOURS = {"urgent": 4, "red": 4, "amber": 24, "green": 48}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def weighted(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Callable[[], Any]:
    values = [v for v, _ in table]
    cumulative = []
    total = 0.0
    for _, weight in table:
        total += weight
        cumulative.append(total)

    def pick() -> Any:
        return rng.choices(values, cum_weights=cumulative, k=1)[0]

    return pick


# --- Writing rows fast ------------------------------------------------------------------------


class Bulk:
    """Inserts rows with explicit ids; columns not given get the field's default."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        self.tables: list[str] = []

    def insert(self, model: Any, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        fields = list(model._meta.concrete_fields)
        by_attname = {f.attname: f for f in fields}
        rest = [f for f in fields if f.attname not in names]
        constants = tuple(self._constant(f) for f in rest)
        columns = [by_attname[n].column for n in names] + [f.column for f in rest]
        table = model._meta.db_table
        self.tables.append(table)
        quoted = ", ".join(f'"{c}"' for c in columns)
        count = 0
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                raw = cursor.cursor
                with raw.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row((*row, *constants))
                        count += 1
            else:
                marks = ", ".join(["%s"] * len(columns))
                statement = f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'  # noqa: S608
                chunk: list[tuple[Any, ...]] = []
                for row in rows:
                    chunk.append(tuple(_sqlite(v) for v in (*row, *constants)))
                    count += 1
                    if len(chunk) == 5000:
                        cursor.executemany(statement, chunk)
                        chunk = []
                if chunk:
                    cursor.executemany(statement, chunk)
        return count

    def _constant(self, field: Any) -> Any:
        value = field.get_default()
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value

    def reset_sequences(self) -> None:
        if self.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest id written
        with self.connection.cursor() as cursor:
            for table in sorted(set(self.tables)):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'COALESCE(MAX(id), 1)) FROM "{table}"'
                )


def _sqlite(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


# --- The hub ----------------------------------------------------------------------------------


def hub_people() -> tuple[Any, list[Any]]:
    """The agencies and a hub manager (who reads the dashboard and did the work)."""
    from mash.accounts import services as account_services
    from mash.accounts.models import Role
    from mash.core.models import Hub

    agencies = [
        account_services.create_agency(actor=None, name=name, kind=kind) for name, kind in AGENCIES
    ]
    manager = account_services.create_user(
        actor=None,
        email="manager@bench.example",
        full_name="Bench Manager",
        agency=agencies[0],
        roles=[Role.HUB_MANAGER],
        password_hash="!",  # noqa: S106  (an unusable password: nobody signs in)
        send_invitation=False,
    )
    Hub.objects.update_or_create(
        pk=1,
        defaults={
            "la_code": LA_CODE,
            "local_authority_name": "Northmoor",
            "name": "Northmoor MASH",
        },
    )
    return manager, agencies


def seed(manager: Any, agencies: list[Any], rng: random.Random) -> dict[str, int]:
    """Five years of a busy hub, written with COPY/executemany (see the module docstring)."""
    from faker.providers.person.en_GB import Provider
    from stdnum.gb import upn

    from mash.contacts.models import Contact, ContactPerson, PoliceNotification
    from mash.core import clock
    from mash.enquiries.models import (
        Decision,
        DecisionTheme,
        Enquiry,
        Rating,
        Theme,
    )
    from mash.people.matching import name_key
    from mash.people.models import Address, Household, Person

    bulk = Bulk()
    now = clock.now()
    first_day = clock.localtime(now).date() - dt.timedelta(days=365 * YEARS + 1)
    days = (clock.localtime(now).date() - first_day).days
    hour = dt.timedelta(hours=1)

    def moment(day: dt.date, seconds: float) -> dt.datetime:
        base = dt.datetime.combine(day, dt.time.min, tzinfo=clock.LONDON)
        return (base + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)

    def working_moment() -> dt.datetime:
        while True:
            day = first_day + dt.timedelta(days=rng.randrange(days))
            if day.weekday() < 5 or rng.random() < 0.35:
                break
        if rng.random() < 0.85:
            seconds = rng.uniform(8 * 3600, 18 * 3600)
        else:
            seconds = rng.uniform(0, 24 * 3600)
        return moment(day, seconds)

    # Places and children.
    given = list(Provider.first_names_female) + list(Provider.first_names_male)
    family = list(dict(Provider.last_names))
    keys = {n: name_key(n) for n in {*given, *family}}
    districts = [f"NM{d}" for d in range(1, 21)]
    addresses = CHILDREN // 2
    bulk.insert(
        Address,
        ["id", "line_1", "town", "postcode"],
        (
            (i, f"{i} Bench Road", "Northmoor", f"{rng.choice(districts)} {rng.randrange(1, 10)}AB")
            for i in range(1, addresses + 1)
        ),
    )
    bulk.insert(Household, ["id", "address_id"], ((i, i) for i in range(1, addresses + 1)))
    today = clock.localtime(now).date()
    children: list[tuple[str, str, dt.date | None, dt.date | None, str, str]] = []

    def child_rows() -> Iterator[tuple[Any, ...]]:
        ethnicities = ["WBRI"] * 6 + [
            "WOTH",
            "MWBC",
            "AIND",
            "APKN",
            "BAFR",
            "BCRB",
            "OOTH",
            "NOBT",
        ]
        for i in range(1, CHILDREN + 1):
            first, last = rng.choice(given), rng.choice(family)
            unborn = rng.random() < 0.03
            born = None if unborn else today - dt.timedelta(days=rng.randrange(30, 17 * 365))
            due = today - dt.timedelta(days=rng.randrange(0, 5 * 365)) if unborn else None
            sex = "U" if unborn else rng.choice("MF")
            pupil = None
            if born and (today - born).days > 5 * 365 and rng.random() < 0.8:
                body = f"{LA_CODE}{i // 10000:04d}{i % 10000:04d}{rng.randrange(10)}"
                pupil = upn.calc_check_digit(body) + body
            children.append((first, last, born, due, sex, pupil or ""))
            yield (
                i,
                first,
                last,
                keys[first],
                keys[last],
                born,
                due,
                sex,
                rng.choice(ethnicities),
                pupil,
                1 + i % addresses,
                now,
            )

    bulk.insert(
        Person,
        [
            "id",
            "given_name",
            "family_name",
            "given_key",
            "family_key",
            "date_of_birth",
            "expected_date_of_birth",
            "sex",
            "ethnicity",
            "upn",
            "household_id",
            "created_at",
        ],
        child_rows(),
    )

    # Contacts, in time order.
    received = sorted(working_moment() for _ in range(CONTACTS))
    enquiry_of = set(rng.sample(range(CONTACTS), min(ENQUIRIES, CONTACTS)))
    source = weighted(
        rng,
        [
            ("2A", 18),
            ("6", 28),
            ("3A", 5),
            ("3B", 5),
            ("3E", 4),
            ("1A", 8),
            ("1C", 2),
            ("4", 3),
            ("5A", 4),
            ("5C", 2),
            ("5D", 6),
            ("8", 3),
            ("9", 2),
            ("10", 2),
            ("2B", 3),
            ("3F", 2),
            ("7", 1),
            ("1B", 2),
        ],
    )
    channel = weighted(
        rng,
        [
            ("phone", 35),
            ("email", 20),
            ("online_form", 20),
            ("police_notification", 20),
            ("letter", 1),
            ("in_person", 1),
            ("other_la", 3),
        ],
    )
    other_outcome = weighted(rng, [("nfa", 35), ("advice", 25), ("signposted", 40)])
    recent = now - dt.timedelta(days=2)
    contact_children: list[list[int]] = []

    def contact_rows() -> Iterator[tuple[Any, ...]]:
        for index, at in enumerate(received):
            progressed = index in enquiry_of
            if progressed:
                outcome = "progress"
            elif at > recent and rng.random() < 0.5:
                outcome = ""
            else:
                outcome = other_outcome()
            screened = at + dt.timedelta(minutes=rng.uniform(10, 240)) if outcome else None
            count = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
            contact_children.append(rng.sample(range(1, CHILDREN + 1), count))
            yield (
                index + 1,
                "screened" if outcome else "awaiting_screening",
                at,
                channel(),
                source(),
                "Referrer",
                "A concern about the children.",
                at,
                manager.pk,
                at,
                at,
                manager.pk,
                outcome,
                "Screened." if outcome else "",
                screened,
                manager.pk if outcome else None,
            )

    bulk.insert(
        Contact,
        [
            "id",
            "status",
            "received_at",
            "channel",
            "referral_source",
            "referrer_name",
            "concern",
            "created_at",
            "created_by_id",
            "updated_at",
            "submitted_at",
            "submitted_by_id",
            "screening_outcome",
            "screening_reason",
            "screened_at",
            "screened_by_id",
        ],
        contact_rows(),
    )

    def contact_person_rows() -> Iterator[tuple[Any, ...]]:
        row = 0
        for index, kids in enumerate(contact_children):
            for position, person in enumerate(kids):
                first, last, born, due, sex, pupil = children[person - 1]
                row += 1
                yield (
                    row,
                    index + 1,
                    person,
                    "child",
                    position,
                    first,
                    last,
                    born,
                    due,
                    sex,
                    pupil,
                    "1 Bench Road",
                    "NM1 1AB",
                )

    bulk.insert(
        ContactPerson,
        [
            "id",
            "contact_id",
            "person_id",
            "role",
            "position",
            "given_name",
            "family_name",
            "date_of_birth",
            "expected_date_of_birth",
            "sex",
            "upn",
            "address_line_1",
            "postcode",
        ],
        contact_person_rows(),
    )

    # Enquiries, ratings, requests, decisions, themes.
    rag_of = weighted(rng, [("urgent", 5), ("red", 20), ("amber", 40), ("green", 35)])
    outcome_of = weighted(
        rng, [("s47", 15), ("s17", 30), ("early_help", 25), ("signpost", 15), ("nfa", 15)]
    )
    need_of = weighted(
        rng,
        [
            ("N1", 45),
            ("N2", 5),
            ("N3", 5),
            ("N4", 15),
            ("N5", 15),
            ("N6", 5),
            ("N7", 2),
            ("N8", 3),
            ("N9", 5),
        ],
    )
    themes = list(Theme.values)
    enquiries: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    decisions: list[tuple[Any, ...]] = []
    decision_themes: list[tuple[Any, ...]] = []
    for enquiry_id, index in enumerate(sorted(enquiry_of), 1):
        at = received[index]
        opened = at + hour * rng.uniform(0.3, 5)
        rag = rag_of()
        rated = opened + hour * rng.uniform(0.1, 6)
        ratings.append((len(ratings) + 1, enquiry_id, rag, "", "Rated.", rated, manager.pk))
        last_rag, last_rated = rag, rated
        if rng.random() < 0.08:
            last_rag = rng.choice([r for r in RAG_HOURS if r != rag])
            last_rated = rated + hour * rng.uniform(1, 12)
            ratings.append(
                (len(ratings) + 1, enquiry_id, last_rag, rag, "Re-rated.", last_rated, manager.pk)
            )
        hours = RAG_HOURS[last_rag]
        still_open = last_rated > now - dt.timedelta(days=3) and rng.random() < 0.6
        decided = None if still_open else last_rated + hour * hours * rng.uniform(0.2, 1.8)
        if decided is not None and decided > now:
            decided, still_open = None, True
        if decided is not None:
            kids = contact_children[index]
            for position, person in enumerate(kids):
                outcome = outcome_of()
                when = decided - dt.timedelta(minutes=10 * (len(kids) - 1 - position))
                decision_id = len(decisions) + 1
                decisions.append(
                    (
                        decision_id,
                        enquiry_id,
                        person,
                        outcome,
                        need_of(),
                        "Decided.",
                        "Assessment team",
                        agencies[6].pk if outcome == "early_help" else None,
                        when,
                        manager.pk,
                    )
                )
                for theme in rng.sample(themes, rng.choices((0, 1, 2), weights=(3, 5, 2))[0]):
                    decision_themes.append((len(decision_themes) + 1, decision_id, theme))
        enquiries.append(
            (
                enquiry_id,
                index + 1,
                at,
                "checks" if decided is None else "closed",
                opened,
                manager.pk,
                last_rag,
                last_rated,
                "Checks needed.",
                decided,
                "" if decided is None else "decided",
            )
        )
    bulk.insert(
        Enquiry,
        [
            "id",
            "contact_id",
            "contact_received_at",
            "status",
            "opened_at",
            "opened_by_id",
            "rag",
            "rated_at",
            "summary_for_agencies",
            "closed_at",
            "closed_as",
        ],
        enquiries,
    )
    bulk.insert(
        Rating,
        ["id", "enquiry_id", "rag", "previous_rag", "rationale", "rated_at", "rated_by_id"],
        ratings,
    )
    requests = insert_requests(bulk, now)
    bulk.insert(
        Decision,
        [
            "id",
            "enquiry_id",
            "child_id",
            "outcome",
            "primary_need",
            "rationale",
            "next_team",
            "lead_professional_agency_id",
            "decided_at",
            "decided_by_id",
        ],
        decisions,
    )
    bulk.insert(DecisionTheme, ["id", "decision_id", "theme"], decision_themes)

    # Police notifications: any hour of any day.
    police = agencies[1]
    triage = weighted(
        rng,
        [
            ("record_only", 70),
            ("share_universal", 15),
            ("progress_contact", 8),
            ("add_to_enquiry", 2),
        ],
    )
    kinds = ["domestic_abuse"] * 6 + ["missing_child", "exploitation", "drugs", "asb", "other"]
    quality = ["child_not_identified", "no_narrative", "no_account_of_child", "other"]

    def notification_rows() -> Iterator[tuple[Any, ...]]:
        moments = sorted(
            moment(first_day + dt.timedelta(days=rng.randrange(days)), rng.uniform(0, 86400))
            for _ in range(NOTIFICATIONS)
        )
        for i, at in enumerate(moments, 1):
            at = min(at, now)
            untriaged = at > now - dt.timedelta(days=1)
            outcome = "" if untriaged else triage()
            poor = "" if untriaged or rng.random() > 0.1 else rng.choice(quality)
            yield (
                i,
                police.pk,
                f"NM-{i:07d}",
                at - hour * rng.uniform(1, 48),
                rng.choice(kinds),
                "Officers attended.",
                "Response team " + str(i % 7),
                at,
                "api",
                "0" * 64,
                outcome,
                None if untriaged else at + hour * rng.uniform(0.5, 24),
                poor,
                at + hour if poor else None,
            )

    bulk.insert(
        PoliceNotification,
        [
            "id",
            "force_id",
            "occurrence_reference",
            "incident_at",
            "incident_type",
            "narrative",
            "officer_team",
            "received_at",
            "received_via",
            "content_hash",
            "outcome",
            "triaged_at",
            "quality_issue",
            "quality_marked_at",
        ],
        notification_rows(),
    )
    bulk.reset_sequences()
    return {
        "contacts": len(received),
        "enquiries": len(enquiries),
        "requests": requests,
        "decisions": len(decisions),
        "notifications": NOTIFICATIONS,
        "children": CHILDREN,
    }


def insert_requests(bulk: Bulk, now: dt.datetime) -> int:
    """A request to every agency for every enquiry, in one INSERT ... SELECT (1.2 million rows
    are too many to make one by one). Made at the first rating, due at the latest rating
    plus the RAG's clock hours; 8% not required; the rest answered after 5% to 130% of the
    time (late past 100%), unless the enquiry was decided first (then closed as not
    required) or that time is still to come (pending). "Random" numbers are hashes of the
    enquiry's and the agency's ids, the same on every run and on either database."""
    from mash.accounts.models import Agency
    from mash.enquiries.models import AgencyRequest, Enquiry, Rating

    request = AgencyRequest._meta.db_table
    enquiry, rating, agency = Enquiry._meta.db_table, Rating._meta.db_table, Agency._meta.db_table
    if bulk.vendor == "postgresql":
        moment = f"CAST('{now.isoformat()}' AS timestamptz)"

        def plus_hours(start: str, hours: str) -> str:
            return f"({start} + ({hours}) * INTERVAL '1 hour')"

    else:
        moment = f"'{_sqlite(now)}'"

        def plus_hours(start: str, hours: str) -> str:
            return f"datetime({start}, '+' || ({hours}) || ' hours')"

    late = "(x.closed_at IS NOT NULL AND x.ans > x.closed_at)"
    statement = f"""
        INSERT INTO {request} (enquiry_id, agency_id, status, requested_at, clock_started_at,
            deadline_at, duration_amount, duration_unit, answered_at, not_required_reason,
            version)
        SELECT x.eid, x.aid,
            CASE WHEN x.u1 < 0.08 OR {late} THEN 'not_required'
                 WHEN x.ans > {moment} THEN 'pending'
                 WHEN x.u3 < 0.75 THEN 'answered' ELSE 'nothing_held' END,
            x.first_rated, x.last_rated, x.deadline, x.hours, 'clock_hours',
            CASE WHEN x.u1 < 0.08 OR {late} OR x.ans > {moment} THEN NULL ELSE x.ans END,
            CASE WHEN x.u1 < 0.08 THEN 'Not needed here.'
                 WHEN {late} THEN 'The enquiry was decided before this agency answered.'
                 ELSE '' END,
            1
        FROM (
            SELECT y.*, {plus_hours("y.last_rated", "y.hours * (0.05 + 1.25 * y.u2)")} AS ans,
                {plus_hours("y.last_rated", "y.hours")} AS deadline
            FROM (
                SELECT e.id AS eid, a.id AS aid, e.rated_at AS last_rated, e.closed_at,
                    r.rated_at AS first_rated,
                    CASE e.rag WHEN 'amber' THEN 24 WHEN 'green' THEN 48 ELSE 4 END AS hours,
                    ((e.id * 7919 + a.id * 104729) % 1000) / 1000.0 AS u1,
                    ((e.id * 15485863 + a.id * 32452843) % 997) / 997.0 AS u2,
                    ((e.id * 49979687 + a.id * 86028121) % 991) / 991.0 AS u3
                FROM {enquiry} e
                JOIN {rating} r ON r.enquiry_id = e.id AND r.previous_rag = ''
                CROSS JOIN {agency} a
            ) y
        ) x
        ORDER BY x.eid, x.aid
    """  # noqa: S608  (table names from the models; the moment is ours)
    bulk.tables.append(request)
    raw = bulk.connection.connection  # the driver's own: no placeholders to rewrite
    cursor = raw.cursor()
    try:
        cursor.execute(statement)
        count = cursor.rowcount
    finally:
        cursor.close()
    raw.commit()
    return int(count)


# --- Measuring --------------------------------------------------------------------------------


def dashboard_figures(manager: Any) -> dict[str, str]:
    from django.db import connection
    from django.test import Client, override_settings

    client = Client(HTTP_HOST=HOST)
    client.force_login(manager)

    def get() -> None:
        response = client.get("/reports/performance/")
        assert response.status_code == 200, response.status_code
        assert b"Headline figures" in response.content

    for _ in range(WARM_UPS):
        get()
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    # Counted by a wrapper: the connection may be closed and reopened between requests.
    # On one connection: a wrapper sees only its own connection's queries.
    with override_settings(MASH_REPORT_CONNECTIONS=1), connection.execute_wrapper(count):
        get()
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        get()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "dashboard_p95_ms": f"{p95(times):.2f}",
        "dashboard_median_ms": f"{statistics.median(times):.2f}",
        "dashboard_queries": str(queries),
    }


def main() -> None:
    with scratch_database() as vendor:
        rng = random.Random(SEED)
        started = time.perf_counter()
        manager, agencies = hub_people()
        sizes = seed(manager, agencies, rng)
        analyse()
        seconds = time.perf_counter() - started
        print(
            f"# {vendor}: "
            + ", ".join(f"{value:,} {name}" for name, value in sizes.items())
            + f" over {YEARS} years, seeded in {seconds:.0f}s"
        )
        figures = {"seed_seconds": f"{seconds:.1f}"}
        figures.update(dashboard_figures(manager))

        # The statutory returns, on the same seeded database.
        figures.update(_census.census_figures())
        figures.update(_annex.annex_figures())

        for name, value in figures.items():
            print(f"{name}={value}")


if __name__ == "__main__":
    main()
