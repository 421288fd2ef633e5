"""The contact form in real Chromium: matches fetched as a child is typed, labels, no CSP errors."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from mash.contacts.models import Contact, ContactStatus
from tests.browser.test_accessibility import UNLABELLED_CONTROLS
from tests.enquiries import journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hub_with_amelia():
    hub = journey.small_hub()
    journey.submitted_contact(
        hub,
        people=[journey.child("Amelia", "Hart", born=dt.date(2018, 5, 4), nhs_number="9434765919")],
    )
    return hub


def test_matches_appear_as_the_child_is_typed_and_the_choice_is_kept(
    page,
    sign_in,
    hub_with_amelia,
):
    sign_in(page, hub_with_amelia.coordinator)
    page.goto("/contacts/new/")
    page.locator("#id_children-0-given_name").fill("Amelia")
    page.locator("#id_children-0-family_name").fill("Hart")
    page.locator("#id_children-0-family_name").press("Tab")
    expect(page.get_by_text("Link to Amelia Hart")).to_be_visible()
    # Fetched as they typed: the focus stays where they are typing.
    expect(page.locator("#id_children-0-date_of_birth-day")).to_be_focused()

    # Picking a match while a refresh is on its way does not lose the choice.
    page.locator("#id_children-0-date_of_birth-day").fill("4")
    page.get_by_label("Link to Amelia Hart").check()
    page.locator("#id_children-0-date_of_birth-month").fill("5")
    page.locator("#id_children-0-date_of_birth-month").press("Tab")
    expect(page.get_by_text("Same date of birth")).to_have_count(0)  # year not typed yet
    page.locator("#id_children-0-date_of_birth-year").fill("2018")
    page.locator("#id_children-0-date_of_birth-year").press("Tab")
    expect(page.get_by_text("Same date of birth")).to_be_visible()
    expect(page.get_by_label("Link to Amelia Hart")).to_be_checked()

    # The button asks again and takes the user to the matches.
    page.get_by_role("button", name="Find matches for child 1").click()
    expect(page.locator("#children-0-matches")).to_be_focused()
    expect(page.get_by_label("Link to Amelia Hart")).to_be_checked()


def test_every_control_on_the_contact_form_is_labelled(
    page,
    sign_in,
    hub_with_amelia,
):
    sign_in(page, hub_with_amelia.coordinator)
    page.goto("/contacts/new/")
    page.get_by_role("button", name="Submit contact").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    submitted = Contact.objects.get(status=ContactStatus.AWAITING_SCREENING)
    page.goto(f"/contacts/{submitted.pk}/")
    page.get_by_role("radio", name="Signposted").check()
    expect(page.get_by_label("Signposted to whom?")).to_be_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
