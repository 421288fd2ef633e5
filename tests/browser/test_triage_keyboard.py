"""Triaging police notifications with the keyboard alone, without a full page load.

After signing in, nothing but page.keyboard: the researcher reaches the queue from the
menu, moves with j, opens with Enter, chooses outcomes with 1-4, types the reasons and
records each with Ctrl+Enter. Every page load and navigation is counted: triaging must
cause none; progressing to a contact is the one that opens a page, the contact form,
filled in from the notification.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from mash.contacts.models import PoliceNotification, TriageOutcome
from mash.core import clock
from tests import factories
from tests.contacts import test_triage_support as support
from tests.enquiries import journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 80


def _active(pg: Any) -> dict[str, str]:
    return dict(
        pg.evaluate(
            "() => { const e = document.activeElement;"
            " return {id: e.id || '', name: e.name || '', text: (e.innerText || '').trim(),"
            " value: e.value || ''}; }"
        )
    )


def _tab_to(pg: Any, *, by: str, what: str) -> None:
    seen = []
    for _ in range(MAX_TABS):
        pg.keyboard.press("Tab")
        active = _active(pg)
        if active[by] == what:
            return
        seen.append(active["id"] or active["text"][:30])
    raise AssertionError(f"{what} is not reachable with Tab; the order was {seen}")


def _setup() -> tuple[Any, list[PoliceNotification]]:
    hub = journey.small_hub()
    # Amelia has an open enquiry: her notification can be added to it as information.
    journey.open_enquiry(hub)
    researcher = factories.police_researcher()
    force = support.force()
    start = clock.now() - dt.timedelta(hours=5)
    notifications = []
    for i in range(10):
        kids = [support.child("Amelia", "Hart")] if i == 2 else [support.child(f"Kid{i}", "Lane")]
        notifications.append(
            support.notification(
                force,
                children=kids,
                received_at=start + dt.timedelta(minutes=i),
                narrative=f"Incident number {i}: raised voices reported by a neighbour.",
            )
        )
    return researcher, notifications


def _record(pg: Any, n: PoliceNotification, key: str, reason: str) -> None:
    expect(pg.locator("#triage-heading")).to_contain_text(n.reference)
    expect(pg.locator("#triage-heading")).to_be_focused()
    pg.keyboard.press(key)
    if key == "2":
        assert _active(pg)["name"] == "shared_with"  # the first service: School
        pg.keyboard.press("Space")
        _tab_to(pg, by="id", what="id_shared_with_detail")
        pg.keyboard.type("Riverside Primary School")
        _tab_to(pg, by="id", what="id_reason")
    assert _active(pg)["id"] == "id_reason"
    pg.keyboard.type(reason)
    pg.keyboard.press("Control+Enter")


def test_a_researcher_triages_ten_notifications_with_the_keyboard_alone(page, sign_in):
    researcher, notifications = _setup()
    sign_in(page, researcher)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # From the home page to the queue through the menu, by keyboard.
    _tab_to(page, by="text", what="Police notifications")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Police notifications")
    expect(page.get_by_test_id("waiting-count")).to_have_text("10")
    expect(page.locator("summary", has_text="Keyboard shortcuts")).to_be_visible()

    # The menu's navigation must finish (its own load event) before counting loads.
    page.wait_for_load_state("load")
    loads: list[str] = []
    navigations: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == page.main_frame else None,
    )

    # j selects the oldest, Enter opens it beside the queue (once the shortcuts listen).
    expect(page.locator("[data-triage-ready]")).to_have_count(1)
    page.keyboard.press("j")
    first = page.locator("#triage-queue [data-queue-item]").first
    expect(first).to_have_class("mash-triage-queue__item mash-triage-queue__item--selected")
    page.keyboard.press("Enter")

    plan = ["1", "1", "4", "2", "1", "1", "1", "1", "1"]
    for i, key in enumerate(plan):
        n = notifications[i]
        _record(page, n, key, f"Reason {i}: nothing further for the hub to do.")
        following = notifications[i + 1]
        announcement = page.get_by_test_id("announcement")
        expect(announcement).to_contain_text(f"Recorded: {n.reference}")
        expect(announcement).to_contain_text(f"Next: {following.reference}")
        expect(page.get_by_test_id("waiting-count")).to_have_text(str(9 - i))
        # The queue follows: the next one is selected, the recorded one gone.
        selected = page.locator("#triage-queue .mash-triage-queue__item--selected")
        expect(selected).to_have_attribute("data-pk", str(following.pk))
        expect(page.locator(f'#triage-queue [data-pk="{n.pk}"]')).to_have_count(0)

    assert loads == [], f"full page loads while triaging: {loads}"
    assert navigations == [], f"navigations while triaging: {navigations}"

    recorded = {n.pk: n for n in PoliceNotification.objects.exclude(outcome="")}
    assert len(recorded) == 9
    assert recorded[notifications[0].pk].outcome == TriageOutcome.RECORD_ONLY
    assert recorded[notifications[0].pk].outcome_reason.startswith("Reason 0")
    assert recorded[notifications[2].pk].outcome == TriageOutcome.ADD_TO_ENQUIRY
    assert recorded[notifications[2].pk].enquiry_id is not None
    shared = recorded[notifications[3].pk]
    assert shared.outcome == TriageOutcome.SHARE_UNIVERSAL
    assert (shared.shared_with, shared.shared_with_detail) == (
        ["school"],
        "Riverside Primary School",
    )

    # The tenth is progressed: the contact form opens, filled in from the notification.
    last = notifications[9]
    _record(page, last, "3", "Third call-out this month: the hub should look at it.")
    expect(page).to_have_url(re.compile(r"/contacts/\d+/edit/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Contact C-")
    page.wait_for_load_state("load")  # the one full page load: the contact form
    assert len(loads) == 1, loads
    expect(page.locator("#id_children-0-given_name")).to_have_value("Kid9")
    expect(page.locator("#id_children-0-family_name")).to_have_value("Lane")
    expect(page.locator("#id_referral_source")).to_have_value("6")
    expect(page.locator("#id_concern")).to_contain_text("Incident number 9")
    last.refresh_from_db()
    assert last.outcome == TriageOutcome.PROGRESS_CONTACT
    assert last.contact is not None
    assert last.contact.created_by == researcher


def test_every_control_in_the_panel_is_labelled(page, sign_in):
    from tests.browser.test_accessibility import UNLABELLED_CONTROLS

    hub = journey.small_hub()
    journey.open_enquiry(hub)
    support.person("Amelia", "Hartt")  # a second candidate: the match radios show
    researcher = factories.police_researcher()
    support.notification()
    sign_in(page, researcher)
    page.goto("/police/")
    expect(page.locator("[data-triage-ready]")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#triage-heading")).to_be_focused()
    page.keyboard.press("q")  # opens the quality form
    expect(page.locator("#triage-quality")).to_have_attribute("open", "")
    page.keyboard.press("4")  # reveals the enquiries
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    # An error: the summary takes the focus and links to the field.
    page.keyboard.press("Control+Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter the reason for the outcome")


def test_without_javascript_each_notification_is_a_page(browser, live_server):
    researcher = factories.police_researcher()
    first = support.notification(received_at=clock.now() - dt.timedelta(hours=1))
    second = support.notification()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    pg = context.new_page()
    pg.goto("/sign-in/")
    pg.locator("#id_username").fill(researcher.email)
    pg.locator("#id_password").fill(factories.PASSWORD)
    pg.get_by_role("button", name="Sign in").click()
    pg.goto("/police/")
    pg.get_by_test_id("queue-item").first.click()
    expect(pg).to_have_url(re.compile(rf"/police/{first.pk}/$"))
    pg.get_by_label("Record only (no further action)").check()
    pg.get_by_label("Reason for the outcome").fill("Nothing for the hub.")
    pg.get_by_role("button", name="Record the outcome").click()
    expect(pg).to_have_url(re.compile(rf"/police/{second.pk}/$"))
    expect(pg.locator("main")).to_contain_text(f"Recorded: {first.reference} record only.")
    context.close()
