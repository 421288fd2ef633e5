"""The contact form with the keyboard alone: Tab, Shift+Tab, typing, Space and Enter.

No mouse click and no filling by selector: the co-ordinator moves through the page in its
tab order, so every control used must be reachable and operable from the keyboard.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from mash.contacts.models import Contact, ContactStatus
from tests.enquiries import journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# GOV.UK Frontend's focus colour: a control reached by the keyboard must show it.
FOCUS_YELLOW = "rgb(255, 221, 0)"
ACTIVE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // GOV.UK radios and checkboxes hide the input and draw the focus ring on its label.
  const drawn = (el.type === 'radio' || el.type === 'checkbox') && el.labels.length;
  const style = drawn ? getComputedStyle(el.labels[0], '::before') : getComputedStyle(el);
  return {
    id: el.id, tag: el.tagName.toLowerCase(), type: el.type || '', text: el.innerText || '',
    visible: el.matches(':focus-visible'),
    colours: [style.outlineColor, style.backgroundColor, style.boxShadow].join(' '),
  };
}
"""
MAX_TABS = 120


def _focused(pg: Any) -> dict[str, Any]:
    active = pg.evaluate(ACTIVE)
    assert active is not None, "nothing has the focus"
    return dict(active)


def _tab_to(pg: Any, what: str, *, by: str = "id") -> dict[str, Any]:
    """Presses Tab until the control with this id (or button text) has the focus."""
    seen = []
    for _ in range(MAX_TABS):
        pg.keyboard.press("Tab")
        active = _focused(pg)
        if " ".join(active[by].split()) == what:
            assert active["visible"], f"{what} has the focus but does not show it"
            assert FOCUS_YELLOW in active["colours"], f"{what}: no focus style {active}"
            return active
        seen.append(active["id"] or active["text"][:30])
    raise AssertionError(f"{what} is not reachable with Tab; the tab order was {seen}")


def _type(pg: Any, text: str) -> None:
    pg.keyboard.type(text)


def test_a_coordinator_records_a_contact_with_the_keyboard_alone(page, sign_in):
    hub = journey.small_hub()
    sign_in(page, hub.coordinator)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto("/contacts/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a contact")

    # The skip link comes first and takes the focus past the header and menu.
    page.keyboard.press("Tab")
    assert _focused(page)["text"].strip() == "Skip to main content"
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()

    # When and how: received now (filled in); Space picks the first channel, Phone.
    _tab_to(page, "id_received_date-day")
    _tab_to(page, "id_channel")
    page.keyboard.press("Space")
    expect(page.get_by_label("Phone", exact=True)).to_be_checked()
    # Typing on a list picks the first option that starts with what was typed.
    _tab_to(page, "id_referral_source")
    _type(page, "2A")
    expect(page.get_by_label("Referral source")).to_have_value("2A")

    _tab_to(page, "id_referrer_name")
    _type(page, "Priya Shah")
    page.keyboard.press("Tab")
    _type(page, "School nurse")

    # The child: name and date of birth, one box after another.
    _tab_to(page, "id_children-0-given_name")
    _type(page, "Poppy")
    page.keyboard.press("Tab")
    _type(page, "Lundqvist")
    page.keyboard.press("Tab")
    _type(page, "5")
    page.keyboard.press("Tab")
    _type(page, "11")
    # Shift+Tab goes back a box to correct the month.
    page.keyboard.press("Shift+Tab")
    assert _focused(page)["id"] == "id_children-0-date_of_birth-day"
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "id_children-0-date_of_birth-month"
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    _type(page, "10")
    page.keyboard.press("Tab")
    _type(page, "2019")
    # Leaving the date asks for matches; none, and the focus stays with the user.
    page.keyboard.press("Tab")
    expect(page.locator("#children-0-matches")).to_contain_text("No likely matches")
    assert _focused(page)["id"] == "id_children-0-expected_date_of_birth-day"

    # The rest of the child's details and the empty adult are passed by; the concern, then
    # Submit with Enter.
    _tab_to(page, "id_concern")
    _type(page, "Poppy told the school nurse she is often left alone at night.")
    _tab_to(page, "Submit contact", by="text")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/contacts/\d+/$"))
    expect(page.locator("main")).to_contain_text("It is waiting to be screened.")
    contact = Contact.objects.get()
    assert contact.status == ContactStatus.AWAITING_SCREENING
    assert contact.channel == "phone"
    assert contact.referral_source == "2A"
    assert contact.referrer_name == "Priya Shah"
    assert contact.referrer_role == "School nurse"
    child = contact.people.get()
    assert (child.given_name, child.family_name) == ("Poppy", "Lundqvist")
    assert child.date_of_birth == dt.date(2019, 10, 5)


def test_find_matches_takes_the_focus_to_the_matches_even_after_a_slow_refresh(page, sign_in):
    """The matches refresh by themselves as a name or date is typed; if a refresh is slow,
    pressing "Find matches" must still take a keyboard user to the matches, not leave
    the focus on a region the late refresh has replaced."""
    hub = journey.small_hub()
    sign_in(page, hub.coordinator)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    held: list[Any] = []
    holding = [True]

    def hold_automatic_refreshes(route: Any) -> None:
        if holding[0] and route.request.headers.get("hx-trigger") == "children-0-box":
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"/contacts/new/$"), hold_automatic_refreshes)
    page.goto("/contacts/new/")
    page.locator("#id_children-0-family_name").press_sequentially("Lundqvist")
    with page.expect_request(lambda r: r.headers.get("hx-trigger") == "children-0-box"):
        page.keyboard.press("Tab")  # leaving the box asks for matches: held on its way
    _tab_to(page, "Find matches for child 1", by="text")
    page.keyboard.press("Enter")
    holding[0] = False
    for route in held:
        route.continue_()

    matches = page.locator("#children-0-matches")
    expect(matches).to_contain_text("No likely matches")
    expect(matches).to_be_focused()
