"""The Children in Need census: the XML message the Department for Education collects.

One `Child` per child who had a referral (a decision to start a strategy discussion /
section 47 enquiry, or to refer for a section 17 assessment) received in the collection
year, 1 April of the year before to 31 March of the census year. Elements are written in
the order of the DfE's "Children in need census 2025 to 2026: business and technical
specification"; the checks are the DfE's validation rules for the items this hub can
supply, each under its rule number and message (docs/cin-census.md lists them, and what
the hub cannot supply).

Nothing is held in memory but one child at a time: the referrals are read with one query,
through a database cursor, in the order of the children; each child's XML is written and
forgotten. A file is never written while a child has an error: `preview()` (or the first
pass of `write_census()`) finds them, and the writing pass checks each child again in case
the records changed in between.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from typing import Any, Protocol
from xml.sax.saxutils import escape

from django.db.models import Q
from django.db.models.functions import Coalesce

from mash.contacts.models import ReferralSource
from mash.core import clock
from mash.core.models import Hub
from mash.enquiries.models import REFERRAL_OUTCOMES, Decision, Outcome, PrimaryNeed
from mash.people.models import Ethnicity

SOFTWARE_CODE = "MASH"
CHUNK_SIZE = 2000
FIRST_YEAR = 2000
# Findings kept per rule for the page; the rest are only counted.
KEEP_PER_RULE = 200


def release() -> str:
    try:
        return metadata.version("mash")
    except metadata.PackageNotFoundError:  # pragma: no cover - always installed
        return "0"


def latest_year(today: dt.date | None = None) -> int:
    """The last year a hub may ask for: next year's (from April, the census in progress)."""
    day = today or clock.localtime(clock.now()).date()
    return day.year + 1


def default_year(today: dt.date | None = None) -> int:
    """The census a hub manager most likely wants: the one being collected (April to July)
    or, from August, the one in progress."""
    day = today or clock.localtime(clock.now()).date()
    return day.year + 1 if day.month >= 8 else day.year


