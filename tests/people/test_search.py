"""Person search: fuzzy names, swapped dates, exact identifiers, what each role sees."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Role
from mash.core import clock
from mash.core.models import AuditEvent
from mash.enquiries.models import Outcome
from mash.people import services as people_services
from mash.people.identifiers import nhs_check_digit, upn_check_letter
from mash.people.matching import name_key
from mash.people.models import Person
from mash.people.selectors import SearchTerms, name_readings, search_people
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

URL = "/people/"
NHS = "9434765919"
UPN = "B801200005001"


def nhs_number(seed: int) -> str:
    """A valid NHS number (the check digit is computed, skipping impossible ones)."""
    for step in range(10):
        first_nine = f"{400000000 + seed * 10 + step:09d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)
    raise AssertionError("no valid NHS number near the seed")


def upn(seed: int) -> str:
    body = f"801{seed:08d}0"
    return upn_check_letter(body) + body


def person(
    given: str,
    family: str,
    born: dt.date | None = dt.date(2016, 5, 4),
    *,
    due: dt.date | None = None,
    nhs: str = "",
    pupil: str = "",
    postcode: str = "SE15 4AB",
) -> Person:
    household = people_services.create_household(
        actor=None,
        line_1="12 Rye Lane",
        town="London",
        postcode=postcode,
        members=[
            people_services.NewPerson(
                given_name=given,
                family_name=family,
                sex="F",
                ethnicity="NOBT",
                date_of_birth=born,
                expected_date_of_birth=due,
                nhs_number=nhs,
                upn=pupil,
            )
        ],
    )
    return household.members.get()


def get(client: Any, **params: str) -> Any:
    return client.get(URL, params)


def dob(day: int, month: int, year: int) -> dict[str, str]:
    return {
        "date_of_birth-day": str(day),
        "date_of_birth-month": str(month),
        "date_of_birth-year": str(year),
    }


def result_rows(html: str) -> list[str]:
    table = html.split('id="results"', 1)[-1]
    return re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', table, re.S)[1:]


@pytest.fixture
def coordinator(make: Any) -> Any:
    return make.coordinator()


# --- Finding people -----------------------------------------------------------------------------


def test_a_typo_in_the_family_name_still_finds_the_person(coordinator, signed_in):
    johnson = person("Robert", "Johnson")
    person("Amelia", "Hart")
    client = signed_in(coordinator)
    for typed in ("Robert Jonhson", "Jonhson", "JONHSON, Robert"):
        html = get(client, name=typed).content.decode()
        rows = result_rows(html)
        assert rows, typed
        assert f'href="/people/{johnson.pk}/"' in rows[0], typed
        assert "Family name" in rows[0]
        assert "(Johnson)" in rows[0]
        assert "Amelia Hart" not in html


def test_a_short_form_of_a_given_name_finds_the_full_name(coordinator, signed_in):
    robert = person("Robert", "Smith")
    person("Amelia", "Smith")
    html = get(signed_in(coordinator), name="Bob Smith").content.decode()
    rows = result_rows(html)
    assert len(rows) == 1
    assert f'href="/people/{robert.pk}/"' in rows[0]
    assert "Given name a known variant (Robert)" in rows[0]


def test_results_come_best_first_with_their_reasons(coordinator, signed_in):
    exact = person("Amelia", "Hart", dt.date(2016, 5, 4))
    sounds_alike = person("Amelia", "Heart", dt.date(2016, 5, 4))
    other_year = person("Amelia", "Hart", dt.date(2011, 1, 9))
    html = get(signed_in(coordinator), name="Amelia Hart", **dob(4, 5, 2016)).content.decode()
    rows = result_rows(html)
    order = [re.search(r'href="/people/(\d+)/"', row).group(1) for row in rows]  # type: ignore[union-attr]
    assert order == [str(exact.pk), str(sounds_alike.pk), str(other_year.pk)]
    assert "Same date of birth" in rows[0]
    assert "Family name sounds the same (Heart)" in rows[1]
    assert "Different date of birth" in rows[2]


def test_a_date_with_day_and_month_swapped_finds_the_person(coordinator, signed_in):
    amelia = person("Amelia", "Hart", dt.date(2016, 5, 4))
    client = signed_in(coordinator)
    html = get(client, name="Amelia Hart", **dob(5, 4, 2016)).content.decode()
    assert "Date of birth with day and month swapped" in result_rows(html)[0]
    only_date = get(client, **dob(5, 4, 2016)).content.decode()
    rows = result_rows(only_date)
    assert len(rows) == 1
    assert f'href="/people/{amelia.pk}/"' in rows[0]


def test_a_date_of_birth_alone_lists_the_people_born_that_day(coordinator, signed_in):
    person("Amelia", "Hart", dt.date(2016, 5, 4))
    person("Noah", "Okafor", dt.date(2016, 5, 4))
    person("Grace", "Okafor", dt.date(2015, 1, 1))
    html = get(signed_in(coordinator), **dob(4, 5, 2016)).content.decode()
    assert len(result_rows(html)) == 2
    assert "Grace" not in html


def test_an_nhs_number_finds_only_that_person(coordinator, signed_in):
    amelia = person("Amelia", "Hart", nhs=NHS)
    namesake = person("Amelia", "Hart", nhs=nhs_number(7))
    client = signed_in(coordinator)
    html = get(client, nhs_number="943 476 5919").content.decode()
    rows = result_rows(html)
    assert len(rows) == 1
    assert f'href="/people/{amelia.pk}/"' in rows[0]
    assert "943 476 5919" in rows[0]
    assert "Same NHS number" in rows[0]
    # With a name too, the namesake with another NHS number is not offered.
    html = get(client, name="Amelia Hart", nhs_number=NHS).content.decode()
    assert f'href="/people/{namesake.pk}/"' not in html
    assert f'href="/people/{amelia.pk}/"' in html


def test_a_unique_pupil_number_finds_only_that_person(coordinator, signed_in):
    amelia = person("Amelia", "Hart", pupil=UPN)
    person("Noah", "Hart", pupil=upn(42))
    html = get(signed_in(coordinator), upn=UPN.lower()).content.decode()
    rows = result_rows(html)
    assert len(rows) == 1
    assert f'href="/people/{amelia.pk}/"' in rows[0]
    assert "Same unique pupil number" in rows[0]


def test_a_known_alias_finds_the_person(coordinator, signed_in):
    amelia = person("Amelia", "Hart")
    people_services.add_alias(actor=None, person=amelia, given_name="Amelia", family_name="Stone")
    html = get(signed_in(coordinator), name="Amelia Stone").content.decode()
    rows = result_rows(html)
    assert f'href="/people/{amelia.pk}/"' in rows[0]
    assert "Known alias: Amelia Stone" in rows[0]


def test_an_unborn_child_shows_the_due_date(coordinator, signed_in):
    due = clock.now().astimezone(clock.LONDON).date() + dt.timedelta(days=60)
    person("Baby", "Hart", None, due=due)
    html = get(signed_in(coordinator), name="Baby Hart").content.decode()
    assert f"Unborn, due {due.day} {due:%B %Y}" in html


def test_no_match_says_so(coordinator, signed_in):
    person("Amelia", "Hart")
    html = get(signed_in(coordinator), name="Zebedee Quarrington").content.decode()
    assert "No matches" in html
    assert "No one in the index matches your search" in html


def test_results_are_capped_and_the_page_says_so(coordinator, signed_in):
    born = dt.date(2016, 5, 4)
    Person.objects.bulk_create(
        [
            Person(
                given_name=f"Child{i}",
                family_name="Okafor",
                given_key=name_key("Child"),
                family_key=name_key("Okafor"),
                date_of_birth=born,
            )
            for i in range(25)
        ]
    )
    html = get(signed_in(coordinator), **dob(4, 5, 2016)).content.decode()
    assert len(result_rows(html)) == 20
    assert "The best 20 matches" in html
    assert "More than 20 people match" in html


def test_a_search_reads_one_name_box_as_a_co_ordinator_types_it():
    assert name_readings("Amelia Hart") == [("Amelia", "Hart"), ("Hart", "Amelia")]
    assert name_readings("Hart, Amelia Rose") == [("Amelia Rose", "Hart")]
    assert name_readings("Amelia HART") == [("Amelia", "HART")]
    assert name_readings("Hart") == [("", "Hart"), ("Hart", "")]
    assert name_readings("  ,  ") == []


def test_a_given_name_alone_finds_people_with_it(coordinator, signed_in):
    amelia = person("Amelia", "Hart")
    person("Noah", "Hart")
    rows = result_rows(get(signed_in(coordinator), name="Amelia").content.decode())
    assert len(rows) == 1
    assert f'href="/people/{amelia.pk}/"' in rows[0]


# --- What each role sees ------------------------------------------------------------------------


def test_managers_see_open_enquiries_and_a_re_referral_tag(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    amelia = journey.services.children_of(enquiry)[0]
    journey.services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=amelia,
        outcome=Outcome.SECTION_17,
        primary_need="N1",
        rationale="Needs an assessment.",
        next_team="Assessment team",
        pending_reason="Enough is known.",
    )
    journey.open_enquiry(hub, people=[journey.child(link_to=amelia.pk), journey.adult()])
    for user in (hub.manager, hub.coordinator):
        html = get(signed_in(user), name="Amelia Hart").content.decode()
        row = result_rows(html)[0]
        assert f'href="/people/{amelia.pk}/"' in row
        assert "RE-REFERRAL" in row
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert cells[4].strip() == "1"  # one open enquiry (the first is closed)


def test_advice_line_workers_see_no_case_detail_and_no_record_link(make, signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, people=[journey.child(nhs_number=NHS), journey.adult()])
    amelia = journey.services.children_of(enquiry)[0]
    person("Amelia", "Hart", dt.date(2001, 1, 1), postcode="N1 9GU")
    html = get(signed_in(make.advice_line_worker()), name="Amelia Hart").content.decode()
    rows = result_rows(html)
    assert rows
    assert "Amelia Hart" in rows[0]
    assert "4 May 2018" in rows[0]
    assert "Yes: speak to the MASH team" in rows[0]
    assert f"/people/{amelia.pk}/" not in html
    assert "/enquiries/" not in html
    for detail in ("943 476 5919", "RE-REFERRAL", "Open enquiries", "Same date of birth", "Given"):
        assert detail not in html.split('id="results"')[1], detail
    assert "No contacts recorded" in html  # the other Amelia Hart is on no contact


ROLES_ALLOWED = {
    Role.HUB_MANAGER,
    Role.REFERRAL_COORDINATOR,
    Role.ADVICE_LINE_WORKER,
    Role.POLICE_RESEARCHER,
}


@pytest.mark.parametrize("role", Role.values)
def test_who_may_search(role, make, signed_in):
    person("Amelia", "Hart")
    client = signed_in(make.ROLE_FACTORIES[role]())
    response = get(client, name="Amelia Hart")
    if role in ROLES_ALLOWED:
        assert response.status_code == 200
        assert "Amelia Hart" in response.content.decode()
    else:
        assert response.status_code == 403
        assert "Amelia" not in response.content.decode()
        assert not AuditEvent.objects.filter(action="people.searched").exists()


def test_a_practitioner_of_an_agency_may_not_search(signed_in):
    hub = journey.small_hub()
    assert get(signed_in(hub.practitioners["police"]), name="Amelia").status_code == 403


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(client):
    response = client.get(URL, {"name": "Amelia Hart"})
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_the_search_page_is_read_only(coordinator, signed_in):
    assert signed_in(coordinator).post(URL, {"name": "Amelia"}).status_code == 405


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.HUB_MANAGER, True),
        (Role.REFERRAL_COORDINATOR, True),
        (Role.ADVICE_LINE_WORKER, True),
        (Role.AGENCY_PRACTITIONER, False),
        (Role.ANALYST, False),
        (Role.ADMINISTRATOR, False),
    ],
)
def test_people_is_in_the_navigation_for_those_who_may_search(role, shown, make, signed_in):
    html = signed_in(make.ROLE_FACTORIES[role]()).get("/").content.decode()
    assert ('class="govuk-service-navigation__link" href="/people/"' in html) is shown


# --- Bad input ----------------------------------------------------------------------------------


def test_the_page_before_a_search_shows_the_form_and_no_results(coordinator, signed_in):
    person("Amelia", "Hart")
    html = signed_in(coordinator).get(URL).content.decode()
    assert 'name="name"' in html
    assert "Amelia Hart" not in html
    assert "There is a problem" not in html
    assert not AuditEvent.objects.filter(action="people.searched").exists()


def test_an_empty_search_asks_for_something_and_lists_nobody(coordinator, signed_in):
    person("Amelia", "Hart")
    response = get(signed_in(coordinator), name="  ")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a name, date of birth, NHS number or unique pupil number to search" in html
    assert "Amelia Hart" not in html
    assert not AuditEvent.objects.filter(action="people.searched").exists()


def test_an_empty_search_with_empty_boxes_lists_nobody(coordinator, signed_in):
    person("Amelia", "Hart")
    html = get(
        signed_in(coordinator),
        name="",
        nhs_number="",
        upn="",
        **{"date_of_birth-day": "", "date_of_birth-month": "", "date_of_birth-year": ""},
    ).content.decode()
    assert html.count("Enter a name, date of birth, NHS number or unique pupil number") == 2
    assert "<title>Error: " in html
    assert "Amelia Hart" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dob(31, 2, 2016), "Date of birth must be a real date"),
        (dob(4, 5, 16), "Date of birth year must include 4 numbers"),
        (dob(4, 5, 2999), "Date of birth must be today or in the past"),
        (dob(4, 5, 1066), "Date of birth must be after 1900"),
        ({"date_of_birth-day": "4", "date_of_birth-year": "2016"}, "must include a month"),
        (dob(99999999999999999999, 5, 2016), "Date of birth must be a real date"),
        ({"nhs_number": "943 476 5910"}, "NHS number is not valid"),
        ({"nhs_number": "94347659"}, "NHS number must be 10 numbers"),
        ({"nhs_number": "9" * 10_000}, "NHS number must be 10 numbers"),
        ({"nhs_number": "abc"}, "NHS number must contain only numbers"),
        ({"upn": "A801200005001"}, "Unique pupil number is not valid"),
        ({"upn": "A80"}, "Unique pupil number must be 13 characters"),
        ({"name": "A" * 10_000}, "Name must be 200 characters or fewer"),
        ({"name": "<script>alert(1)</script>"}, "Name must only include letters"),
        ({"name": "Amelia 2"}, "Name must only include letters"),
        ({"name": "--"}, "Name must include at least one letter"),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field(coordinator, signed_in, params, message):
    person("Amelia", "Hart")
    response = get(signed_in(coordinator), **params)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "There is a problem" in html
    assert "govuk-error-message" in html
    assert "<title>Error: " in html
    assert "<script>alert" not in html
    assert 'id="results"' not in html
    assert not AuditEvent.objects.filter(action="people.searched").exists()


def test_what_was_typed_is_kept_and_shown_as_text(coordinator, signed_in):
    html = get(
        signed_in(coordinator), name="<b>Amelia</b>", nhs_number="943 476 5910", **dob(4, 5, 2016)
    ).content.decode()
    assert 'value="&lt;b&gt;Amelia&lt;/b&gt;"' in html
    assert 'value="943 476 5910"' in html
    assert 'value="2016"' in html
    assert "<b>Amelia</b>" not in html


def test_names_with_accents_apostrophes_and_hyphens_are_searched(coordinator, signed_in):
    zoe = person("Zoë", "O'Brien-Smith")
    rows = result_rows(get(signed_in(coordinator), name="Zoe O\u2019Brien-Smith").content.decode())
    assert rows
    assert f'href="/people/{zoe.pk}/"' in rows[0]


# --- Audit --------------------------------------------------------------------------------------


def test_each_search_is_audited_without_what_was_searched_for(coordinator, signed_in):
    person("Amelia", "Hart", nhs=NHS)
    get(signed_in(coordinator), name="Amelia Hart", nhs_number=NHS, **dob(4, 5, 2016))
    event = AuditEvent.objects.get(action="people.searched")
    assert event.actor == coordinator
    assert event.detail["fields"] == ["name", "date_of_birth", "nhs_number"]
    assert event.detail["results"] == 1
    stored = str(event.detail) + event.object_id + event.object_type
    for typed in ("Amelia", "Hart", NHS, "2016"):
        assert typed not in stored


def test_the_selector_refuses_those_who_may_not_search(make):
    with pytest.raises(PermissionDenied):
        search_people(user=make.analyst(), terms=SearchTerms(name="Amelia"))


# --- Queries ------------------------------------------------------------------------------------


def _index_sharing_a_birthday(n: int, born: dt.date, start: int = 0) -> None:
    Person.objects.bulk_create(
        [
            Person(
                given_name=f"Child{i}",
                family_name="Okafor",
                given_key=name_key("Child"),
                family_key=name_key("Okafor"),
                date_of_birth=born,
                nhs_number=nhs_number(1000 + i),
            )
            for i in range(start, start + n)
        ]
    )


def _queries_for(client: Any, **params: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = get(client, **params)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("role", [Role.HUB_MANAGER, Role.ADVICE_LINE_WORKER])
def test_a_search_costs_the_same_for_10_as_for_500_people(
    role, make, signed_in, django_assert_max_num_queries
):
    born = dt.date(2016, 5, 4)
    client = signed_in(make.ROLE_FACTORIES[role]())
    _index_sharing_a_birthday(10, born)
    baseline = _queries_for(client, name="Child Okafor", **dob(4, 5, 2016))
    _index_sharing_a_birthday(490, born, start=10)
    with django_assert_max_num_queries(baseline):
        html = get(client, name="Child Okafor", **dob(4, 5, 2016)).content.decode()
    assert len(result_rows(html)) == 20
