"""Finding a person in the index: blocking keys, then an explainable score.

A candidate is anyone sharing a blocking key with what was typed: the NHS
number, the pupil number, the date of birth (or it with day and month
swapped), or the phonetic keys of the names (also through known aliases).
Each candidate is then scored from 0 to 100 with the reasons shown to the
user, best first. Names are compared through common variants (Bob and
Robert), a phonetic key (metaphone: Smith and Smyth) and edit similarity
(rapidfuzz: Jonhson and Johnson).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

import jellyfish
from django.db.models import Prefetch, Q
from rapidfuzz import fuzz

from mash.people.models import Person, PersonAlias

MAX_CANDIDATES = 200
MIN_SCORE = 30

# Common English given-name variants, each mapped to one canonical form.
_VARIANT_GROUPS = (
    ("robert", "rob", "robbie", "bob", "bobby", "bert"),
    ("william", "will", "bill", "billy", "liam", "willy"),
    ("richard", "rich", "rick", "ricky", "dick"),
    ("james", "jim", "jimmy", "jamie"),
    ("john", "jack", "johnny", "jon"),
    ("jonathan", "jon", "jonny"),
    ("michael", "mike", "mick", "mickey", "micky"),
    ("thomas", "tom", "tommy"),
    ("joseph", "joe", "joey"),
    ("daniel", "dan", "danny"),
    ("david", "dave", "davey"),
    ("edward", "ed", "eddie", "ted", "teddy", "ned"),
    ("alexander", "alex", "alec", "sandy", "xander"),
    ("christopher", "chris", "kit"),
    ("matthew", "matt", "matty"),
    ("nicholas", "nick", "nicky"),
    ("anthony", "tony", "ant"),
    ("samuel", "sam", "sammy"),
    ("benjamin", "ben", "benji", "benny"),
    ("charles", "charlie", "chas", "chuck"),
    ("henry", "harry", "hal", "hank"),
    ("frederick", "fred", "freddie", "freddy"),
    ("mohammed", "muhammad", "mohammad", "mohamed", "muhammed", "mo"),
    ("elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "libby", "elsie"),
    ("katherine", "catherine", "kathryn", "kate", "katie", "cathy", "kathy", "kat", "kitty"),
    ("margaret", "maggie", "meg", "peggy", "megan"),
    ("rebecca", "becky", "becca"),
    ("jennifer", "jenny", "jen"),
    ("jessica", "jess", "jessie"),
    ("victoria", "vicky", "tori"),
    ("abigail", "abby", "abi"),
    ("samantha", "sam", "sammy"),
    ("alexandra", "alex", "lexi", "sandra"),
    ("charlotte", "charlie", "lottie"),
    ("olivia", "liv", "livvy"),
    ("isabella", "isabelle", "izzy", "bella"),
    ("amelia", "millie", "amy"),
    ("susan", "sue", "suzie", "susie"),
    ("deborah", "debbie", "deb"),
    ("patricia", "pat", "patty", "tricia"),
)
_CANONICAL: dict[str, str] = {}
for _group in _VARIANT_GROUPS:
    for _name in _group:
        _CANONICAL.setdefault(_name, _group[0])


def normalise(name: str) -> str:
    """Lower case, accents removed, letters only (O'Brien -> obrien, Zoë -> zoe)."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z]", "", stripped.lower())


def name_key(name: str) -> str:
    """The phonetic key used for blocking (metaphone of the normalised name)."""
    clean = normalise(name)
    return jellyfish.metaphone(clean)[:40] if clean else ""


def canonical_given(name: str) -> str:
    clean = normalise(name)
    return _CANONICAL.get(clean, clean)


def swapped(day: dt.date | None) -> dt.date | None:
    """The date with day and month exchanged, where that is a different real date."""
    if day is None or day.day > 12 or day.day == day.month:
        return None
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


@dataclass(frozen=True)
class Query:
    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None
    nhs_number: str = ""
    upn: str = ""
    postcode: str = ""


@dataclass
class Candidate:
    person: Person
    score: int
    reasons: list[str] = field(default_factory=list)


def _name_score(typed: str, known: str, *, given: bool) -> tuple[int, str | None]:
    a, b = normalise(typed), normalise(known)
    if not a or not b:
        return 0, None
    what = "Given name" if given else "Family name"
    if a == b:
        return 20, f"{what} the same"
    if given and canonical_given(a) == canonical_given(b):
        return 16, f"{what} a known variant ({known})"
    if name_key(a) == name_key(b):
        return 14, f"{what} sounds the same ({known})"
    ratio = fuzz.ratio(a, b)
    if ratio >= 80:
        return 10, f"{what} similar ({known})"
    return 0, None


def _best_name(query: Query, person: Person) -> tuple[int, list[str]]:
    names: list[tuple[str, str, str | None]] = [(person.given_name, person.family_name, None)]
    names += [
        (a.given_name, a.family_name, f"{a.given_name} {a.family_name}")
        for a in person.aliases.all()
    ]
    best: tuple[int, list[str]] = (0, [])
    for given, family, alias in names:
        g_score, g_reason = _name_score(query.given_name, given, given=True)
        f_score, f_reason = _name_score(query.family_name, family, given=False)
        reasons = [r for r in (g_reason, f_reason) if r]
        if alias and (g_score or f_score):
            reasons = [f"Known alias: {alias}", *reasons]
        if g_score + f_score > best[0]:
            best = (g_score + f_score, reasons)
    return best


def score(query: Query, person: Person) -> Candidate:
    points, reasons = 0, []
    if query.nhs_number and person.nhs_number:
        if query.nhs_number == person.nhs_number:
            points += 50
            reasons.append("Same NHS number")
        else:
            points -= 40
            reasons.append("Different NHS number")
    if query.upn and person.upn:
        if query.upn == person.upn:
            points += 40
            reasons.append("Same unique pupil number")
        else:
            points -= 20
            reasons.append("Different unique pupil number")
    if query.date_of_birth and person.date_of_birth:
        if query.date_of_birth == person.date_of_birth:
            points += 25
            reasons.append("Same date of birth")
        elif swapped(query.date_of_birth) == person.date_of_birth:
            points += 15
            reasons.append("Date of birth with day and month swapped")
        elif abs((query.date_of_birth - person.date_of_birth).days) <= 31:
            points += 5
            reasons.append("Date of birth within a month")
        else:
            points -= 15
            reasons.append("Different date of birth")
    name_points, name_reasons = _best_name(query, person)
    points += name_points
    reasons += name_reasons
    address = person.household.address if person.household is not None else None
    if (
        query.postcode
        and address is not None
        and address.postcode
        and normalise(query.postcode) == normalise(address.postcode)
    ):
        points += 10
        reasons.append("Same postcode")
    return Candidate(person=person, score=max(0, min(100, points)), reasons=reasons)


def candidates_query(query: Query) -> Q | None:
    """The blocking condition: anyone sharing a key with what was typed."""
    block = Q()
    if query.nhs_number:
        block |= Q(nhs_number=query.nhs_number)
    if query.upn:
        block |= Q(upn=query.upn)
    days = [d for d in (query.date_of_birth, swapped(query.date_of_birth)) if d]
    if days:
        block |= Q(date_of_birth__in=days)
    family_key, given_key = name_key(query.family_name), name_key(query.given_name)
    if family_key and given_key:
        block |= Q(family_key=family_key, given_key=given_key)
        block |= Q(aliases__family_key=family_key, aliases__given_key=given_key)
        if query.date_of_birth:
            # A typo in the given name: same family sound, born within a year.
            year = query.date_of_birth.year
            block |= Q(
                family_key=family_key,
                date_of_birth__range=(dt.date(year - 1, 1, 1), dt.date(year + 1, 12, 31)),
            )
    elif family_key and not days:
        block |= Q(family_key=family_key)
    return block if block else None


def find(query: Query, *, limit: int = 5, minimum: int = MIN_SCORE) -> list[Candidate]:
    """Likely matches for what was typed, best first, each with a score and its reasons."""
    condition = candidates_query(query)
    if condition is None:
        return []
    people = (
        Person.objects.filter(condition)
        .distinct()
        .select_related("household__address")
        .prefetch_related(Prefetch("aliases", queryset=PersonAlias.objects.order_by("pk")))
        .order_by("pk")[:MAX_CANDIDATES]
    )
    scored = [score(query, p) for p in people]
    scored = [c for c in scored if c.score >= minimum]
    scored.sort(key=lambda c: (-c.score, c.person.family_name, c.person.given_name, c.person.pk))
    return scored[:limit]