@dataclass(frozen=True)
class CensusYear:
    """The collection year: 1 April of the year before to 31 March (the reference date)."""

    year: int

    @property
    def start(self) -> dt.date:
        return dt.date(self.year - 1, 4, 1)

    @property
    def reference_date(self) -> dt.date:
        return dt.date(self.year, 3, 31)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The year as a half-open range of moments, midnight to midnight in London."""
        return (
            dt.datetime(self.year - 1, 4, 1, tzinfo=clock.LONDON),
            dt.datetime(self.year, 4, 1, tzinfo=clock.LONDON),
        )


# --- What the hub writes ------------------------------------------------------------------


@dataclass
class Episode:
    """One CINdetails module: a referral and what the hub knows of what followed."""

    referral_date: dt.date
    referral_source: str
    primary_need: str
    contact_id: int | None
    decision_ids: tuple[int, ...]
    s47_start: dt.date | None = None
    closure_date: dt.date | None = None
    closure_reason: str = ""
    # Every referral the hub exports led to action: s17 and s47 are never "no further action".
    referral_nfa: bool = False
    # Nobody at the hub knows whether a conference was needed: the receiving team decides.
    icpc_not_required: bool = False


@dataclass
class CensusChild:
    """One Child element, with the name that is never written but names the child to a
    hub manager when something is missing."""

    person_id: int
    name: str
    la_child_id: str
    upn: str
    birth_date: dt.date | None
    expected_birth_date: dt.date | None
    sex: str
    ethnicity: str
    disabilities: tuple[str, ...]
    episodes: list[Episode]
    notes: list[tuple[str, str]] = field(default_factory=list)  # (kind, what happened)

    @property
    def is_unborn(self) -> bool:
        return self.birth_date is None and self.expected_birth_date is not None


def la_child_id(person_id: int) -> str:
    """The child's LAchildID: stable, at most 20 letters and digits, from the person's id."""
    return f"P{person_id:08d}"


# --- Findings -----------------------------------------------------------------------------


class Severity(StrEnum):
    ERROR = "error"  # the DfE rejects the file: nothing is written
    QUERY = "query"  # the DfE asks the authority to check or explain: the file is written
    NOTE = "note"  # what the hub did with what it knows, for the manager to check


@dataclass(frozen=True)
class Rule:
    number: str
    severity: Severity
    message: str  # the DfE's own wording


def _rules(*rows: tuple[str, Severity, str]) -> dict[str, Rule]:
    return {number: Rule(number, severity, message) for number, severity, message in rows}


E, Q_ = Severity.ERROR, Severity.QUERY
RULES: dict[str, Rule] = _rules(
    # Header and whole return
    ("100", E, "Reference Date is incorrect"),
    ("LEA", E, "LEA must be the local authority's 3-digit code"),
    ("EMPTY", E, "The return must contain at least one child"),
    ("2886Q", Q_, "Please check and either amend or provide a reason: Percentage of children "
     "with no sex recorded is more than 2% (excluding unborns)"),
    ("2887Q", Q_, "Please check and either amend or provide a reason: Less than 8 disability "
     "codes have been used in your return"),
    ("2888Q", Q_, "Please check: Only one disability code is recorded per child and multiple "
     "disabilities should be recorded where possible."),
    # Child identifiers
    ("8500", E, "LA Child ID missing"),
    ("8510", E, "More than one child record with the same LA Child ID"),
    ("1570", E, "LA Child ID must not be longer than 20 characters"),
    ("1580", E, "LA Child ID must not contain any non-alphanumeric characters"),
    ("UPN", E, "UPN must be 13 characters: a letter, 11 digits, then a digit or a letter"),
    ("1510", E, "UPN invalid (wrong check letter at character 1)"),
    ("1520", E, "More than one record with the same UPN"),
    ("1530", E, "UPN invalid (characters 2-4 not a recognised LA code)"),
    ("1540", E, "UPN invalid (characters 5-12 not all numeric)"),
    ("1550", E, "UPN invalid (character 13 not a recognised value)"),
    ("8520", E, "Date of Birth is after data collection period (must be on or before the end "
     "of the census period)"),
    ("8525", E, "Either Date of Birth or Expected Date of Birth must be provided (but not both)"),
    ("8530Q", Q_, "Please check: Expected Date of Birth is outside the expected range for this "
     "census (March to December of the Census Year end)"),
    ("4180", E, "Sex must be provided and equal M, F, or U"),
    ("8750", E, "Sex must equal U for an unborn child"),
    ("8770Q", Q_, "Please check and either amend data or provide a reason: UPN is missing or "
     "reason UPN is missing or is UN1 for a child who is of school age."),
    ("8775Q", Q_, "Please check: Child is over 25 years old"),
    # Child characteristics
    ("4220", E, "Ethnicity is missing or invalid (see Ethnicity table)"),
    ("8540", E, "Child’s disability is missing or invalid (see Disability table)"),  # noqa: RUF001
    ("8790", E, "Disability information includes both None and other values"),
    ("8794", E, "Child has two or more disabilities with the same code"),
    # CIN details
    ("8590", E, "Child does not have a recorded CIN episode."),
    ("8606", E, "Child referral date is more than 40 weeks before DOB or expected DOB"),
    ("8866", E, "Source of Referral is missing or an invalid code"),
    ("8610", E, "Primary Need code is missing for a referral which led to further action."),
    ("8650", E, "Primary Need Code invalid (see Primary Need table in CIN census code set)"),
    ("8568", E, "RNFA flag is missing or invalid"),
    ("8620", E, "CIN Closure Date present and does not fall within the Census year"),
    ("8630", E, "CIN Closure Date is before CIN Referral Date for the same CIN episode"),
    ("8640", E, "CIN Reason for closure code invalid (see Reason for Closure table in CIN "
     "Census code set)"),
    ("8805", E, "A CIN case cannot have a CIN closure date without a Reason for Closure"),
    ("8810", E, "A CIN case cannot have a Reason for Closure without a CIN Closure Date"),
    ("8565", E, "Activity shown after a case has been closed"),
    ("8815", E, "More than one open CIN Details episode (a module with no CIN Closure Date) "
     "has been provided for this child and case is not a referral with no further action."),
    ("8816", E, "An open CIN episode is shown and case is not a referral with no further "
     "action, but it is not the latest episode."),
    ("8820", E, "The dates on the CIN episodes for this child overlap"),
    # Section 47
    ("2889", E, "The S47 start date cannot be before the referral date."),
    ("8740", E, "For a Section 47 Enquiry that has not held the Initial Child Protection "
     "Conference by the end of the census year, the start date must fall within the census "
     "year"),
    ("8675Q", Q_, "Please check: S47 Enquiry started more than 15 working days before the end "
     "of the census year. However, there is no date of Initial Child Protection Conference."),
    ("2991Q", Q_, "Please check: A Section 47 module is recorded and there is no assessment on "
     "the episode"),
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One thing wrong or worth checking, with the child (if any) it is about."""

    rule: str  # a rule number from RULES, or a note's kind
    severity: Severity
    message: str  # the DfE's message, or the note
    item: str  # in plain English: what is missing or wrong, and where to put it right
    person_id: int | None = None
    child_name: str = ""
    la_child_id: str = ""
    contact_id: int | None = None

    def describe(self, *, with_name: bool) -> str:
        who = ""
        if self.la_child_id:
            who = f"{self.child_name} ({self.la_child_id})" if with_name else self.la_child_id
            who += ": "
        rule = f"rule {self.rule}: " if self.rule in RULES else ""
        return f"{who}{self.item} ({rule}{self.message})"


NOTES = {
    "closed_at_next_referral": "Closed on the day of the child's next referral, reason RC7 "
    "(the hub does not record when social care closed the episode)",
    "born_after_reference_date": "Born after 31 March: sent as unborn, with the date of birth "
    "as the expected date of birth",
    "s47_after_reference_date": "Section 47 started after 31 March: left out of this year's return",
    "same_day_referrals": "Two or more referrals received on the same day: sent as one referral",
    "unborn_sex_sent_as_u": "Unborn child: sex sent as U, as rule 8750 requires",
}


