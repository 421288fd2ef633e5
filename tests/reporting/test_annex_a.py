"""Ofsted's Annex A lists 1 to 3: headings, codes, rows and dates on a hand-made history.

Every expected row below is written out by hand from the facts in `build()`;
none is worked out by the code under test. The lists are asked for 1 April to
30 September 2026 (British Summer Time throughout, so midnight in London is
23:00 UTC the day before).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db.models.query import QuerySet

from mash.accounts.models import Agency, AgencyKind, User
from mash.contacts.models import Contact, ContactPerson, ContactStatus, PersonRole
from mash.core import clock
from mash.core.models import LocalAuthority
from mash.enquiries.models import ClosedAs, Decision, Enquiry, EnquiryStatus
from mash.people.models import Person
from mash.reporting import annex_a
from mash.reporting.models import Export, ExportKind
from tests import factories

pytestmark = pytest.mark.django_db

LONDON = clock.LONDON
NOW = dt.datetime(2026, 10, 15, 12, 0, tzinfo=LONDON)
PERIOD = annex_a.Period(start=dt.date(2026, 4, 1), end=dt.date(2026, 9, 30))


@pytest.fixture(autouse=True)
def _frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


# --- A hand-made history ----------------------------------------------------------------------


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0):
    """A moment on the London clock, as the hub's users say it."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def person(given: str, *, sex: str, ethnicity: str, born=None, expected=None) -> Person:
    return Person.objects.create(
        given_name=given,
        family_name="Annex",
        date_of_birth=born,
        expected_date_of_birth=expected,
        sex=sex,
        ethnicity=ethnicity,
    )


def contact(
    user: User,
    received_at: dt.datetime,
    source: str,
    children: list[Person],
    *,
    adults: tuple[Person, ...] = (),
    status: str = ContactStatus.SCREENED,
) -> Contact:
    made = Contact.objects.create(
        status=status,
        received_at=received_at,
        channel="phone",
        referral_source=source,
        created_by=user,
    )
    people = [(PersonRole.CHILD, c) for c in children] + [(PersonRole.ADULT, a) for a in adults]
    for position, (role, who) in enumerate(people):
        ContactPerson.objects.create(
            contact=made,
            person=who,
            role=role,
            position=position,
            given_name=who.given_name,
            family_name=who.family_name,
        )
    return made


def enquiry(user: User, on: Contact, **kw: Any) -> Enquiry:
    return Enquiry.objects.create(
        contact=on,
        contact_received_at=on.received_at or clock.now(),
        opened_by=user,
        opened_at=on.received_at or clock.now(),
        status=EnquiryStatus.CLOSED,
        closed_as=ClosedAs.DECIDED,
        **kw,
    )


def decision(
    user: User,
    on: Enquiry,
    child: Person,
    outcome: str,
    decided_at: dt.datetime,
    *,
    team: str = "Assessment team 1",
    agency: Agency | None = None,
) -> Decision:
    return Decision.objects.create(
        enquiry=on,
        child=child,
        outcome=outcome,
        primary_need="N1",
        rationale="Hand-made for the Annex A tests.",
        next_team=team,
        lead_professional_agency=agency,
        decided_at=decided_at,
        decided_by=user,
    )


@dataclass
class History:
    manager: User
    amy: Person
    ben: Person
    cal: Person
    dee: Person
    eve: Person


