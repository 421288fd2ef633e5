"""An agency's name on the wall board, and its lead (told when its requests are overdue)."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any

import pytest
from django.urls import reverse

from mash.accounts import services
from mash.accounts.models import Agency, AgencyKind, Role, User
from mash.core.models import AuditEvent, Notification
from mash.enquiries import deadlines
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

AGENCY_NEW = reverse("accounts:agency_create")
USER_NEW = reverse("accounts:user_create")


@pytest.fixture
def as_admin(make: Any, signed_in: Any) -> Any:
    return signed_in(make.administrator())


def agency_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Health Visiting Service",
        "short_name": "HV",
        "kind": AgencyKind.HEALTH_VISITING,
        "co_located": "True",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def user_data(agency: Agency, **overrides: Any) -> dict[str, Any]:
    data = {
        "full_name": "Priya Shah",
        "email": "priya.shah@hub.example",
        "agency": str(agency.pk),
        "roles": [Role.AGENCY_PRACTITIONER],
        "is_agency_lead": "on",
    }
    data.update(overrides)
    return data


def _problem(response: Any, message: str) -> None:
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "<title>Error:" in html
    assert message in unescape(html)


# --- The name on the wall board ----------------------------------------------------------------


def test_an_agency_is_added_with_its_name_on_the_wall_board(as_admin):
    page = as_admin.get(AGENCY_NEW).content.decode()
    assert "Name on the wall board (optional)" in page
    assert "Up to 12 characters, for example HV." in page
    response = as_admin.post(AGENCY_NEW, agency_data(short_name="  HV "))
    assert response.status_code == 302
    agency = Agency.objects.get(name="Health Visiting Service")
    assert agency.short_name == "HV"
    assert agency.board_name == "HV"
    event = AuditEvent.objects.get(action="accounts.agency_created", object_id=str(agency.pk))
    assert event.detail["short_name"] == "HV"


def test_the_name_on_the_wall_board_round_trips_through_the_edit_page(as_admin, make):
    agency = make.agency(name="Police", short_name="Pol")
    edit = reverse("accounts:agency_edit", args=[agency.pk])
    assert 'value="Pol"' in as_admin.get(edit).content.decode()
    response = as_admin.post(
        edit, agency_data(name="Police", kind=AgencyKind.POLICE, short_name="Police")
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.short_name == "Police"
    event = AuditEvent.objects.get(action="accounts.agency_updated")
    assert event.detail["changed"]["short_name"] == ["Pol", "Police"]


def test_without_a_name_on_the_wall_board_the_board_uses_the_start_of_the_name(as_admin):
    as_admin.post(AGENCY_NEW, agency_data(short_name=""))
    agency = Agency.objects.get(name="Health Visiting Service")
    assert agency.short_name == ""
    assert agency.board_name == "Health Visit"


def test_a_name_on_the_wall_board_over_12_characters_is_refused(as_admin):
    response = as_admin.post(AGENCY_NEW, agency_data(short_name="Health Visits"))
    _problem(response, "Name on the wall board must be 12 characters or fewer")
    assert 'value="Health Visits"' in response.content.decode()
    assert not Agency.objects.filter(name="Health Visiting Service").exists()


def test_two_agencies_cannot_share_a_name_on_the_wall_board(as_admin, make):
    make.agency(name="Health Visiting", short_name="HV")
    response = as_admin.post(AGENCY_NEW, agency_data(name="Health Visitors East", short_name="hv"))
    _problem(response, "Health Visiting is already called hv on the wall board")
    assert not Agency.objects.filter(name="Health Visitors East").exists()


def test_an_agency_keeps_its_own_name_on_the_wall_board_when_saved(as_admin, make):
    agency = make.agency(name="Health Visiting", short_name="HV")
    response = as_admin.post(
        reverse("accounts:agency_edit", args=[agency.pk]), agency_data(name="Health Visiting")
    )
    assert response.status_code == 302


def test_markup_in_the_name_on_the_wall_board_is_shown_as_text(as_admin, make):
    agency = make.agency(name="Police", short_name="<b>P</b>")
    html = as_admin.get(reverse("accounts:agency_edit", args=[agency.pk])).content.decode()
    assert "<b>P</b>" not in html
    assert "&lt;b&gt;P&lt;/b&gt;" in html


# --- The agency's lead -------------------------------------------------------------------------


def test_a_user_is_added_as_their_agencys_lead(as_admin, make):
    agency = make.agency(name="Police")
    page = as_admin.get(USER_NEW).content.decode()
    assert "This person is their agency&#39;s lead" in page
    assert "They are told when their agency&#39;s requests are overdue" in page
    response = as_admin.post(USER_NEW, user_data(agency))
    assert response.status_code == 302
    user = User.objects.get(email="priya.shah@hub.example")
    assert user.is_agency_lead
    event = AuditEvent.objects.get(action="accounts.user_created", object_id=str(user.pk))
    assert event.detail["agency_lead"] is True


def test_a_lead_must_be_an_agency_practitioner(as_admin, make):
    # Leads are told of overdue requests, which only practitioners can open.
    agency = make.agency(name="Police")
    data = user_data(agency, roles=[Role.ANALYST])
    response = as_admin.post(USER_NEW, data)
    _problem(response, "An agency's lead must also be an agency practitioner")
    assert not User.objects.filter(email="priya.shah@hub.example").exists()
    assert 'value="Priya Shah"' in response.content.decode()  # what was typed is kept


def test_a_user_is_not_a_lead_unless_ticked(as_admin, make):
    agency = make.agency(name="Police")
    data = user_data(agency)
    del data["is_agency_lead"]
    as_admin.post(USER_NEW, data)
    assert not User.objects.get(email="priya.shah@hub.example").is_agency_lead


def test_being_a_lead_round_trips_through_the_edit_page_and_is_audited(as_admin, make):
    agency = make.agency(name="Police")
    user = make.practitioner(agency_=agency, email="priya.shah@hub.example", full_name="Priya Shah")
    edit = reverse("accounts:user_edit", args=[user.pk])
    unticked = 'name="is_agency_lead" type="checkbox" value="on" aria-describedby'
    assert unticked in as_admin.get(edit).content.decode()
    assert as_admin.post(edit, user_data(agency)).status_code == 302
    user.refresh_from_db()
    assert user.is_agency_lead
    ticked = 'name="is_agency_lead" type="checkbox" value="on" checked'
    assert ticked in as_admin.get(edit).content.decode()
    data = user_data(agency)
    del data["is_agency_lead"]
    as_admin.post(edit, data)
    user.refresh_from_db()
    assert not user.is_agency_lead
    changes = [
        e.detail["changed"]["is_agency_lead"]
        for e in AuditEvent.objects.filter(action="accounts.user_updated").order_by("id")
    ]
    assert changes == [[False, True], [True, False]]


def test_updating_a_user_without_saying_leaves_the_lead_as_it_is(make):
    lead = make.practitioner(is_agency_lead=True)
    services.update_user(
        actor=None,
        user=lead,
        email=lead.email,
        full_name="Renamed",
        agency=lead.agency,
        roles=[Role.AGENCY_PRACTITIONER],
    )
    lead.refresh_from_db()
    assert lead.is_agency_lead
    assert lead.full_name == "Renamed"


def test_the_lead_is_told_when_their_agencys_request_is_overdue(time_machine):
    """The field the administrator sets is the one the deadline engine reads."""
    rated = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    time_machine.move_to(rated, tick=False)
    hub = journey.small_hub()
    lead = services.create_user(
        actor=None,
        email="lead@police.example",
        full_name="Police Lead",
        agency=hub.police,
        roles=[Role.AGENCY_PRACTITIONER],
        is_agency_lead=True,
        send_invitation=False,
    )
    journey.rated_enquiry(hub, "red")
    time_machine.move_to(rated + dt.timedelta(hours=4, minutes=1), tick=False)
    deadlines.sweep()
    told = Notification.objects.get(user=lead)
    assert told.message.startswith("OVERDUE: Police has not answered")
    assert not Notification.objects.filter(user=hub.practitioners["police"]).exists()


# --- The demo hub ----------------------------------------------------------------------------


def test_every_demo_agency_has_its_own_short_name_and_a_lead_where_it_has_practitioners():
    from faker import Faker

    from mash.core import demo

    faker = Faker("en_GB")
    faker.seed_instance(4)
    demo._seed_staff(faker, lambda _: None)
    agencies = list(Agency.objects.order_by("name"))
    assert len(agencies) == len(demo.AGENCIES)
    short_names = [a.short_name for a in agencies]
    assert all(0 < len(s) <= 12 for s in short_names)
    assert len({s.casefold() for s in short_names}) == len(short_names)
    for agency in agencies:
        practitioners = User.objects.filter(
            agency=agency, role_grants__role=Role.AGENCY_PRACTITIONER
        )
        leads = User.objects.filter(agency=agency, is_agency_lead=True)
        if practitioners.exists():
            assert leads.count() == 1, agency
            assert set(leads) <= set(practitioners)
        else:
            assert not leads.exists(), agency
    assert User.objects.get(email=f"police@{demo.EMAIL_DOMAIN}").is_agency_lead