def _finding(rule: str, item: str, child: CensusChild | None = None, **kw: Any) -> Finding:
    spec = RULES[rule]
    return Finding(
        rule=rule,
        severity=spec.severity,
        message=spec.message,
        item=item,
        person_id=child.person_id if child else None,
        child_name=child.name if child else "",
        la_child_id=child.la_child_id if child else "",
        **kw,
    )


# --- Code sets (the DfE's CIN census code tables) ------------------------------------------

SEX_CODES = frozenset({"M", "F", "U"})
ETHNICITY_CODES = frozenset(Ethnicity.values)
DISABILITY_CODES = frozenset(
    {"NONE", "MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA"}
)
REFERRAL_SOURCE_CODES = frozenset(ReferralSource.values)
PRIMARY_NEED_CODES = frozenset(PrimaryNeed.values)  # N0 to N9
REASON_FOR_CLOSURE_CODES = frozenset(f"RC{n}" for n in range(1, 10))
# Assessment factors (the spec's table), for the day the receiving team's assessment is
# recorded here. The hub records none, so none is written today (docs/cin-census.md).
_FACTORS = (
    "1A 1B 1C 2A 2B 2C 3A 3B 3C 4A 4B 4C 5A 5B 5C 6A 6B 6C 7A 8B 8C 8D 8E 8F 9A 10A 11A 12A "
    "13A 14A 15A 16A 17A 18B 18C 19B 19C 20 21 22A 23A 24A"
)
ASSESSMENT_FACTOR_CODES = frozenset(_FACTORS.split())
# Themes that name one factor without doubt; the rest (mental health and substance misuse:
# whose?) are left for the assessing social worker.
THEME_FACTORS: dict[str, str] = {
    "cse": "11A",
    "cce": "24A",
    "trafficking": "12A",
    "fgm": "22A",
    "private_fostering": "8F",
    "radicalisation": "20",
    "domestic_abuse": "3A",
    "neglect": "16A",
    "missing": "10A",
    "honour_based_abuse": "20",
}


def assessment_factors(themes: Iterable[str]) -> list[str]:
    """The assessment factor codes an enquiry's themes point to, each once, in code order."""
    codes = {THEME_FACTORS[t] for t in themes if t in THEME_FACTORS}
    return sorted(codes, key=lambda c: (int(re.sub(r"\D", "", c)), c))


def _upn_la_codes() -> frozenset[str]:
    """Characters 2-4 of a UPN: post-April-1998 LA codes and pseudo LA codes (rule 1530)."""
    ranges = [
        (1, 5), (201, 213), (301, 320), (330, 336), (340, 344), (350, 359), (370, 373),
        (380, 384), (390, 394), (660, 681), (701, 708), (800, 803), (805, 808), (810, 813),
        (820, 823), (835, 839), (850, 852), (855, 857), (865, 896), (935, 938), (940, 941),
    ]  # fmt: skip
    singles = [
        420, 815, 816, 825, 826, 830, 831, 840, 841, 845, 846, 860, 861, 908, 909, 916, 919,
        921, 925, 926, 928, 929, 931, 933,
    ]  # fmt: skip
    codes = {n for low, high in ranges for n in range(low, high + 1)} | set(singles)
    return frozenset(f"{n:03d}" for n in codes)


UPN_LA_CODES = _upn_la_codes()
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # A-Z without I, O and S: 23 letters, values 0-22


def _upn_value(char: str) -> int | None:
    if char.isdigit():
        return int(char)
    return UPN_LETTERS.index(char) if char in UPN_LETTERS else None


def upn_problems(upn: str) -> list[str]:
    """The UPN rules (1510, 1530, 1540, 1550) a UPN breaks, in rule order."""
    broken: list[str] = []
    if len(upn) != 13:
        return ["UPN"]
    if upn[12] not in UPN_LETTERS and not upn[12].isdigit():
        broken.append("1550")
    if not upn[4:12].isdigit():
        broken.append("1540")
    if upn[1:4] not in UPN_LA_CODES:
        broken.append("1530")
    if not broken:
        values = [_upn_value(c) for c in upn[1:]]
        total = sum(weight * v for weight, v in zip(range(2, 14), values, strict=True) if v)
        if upn[0] != UPN_LETTERS[total % 23]:
            broken.append("1510")
    return sorted(broken)


def _working_days_after(start: dt.date, end: dt.date) -> int:
    """Working days (Monday to Friday, not England and Wales bank holidays) after `start`,
    up to and including `end`."""
    if end <= start:
        return 0
    holidays: set[dt.date] = set()
    for year in range(start.year, end.year + 1):
        holidays |= clock._bank_holidays(year)
    days = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            days += 1
    return days