def build() -> History:
    manager = factories.hub_manager()
    school = factories.agency(name="Riverside Primary School", kind=AgencyKind.EDUCATION)
    elsewhere, _ = LocalAuthority.objects.get_or_create(
        code="999", defaults={"name": "Somewhere Else Council"}
    )
    amy = person("Amy", sex="F", ethnicity="WBRI", born=dt.date(2015, 6, 10))
    ben = person("Ben", sex="M", ethnicity="AIND", born=dt.date(2012, 5, 31))
    cal = person("Cal", sex="U", ethnicity="NOBT", expected=dt.date(2026, 12, 1))
    dee = person("Dee", sex="F", ethnicity="BAFR", born=dt.date(2019, 1, 15))
    eve = person("Eve", sex="F", ethnicity="MWBC", born=dt.date(2010, 3, 1))
    mum = person("Mum", sex="F", ethnicity="WBRI", born=dt.date(1990, 1, 1))

    # Contacts: list 1.
    contact(manager, at(2026, 3, 31, 23, 30), "2A", [amy])  # C1: the evening before: out
    c2 = contact(manager, at(2026, 4, 1, 0, 10), "6", [amy, ben], adults=(mum,))  # C2: in
    c3 = contact(manager, at(2026, 5, 20), "3A", [cal])  # C3: an unborn child
    contact(manager, at(2026, 5, 21), "2A", [dee], status=ContactStatus.DRAFT)  # C4: a draft
    c5 = contact(manager, at(2026, 9, 30, 23, 59), "1A", [dee], adults=(mum,))  # C5: last minute
    contact(manager, at(2026, 10, 1, 0, 0, 30), "2A", [dee])  # C6: the next day: out
    c7 = contact(manager, at(2026, 5, 31), "2A", [ben])  # C7: Ben's 14th birthday
    c8 = contact(manager, at(2026, 6, 30), "5D", [eve])  # C8: another authority's child
    c0 = contact(manager, at(2025, 11, 9), "2A", [ben])  # before the range
    c00 = contact(manager, at(2025, 3, 14), "2A", [ben])  # long before
    c9 = contact(manager, at(2026, 10, 1, 8, 0), "2A", [dee])  # after the range
    c10 = contact(manager, at(2026, 3, 20), "2A", [amy])  # before the range

    # Decisions: lists 2 and 3.
    decision(manager, enquiry(manager, c00), ben, "s47", at(2025, 3, 15))  # D00: > 12 months
    decision(manager, enquiry(manager, c0), ben, "s17", at(2025, 11, 10))  # D0
    e2 = enquiry(manager, c2)
    decision(manager, e2, amy, "early_help", at(2026, 4, 2, 9), agency=school)  # D1
    decision(manager, e2, ben, "s47", at(2026, 4, 2, 9))  # D2
    decision(manager, enquiry(manager, c7), ben, "s17", at(2026, 6, 1, 9))  # D3
    e3 = enquiry(manager, c3)
    decision(manager, e3, cal, "s47", at(2026, 5, 21), team="Assessment team 2")  # D4
    decision(manager, enquiry(manager, c5), dee, "nfa", at(2026, 9, 30, 23, 59, 30))  # D5
    e8 = enquiry(manager, c8, responsible_la=elsewhere)
    decision(manager, e8, eve, "s17", at(2026, 7, 1))  # D6: another authority's
    decision(manager, enquiry(manager, c9), dee, "early_help", at(2026, 10, 1, 10))  # D7
    decision(manager, enquiry(manager, c10), amy, "early_help", at(2026, 9, 30, 22))  # D8
    return History(manager=manager, amy=amy, ben=ben, cal=cal, dee=dee, eve=eve)


@pytest.fixture
def history() -> History:
    return build()


# --- Ofsted's headings, exactly ---------------------------------------------------------------


def test_the_headings_are_ofsteds_exactly():
    # As in Ofsted's Annex A template (ILACS), lists 1 to 3, in its order and spelling.
    assert annex_a.CONTACT_HEADINGS == (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Date of Contact",
        "Contact Source",
    )
    assert annex_a.EARLY_HELP_HEADINGS == (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Assessment start date",
        "Assessment completion date",
        "Organisation completing assessment",
    )
    assert annex_a.REFERRAL_HEADINGS == (
        "Child Unique ID",
        "Gender",
        "Ethnicity",
        "Date of Birth",
        "Age of Child (Years)",
        "Date of referral",
        "Referral Source",
        "Referral NFA?",
        "Number of Referrals in Last 12 Months",
        "Allocated Team",
        "Allocated Worker",
    )
    assert [a.sheet for a in annex_a.LISTS] == ["List 1", "List 2", "List 3"]


def test_codes_are_ofsteds_lettered_codes():
    assert annex_a.ETHNICITY["WBRI"] == "a) WBRI"
    assert annex_a.ETHNICITY["WROM"] == "e) WROM"
    assert annex_a.ETHNICITY["REFU"] == "s) REFU"
    assert annex_a.ETHNICITY["NOBT"] == "t) NOBT"
    assert len(annex_a.ETHNICITY) == 20
    assert annex_a.SOURCE["5D"] == "p1) 5D: LA services"
    assert annex_a.SOURCE["10"] == "u) 10: Unknown"
    assert set(annex_a.GENDER.values()) == {"a) Male", "b) Female", "c) Not stated/recorded"}


