"""The person index: households made through the service, audited, and guarded by role."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from mash.accounts.models import Role
from mash.core.models import AuditEvent
from mash.people import services
from mash.people.models import Address, Household, Person, Sex
from mash.people.selectors import person_index_size

pytestmark = pytest.mark.django_db


def _child(**overrides: Any) -> services.NewPerson:
    fields: dict[str, Any] = {
        "given_name": " Amelia ",
        "family_name": "Okafor ",
        "sex": Sex.FEMALE,
        "ethnicity": "BAFR",
        "date_of_birth": dt.date(2016, 5, 4),
        "nhs_number": "943 476 5919",
        "upn": "b801200005001",
    }
    fields.update(overrides)
    return services.NewPerson(**fields)


def _adult(**overrides: Any) -> services.NewPerson:
    fields: dict[str, Any] = {
        "given_name": "Grace",
        "family_name": "Okafor",
        "sex": Sex.FEMALE,
        "ethnicity": "BAFR",
        "date_of_birth": dt.date(1988, 2, 29),
    }
    fields.update(overrides)
    return services.NewPerson(**fields)


def test_a_household_is_created_with_its_members_and_each_is_audited(make):
    coordinator = make.coordinator()
    household = services.create_household(
        actor=coordinator,
        line_1="12 Rye Lane",
        town="London",
        postcode=" se15 4ab ",
        members=[_adult(), _child()],
    )
    assert household.address.postcode == "SE15 4AB"
    members = list(household.members.order_by("date_of_birth"))
    assert [m.full_name for m in members] == ["Grace Okafor", "Amelia Okafor"]
    child = members[1]
    assert child.nhs_number == "9434765919"
    assert child.upn == "B801200005001"
    assert child.created_by == coordinator
    assert members[0].nhs_number is None  # no number is NULL, so many people may lack one
    assert members[0].upn is None
    events = AuditEvent.objects.filter(action="people.person_created").order_by("id")
    assert [e.object_id for e in events] == [str(m.pk) for m in household.members.order_by("id")]
    assert all(e.actor == coordinator for e in events)
    assert all(e.actor_agency == coordinator.agency for e in events)
    assert all(e.detail == {"household": household.pk} for e in events)


def test_an_unborn_child_has_an_expected_date_and_no_birth_date(make):
    household = services.create_household(
        actor=make.hub_manager(),
        line_1="1 High Street",
        members=[
            _adult(),
            _child(
                given_name="Unborn",
                date_of_birth=None,
                expected_date_of_birth=dt.date(2030, 1, 1),
                nhs_number="",
                upn="",
            ),
        ],
    )
    unborn = household.members.get(given_name="Unborn")
    assert unborn.is_unborn
    assert unborn.age_on(dt.date(2030, 6, 1)) is None


def test_the_database_refuses_someone_both_born_and_expected():
    household = Household.objects.create(address=Address.objects.create(line_1="1 High Street"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            given_name="Both",
            family_name="Ways",
            date_of_birth=dt.date(2020, 1, 1),
            expected_date_of_birth=dt.date(2030, 1, 1),
            household=household,
        )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nhs_number": "943 476 5918"}, "NHS number is not valid"),
        ({"nhs_number": "12345"}, "NHS number must be 10 numbers"),
        ({"upn": "A801200005001"}, "Unique pupil number is not valid"),
    ],
)
def test_one_bad_identifier_stops_the_whole_household(overrides, message, make):
    with pytest.raises(ValidationError, match=message):
        services.create_household(
            actor=make.coordinator(),
            line_1="3 Peckham Road",
            members=[_adult(), _child(**overrides)],
        )
    assert Person.objects.count() == 0
    assert Household.objects.count() == 0
    assert Address.objects.count() == 0
    assert not AuditEvent.objects.filter(action="people.person_created").exists()


def test_an_nhs_number_belongs_to_one_person(make):
    coordinator = make.coordinator()
    services.create_household(actor=coordinator, line_1="1 A Road", members=[_child()])
    with pytest.raises(ValidationError, match="NHS number already exists"):
        services.create_household(actor=coordinator, line_1="2 B Road", members=[_child(upn="")])
    assert Person.objects.count() == 1


@pytest.mark.parametrize("role", [Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR])
def test_managers_and_coordinators_may_add_people(role, make):
    services.create_household(
        actor=make.ROLE_FACTORIES[role](), line_1="1 A Road", members=[_adult()]
    )
    assert Person.objects.count() == 1


@pytest.mark.parametrize(
    "role",
    [Role.AGENCY_PRACTITIONER, Role.ADVICE_LINE_WORKER, Role.ANALYST, Role.ADMINISTRATOR],
)
def test_no_one_else_may_add_people(role, make):
    with pytest.raises(PermissionDenied):
        services.create_household(
            actor=make.ROLE_FACTORIES[role](), line_1="1 A Road", members=[_adult()]
        )
    assert Person.objects.count() == 0
    assert Address.objects.count() == 0


def test_a_deactivated_coordinator_may_not_add_people(make):
    from mash.accounts import services as account_services

    coordinator = make.coordinator()
    account_services.set_user_active(actor=None, user=coordinator, active=False)
    coordinator.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.create_household(actor=coordinator, line_1="1 A Road", members=[_adult()])


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (Role.HUB_MANAGER, True),
        (Role.REFERRAL_COORDINATOR, True),
        (Role.AGENCY_PRACTITIONER, True),
        (Role.ADVICE_LINE_WORKER, True),
        (Role.ANALYST, False),
        (Role.ADMINISTRATOR, False),
    ],
)
def test_the_size_of_the_index_is_for_case_workers_only(role, sees, make):
    services.create_household(actor=None, line_1="1 A Road", members=[_adult(), _child()])
    assert person_index_size(user=make.ROLE_FACTORIES[role]()) == (2 if sees else None)


def test_the_coordinator_home_page_shows_the_size_of_the_index(make, signed_in):
    services.create_household(actor=None, line_1="1 A Road", members=[_adult(), _child()])
    html = signed_in(make.coordinator()).get("/").content.decode()
    assert "Person index" in html
    administrator_html = signed_in(make.administrator()).get("/").content.decode()
    assert "Person index" not in administrator_html


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (dt.date(2010, 6, 15), dt.date(2026, 6, 14), 15),
        (dt.date(2010, 6, 15), dt.date(2026, 6, 15), 16),
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),  # a leap-day birthday
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
    ],
)
def test_age_counts_whole_years(born, day, age):
    assert Person(given_name="A", family_name="B", date_of_birth=born).age_on(day) == age
