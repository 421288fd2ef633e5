"""What the board shows, built in a fixed number of lean queries.

A wall screen may show only: each open enquiry's reference, each child's
initials and age, the RAG rating, the time left, and each agency's status.
Never a full name, an address or a date of birth. Hub managers' own board
adds names and links (`with_names=True`).

Queries, whatever the number of enquiries: active agencies, open enquiries,
their agency requests, their children, the hub's settings and closure days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, CharField, F, OuterRef, Subquery, Value, When

from mash.accounts.models import Agency
from mash.contacts.models import ContactPerson, PersonRole
from mash.core import clock
from mash.core.models import Hub, Team
from mash.enquiries.models import (
    OPEN_STATUSES,
    AgencyRequest,
    Enquiry,
    EnquiryStatus,
    Rag,
    RequestStatus,
)

RAG_ORDER = {Rag.URGENT: 0, Rag.RED: 1, Rag.AMBER: 2, Rag.GREEN: 3, "": 4}
# Agency status as the board shows it: a symbol and a word, never colour alone.
CELL = {
    RequestStatus.ANSWERED: ("answered", "✓", "Answered"),
    RequestStatus.NOTHING_HELD: ("nothing_held", "○", "Nothing held"),
    RequestStatus.PENDING: ("pending", "…", "Pending"),
    "overdue": ("overdue", "!", "OVERDUE"),
    RequestStatus.NOT_REQUIRED: ("not_required", "\u2013", "Not required"),
    None: ("none", "", "Not asked"),
}
STATUS_WORDS = {
    EnquiryStatus.AWAITING_CONSENT: "Awaiting consent",
    EnquiryStatus.AWAITING_RATING: "Awaiting rating",
    EnquiryStatus.CHECKS: "Agency checks",
}


@dataclass(frozen=True)
class Filters:
    rags: tuple[str, ...] = ()
    agency_id: int | None = None
    team_id: int | None = None

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        """Reads ?rag=red,amber&agency=3&team=2; anything unreadable is ignored."""
        rags = tuple(r for r in str(query.get("rag", "")).split(",") if r in Rag.values)
        agency = str(query.get("agency", ""))
        team = str(query.get("team", ""))
        return cls(
            rags=rags,
            agency_id=int(agency)
            if agency.isascii() and agency.isdigit() and len(agency) < 10
            else None,
            team_id=int(team) if team.isascii() and team.isdigit() and len(team) < 10 else None,
        )


@dataclass
class Child:
    initials: str
    age: str
    name: str = ""  # only on the managers' board
    person_id: int | None = None


@dataclass
class Row:
    pk: int
    reference: str
    rag: str
    status: str
    children: list[Child]
    cells: list[tuple[str, str, str]]  # per agency column: (code, symbol, word)
    deadline: dt.datetime | None = None
    remaining_seconds: int | None = None
    working_time: bool = False
    paused: bool = False
    overdue: bool = False

    @property
    def status_word(self) -> str:
        return STATUS_WORDS.get(EnquiryStatus(self.status), self.status)


@dataclass
class Board:
    now: dt.datetime
    agencies: list[tuple[int, str, str]]  # (id, board name, full name)
    rows: list[Row]
    counts: dict[str, int] = field(default_factory=dict)
    page_seconds: int = 20
    teams: list[tuple[int, str]] = field(default_factory=list)


def _age(born: dt.date | None, due: dt.date | None, today: dt.date) -> str:
    if born is None:
        return "unborn" if due else "age not known"
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    if months < 24:
        return f"{max(months, 0)}m"
    return f"{months // 12}y"


def _initials(given: str, family: str) -> str:
    return "".join(f"{part[0].upper()}." for part in (given.strip(), family.strip()) if part)


def build(*, filters: Filters = Filters(), with_names: bool = False) -> Board:
    """Every open enquiry for the board, overdue first, then by RAG and time left."""
    now = clock.now()
    hub = Hub.load()
    calendar = hub.calendar()
    agencies = list(
        Agency.objects.filter(is_active=True)
        .order_by("name")
        .values_list("pk", "short_name", "name")
    )
    columns = {pk: i for i, (pk, _, _) in enumerate(agencies)}

    enquiries = Enquiry.objects.filter(status__in=OPEN_STATUSES)
    if filters.rags:
        enquiries = enquiries.filter(rag__in=filters.rags)
    if filters.team_id is not None:
        enquiries = enquiries.filter(team_id=filters.team_id)
    if filters.agency_id is not None:
        # One filter() call: both conditions hold for the same request (an exclude()
        # across the relation would drop enquiries with ANY agency not required).
        enquiries = enquiries.filter(
            requests__agency_id=filters.agency_id,
            requests__status__in=[
                s for s in RequestStatus.values if s != RequestStatus.NOT_REQUIRED
            ],
        )
    # Each enquiry's soonest pending deadline (and its clock's unit) comes with the
    # enquiry; its requests come as (agency, cell code) with "overdue" decided by the
    # database, so the board never converts sixteen timestamps per enquiry.
    soonest = AgencyRequest.objects.filter(
        enquiry=OuterRef("pk"), status=RequestStatus.PENDING
    ).order_by("deadline_at", "pk")
    heads = list(
        enquiries.order_by()
        .annotate(
            soonest_at=Subquery(soonest.values("deadline_at")[:1]),
            soonest_unit=Subquery(soonest.values("duration_unit")[:1]),
        )
        .values_list("pk", "rag", "status", "contact_id", "soonest_at", "soonest_unit")
    )
    ids = [pk for pk, *_ in heads]
    contact_ids = [contact_id for _, _, _, contact_id, _, _ in heads]

    requests: dict[int, list[tuple[int, str]]] = defaultdict(list)
    code = Case(
        When(status=RequestStatus.PENDING, deadline_at__lte=now, then=Value("overdue")),
        default=F("status"),
        output_field=CharField(),
    )
    for enquiry_id, agency_id, cell in (
        AgencyRequest.objects.filter(enquiry_id__in=ids)
        .order_by()
        .values_list("enquiry_id", "agency_id", code)
        .iterator(chunk_size=5000)
    ):
        requests[enquiry_id].append((agency_id, cell))

    children: dict[int, list[Child]] = defaultdict(list)
    today = clock.localtime(now).date()
    for contact_id, person_id, given, family, born, due in (
        ContactPerson.objects.filter(contact_id__in=contact_ids, role=PersonRole.CHILD)
        .order_by("contact_id", "position")
        .values_list(
            "contact_id",
            "person_id",
            "given_name",
            "family_name",
            "date_of_birth",
            "expected_date_of_birth",
        )
    ):
        children[contact_id].append(
            Child(
                initials=_initials(given, family),
                age=_age(born, due, today),
                name=f"{given} {family}".strip() if with_names else "",
                person_id=person_id if with_names else None,
            )
        )

    rows = []
    counts = {"urgent": 0, "red": 0, "amber": 0, "green": 0, "unrated": 0, "overdue": 0}
    for pk, rag, status, contact_id, deadline_at, unit in heads:
        cells = [CELL[None]] * len(agencies)
        overdue = False
        for agency_id, cell in requests.get(pk, ()):
            overdue = overdue or cell == "overdue"
            if agency_id in columns:
                cells[columns[agency_id]] = CELL[cell]
        row = Row(
            pk=pk,
            reference=f"E-{pk:06d}",
            rag=rag,
            status=status,
            children=children.get(contact_id, []),
            cells=cells,
            overdue=overdue,
        )
        if deadline_at is not None:
            left = clock.time_left(deadline_at, clock.Duration(1, unit), calendar, now)
            row.deadline = deadline_at
            row.remaining_seconds = int(left.remaining.total_seconds())
            row.working_time, row.paused = left.counts_working_time, left.paused
        rows.append(row)
        counts[rag or "unrated"] += 1
        counts["overdue"] += overdue

    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(
        key=lambda r: (
            not r.overdue,
            RAG_ORDER.get(r.rag, 4),
            r.remaining_seconds if r.remaining_seconds is not None else never.timestamp(),
            r.pk,
        )
    )
    teams = list(Team.objects.filter(is_active=True).values_list("pk", "name"))
    return Board(
        now=now,
        agencies=[(pk, short or name[:12], name) for pk, short, name in agencies],
        rows=rows,
        counts=counts,
        page_seconds=hub.board_page_seconds,
        teams=teams,
    )


def as_data(board: Board) -> dict[str, Any]:
    """The board as JSON-ready data for the screen's polling."""

    def ms(moment: dt.datetime | None) -> int | None:
        return int(moment.timestamp() * 1000) if moment else None

    return {
        "now": ms(board.now),
        "page_seconds": board.page_seconds,
        "counts": board.counts,
        "agencies": [[pk, short, name] for pk, short, name in board.agencies],
        "rows": [
            {
                "id": r.pk,
                "ref": r.reference,
                "rag": r.rag,
                "status": r.status_word,
                "children": [[c.initials, c.age, c.name, c.person_id] for c in r.children],
                "cells": [code for code, _, _ in r.cells],
                "deadline": ms(r.deadline),
                "left": r.remaining_seconds,
                "working": r.working_time,
                "paused": r.paused,
                "overdue": r.overdue,
            }
            for r in board.rows
        ],
    }