# --- Rows, by hand ----------------------------------------------------------------------------


def _expected(h: History) -> dict[str, list[tuple[Any, ...]]]:
    amy, ben, cal, dee, eve = (str(p.pk) for p in (h.amy, h.ben, h.cal, h.dee, h.eve))
    d = dt.date
    amy_ = (amy, "b) Female", "a) WBRI", d(2015, 6, 10))
    ben_ = (ben, "a) Male", "j) AIND", d(2012, 5, 31))
    cal_ = (cal, "c) Not stated/recorded", "t) NOBT", None)
    return {
        "List 1": [
            # C2 at 00:10 on 1 April (23:10 UTC on 31 March): in, both children, not the adult.
            (*amy_, 10, d(2026, 4, 1), "q) 6: Police"),
            (*ben_, 13, d(2026, 4, 1), "q) 6: Police"),
            # C3: an unborn child has no date of birth and is aged -1.
            (*cal_, -1, d(2026, 5, 20), "g) 3A: Health services"),
            # C7: on Ben's 14th birthday.
            (*ben_, 14, d(2026, 5, 31), "e) 2A: Schools"),
            # C8: the contact is the hub's, though another authority decides for Eve.
            (eve, "b) Female", "f) MWBC", d(2010, 3, 1), 16, d(2026, 6, 30), "p1) 5D: LA services"),
            # C5 at 23:59 on 30 September.
            (dee, "b) Female", "o) BAFR", d(2019, 1, 15), 7, d(2026, 9, 30), "a) 1A: Individual"),
        ],
        "List 2": [
            (*amy_, 10, d(2026, 4, 2), None, "Riverside Primary School"),  # D1
            (*amy_, 11, d(2026, 9, 30), None, None),  # D8: no lead agency recorded
        ],
        "List 3": [
            # D2: D0 (10 Nov 2025) is within 12 months; D00 (15 Mar 2025) is not.
            (*ben_, 13, d(2026, 4, 2), "q) 6: Police", "b) No", 1, "Assessment team 1", None),
            # D4: Cal's first referral.
            (
                *cal_,
                -1,
                d(2026, 5, 21),
                "g) 3A: Health services",
                "b) No",
                0,
                "Assessment team 2",
                None,
            ),
            # D3: D0 and D2 within the 12 months before 1 June 2026.
            (*ben_, 14, d(2026, 6, 1), "e) 2A: Schools", "b) No", 2, "Assessment team 1", None),
        ],
    }


def _rows(annex: annex_a.AnnexList) -> list[tuple[Any, ...]]:
    return [tuple(None if v == "" else v for v in row) for row in annex.rows(PERIOD)]


def test_each_list_has_the_rows_worked_out_by_hand(history):
    expected = _expected(history)
    for annex in annex_a.LISTS:
        assert _rows(annex) == expected[annex.sheet], annex.sheet


def test_row_counts_match_the_lists(history):
    assert annex_a.row_counts(PERIOD) == {"List 1": 6, "List 2": 2, "List 3": 3}


def test_the_count_of_referrals_reaches_back_exactly_twelve_months(history):
    # A referral exactly 12 months (London calendar) before another counts; a minute
    # earlier does not: the hub's re-referral rule (people.selectors.re_referral_since).
    manager = history.manager
    dee = history.dee
    first = contact(manager, at(2025, 8, 1, 9), "2A", [dee])
    decision(manager, enquiry(manager, first), dee, "s17", at(2025, 8, 1, 9))
    earlier = contact(manager, at(2025, 7, 1, 9), "2A", [dee])
    decision(manager, enquiry(manager, earlier), dee, "s47", at(2025, 8, 1, 8, 59))
    again = contact(manager, at(2026, 8, 1, 8), "2A", [dee])
    decision(manager, enquiry(manager, again), dee, "s17", at(2026, 8, 1, 9))
    rows = [r for r in _rows(annex_a.LISTS[2]) if r[0] == str(dee.pk)]
    assert [(r[5], r[8]) for r in rows] == [(dt.date(2026, 8, 1), 1)]


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_rows_are_the_same_whatever_the_chunk_size(history, monkeypatch, chunk):
    monkeypatch.setattr(annex_a, "CHUNK_SIZE", chunk)
    expected = _expected(history)
    for annex in annex_a.LISTS:
        assert _rows(annex) == expected[annex.sheet], (annex.sheet, chunk)


