"""Person matching: the name helpers, and find() ranking the likely people with reasons."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from mash.people import services
from mash.people.matching import (
    MAX_CANDIDATES,
    Candidate,
    Query,
    candidates_query,
    canonical_given,
    find,
    name_key,
    normalise,
    score,
    swapped,
)
from mash.people.models import Person, PersonAlias, Sex

BORN = dt.date(2016, 5, 4)
NHS = "9434765919"  # a valid NHS number
OTHER_NHS = "9990000026"  # another valid one
UPN = "B801200005001"

pytestmark = pytest.mark.django_db


def _person(
    given: str,
    family: str,
    born: dt.date | None = BORN,
    *,
    postcode: str = "",
    aliases: tuple[tuple[str, str], ...] = (),
    **kw: Any,
) -> Person:
    member = services.NewPerson(
        given_name=given,
        family_name=family,
        sex=Sex.UNKNOWN,
        ethnicity="NOBT",
        date_of_birth=born,
        **kw,
    )
    if postcode:
        household = services.create_household(
            actor=None, line_1="1 High Street", postcode=postcode, members=[member]
        )
        person = household.members.get()
    else:
        person = services.add_person(actor=None, member=member)
    for alias_given, alias_family in aliases:
        services.add_alias(
            actor=None, person=person, given_name=alias_given, family_name=alias_family
        )
    return person


def _names(candidates: list[Candidate]) -> list[str]:
    return [c.person.full_name for c in candidates]


# The helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("O'Brien", "obrien"),
        ("Zoë", "zoe"),
        ("  Mary-Jane ", "maryjane"),
        ("ÁLVAREZ", "alvarez"),
        ("Smith 2", "smith"),
        ("", ""),
        ("--", ""),
    ],
)
def test_normalise(typed, clean):
    assert normalise(typed) == clean


def test_name_key_is_phonetic_and_ignores_punctuation_and_case():
    assert name_key("Smith") == name_key("Smyth") == name_key("SMITH")
    assert name_key("O'Brien") == name_key("obrien")
    assert name_key("Catherine") == name_key("Katherine")
    assert name_key("Smith") != name_key("Jones")
    assert name_key("") == name_key("'") == ""
    assert len(name_key("a" * 200)) <= 40


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Bob", "robert"),
        ("Robbie", "robert"),
        ("robert", "robert"),
        ("Kate", "katherine"),
        ("Catherine", "katherine"),
        ("Liz", "elizabeth"),
        ("Mo", "mohammed"),
        ("Muhammad", "mohammed"),
        ("Zoë", "zoe"),  # no variants known: itself, normalised
    ],
)
def test_canonical_given(name, canonical):
    assert canonical_given(name) == canonical


@pytest.mark.parametrize(
    ("day", "result"),
    [
        (dt.date(2016, 5, 4), dt.date(2016, 4, 5)),
        (dt.date(2016, 12, 1), dt.date(2016, 1, 12)),
        (dt.date(2016, 5, 13), None),  # no 13th month
        (dt.date(2016, 5, 5), None),  # the same date
        (None, None),
    ],
)
def test_swapped(day, result):
    assert swapped(day) == result


# find() ------------------------------------------------------------------------------


def test_nothing_typed_asks_the_database_nothing(django_assert_num_queries):
    _person("Amelia", "Hart")
    with django_assert_num_queries(0):
        assert find(Query()) == []
        assert find(Query(given_name="  ", postcode="SE15 4AB")) == []


def test_an_exact_nhs_number_comes_first():
    _person("Amelia", "Hart")
    _person("Amelia", "Hart", dt.date(2016, 5, 5))
    target = _person("Amelie", "Hartley", dt.date(2015, 1, 1), nhs_number=NHS)
    found = find(Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN, nhs_number=NHS))
    assert found[0].person == target
    assert "Same NHS number" in found[0].reasons


def test_an_exact_nhs_number_is_found_among_many_namesakes():
    # More people share the family name than are ever scored: the one whose NHS
    # number was typed must still be among them, and first.
    Person.objects.bulk_create(
        Person(
            given_name=f"Child{n}",
            family_name="Hart",
            given_key=name_key(f"Child{n}"),
            family_key=name_key("Hart"),
        )
        for n in range(MAX_CANDIDATES + 20)
    )
    target = _person("Zed", "Hart", None, nhs_number=NHS)
    found = find(Query(family_name="Hart", nhs_number=NHS))
    assert found[0].person == target


def test_identifiers_are_matched_however_they_were_typed():
    target = _person("Amelia", "Hart", nhs_number=NHS, upn=UPN)
    assert find(Query(nhs_number="943 476 5919"))[0].person == target
    assert find(Query(nhs_number="943-476-5919"))[0].person == target
    assert find(Query(upn=" b801 2000 05001 "))[0].person == target


def test_a_pupil_number_matches_too():
    target = _person("Amelia", "Hart", upn=UPN)
    _person("Amelia", "Hart", dt.date(2016, 5, 6))
    found = find(Query(family_name="Hart", upn=UPN))
    assert found[0].person == target
    assert "Same unique pupil number" in found[0].reasons


def test_a_different_nhs_number_pushes_a_namesake_down():
    clash = _person("Amelia", "Hart", nhs_number=OTHER_NHS)
    unknown = _person("Amelia", "Hart")
    found = find(
        Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN, nhs_number=NHS),
        minimum=0,
    )
    assert [c.person for c in found] == [unknown, clash]
    assert "Different NHS number" in found[1].reasons
    assert found[0].score > found[1].score


@pytest.mark.parametrize(
    ("given", "family", "reason"),
    [
        ("Amelia", "Jonhson", "Family name similar (Johnson)"),
        ("Amelia", "Jhonson", "Family name similar (Johnson)"),
        ("Amelia", "Johnsen", "Family name sounds the same (Johnson)"),
        ("Amelia", "Johnson", "Family name the same"),
        ("Emelia", "Johnson", "Given name similar (Amelia)"),
        ("Amleia", "Johnson", "Given name sounds the same (Amelia)"),
    ],
)
def test_typos_in_a_name_are_found_with_the_date_of_birth(given, family, reason):
    target = _person("Amelia", "Johnson")
    _person("Oliver", "Brown", dt.date(2001, 1, 1))
    found = find(Query(given_name=given, family_name=family, date_of_birth=BORN))
    assert found[0].person == target
    assert reason in found[0].reasons
    assert "Same date of birth" in found[0].reasons


def test_a_name_that_sounds_the_same_is_found_without_a_date_of_birth():
    target = _person("Amelia", "Smith")
    found = find(Query(given_name="Amelia", family_name="Smyth"))
    assert found[0].person == target
    assert found[0].reasons == ["Given name the same", "Family name sounds the same (Smith)"]


@pytest.mark.parametrize(
    ("typed", "known"), [("Bob", "Robert"), ("Kate", "Katherine"), ("Cathy", "Katherine")]
)
def test_known_variants_of_a_given_name(typed, known):
    target = _person(known, "Hart")
    found = find(Query(given_name=typed, family_name="Hart", date_of_birth=BORN))
    assert found[0].person == target
    assert f"Given name a known variant ({known})" in found[0].reasons


def test_a_date_of_birth_with_day_and_month_swapped():
    target = _person("Amelia", "Hart", dt.date(2016, 4, 5))
    found = find(Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN))
    assert found[0].person == target
    assert "Date of birth with day and month swapped" in found[0].reasons
    exact = _person("Amelia", "Hart", BORN)
    found = find(Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN))
    assert [c.person for c in found[:2]] == [exact, target]


def test_a_date_of_birth_close_by_or_far_off():
    near = _person("Amelia", "Hart", BORN + dt.timedelta(days=10))
    far = _person("Amelia", "Hart", dt.date(1990, 1, 1))
    found = find(Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN), minimum=0)
    by_person = {c.person: c for c in found}
    assert "Date of birth within a month" in by_person[near].reasons
    assert "Different date of birth" in by_person[far].reasons
    assert by_person[near].score > by_person[far].score


def test_a_known_alias_is_matched_and_named():
    target = _person("Katherine", "Hart", aliases=(("Kasia", "Nowak"),))
    found = find(Query(given_name="Kasia", family_name="Nowak"))
    assert found[0].person == target
    assert found[0].reasons[0] == "Known alias: Kasia Nowak"
    assert "Family name the same" in found[0].reasons


def test_the_same_postcode_adds_to_the_score():
    target = _person("Amelia", "Hart", postcode="SE15 4AB")
    without = find(Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN))
    with_postcode = find(
        Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN, postcode="se154ab")
    )
    assert with_postcode[0].person == target
    assert with_postcode[0].score == without[0].score + 10
    assert "Same postcode" in with_postcode[0].reasons
    other = find(
        Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN, postcode="N1 1AA")
    )
    assert other[0].score == without[0].score


def test_reasons_are_human_readable_sentences():
    _person(
        "Robert",
        "Smith",
        dt.date(2016, 4, 5),
        nhs_number=NHS,
        postcode="SE15 4AB",
        aliases=(("Bobby", "Smyth"),),
    )
    found = find(
        Query(
            given_name="Bob",
            family_name="Smyth",
            date_of_birth=BORN,
            nhs_number=NHS,
            postcode="SE15 4AB",
        )
    )
    reasons = found[0].reasons
    assert reasons[0] == "Same NHS number"
    for reason in reasons:
        assert reason[0].isupper()
        assert "_" not in reason
        assert "None" not in reason
    assert found[0].score == 100  # capped


def test_best_first_then_by_name_and_limited():
    best = _person("Amelia", "Hart", nhs_number=NHS)
    _person("Amelia", "Hart")
    _person("Amy", "Hart")
    _person("Amelia", "Harte")
    _person("Bella", "Hart")
    _person("Carl", "Hart")
    query = Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN, nhs_number=NHS)
    everyone = find(query, limit=50, minimum=0)
    scores = [c.score for c in everyone]
    assert scores == sorted(scores, reverse=True)
    assert everyone[0].person == best
    for a, b in itertools.pairwise(everyone):
        if a.score == b.score:
            assert (a.person.family_name, a.person.given_name) <= (
                b.person.family_name,
                b.person.given_name,
            )
    assert len(find(query, limit=2)) == 2
    assert _names(find(query, limit=2)) == _names(everyone[:2])
    assert all(c.score >= 50 for c in find(query, limit=50, minimum=50))


def test_scores_stay_between_0_and_100():
    _person("Amelia", "Hart", dt.date(1970, 1, 1), nhs_number=OTHER_NHS, upn=UPN)
    found = find(
        Query(
            given_name="Zed",
            family_name="Hart",
            date_of_birth=BORN,
            nhs_number=NHS,
            upn="A801200005001",
        ),
        minimum=0,
    )
    assert all(0 <= c.score <= 100 for c in found)


def test_someone_nobody_typed_is_not_offered():
    _person("Oliver", "Brown", dt.date(2001, 1, 1))
    assert find(Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN)) == []


def _crowd(size: int) -> None:
    """`size` people who all share a blocking key with the query, each with an alias."""
    people = Person.objects.bulk_create(
        Person(
            given_name="Amelia",
            family_name="Hart",
            given_key=name_key("Amelia"),
            family_key=name_key("Hart"),
            date_of_birth=BORN,
        )
        for _ in range(size)
    )
    PersonAlias.objects.bulk_create(
        PersonAlias(
            person=p,
            given_name="Millie",
            family_name=f"Hart{p.pk}",
            given_key=name_key("Millie"),
            family_key=name_key("Hart"),
        )
        for p in people
    )


def test_find_costs_the_same_few_queries_however_many_candidates():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _person("Amelia", "Hart", postcode="SE15 4AB")
    query = Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN, postcode="SE15 4AB")
    costs = []
    for size in (3, 150):
        _crowd(size)
        with CaptureQueriesContext(connection) as queries:
            found = find(query, limit=500)
        costs.append(len(queries))
        assert len(found) == Person.objects.count()
    assert costs[0] == costs[1] <= 3
    Person.objects.update(household=None)
    PersonAlias.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        find(query)
    assert len(queries) == 1  # nobody with other names: one query in all


def test_candidates_come_with_their_address_and_other_names_at_no_further_cost(
    django_assert_num_queries,
):
    _person("Amelia", "Hart", postcode="SE15 4AB", aliases=(("Millie", "Hart"),))
    _person("Amelia", "Hart", dt.date(2016, 5, 5))
    found = find(Query(given_name="Amelia", family_name="Hart", date_of_birth=BORN))
    assert len(found) == 2
    with django_assert_num_queries(0):
        shown = [
            (
                c.person.household.address.postcode if c.person.household else None,
                [a.given_name for a in getattr(c.person, "known_aliases", [])],
            )
            for c in found
        ]
    assert shown == [("SE15 4AB", ["Millie"]), (None, [])]


def test_score_works_on_any_person_from_the_index():
    person = _person("Robert", "Smith", postcode="SE15 4AB", aliases=(("Bobby", "Smyth"),))
    plain = Person.objects.get(pk=person.pk)  # not read by find()
    scored = score(Query(given_name="Bobby", family_name="Smyth", postcode="SE15 4AB"), plain)
    assert scored.reasons[:1] == ["Known alias: Bobby Smyth"]
    assert "Same postcode" in scored.reasons


def test_candidates_query_is_the_same_blocking_as_a_q():
    target = _person("Katherine", "Hart", nhs_number=NHS, aliases=(("Kasia", "Nowak"),))
    other = _person("Oliver", "Brown", dt.date(2001, 1, 1))
    assert candidates_query(Query()) is None
    for query in (
        Query(nhs_number="943 476 5919"),
        Query(given_name="Kasia", family_name="Nowak"),
        Query(family_name="Hart"),
        Query(given_name="Kate", family_name="Hart", date_of_birth=BORN),
    ):
        condition = candidates_query(query)
        assert condition is not None
        found = set(Person.objects.filter(condition))
        assert target in found
        assert other not in found
