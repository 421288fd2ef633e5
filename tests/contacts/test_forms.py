"""Every bad input on the contact form: the exact message next to the field, the rest kept."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from mash.contacts.forms import (
    ADULTS,
    CHILDREN,
    MAX_BLOCKS,
    add_block,
    block_count,
    from_draft,
    normalise,
    raw_data,
    remove_block,
)
from mash.contacts.models import Contact, ContactStatus
from tests.contacts.test_pages_support import (
    NOW,
    TODAY,
    adult_fields,
    child_fields,
    error_for,
    summary_links,
    textarea,
    valid_post,
    value_of,
)
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

NHS_CHECK = (
    "NHS number is not valid: check it has been copied correctly (the last number is a check digit)"
)
UPN_CHECK = (
    "Unique pupil number is not valid: check it has been copied correctly (the first letter is "
    "a check letter)"
)
TOO_LONG = "x" * 20_001

BAD_INPUT = [
    # (what is wrong, overrides, field id, message)
    (
        "date of birth in the future",
        child_fields(0, date_of_birth=TODAY + dt.timedelta(days=1)),
        "id_children-0-date_of_birth",
        "Date of birth must be today or in the past",
    ),
    (
        "an adult's date of birth in the future",
        adult_fields(0, date_of_birth=dt.date(2030, 1, 1)),
        "id_adults-0-date_of_birth",
        "Date of birth must be today or in the past",
    ),
    (
        "a date of birth that is not a date",
        child_fields(0, date_of_birth=("31", "2", "2019")),
        "id_children-0-date_of_birth",
        "Date of birth must be a real date",
    ),
    (
        "a date of birth missing its month",
        child_fields(0, date_of_birth=("4", "", "2019")),
        "id_children-0-date_of_birth",
        "Date of birth must include a month",
    ),
    (
        "a date of birth in words",
        child_fields(0, date_of_birth=("four", "May", "2019")),
        "id_children-0-date_of_birth",
        "Date of birth must be a real date, written in numbers",
    ),
    (
        "a due date more than 10 months ahead",
        child_fields(0, date_of_birth=None, expected_date_of_birth=TODAY + dt.timedelta(days=306)),
        "id_children-0-expected_date_of_birth",
        "Due date must be within 10 months from today",
    ),
    (
        "a due date more than a month past",
        child_fields(0, date_of_birth=None, expected_date_of_birth=TODAY - dt.timedelta(days=32)),
        "id_children-0-expected_date_of_birth",
        "Due date is more than a month ago: enter the date of birth instead",
    ),
    (
        "both a date of birth and a due date",
        child_fields(0, expected_date_of_birth=TODAY + dt.timedelta(days=30)),
        "id_children-0-expected_date_of_birth",
        "Give a date of birth or a due date, not both",
    ),
    (
        "a child with neither date of birth nor due date",
        child_fields(0, date_of_birth=None),
        "id_children-0-date_of_birth",
        "Enter the child's date of birth, or the due date for an unborn child",
    ),
    (
        "an NHS number with a wrong check digit",
        child_fields(0, nhs_number="943 476 5918"),
        "id_children-0-nhs_number",
        NHS_CHECK,
    ),
    (
        "an NHS number too short",
        child_fields(0, nhs_number="943 476"),
        "id_children-0-nhs_number",
        "NHS number must be 10 numbers, like 943 476 5919",
    ),
    (
        "an NHS number with letters",
        adult_fields(0, nhs_number="94347659AB"),
        "id_adults-0-nhs_number",
        "NHS number must contain only numbers, like 943 476 5919",
    ),
    (
        "a UPN with a wrong check letter",
        child_fields(0, upn="A204123456789"),
        "id_children-0-upn",
        UPN_CHECK,
    ),
    (
        "a UPN too short",
        child_fields(0, upn="A12345"),
        "id_children-0-upn",
        "Unique pupil number must be 13 characters, like A123456789012",
    ),
    (
        "an empty concern",
        {"concern": "   "},
        "id_concern",
        "Enter the concern in the referrer's words",
    ),
    (
        "a concern over 20,000 characters",
        {"concern": TOO_LONG},
        "id_concern",
        "Concern must be 20,000 characters or fewer",
    ),
    (
        "what the family was told over 20,000 characters",
        {"family_told": TOO_LONG},
        "id_family_told",
        "What the family has been told must be 20,000 characters or fewer",
    ),
    (
        "a referrer's name too long",
        {"referrer_name": TOO_LONG},
        "id_referrer_name",
        "Referrer's name must be 150 characters or fewer",
    ),
    (
        "a given name too long",
        child_fields(0, given_name=TOO_LONG),
        "id_children-0-given_name",
        "Given name must be 100 characters or fewer",
    ),
    (
        "a school too long",
        child_fields(0, school=TOO_LONG),
        "id_children-0-school",
        "School or nursery must be 200 characters or fewer",
    ),
    (
        "a child with no name",
        child_fields(0, given_name="", family_name=""),
        "id_children-0-given_name",
        "Enter the child's name",
    ),
    (
        "no referrer's name and not anonymous",
        {"referrer_name": ""},
        "id_referrer_name",
        "Enter the referrer's name, or select 'The referrer wants to stay anonymous'",
    ),
    (
        "a bad email address",
        {"referrer_email": "sam at school"},
        "id_referrer_email",
        "Enter an email address in the correct format, like name@example.com",
    ),
    (
        "a phone number with letters",
        {"referrer_phone": "call the office"},
        "id_referrer_phone",
        "Enter a phone number, like 01632 960 001 or +44 7700 900 982",
    ),
    (
        "received on a future date",
        {"received_date-day": "12", "received_date-month": "6", "received_date-year": "2025"},
        "id_received_date",
        "Date received must be today or in the past",
    ),
    (
        "received later today",
        {"received_time": "10:31"},
        "id_received_time",
        "Time received cannot be in the future",
    ),
    (
        "a time that is not a time",
        {"received_time": "25:00"},
        "id_received_time",
        "Time received must be a real time in 24-hour format, like 14:30",
    ),
    (
        "no time",
        {"received_time": ""},
        "id_received_time",
        "Enter the time the contact was received",
    ),
    (
        "no date received",
        {"received_date-day": "", "received_date-month": "", "received_date-year": ""},
        "id_received_date",
        "Enter the date the contact was received",
    ),
    (
        "no channel",
        {"channel": ""},
        "id_channel",
        "Select how the contact was received",
    ),
    (
        "a made-up channel",
        {"channel": "carrier pigeon"},
        "id_channel",
        "Select how the contact was received",
    ),
    (
        "no referral source",
        {"referral_source": ""},
        "id_referral_source",
        "Select the referral source",
    ),
    (
        "a made-up relationship",
        adult_fields(0, relationship_0="landlord"),
        "id_adults-0-relationship_0",
        "Select a relationship from the list",
    ),
    (
        "a made-up ethnicity",
        child_fields(0, ethnicity="<script>"),
        "id_children-0-ethnicity",
        "Select an ethnicity from the list",
    ),
]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def coordinator(signed_in):
    return signed_in(journey.small_hub().coordinator)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [pytest.param(o, f, m, id=what) for what, o, f, m in BAD_INPUT],
)
def test_bad_input_is_shown_next_to_its_field_and_the_rest_is_kept(
    coordinator, overrides, field, message
):
    data = valid_post(**overrides)
    page = coordinator.post("/contacts/new/", data)
    assert page.status_code == 200
    assert error_for(page.content, field) == message
    target = f"{field}-day" if field.endswith(("date_of_birth", "received_date")) else field
    assert summary_links(page.content).get(message) == target
    assert "<title>Error: " in page.content.decode()
    # Everything else is kept as typed...
    for name in ("referrer_organisation", "children-0-family_name", "adults-0-given_name"):
        if name not in overrides:
            assert value_of(page.content, name) == data[name], name
    if "concern" not in overrides:
        assert textarea(page.content, "concern") == data["concern"]
    # ...and saved as the draft, so nothing is lost if the user walks away.
    contact = Contact.objects.get()
    assert contact.status == ContactStatus.DRAFT
    for key, value in overrides.items():
        assert contact.draft[key] == [str(value)], key


def test_the_error_summary_follows_the_page_order(coordinator):
    data = valid_post(
        concern="",
        referrer_name="",
        **child_fields(0, nhs_number="943 476 5918"),
    )
    page = coordinator.post("/contacts/new/", data)
    assert list(summary_links(page.content).values()) == [
        "id_referrer_name",
        "id_children-0-nhs_number",
        "id_concern",
    ]


def test_markup_is_accepted_as_text_and_shown_escaped_when_the_page_comes_back(coordinator):
    hostile = "<script>alert(1)</script>"
    data = valid_post(concern=hostile, referrer_role=hostile, **child_fields(0, nhs_number="1"))
    page = coordinator.post("/contacts/new/", data)
    raw = page.content.decode()
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert error_for(page.content, "id_concern") == ""  # markup is not an error
    assert value_of(page.content, "referrer_role") == hostile


def test_an_empty_post_is_a_list_of_what_is_missing_not_a_failure(coordinator):
    page = coordinator.post("/contacts/new/", {"action": "submit"})
    assert page.status_code == 200
    assert set(summary_links(page.content)) >= {
        "Enter the date the contact was received",
        "Select how the contact was received",
        "Enter the child's name",
        "Enter the concern in the referrer's words",
    }


def test_tampered_block_counts_are_kept_within_bounds(coordinator):
    data = valid_post(**{"children-TOTAL_FORMS": "100000", "adults-TOTAL_FORMS": "-3"})
    page = coordinator.post("/contacts/new/", {**data, "action": "add:children"})
    assert page.status_code == 200
    assert value_of(page.content, "children-TOTAL_FORMS") == str(MAX_BLOCKS)
    assert value_of(page.content, "adults-TOTAL_FORMS") == "0"


def test_a_second_child_with_the_same_nhs_number_is_an_error(coordinator):
    data = valid_post(children=2, adults=0)
    data.update(child_fields(1, given_name="Ben"))
    page = coordinator.post("/contacts/new/", data)
    assert error_for(page.content, "id_children-1-nhs_number") == (
        "This NHS number is also given for Amelia Hart"
    )


# --- The raw data helpers ----------------------------------------------------------------------


def test_normalise_sets_the_management_data():
    data = normalise({"children-TOTAL_FORMS": ["abc"], "adults-INITIAL_FORMS": ["7"]})
    assert data["children-TOTAL_FORMS"] == ["1"]
    assert data["adults-TOTAL_FORMS"] == ["0"]
    assert data["adults-INITIAL_FORMS"] == ["0"]


def test_add_block_stops_at_the_limit():
    data = normalise({"adults-TOTAL_FORMS": [str(MAX_BLOCKS)]})
    assert add_block(data, ADULTS) is None
    assert block_count(data, ADULTS) == MAX_BLOCKS


def test_remove_block_ignores_an_index_out_of_range():
    data = normalise({"children-TOTAL_FORMS": ["2"], "children-1-given_name": ["Ben"]})
    remove_block(data, CHILDREN, 5)
    assert block_count(data, CHILDREN) == 2
    assert data["children-1-given_name"] == ["Ben"]


def test_a_draft_of_an_unexpected_shape_still_opens():
    assert block_count(from_draft(None), CHILDREN) == 1
    data = from_draft({"concern": "not a list", "children-0-given_name": ["Amy"]})
    assert data["concern"] == ["not a list"]
    assert data["children-0-given_name"] == ["Amy"]


def test_raw_data_drops_unknown_keys_and_nul_characters():
    data = raw_data([("concern", ["a\x00b"]), ("csrfmiddlewaretoken", ["t"]), ("x", ["y"])])
    assert data["concern"] == ["ab"]
    assert "csrfmiddlewaretoken" not in data
    assert "x" not in data


def test_the_most_people_a_contact_can_hold_fit_in_one_post(coordinator):
    data = valid_post(children=MAX_BLOCKS, adults=MAX_BLOCKS, action="save")
    for i in range(MAX_BLOCKS):
        data.update(child_fields(i, given_name=f"Child{i}", nhs_number="", upn=""))
        relationships = {f"relationship_{c}": "parent" for c in range(MAX_BLOCKS)}
        data.update(adult_fields(i, given_name=f"Adult{i}", **relationships))
    response = coordinator.post("/contacts/new/", data)
    assert response.status_code == 302
    contact = Contact.objects.get()
    page = coordinator.get(f"/contacts/{contact.pk}/edit/")
    assert value_of(page.content, f"adults-{MAX_BLOCKS - 1}-given_name") == f"Adult{MAX_BLOCKS - 1}"
    assert 'value="add:children"' not in page.content.decode()
    assert "A contact can name up to 15 children" in page.content.decode()


def test_the_services_messages_land_on_the_fields_they_are_about():
    """The services check the rules again; what they say is put next to the right field."""
    from django.core.exceptions import ValidationError

    from mash.contacts.forms import bind
    from mash.contacts.views import _map_service_errors

    contact_form, children, _ = bind(normalise({}), quiet=False)
    people = [children.forms[0]]
    for form in [contact_form, *people]:
        form.is_valid()
    error = ValidationError(
        {
            "received_at": ["When it was received cannot be in the future"],
            "concern": ["Enter the concern in the referrer's words"],
            "people-0": ["Enter a name, or link an existing person"],
            "people": ["The same person is on this contact twice"],
        }
    )
    _map_service_errors(error, contact_form, people)
    assert "When it was received cannot be in the future" in contact_form.errors["received_time"]
    assert "Enter the concern in the referrer's words" in contact_form.errors["concern"]
    assert "Enter a name, or link an existing person" in people[0].non_field_errors()
    assert "The same person is on this contact twice" in contact_form.non_field_errors()