def test_a_child_born_since_the_event_counts_as_unborn_then(history):
    history.cal.expected_date_of_birth = None
    history.cal.date_of_birth = dt.date(2026, 6, 2)
    history.cal.save()
    rows = [r for r in _rows(annex_a.LISTS[0]) if r[0] == str(history.cal.pk)]
    assert rows == [
        (
            str(history.cal.pk),
            "c) Not stated/recorded",
            "t) NOBT",
            dt.date(2026, 6, 2),
            -1,  # unborn on the day of the contact
            dt.date(2026, 5, 20),
            "g) 3A: Health services",
        )
    ]


# --- Reading in chunks, not all at once -------------------------------------------------------


def test_the_lists_are_read_in_chunks_never_loaded_whole(history, monkeypatch):
    """Each list is read through .iterator() in CHUNK_SIZE chunks; no case-data query is
    ever loaded whole into memory (QuerySet._fetch_all)."""
    iterated: list[tuple[str, int | None]] = []
    loaded: list[str] = []
    real_iterator, real_fetch_all = QuerySet.iterator, QuerySet._fetch_all

    def iterator(self, chunk_size=None):
        iterated.append((self.model.__name__, chunk_size))
        return real_iterator(self, chunk_size=chunk_size)

    def fetch_all(self):
        if self.model in (Contact, ContactPerson, Decision, Enquiry, Person):
            loaded.append(self.model.__name__)
        return real_fetch_all(self)

    monkeypatch.setattr(QuerySet, "iterator", iterator)
    monkeypatch.setattr(QuerySet, "_fetch_all", fetch_all)
    monkeypatch.setattr(annex_a, "CHUNK_SIZE", 2)
    out = io.BytesIO()
    annex_a.write_xlsx(_export(ExportKind.ANNEX_A_XLSX), out, ignore)
    assert loaded == []
    assert ("ContactPerson", 2) in iterated
    assert iterated.count(("Decision", 2)) >= 2  # early help, referrals (+ the look-backs)
    assert all(size == 2 for _, size in iterated)


def test_progress_is_reported_as_rows_are_written(history, monkeypatch):
    monkeypatch.setattr(annex_a._Tally, "EVERY", 1)
    seen: list[tuple[int, int | None]] = []

    def progress(done: int, total: int | None = None) -> None:
        seen.append((done, total))

    annex_a.write_csv_zip(_export(ExportKind.ANNEX_A_CSV), io.BytesIO(), progress)
    assert seen[0] == (0, 11)
    assert seen[-1] == (11, 11)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# --- The files --------------------------------------------------------------------------------


def ignore(done: int, total: int | None = None) -> None:
    """A progress callback that takes no notice."""


def _export(kind: str, period: annex_a.Period = PERIOD) -> Export:
    return Export(kind=kind, parameters=period.as_parameters())


def _xlsx(history) -> openpyxl.Workbook:
    out = io.BytesIO()
    annex_a.write_xlsx(_export(ExportKind.ANNEX_A_XLSX), out, ignore)
    out.seek(0)
    return openpyxl.load_workbook(out)


def test_the_workbook_has_a_sheet_per_list_with_ofsteds_headings_and_the_rows(history):
    book = _xlsx(history)
    assert book.sheetnames == ["List 1", "List 2", "List 3"]
    expected = _expected(history)
    for annex in annex_a.LISTS:
        sheet = book[annex.sheet]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == annex.headings
        assert all(cell.font.bold for cell in sheet[1])
        body = [
            tuple(v.date() if isinstance(v, dt.datetime) else v for v in row) for row in rows[1:]
        ]
        assert body == expected[annex.sheet]
        assert sheet.max_row == 1 + len(expected[annex.sheet])


def test_dates_in_the_workbook_are_date_cells_shown_dd_mm_yyyy(history):
    sheet = _xlsx(history)["List 1"]
    born, contacted = sheet["D2"], sheet["F2"]
    assert born.is_date
    assert contacted.is_date
    assert born.number_format == contacted.number_format == "dd/mm/yyyy"
    assert contacted.value.date() == dt.date(2026, 4, 1)
    assert sheet["D4"].value is None  # the unborn child: blank
    assert sheet["E4"].value == -1


