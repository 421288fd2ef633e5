"""Entering a police notification by hand at /police/new/: the form, its errors, its replays."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from mash.accounts.models import AgencyKind
from mash.contacts.models import NotificationAdult, NotificationChild, PoliceNotification
from mash.core import clock
from mash.core.models import AuditEvent
from tests import factories
from tests.contacts import test_intake_support as support
from tests.contacts.test_pages_support import (
    checked,
    error_for,
    selected,
    summary_links,
    text,
    textarea,
    value_of,
)

pytestmark = pytest.mark.django_db

# A Wednesday afternoon in British Summer Time (London is UTC+1).
NOW = dt.datetime(2026, 6, 17, 13, 0, tzinfo=dt.UTC)
URL = "/police/new/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def force():
    return support.force(name="Riverton Police")


@pytest.fixture
def researcher(force):
    return factories.police_researcher(agency_=force)


@pytest.fixture
def client(researcher):
    signed = Client()
    signed.force_login(researcher)
    return signed


def _errors(response) -> dict[str, str]:
    return summary_links(response.content)


# --- The page -------------------------------------------------------------------------------------


def test_the_form_opens_with_the_researchers_own_force_chosen(client, force):
    support.force(name="British Transport Police")
    response = client.get(URL)
    assert response.status_code == 200
    assert "Enter a police notification" in text(response.content)
    assert selected(response.content, "force") == str(force.pk)
    assert value_of(response.content, "children-TOTAL_FORMS") == "1"
    assert value_of(response.content, "adults-TOTAL_FORMS") == "1"


def test_a_manager_outside_the_police_chooses_the_force(signed_in, force):
    manager = factories.hub_manager()
    response = signed_in(manager).get(URL)
    assert response.status_code == 200
    assert selected(response.content, "force") == ""
    assert "Riverton Police" in response.content.decode()


def test_inactive_and_non_police_agencies_are_not_offered(client):
    support.force(name="Old Constabulary", is_active=False)
    factories.agency(name="Riverton Council", kind=AgencyKind.CHILDRENS_SOCIAL_CARE)
    page = client.get(URL).content.decode()
    assert "Old Constabulary" not in page
    assert "Riverton Council" not in page


# --- Adding one -----------------------------------------------------------------------------------


def test_a_valid_notification_joins_the_queue(client, force, researcher):
    data = support.manual_post(force, children=2, adults=2, occurrence_reference="RVP/1/26")
    data["incident_time"] = "09:15"
    data.update(
        {
            "incident_date-day": "16",
            "incident_date-month": "6",
            "incident_date-year": "2026",
        }
    )
    response = client.post(URL, data)
    assert response.status_code == 302
    assert response["Location"] == URL
    notification = PoliceNotification.objects.get()
    assert notification.occurrence_reference == "RVP/1/26"
    assert notification.force == force
    assert notification.received_via == "manual"
    assert notification.received_by == researcher
    # 09:15 in London in June is 08:15 UTC.
    assert notification.incident_at == dt.datetime(2026, 6, 16, 8, 15, tzinfo=dt.UTC)
    assert notification.dash_risk == "high"
    assert notification.officer_team == "Riverton response"
    children = list(NotificationChild.objects.order_by("position"))
    assert [(c.given_name, c.date_of_birth, c.seen, c.spoken_to) for c in children] == [
        ("Amelia", dt.date(2018, 5, 4), True, False),
        ("Leo", dt.date(2019, 5, 4), True, False),
    ]
    adults = list(NotificationAdult.objects.order_by("position"))
    assert [(a.given_name, a.role) for a in adults] == [("Dawn", "victim"), ("Craig", "suspect")]
    assert AuditEvent.objects.filter(
        action="contacts.police_notification_received", object_id=str(notification.pk)
    ).exists()
    page = text(client.get(URL).content)
    assert f"Notification {notification.reference} (RVP/1/26) received" in page


def test_blank_blocks_are_ignored_and_not_known_is_none(client, force):
    data = support.manual_post(force, children=2, adults=2)
    for key in [k for k in data if k.startswith(("children-0-", "adults-1-"))]:
        data[key] = ""
    data["children-1-seen"] = "not_known"
    data["children-1-spoken_to"] = "not_known"
    assert client.post(URL, data).status_code == 302
    (child,) = NotificationChild.objects.all()
    assert child.given_name == "Leo"
    assert child.seen is None
    assert child.spoken_to is None
    assert NotificationAdult.objects.count() == 1


def test_no_adults_is_fine(client, force):
    assert client.post(URL, support.manual_post(force, adults=0)).status_code == 302


def test_dash_risk_left_checked_under_another_type_is_ignored(client, force):
    data = support.manual_post(force, incident_type="missing_child", dash_risk="high")
    assert client.post(URL, data).status_code == 302
    assert PoliceNotification.objects.get().dash_risk == ""


# --- Errors next to the fields --------------------------------------------------------------------


def test_an_empty_form_says_what_is_missing_next_to_each_field(client):
    response = client.post(
        URL, {"action": "submit", "children-TOTAL_FORMS": "1", "adults-TOTAL_FORMS": "0"}
    )
    assert response.status_code == 200
    errors = _errors(response)
    assert errors == {
        "Select the police force that sent the notification": "id_force",
        "Enter the force's occurrence reference": "id_occurrence_reference",
        "Enter the date of the incident": "id_incident_date-day",
        "Enter the time of the incident": "id_incident_time",
        "Select the type of incident": "id_incident_type",
        "Name at least one child present (a name or a date of birth)": "id_children-0-given_name",
    }
    assert error_for(response.content, "id_children-0-given_name").startswith("Name at least")
    assert "Error:" in response.content.decode().split("</title>")[0]
    assert not PoliceNotification.objects.exists()


def test_the_error_summary_follows_the_order_of_the_page(client, force):
    data = support.manual_post(force, narrative="N" * 20_001, occurrence_reference="")
    data["children-0-date_of_birth-year"] = "2030"
    links = list(_errors(client.post(URL, data)).values())
    assert links == ["id_occurrence_reference", "id_children-0-date_of_birth-day", "id_narrative"]


def test_domestic_abuse_needs_a_dash_level(client, force):
    response = client.post(URL, support.manual_post(force, dash_risk=""))
    assert (
        error_for(response.content, "id_dash_risk")
        == "Enter the DASH risk level for domestic abuse"
    )
    assert not PoliceNotification.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"children-0-date_of_birth-year": "2027"},
            "id_children-0-date_of_birth",
            "A child's date of birth cannot be in the future",
        ),
        (
            {"children-0-date_of_birth-year": "2001"},
            "id_children-0-date_of_birth",
            "A child must be under 18",
        ),
        (
            {"children-0-date_of_birth-day": "31", "children-0-date_of_birth-month": "2"},
            "id_children-0-date_of_birth",
            "Date of birth must be a real date",
        ),
        (
            {"children-0-seen": "no", "children-0-spoken_to": "yes"},
            "id_children-0-spoken_to",
            "A child spoken to was also seen",
        ),
        ({"children-0-seen": "maybe"}, "id_children-0-seen", "Select yes, no or not known"),
        ({"adults-0-role": ""}, "id_adults-0-role", "Select the adult's part in the incident"),
        (
            {"adults-0-role": "bystander"},
            "id_adults-0-role",
            "Select victim, suspect, witness or other",
        ),
        (
            {"adults-0-given_name": "", "adults-0-family_name": ""},
            "id_adults-0-given_name",
            "Enter the adult's name",
        ),
        ({"incident_time": "25:00"}, "id_incident_time", "Time of the incident must be a real"),
        ({"incident_time": "x" * 11}, "id_incident_time", "Time of the incident must be a real"),
        ({"incident_type": "burglary"}, "id_incident_type", "Select the type of incident from"),
        ({"dash_risk": "extreme"}, "id_dash_risk", "Select standard, medium or high"),
        ({"force": "999999"}, "id_force", "Select the police force from the list"),
        ({"force": "x"}, "id_force", "Select the police force from the list"),
        (
            {"occurrence_reference": "R" * 41},
            "id_occurrence_reference",
            "Occurrence reference must be 40 characters or fewer",
        ),
        (
            {"occurrence_reference": "   "},
            "id_occurrence_reference",
            "Enter the force's occurrence reference",
        ),
        ({"location": "L" * 301}, "id_location", "Location must be 300 characters or fewer"),
        (
            {"narrative": "N" * 20_001},
            "id_narrative",
            "The narrative must be 20,000 characters or fewer",
        ),
        (
            {"children-0-given_name": "A" * 101},
            "id_children-0-given_name",
            "Given name must be 100 characters or fewer",
        ),
        (
            {"officer_collar_number": "9" * 21},
            "id_officer_collar_number",
            "Collar number must be 20 characters or fewer",
        ),
        ({"officer_team": "T" * 101}, "id_officer_team", "Team must be 100 characters or fewer"),
        (
            {"incident_date-year": "2020"},
            "id_incident_date",
            "The incident must be within the last 5 years",
        ),
        (
            {"incident_date-day": "18"},
            "id_incident_date",
            "The incident cannot be in the future",
        ),
        (
            {"incident_date-day": "17", "incident_time": "23:00"},
            "id_incident_time",
            "The incident cannot be in the future",
        ),
        ({"incident_date-month": "13"}, "id_incident_date", "Date of the incident must be a real"),
    ],
)
def test_each_bad_input_is_shown_next_to_its_field(client, force, overrides, field, message):
    data = support.manual_post(force)
    data.update(overrides)
    response = client.post(URL, data)
    assert response.status_code == 200
    assert error_for(response.content, field).startswith(message), error_for(
        response.content, field
    )
    target = f"{field}-day" if field.endswith(("date_of_birth", "incident_date")) else field
    assert target in _errors(response).values()
    assert not PoliceNotification.objects.exists()


def test_an_inactive_force_is_refused(client, force):
    other = support.force(name="Old Constabulary")
    data = support.manual_post(other)
    other.is_active = False
    other.save()
    response = client.post(URL, data)
    assert error_for(response.content, "id_force") == "Select the police force from the list"
    assert not PoliceNotification.objects.exists()


def test_the_second_of_two_children_gets_its_own_error(client, force):
    data = support.manual_post(force, children=3)
    for key in [k for k in data if k.startswith("children-0-")]:
        data[key] = ""  # the first block left blank: the service's child 0 is block 1
    data["children-2-date_of_birth-year"] = "2030"
    response = client.post(URL, data)
    assert error_for(response.content, "id_children-2-date_of_birth").startswith(
        "A child's date of birth cannot be in the future"
    )
    assert error_for(response.content, "id_children-1-date_of_birth") == ""
    assert error_for(response.content, "id_children-0-given_name") == ""


def test_everything_typed_is_kept_on_error(client, force):
    data = support.manual_post(
        force, children=2, occurrence_reference="", narrative="Line one\nLine two <b>"
    )
    data["children-1-given_name"] = "Zoë <script>"
    response = client.post(URL, data)
    content = response.content
    assert value_of(content, "incident_time") == data["incident_time"]
    assert value_of(content, "incident_date-day") == data["incident_date-day"]
    assert checked(content, "incident_type") == ["domestic_abuse"]
    assert checked(content, "dash_risk") == ["high"]
    assert value_of(content, "children-1-given_name") == "Zoë <script>"
    assert "<script>" not in content.decode().split("<main", 1)[1]
    assert checked(content, "children-0-seen") == ["yes"]
    assert checked(content, "children-0-spoken_to") == ["no"]
    assert selected(content, "adults-0-role") == "victim"
    assert textarea(content, "narrative") == "Line one\nLine two <b>"
    assert value_of(content, "officer_collar_number") == "4521"
    assert selected(content, "force") == str(force.pk)


def test_nul_characters_are_dropped_and_formulas_stay_text(client, force):
    data = support.manual_post(force, narrative="=cmd|' /C calc'!A0\x00 end")
    data["children-0-given_name"] = "Am\x00elia"
    assert client.post(URL, data).status_code == 302
    notification = PoliceNotification.objects.get()
    assert notification.narrative == "=cmd|' /C calc'!A0 end"
    assert notification.children.get().given_name == "Amelia"


# --- Adding and removing children and adults ------------------------------------------------------


def test_adding_a_child_keeps_what_was_typed(client, force):
    data = support.manual_post(force, action="add:children")
    response = client.post(URL, data)
    assert response.status_code == 200
    assert value_of(response.content, "children-TOTAL_FORMS") == "2"
    assert value_of(response.content, "children-0-given_name") == "Amelia"
    assert value_of(response.content, "children-1-given_name") == ""
    block = re.search(r'<input[^>]*id="id_children-1-given_name"[^>]*>', response.content.decode())
    assert block is not None
    assert "autofocus" in block.group(0)
    assert value_of(response.content, "occurrence_reference") == data["occurrence_reference"]
    assert summary_links(response.content) == {}  # adding a block judges nothing yet
    assert not PoliceNotification.objects.exists()


def test_removing_a_child_moves_the_later_ones_up(client, force):
    data = support.manual_post(force, children=3, action="remove:children-0")
    response = client.post(URL, data)
    assert value_of(response.content, "children-TOTAL_FORMS") == "2"
    assert value_of(response.content, "children-0-given_name") == "Leo"
    assert value_of(response.content, "children-1-given_name") == "Ivy"
    assert value_of(response.content, "children-1-date_of_birth-year") == "2020"
    assert checked(response.content, "children-1-seen") == ["yes"]


def test_the_last_child_block_cannot_be_removed_but_an_adult_can(client, force):
    response = client.post(URL, support.manual_post(force, action="remove:children-0"))
    assert value_of(response.content, "children-TOTAL_FORMS") == "1"
    assert value_of(response.content, "children-0-given_name") == "Amelia"
    response = client.post(URL, support.manual_post(force, action="remove:adults-0"))
    assert value_of(response.content, "adults-TOTAL_FORMS") == "0"
    assert "Add an adult" in text(response.content)


@pytest.mark.parametrize(
    "action", ["add:nothing", "remove:children-x", "remove:children-99", "remove:", "remove:kids-1"]
)
def test_nonsense_actions_change_nothing(client, force, action):
    response = client.post(URL, support.manual_post(force, action=action))
    assert response.status_code == 200
    assert value_of(response.content, "children-TOTAL_FORMS") == "1"
    assert not PoliceNotification.objects.exists()


def test_blocks_are_capped_whatever_the_post_claims(client, force):
    data = support.manual_post(force, action="add:children")
    data["children-TOTAL_FORMS"] = "99999"
    response = client.post(URL, data)
    assert value_of(response.content, "children-TOTAL_FORMS") == "20"
    assert "A notification can name up to 20 children" in text(response.content)
    data = support.manual_post(force)
    data["children-TOTAL_FORMS"] = "-3"
    assert client.post(URL, data).status_code == 302  # read as one block


# --- Replays --------------------------------------------------------------------------------------


def test_the_same_notification_twice_is_already_received(client, force):
    data = support.manual_post(force, occurrence_reference="RVP/7/26")
    assert client.post(URL, data).status_code == 302
    first = PoliceNotification.objects.get()
    response = client.post(URL, data)
    assert response.status_code == 200
    page = text(response.content)
    assert f"RVP/7/26 was already received as {first.reference}" in page
    assert f'href="/police/{first.pk}/"' in response.content.decode()
    assert PoliceNotification.objects.count() == 1


def test_the_same_reference_with_different_details_is_an_error_on_the_reference(client, force):
    data = support.manual_post(force, occurrence_reference="RVP/7/26")
    assert client.post(URL, data).status_code == 302
    first = PoliceNotification.objects.get()
    data["narrative"] = "Something else entirely"
    response = client.post(URL, data)
    assert error_for(response.content, "id_occurrence_reference") == (
        f"RVP/7/26 was already received from this force as {first.reference} with different "
        "details: check the reference"
    )
    assert f'href="/police/{first.pk}/"' in response.content.decode()
    assert PoliceNotification.objects.count() == 1


def test_the_same_reference_from_another_force_is_a_new_notification(client, force):
    other = support.force(name="Neighbouring Police")
    assert (
        client.post(URL, support.manual_post(force, occurrence_reference="A/1")).status_code == 302
    )
    assert (
        client.post(URL, support.manual_post(other, occurrence_reference="A/1")).status_code == 302
    )
    assert PoliceNotification.objects.count() == 2


# --- Who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_user",
    [
        factories.coordinator,
        factories.practitioner,
        factories.advice_line_worker,
        factories.analyst,
        factories.administrator,
    ],
)
def test_other_roles_are_refused(signed_in, force, make_user):
    client = signed_in(make_user())
    assert client.get(URL).status_code == 403
    assert client.post(URL, support.manual_post(force)).status_code == 403
    assert client.put(URL).status_code == 403
    assert not PoliceNotification.objects.exists()


def test_signed_out_goes_to_sign_in(force):
    response = Client().post(URL, support.manual_post(force))
    assert response.status_code == 302
    assert "/sign-in/" in response["Location"] or "login" in response["Location"]
    assert not PoliceNotification.objects.exists()


def test_a_hub_manager_may_add_one(signed_in, force):
    client = signed_in(factories.hub_manager())
    assert client.post(URL, support.manual_post(force)).status_code == 302


def test_wrong_method_is_405(client):
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_the_form_page_is_within_its_query_budget(client, force, django_assert_max_num_queries):
    for _ in range(3):
        support.force()
    with django_assert_max_num_queries(12):
        client.get(URL)


def test_london_time_is_used_across_the_clock_change(client, force):
    # 30 March 2026, the day after the clocks went forward: 00:30 London is 23:30 UTC on the 29th.
    with time_machine.travel(dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC), tick=False):
        data = support.manual_post(force)
        data.update(
            {
                "incident_date-day": "30",
                "incident_date-month": "3",
                "incident_date-year": "2026",
                "incident_time": "00:30",
            }
        )
        assert client.post(URL, data).status_code == 302
    assert PoliceNotification.objects.get().incident_at == dt.datetime(
        2026, 3, 29, 23, 30, tzinfo=dt.UTC
    )
    assert clock.localtime(PoliceNotification.objects.get().incident_at).hour == 0
