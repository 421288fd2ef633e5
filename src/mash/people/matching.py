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
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import jellyfish
from django.db import connection
from django.db.models import Prefetch, Q, prefetch_related_objects
from rapidfuzz import fuzz

from mash.people.models import Address, Household, Person, PersonAlias

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


@lru_cache(maxsize=8192)
def normalise(name: str) -> str:
    """Lower case, accents removed, letters only (O'Brien -> obrien, Zoë -> zoe)."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z]", "", stripped.lower())


@lru_cache(maxsize=8192)
def name_key(name: str) -> str:
    """The phonetic key used for blocking (metaphone of the normalised name)."""
    clean = normalise(name)
    return jellyfish.metaphone(clean)[:40] if clean else ""


@lru_cache(maxsize=8192)
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


def _postcode(person: Person) -> str:
    """The person's postcode: as find() read it, else from their household."""
    known: str | None = getattr(person, "household_address_postcode", None)
    if known is not None or person.household_id is None:
        return known or ""
    return person.household.address.postcode if person.household else ""


def _aliases(person: Person) -> list[PersonAlias]:
    """The person's other names: as find() fetched them, else from their prefetch or a query."""
    known: list[PersonAlias] | None = getattr(person, "known_aliases", None)
    return known if known is not None else list(person.aliases.all())