def test_the_csv_zip_holds_a_file_per_list_with_dates_as_dd_mm_yyyy(history):
    out = io.BytesIO()
    annex_a.write_csv_zip(_export(ExportKind.ANNEX_A_CSV), out, ignore)
    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    assert archive.namelist() == [
        "list-1-contacts.csv",
        "list-2-early-help.csv",
        "list-3-referrals.csv",
    ]
    raw = archive.read("list-1-contacts.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte-order mark: Excel reads it as UTF-8
    contacts = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert contacts[0] == list(annex_a.CONTACT_HEADINGS)
    assert contacts[1] == [
        str(history.amy.pk),
        "b) Female",
        "a) WBRI",
        "10/06/2015",
        "10",
        "01/04/2026",
        "q) 6: Police",
    ]
    assert contacts[3][3:5] == ["", "-1"]  # unborn: no date of birth, aged -1
    assert len(contacts) == 1 + 6
    early_help = list(
        csv.reader(io.StringIO(archive.read("list-2-early-help.csv").decode("utf-8-sig")))
    )
    assert early_help[1][5:] == ["02/04/2026", "", "Riverside Primary School"]
    assert len(early_help) == 1 + 2
    referrals = list(
        csv.reader(io.StringIO(archive.read("list-3-referrals.csv").decode("utf-8-sig")))
    )
    assert [r[8] for r in referrals[1:]] == ["1", "0", "2"]
    assert len(referrals) == 1 + 3


def test_text_that_looks_like_a_formula_stays_text(history):
    agency = Agency.objects.get(name="Riverside Primary School")
    agency.name = '=HYPERLINK("http://evil.example","Click")'
    agency.save()
    out = io.BytesIO()
    annex_a.write_csv_zip(_export(ExportKind.ANNEX_A_CSV), out, ignore)
    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    rows = list(csv.reader(io.StringIO(archive.read("list-2-early-help.csv").decode("utf-8-sig"))))
    assert rows[1][7] == "'" + agency.name
    cell = _xlsx(history)["List 2"]["H2"]
    assert cell.data_type == "s"
    assert cell.value == agency.name


def test_an_empty_range_gives_the_headings_alone(history):
    quiet = annex_a.Period(start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31))
    out = io.BytesIO()
    annex_a.write_xlsx(_export(ExportKind.ANNEX_A_XLSX, quiet), out, ignore)
    out.seek(0)
    book = openpyxl.load_workbook(out)
    assert [book[s].max_row for s in book.sheetnames] == [1, 1, 1]


# --- The date range ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (None, dt.date(2026, 9, 30), "start", "Enter the first day of the lists"),
        (dt.date(2026, 4, 1), None, "end", "Enter the last day of the lists"),
        (
            dt.date(2026, 4, 2),
            dt.date(2026, 4, 1),
            "end",
            "The last day must be the same as or after the first day",
        ),
        (
            dt.date(2026, 4, 1),
            dt.date(2026, 10, 16),
            "end",
            "The last day must be today or in the past",
        ),
        (
            dt.date(2026, 10, 16),
            dt.date(2026, 10, 20),
            "start",
            "The first day must be today or in the past",
        ),
        (
            dt.date(1999, 12, 31),
            dt.date(2000, 2, 1),
            "start",
            "The first day must be on or after 1 January 2000",
        ),
        (dt.date(2020, 1, 1), dt.date(2026, 1, 1), "end", "The lists can cover at most 5 years"),
    ],
)
def test_a_range_that_cannot_be_listed_is_refused_next_to_its_field(start, end, field, message):
    with pytest.raises(ValidationError) as caught:
        annex_a.check_period(start, end)
    assert message in caught.value.message_dict[field]


def test_a_single_day_and_today_are_fine():
    today = dt.date(2026, 10, 15)
    assert annex_a.check_period(today, today) == annex_a.Period(today, today)


@pytest.mark.parametrize(
    "parameters",
    [{"start": "2026-13-01", "end": "2026-09-30"}, {"start": "x", "end": "y"}, {"start": 5}],
)
def test_bad_parameters_are_refused(parameters):
    with pytest.raises(ValidationError):
        annex_a.check_parameters(parameters)