@functools.lru_cache(maxsize=16)
def _earliest_start_within(reference_date: dt.date, working_days: int) -> dt.date:
    """The earliest day from which at most `working_days` working days remain to the
    reference date: anything that started before it started more than that many before."""
    day = reference_date
    while _working_days_after(day - dt.timedelta(days=1), reference_date) <= working_days:
        day -= dt.timedelta(days=1)
    return day


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- The rules, child by child --------------------------------------------------------------


def check_child(child: CensusChild, census: CensusYear) -> list[Finding]:
    """Every finding for one child: the DfE's rules on what the hub writes, and the notes."""
    found: list[Finding] = []

    def add(rule: str, item: str, **kw: Any) -> None:
        found.append(_finding(rule, item, child, **kw))

    ref = census.reference_date
    # Identifiers
    if not child.la_child_id:
        add("8500", "LA child ID")
    elif len(child.la_child_id) > 20:
        add("1570", "LA child ID is longer than 20 characters")
    if child.la_child_id and not child.la_child_id.isalnum():
        add("1580", "LA child ID has characters other than letters and digits")
    if child.upn:
        for rule in upn_problems(child.upn):
            add(rule, "Unique pupil number is not valid: correct it on the child's record")
    if (child.birth_date is None) == (child.expected_birth_date is None):
        add(
            "8525",
            "Date of birth (or, for an unborn child, expected date of birth) is missing: add "
            "it to the child's record"
            if child.birth_date is None
            else "Both a date of birth and an expected date of birth are recorded",
        )
    if child.birth_date and child.birth_date > ref:
        add("8520", f"Date of birth {child.birth_date:%d/%m/%Y} is after 31 March {census.year}")
    if child.expected_birth_date and not (
        ref - dt.timedelta(days=30) <= child.expected_birth_date <= _months_after(ref, 9)
    ):
        add("8530Q", f"Expected date of birth {child.expected_birth_date:%d/%m/%Y}")
    if child.sex not in SEX_CODES:
        add("4180", "Sex is missing: record it on the child's record")
    if child.is_unborn and child.sex != "U":
        add("8750", "An unborn child's sex must be sent as U")
    if (
        not child.upn
        and child.birth_date
        and child.birth_date <= _school_age_born_by(ref)
        and any(not e.referral_nfa for e in child.episodes)
    ):
        add("8770Q", "No unique pupil number for a child of school age: add it if known")
    if (
        child.birth_date
        and child.birth_date < _years_before(ref, 25)
        and any(
            e.closure_date is None or e.closure_date > _years_after(child.birth_date, 25)
            for e in child.episodes
        )
    ):
        add("8775Q", "Child is over 25 years old: check the date of birth")
    # Characteristics
    if child.ethnicity not in ETHNICITY_CODES:
        add("4220", "Ethnicity is missing or not a census code")
    needs_disability = child.birth_date and any(not e.referral_nfa for e in child.episodes)
    if needs_disability and (
        not child.disabilities or any(d not in DISABILITY_CODES for d in child.disabilities)
    ):
        add("8540", "Disability is missing or not a census code")
    if "NONE" in child.disabilities and len(set(child.disabilities)) > 1:
        add("8790", "Disability is NONE and something else")
    if len(set(child.disabilities)) < len(child.disabilities):
        add("8794", "The same disability code appears twice")
    # Episodes
    if not child.episodes:
        add("8590", "No referral in the year")
    for episode in child.episodes:
        found.extend(_check_episode(child, episode, census))
    found.extend(_check_episodes_together(child, census))
    for kind, what in child.notes:
        found.append(
            Finding(
                rule=kind,
                severity=Severity.NOTE,
                message=NOTES[kind],
                item=what,
                person_id=child.person_id,
                child_name=child.name,
                la_child_id=child.la_child_id,
            )
        )
    return found