def _best_name(query: Query, person: Person) -> tuple[int, list[str]]:
    names: list[tuple[str, str, str | None]] = [(person.given_name, person.family_name, None)]
    names += [
        (a.given_name, a.family_name, f"{a.given_name} {a.family_name}") for a in _aliases(person)
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
    """How likely the person is the one typed, from 0 to 100, with the reasons."""
    return _score(_compact(query), person)


def _score(query: Query, person: Person) -> Candidate:
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
    postcode = _postcode(person) if query.postcode else ""
    if postcode and normalise(query.postcode) == normalise(postcode):
        points += 10
        reasons.append("Same postcode")
    return Candidate(person=person, score=max(0, min(100, points)), reasons=reasons)


def candidates_query(query: Query) -> Q | None:
    """The blocking condition: anyone sharing a key with what was typed."""
    query = _compact(query)
    block = Q()
    for term in _terms(query):
        block |= Q(**term)
    keys = _alias_keys(query)
    if keys is not None:
        block |= Q(
            pk__in=PersonAlias.objects.filter(family_key=keys[0], given_key=keys[1]).values(
                "person_id"
            )
        )
    return block if block else None


def _alias_keys(query: Query) -> tuple[str, str] | None:
    family_key, given_key = name_key(query.family_name), name_key(query.given_name)
    return (family_key, given_key) if family_key and given_key else None


def _terms(query: Query) -> list[dict[str, Any]]:
    """The blocking keys: each a set of lookups that hold together; anyone matching one.

    Each is an indexed condition on the person table alone, so the database
    combines index scans rather than reading the whole index. (People known by
    another name are found through the alias table besides: see find().)
    """
    terms: list[dict[str, Any]] = []
    if query.nhs_number:
        terms.append({"nhs_number": query.nhs_number})
    if query.upn:
        terms.append({"upn": query.upn})
    days = [d for d in (query.date_of_birth, swapped(query.date_of_birth)) if d]
    if days:
        terms.append({"date_of_birth__in": days})
    keys = _alias_keys(query)
    if keys is not None:
        family_key, given_key = keys
        terms.append({"family_key": family_key, "given_key": given_key})
        if query.date_of_birth:
            # A typo in the given name and the date of birth: same family sound, born
            # within a year of the date typed.
            year = dt.timedelta(days=366)
            terms.append(
                {
                    "family_key": family_key,
                    "date_of_birth__range": (
                        query.date_of_birth - year,
                        query.date_of_birth + year,
                    ),
                }
            )
    elif name_key(query.family_name) and not days:
        terms.append({"family_key": name_key(query.family_name)})
    return terms


def _compact(query: Query) -> Query:
    """Identifiers as stored (943 476 5919 -> 9434765919), however they were typed."""
    nhs_number = re.sub(r"[\s-]", "", query.nhs_number)
    upn = re.sub(r"\s", "", query.upn).upper()
    return replace(query, nhs_number=nhs_number, upn=upn)


def _same_identifier(query: Query, person: Person) -> bool:
    return bool(
        (query.nhs_number and person.nhs_number == query.nhs_number)
        or (query.upn and person.upn == query.upn)
    )


def find(query: Query, *, limit: int = 5, minimum: int = MIN_SCORE) -> list[Candidate]:
    """Likely matches for what was typed, best first, each with a score and its reasons.

    The person whose NHS number (or pupil number) was typed comes first: an
    identifier with a check digit outweighs a name and date of birth.
    """
    query = _compact(query)
    terms = _terms(query)
    if not terms:
        return []
    people = _candidates(query, terms)
    # Few people have other names: read theirs only (no query at all when none has).
    prefetch_related_objects(
        [p for p in people if getattr(p, "has_aliases", False)],
        Prefetch("aliases", queryset=PersonAlias.objects.order_by("pk"), to_attr="known_aliases"),
    )
    for person in people:
        if not getattr(person, "has_aliases", False):
            person.known_aliases = []  # type: ignore[attr-defined]
    scored = [_score(query, p) for p in people]
    scored = [c for c in scored if c.score >= minimum or _same_identifier(query, c.person)]
    scored.sort(
        key=lambda c: (
            not _same_identifier(query, c.person),
            -c.score,
            c.person.family_name,
            c.person.given_name,
            c.person.pk,
        )
    )
    best = scored[:limit]
    for candidate in best:
        _attach_household(candidate.person)
    return best


def _sql(terms: list[dict[str, Any]], table: str) -> tuple[str, list[Any]]:
    """The terms as an SQL condition on the person table (values as parameters)."""
    ops = connection.ops
    ors, params = [], []
    for term in terms:
        ands = []
        for lookup, value in term.items():
            name, _, op = lookup.partition("__")
            column = f"{table}.{ops.quote_name(_COLUMNS[name])}"
            values = list(value) if op in ("in", "range") else [value]
            if name == "date_of_birth":
                values = [ops.adapt_datefield_value(v) for v in values]
            if op == "in":
                ands.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
            elif op == "range":
                ands.append(f"{column} BETWEEN %s AND %s")
            else:
                ands.append(f"{column} = %s")
            params += values
        ors.append(f"({' AND '.join(ands)})")
    return " OR ".join(ors), params


_ADDRESS = ("id", "line_1", "line_2", "town", "postcode")
_COLUMNS = {f.name: f.column or f.attname for f in Person._meta.concrete_fields}


def _candidates(query: Query, terms: list[dict[str, Any]]) -> list[Person]:
    """Up to MAX_CANDIDATES people sharing a key, those identified first, in one query.

    The hottest query in the hub (every person typed on a contact runs it), so it
    is written out: building it through the ORM cost three times its running.
    Each person comes with whether they have other names and their address.
    """
    quote = connection.ops.quote_name
    person, alias = quote(Person._meta.db_table), quote(PersonAlias._meta.db_table)
    household, address = quote(Household._meta.db_table), quote(Address._meta.db_table)
    where, params = _sql(terms, "p")
    keys = _alias_keys(query)
    if keys is not None:
        # Those known by the name typed: a union of ids, as an OR across the alias
        # join (or an IN subquery within the OR) would read the whole index.
        inner, inner_params = _sql(terms, person)
        where = (
            f"p.id IN (SELECT {person}.id FROM {person} WHERE {inner} "  # noqa: S608 (as below)
            f"UNION SELECT person_id FROM {alias} WHERE family_key = %s AND given_key = %s)"
        )
        params = [*inner_params, *keys]
    identified, identified_params = "1", []
    if query.nhs_number or query.upn:
        checks = [(c, v) for c, v in (("nhs_number", query.nhs_number), ("upn", query.upn)) if v]
        identified = (
            "CASE WHEN "
            + " OR ".join(f"p.{quote(c)} = %s" for c, _ in checks)
            + " THEN 0 ELSE 1 END"
        )
        identified_params = [v for _, v in checks]
    columns = ", ".join(f"p.{quote(c)}" for c in _COLUMNS.values())
    addresses = ", ".join(f"a.{quote(c)} AS household_address_{c}" for c in _ADDRESS)
    sql = (
        f"SELECT {columns}, {identified} AS identified, "  # noqa: S608 (names from the models)
        f"EXISTS (SELECT 1 FROM {alias} WHERE {alias}.person_id = p.id) AS has_aliases, "
        f"{addresses} FROM {person} p "
        f"LEFT JOIN {household} h ON h.id = p.household_id "
        f"LEFT JOIN {address} a ON a.id = h.address_id "
        f"WHERE {where} ORDER BY identified, p.id LIMIT {MAX_CANDIDATES}"
    )
    return list(Person.objects.raw(sql, [*identified_params, *params]))


def _attach_household(person: Person) -> None:
    """The person's household and address, made from the columns read with them."""
    if person.household_id is None:
        return
    values = [getattr(person, f"household_address_{c}", None) for c in _ADDRESS]
    address = Address.from_db(connection.alias, list(_ADDRESS), values)
    household = Household.from_db(
        connection.alias, ["id", "address_id"], [person.household_id, address.pk]
    )
    household.address = address
    person.household = household