def _months_after(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _school_age_born_by(reference_date: dt.date) -> dt.date:
    """Children born on or before this date are of school age in the census (rule 8770Q):
    the 31 August four years before the start of the next school year."""
    return dt.date(reference_date.year - 4, 8, 31)


def _check_episode(child: CensusChild, e: Episode, census: CensusYear) -> list[Finding]:
    found: list[Finding] = []
    where = f"referral received {e.referral_date:%d/%m/%Y}"

    def add(rule: str, item: str) -> None:
        found.append(_finding(rule, item, child, contact_id=e.contact_id))

    born = child.birth_date or child.expected_birth_date
    if born and e.referral_date < born - dt.timedelta(days=280):
        add("8606", f"The {where} is more than 40 weeks before the (expected) date of birth")
    if e.referral_source not in REFERRAL_SOURCE_CODES:
        add("8866", f"Referral source is missing on the contact of the {where}")
    if not e.primary_need and not e.referral_nfa:
        add("8610", f"Primary need is missing on the decision for the {where}")
    elif e.primary_need and e.primary_need not in PRIMARY_NEED_CODES:
        add("8650", f"Primary need on the decision for the {where} is not a census code")
    if e.referral_nfa not in (True, False):
        add("8568", f"No further action flag for the {where}")
    if e.closure_date:
        if not census.start <= e.closure_date <= census.reference_date:
            add("8620", f"Closure date of the {where} is outside the year")
        if e.closure_date < e.referral_date:
            add("8630", f"Closure date of the {where} is before its referral date")
        if not e.closure_reason:
            add("8805", f"Reason for closure of the {where}")
        if e.s47_start and e.s47_start > e.closure_date:
            add(
                "8565",
                f"The section 47 enquiry for the {where} started {e.s47_start:%d/%m/%Y}, after "
                f"the child's next referral {e.closure_date:%d/%m/%Y}: check the decision dates",
            )
    elif e.closure_reason:
        add("8810", f"Closure date of the {where}")
    if e.closure_reason and e.closure_reason not in REASON_FOR_CLOSURE_CODES:
        add("8640", f"Reason for closure of the {where} is not a census code")
    if e.s47_start:
        if e.s47_start < e.referral_date:
            add(
                "2889",
                f"The section 47 decision ({e.s47_start:%d/%m/%Y}) is before the contact of "
                f"the {where} was received",
            )
        if not e.icpc_not_required and not (census.start <= e.s47_start <= census.reference_date):
            add("8740", f"Section 47 for the {where} did not start in the year")
        if not e.icpc_not_required and (
            e.s47_start < _earliest_start_within(census.reference_date, 15)
        ):
            add("8675Q", f"No initial child protection conference is recorded for the {where}")
        add("2991Q", f"No assessment is recorded for the {where} (the hub records none)")
    return found


def _check_episodes_together(child: CensusChild, census: CensusYear) -> list[Finding]:
    found: list[Finding] = []
    open_episodes = [e for e in child.episodes if e.closure_date is None and not e.referral_nfa]
    if len(open_episodes) > 1:
        found.append(_finding("8815", "More than one referral is still open", child))
    latest = max((e.referral_date for e in child.episodes), default=None)
    if any(e.referral_date != latest for e in open_episodes):
        found.append(_finding("8816", "An earlier referral is still open", child))
    for a, b in itertools.permutations(child.episodes, 2):
        # a's referral must not fall inside b (b's closure day itself is allowed).
        if a.referral_date < b.referral_date:
            continue
        if a is not b and (
            (b.closure_date is not None and a.referral_date < b.closure_date)
            or (b.closure_date is None and not b.referral_nfa)
            or a.referral_date == b.referral_date
        ):
            found.append(
                _finding(
                    "8820",
                    f"The referral received {a.referral_date:%d/%m/%Y} falls inside the one "
                    f"received {b.referral_date:%d/%m/%Y}",
                    child,
                )
            )
            break
    return found


class ReturnChecks:
    """The rules on the return as a whole, fed one child at a time (memory: the set of UPNs)."""

    def __init__(self, census: CensusYear, la_code: str) -> None:
        self.census = census
        self.la_code = la_code
        self.children = 0
        self.born = 0
        self.born_sex_unknown = 0
        self.disability_codes: set[str] = set()
        self.more_than_one_disability = False
        self.upns: set[str] = set()
        self.duplicate_upns: list[CensusChild] = []
        self.la_child_ids: set[str] = set()
        self.duplicate_ids: list[CensusChild] = []

    def add(self, child: CensusChild) -> list[Finding]:
        self.children += 1
        if not child.is_unborn:
            self.born += 1
            self.born_sex_unknown += child.sex not in {"M", "F"}
        real = [d for d in child.disabilities if d != "NONE"]
        self.disability_codes.update(real)
        self.more_than_one_disability |= len(real) > 1
        found = []
        if child.upn:
            if child.upn in self.upns:
                found.append(_finding("1520", "Another child has the same pupil number", child))
            self.upns.add(child.upn)
        if child.la_child_id in self.la_child_ids:
            found.append(_finding("8510", "Another child has the same LA child ID", child))
        self.la_child_ids.add(child.la_child_id)
        return found

    def finish(self, reference_date: dt.date | None = None) -> list[Finding]:
        found = []
        reference = reference_date or self.census.reference_date
        if reference != self.census.reference_date:
            found.append(_finding("100", f"Reference date {reference:%d/%m/%Y}"))
        if not re.fullmatch(r"\d{3}", self.la_code):
            found.append(
                _finding(
                    "LEA",
                    "The local authority code is not set: an administrator sets it in the "
                    "hub's settings",
                )
            )
        if not self.children:
            found.append(_finding("EMPTY", "No child had a referral received in the year"))
            return found
        if self.born and self.born_sex_unknown * 50 > self.born:
            found.append(
                _finding(
                    "2886Q",
                    f"{self.born_sex_unknown} of {self.born} born children have sex U (not known)",
                )
            )
        if len(self.disability_codes) <= 7:
            found.append(
                _finding("2887Q", "The hub records no disabilities: every child is sent as NONE")
            )
        if not self.more_than_one_disability:
            found.append(_finding("2888Q", "No child has more than one disability recorded"))
        return found


# --- From the database to children ----------------------------------------------------------

ROW_FIELDS = (
    "id",
    "child_id",
    "outcome",
    "primary_need",
    "decided_at",
    "referred_at",
    "enquiry__contact_id",
    "enquiry__contact__referral_source",
    "child__given_name",
    "child__family_name",
    "child__date_of_birth",
    "child__expected_date_of_birth",
    "child__sex",
    "child__ethnicity",
    "child__upn",
)


def referral_decisions(census: CensusYear, la_code: str = "") -> Any:
    """The referral decisions of the year, for the hub's own children, in child order.

    The referral date is the day the contact was received (the decision's day where a
    contact has none). Enquiries another authority is responsible for are its census's.
    """
    start, end = census.bounds()
    own = Q(enquiry__responsible_la__isnull=True)
    if la_code:
        own |= Q(enquiry__responsible_la__code=la_code)
    return (
        Decision.objects.filter(own, outcome__in=REFERRAL_OUTCOMES, decided_at__gte=start)
        .annotate(referred_at=Coalesce("enquiry__contact__received_at", "decided_at"))
        .filter(referred_at__gte=start, referred_at__lt=end)
    )


def _day(moment: dt.datetime) -> dt.date:
    return clock.localtime(moment).date()


def build_child(rows: Sequence[Mapping[str, Any]], census: CensusYear) -> CensusChild:
    """One child's Child element from their referral decisions in the year (in date order)."""
    first = rows[0]
    notes: list[tuple[str, str]] = []
    birth, expected = first["child__date_of_birth"], first["child__expected_date_of_birth"]
    sex = first["child__sex"] or ""
    if birth and birth > census.reference_date and expected is None:
        # On 31 March the child was not yet born: the census wants the expected date.
        notes.append(("born_after_reference_date", f"Born {birth:%d/%m/%Y}"))
        birth, expected = None, birth
    if birth is None and expected is not None and sex in {"M", "F"}:
        notes.append(("unborn_sex_sent_as_u", f"Sex recorded as {sex}"))
        sex = "U"
    episodes: list[Episode] = []
    for day, same_day in itertools.groupby(rows, key=lambda r: _day(r["referred_at"])):
        group = list(same_day)
        if len(group) > 1:
            notes.append(("same_day_referrals", f"{len(group)} referrals on {day:%d/%m/%Y}"))
        s47_days = [_day(r["decided_at"]) for r in group if r["outcome"] == Outcome.SECTION_47]
        s47_start = min(s47_days) if s47_days else None
        if s47_start and s47_start > census.reference_date:
            notes.append(("s47_after_reference_date", f"Section 47 started {s47_start:%d/%m/%Y}"))
            s47_start = None
        episodes.append(
            Episode(
                referral_date=day,
                referral_source=group[0]["enquiry__contact__referral_source"] or "",
                primary_need=group[0]["primary_need"] or "",
                contact_id=group[0]["enquiry__contact_id"],
                decision_ids=tuple(r["id"] for r in group),
                s47_start=s47_start,
            )
        )
    for earlier, later in itertools.pairwise(episodes):
        # A new referral at the front door means social care had closed the last one (a
        # referral on an open case is not a new referral); the hub knows no more than that.
        earlier.closure_date = later.referral_date
        earlier.closure_reason = "RC7"
        notes.append(
            (
                "closed_at_next_referral",
                f"Referral of {earlier.referral_date:%d/%m/%Y} closed "
                f"{later.referral_date:%d/%m/%Y}",
            )
        )
    given, family = first["child__given_name"], first["child__family_name"]
    return CensusChild(
        person_id=first["child_id"],
        name=f"{given} {family}".strip(),
        la_child_id=la_child_id(first["child_id"]),
        upn=(first["child__upn"] or "").strip().upper(),
        birth_date=birth,
        expected_birth_date=expected,
        sex=sex,
        ethnicity=first["child__ethnicity"] or "",
        # The hub records no disability; the census needs a value for every born child.
        disabilities=("NONE",) if birth else (),
        episodes=episodes,
        notes=notes,
    )


def iter_children(census: CensusYear, la_code: str = "") -> Iterator[CensusChild]:
    """The year's children one at a time, from one query read through a cursor."""
    rows = (
        referral_decisions(census, la_code)
        .order_by("child_id", "referred_at", "decided_at", "id")
        .values(*ROW_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for _child_id, child_rows in itertools.groupby(rows, key=lambda r: r["child_id"]):
        yield build_child(list(child_rows), census)


def count_children(census: CensusYear, la_code: str = "") -> int:
    return referral_decisions(census, la_code).values("child_id").distinct().count()


# --- The XML ---------------------------------------------------------------------------------


def _el(name: str, value: object, indent: int) -> str:
    return f"{'  ' * indent}<{name}>{escape(str(value))}</{name}>\n"


def header_xml(census: CensusYear, la_code: str, generated_at: dt.datetime, serial: int) -> str:
    local = clock.localtime(generated_at).replace(microsecond=0, tzinfo=None)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Message>\n"
        "  <Header>\n"
        "    <CollectionDetails>\n"
        + _el("Collection", "CIN", 3)
        + _el("Year", census.year, 3)
        + _el("ReferenceDate", census.reference_date.isoformat(), 3)
        + "    </CollectionDetails>\n"
        "    <Source>\n"
        + _el("SourceLevel", "L", 3)
        + _el("LEA", la_code, 3)
        + _el("SoftwareCode", SOFTWARE_CODE, 3)
        + _el("Release", release(), 3)
        + _el("SerialNo", f"{serial:03d}", 3)
        + _el("DateTime", local.isoformat(), 3)
        + "    </Source>\n"
        "  </Header>\n"
        "  <Children>\n"
    )


FOOTER_XML = "  </Children>\n</Message>\n"


def child_xml(child: CensusChild) -> str:
    """One Child element, in the schema's order."""
    out = ["    <Child>\n", "      <ChildIdentifiers>\n"]
    out.append(_el("LAchildID", child.la_child_id, 4))
    if child.upn:
        out.append(_el("UPN", child.upn, 4))
    if child.birth_date:
        out.append(_el("PersonBirthDate", child.birth_date.isoformat(), 4))
    if child.expected_birth_date:
        out.append(_el("ExpectedPersonBirthDate", child.expected_birth_date.isoformat(), 4))
    out.append(_el("Sex", child.sex, 4))
    out.append("      </ChildIdentifiers>\n      <ChildCharacteristics>\n")
    out.append(_el("Ethnicity", child.ethnicity, 4))
    if child.disabilities:
        out.append("        <Disabilities>\n")
        out.extend(_el("Disability", d, 5) for d in child.disabilities)
        out.append("        </Disabilities>\n")
    out.append("      </ChildCharacteristics>\n")
    for e in child.episodes:
        out.append("      <CINdetails>\n")
        out.append(_el("CINreferralDate", e.referral_date.isoformat(), 4))
        out.append(_el("ReferralSource", e.referral_source, 4))
        if e.primary_need:
            out.append(_el("PrimaryNeedCode", e.primary_need, 4))
        if e.closure_date:
            out.append(_el("CINclosureDate", e.closure_date.isoformat(), 4))
            out.append(_el("ReasonForClosure", e.closure_reason, 4))
        if e.s47_start:
            out.append("        <Section47>\n")
            out.append(_el("S47ActualStartDate", e.s47_start.isoformat(), 5))
            out.append(_el("ICPCnotRequired", "true" if e.icpc_not_required else "false", 5))
            out.append("        </Section47>\n")
        out.append(_el("ReferralNFA", "true" if e.referral_nfa else "false", 4))
        out.append("      </CINdetails>\n")
    out.append("    </Child>\n")
    return "".join(out)


# --- Preview, streaming and writing -------------------------------------------------------------


class Findings:
    """Findings kept for the page: every count, the first KEEP_PER_RULE of each rule."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.kept: dict[str, list[Finding]] = {}
        self.severity: dict[str, Severity] = {}

    def extend(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.counts[f.rule] += 1
            self.severity[f.rule] = f.severity
            kept = self.kept.setdefault(f.rule, [])
            if len(kept) < KEEP_PER_RULE:
                kept.append(f)

    def of(self, severity: Severity) -> list[Finding]:
        return [f for rule, fs in self.kept.items() if self.severity[rule] == severity for f in fs]

    def count(self, severity: Severity) -> int:
        return sum(n for rule, n in self.counts.items() if self.severity[rule] == severity)

    def groups(self, severity: Severity) -> list[tuple[str, int, list[Finding]]]:
        """(rule, how many, the first few) for one severity, in rule order."""
        return [
            (rule, self.counts[rule], self.kept[rule])
            for rule in sorted(self.kept)
            if self.severity[rule] == severity
        ]

    @property
    def errors(self) -> list[Finding]:
        return self.of(Severity.ERROR)


@dataclass
class CensusResult:
    """What a census run found and, when there was no error, what it wrote."""

    year: int
    la_code: str
    children: int = 0
    referrals: int = 0
    section_47: int = 0
    unborn: int = 0
    without_upn: int = 0
    findings: Findings = field(default_factory=Findings)
    written: bool = False
    size: int = 0
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return self.findings.count(Severity.ERROR) == 0

    def problem_text(self, limit: int = 20) -> str:
        """The errors in words a hub manager can act on, without names (for stored records)."""
        errors = self.findings.errors
        lines = [f.describe(with_name=False) for f in errors[:limit]]
        total = self.findings.count(Severity.ERROR)
        if total > len(lines):
            lines.append(f"… and {total - len(lines)} more: see the census page.")
        return "\n".join(lines)


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


class CensusChanged(Exception):
    """A child's records changed between the check and the writing, and now have an error."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.describe(with_name=False) for f in findings[:5]))
        self.findings = findings


def preview(year: int, *, hub: Hub | None = None) -> CensusResult:
    """Counts and findings for a year's census, without writing anything."""
    hub = hub or Hub.load()
    census = CensusYear(year)
    result = CensusResult(year=year, la_code=hub.la_code)
    checks = ReturnChecks(census, hub.la_code)
    for child in iter_children(census, hub.la_code):
        _count(result, child)
        result.findings.extend(check_child(child, census))
        result.findings.extend(checks.add(child))
    result.findings.extend(checks.finish())
    return result


def _count(result: CensusResult, child: CensusChild) -> None:
    result.children += 1
    result.referrals += len(child.episodes)
    result.section_47 += sum(1 for e in child.episodes if e.s47_start)
    result.unborn += child.is_unborn
    result.without_upn += not child.upn


def stream_census(
    year: int,
    *,
    hub: Hub | None = None,
    generated_at: dt.datetime | None = None,
    serial: int = 1,
    strict: bool = True,
    progress: Callable[[int], None] | None = None,
    buffer_size: int = 64 * 1024,
) -> Iterator[bytes]:
    """The census XML in pieces of about `buffer_size` bytes.

    With `strict`, a child with an error stops the stream (CensusChanged): call preview()
    first, so that this only happens if the records change while the file is written.
    """
    hub = hub or Hub.load()
    census = CensusYear(year)
    pending = [header_xml(census, hub.la_code, generated_at or clock.now(), serial)]
    size = len(pending[0])
    done = 0
    for child in iter_children(census, hub.la_code):
        if strict:
            errors = [f for f in check_child(child, census) if f.severity == Severity.ERROR]
            if errors:
                raise CensusChanged(errors)
        piece = child_xml(child)
        pending.append(piece)
        size += len(piece)
        done += 1
        if size >= buffer_size:
            yield "".join(pending).encode()
            pending, size = [], 0
            if progress:
                progress(done)
    pending.append(FOOTER_XML)
    yield "".join(pending).encode()
    if progress:
        progress(done)


def write_census(
    year: int,
    out: Writable,
    progress: Callable[[int, int], None] | None = None,
    *,
    hub: Hub | None = None,
    serial: int = 1,
    generated_at: dt.datetime | None = None,
) -> CensusResult:
    """Checks the year's census and, only if no child has an error, writes it to `out`.

    `progress(done, total)` is called as children are checked and then written (total is
    twice the number of children: one pass to check, one to write). If the records change
    between the passes so that a child now has an error, CensusChanged is raised after part
    of the file was written: the caller must throw that file away.
    """
    hub = hub or Hub.load()
    census = CensusYear(year)
    total = count_children(census, hub.la_code) * 2
    result = CensusResult(year=year, la_code=hub.la_code)
    checks = ReturnChecks(census, hub.la_code)
    for child in iter_children(census, hub.la_code):
        _count(result, child)
        result.findings.extend(check_child(child, census))
        result.findings.extend(checks.add(child))
        if progress and result.children % 500 == 0:
            progress(result.children, total)
    result.findings.extend(checks.finish())
    if progress:
        progress(result.children, total)
    if not result.ok:
        return result
    digest = hashlib.sha256()
    checked = result.children

    def report(done: int) -> None:
        if progress:
            progress(min(checked + done, total), total)

    for piece in stream_census(
        year, hub=hub, generated_at=generated_at, serial=serial, progress=report
    ):
        out.write(piece)
        digest.update(piece)
        result.size += len(piece)
    result.written = True
    result.sha256 = digest.hexdigest()
    return result


# --- For the background exports (mash.reporting.exports) ------------------------------------


def check_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A census export's parameters, checked: {"year": 2000 to the census in progress}."""
    from django.core.exceptions import ValidationError

    year = parameters.get("year")
    if isinstance(year, bool) or not isinstance(year, int | str):
        raise ValidationError({"year": "Enter the census year as 4 digits, like 2026"})
    try:
        year = int(str(year).strip())
    except ValueError:
        raise ValidationError({"year": "Enter the census year as 4 digits, like 2026"}) from None
    if not FIRST_YEAR <= year <= latest_year():
        raise ValidationError(
            {"year": f"Census year must be between {FIRST_YEAR} and {latest_year()}"}
        )
    return {"year": year}


def export_file(export: Any, out: Writable, progress: Callable[[int, int | None], None]) -> None:
    """The exporter for ExportKind.CIN_CENSUS: (export, file, progress), as exports expects.

    A year with errors fails with the errors (LA child IDs, no names) as the problem.
    """
    from mash.reporting.exports import ExportProblem

    year = check_parameters(export.parameters or {})["year"]
    try:
        result = write_census(year, out, progress, serial=export.pk)
    except CensusChanged as changed:
        raise ExportProblem(
            "Some children's records changed while the file was being made, and now have "
            f"problems: {changed}. Put them right on the census page, then prepare the file "
            "again."
        ) from None
    if not result.ok:
        raise ExportProblem(
            "The census file was not made: some children's records need putting right first "
            "(the census page names them).\n" + result.problem_text()
        )
