"""An advice-line worker's day in real Chromium: a call with the child matched and a follow-up,
the follow-up on the home page and marked done, and a call progressed to a contact.

The live server runs on the real clock (it cannot be frozen from here), so the follow-up
is booked for today, which is when it is due.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from mash.contacts import advice
from mash.contacts.models import Consultation, ConsultationOutcome, Contact, ContactStatus
from tests import factories
from tests.browser.test_accessibility import UNLABELLED_CONTROLS
from tests.contacts.test_advice_support import indexed_child

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_advice_line_worker_logs_calls_and_follows_up(page, sign_in):
    worker = factories.advice_line_worker(full_name="Asha Worker")
    child = indexed_child()
    today = advice.today()

    sign_in(page, worker)
    expect(page.get_by_role("heading", name="Advice line")).to_be_visible()
    expect(page.get_by_test_id("home-follow-ups")).to_have_text(
        "None of your follow-ups is due today or overdue."
    )
    page.get_by_role("link", name="Log a call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a call")

    # The caller.
    page.get_by_label("Caller's name").fill("Priya Shah")
    page.get_by_label("Caller's role (optional)").fill("Designated safeguarding lead")
    page.get_by_label("Agency", exact=True).fill("Riverside Primary")
    page.get_by_label("Kind of agency").select_option(label="Education")
    page.get_by_label("Phone number (optional)").fill("01632 960 001")

    # The child, matched to the index as they are typed.
    page.get_by_label("Given name").fill("Amelia")
    page.get_by_label("Family name").fill("Hart")
    page.locator("#id_child_date_of_birth-day").fill("4")
    page.locator("#id_child_date_of_birth-month").fill("5")
    page.locator("#id_child_date_of_birth-year").fill("2018")
    page.locator("#id_child_date_of_birth-year").press("Tab")
    match = page.get_by_label("This is Amelia Hart")
    expect(match).to_be_visible()
    matches = page.locator("#child-matches")
    expect(matches).to_contain_text("Born 4 May 2018")
    expect(matches).to_contain_text("Postcode RV1 2AB")
    expect(matches).to_contain_text("No contacts recorded")
    expect(matches).to_contain_text("Same date of birth")
    expect(matches).not_to_contain_text("943 476 5919")
    match.check()

    # The call: an early help recommendation reveals where to say what support was offered.
    page.get_by_label("The caller's worry").fill("Amelia comes to school hungry most days.")
    page.get_by_label("The advice given").fill("Talk to her mother about the breakfast club.")
    support = page.get_by_label("Support offered to start an early help assessment")
    expect(support).to_be_hidden()
    page.get_by_label("Early help assessment recommended").check()
    expect(support).to_be_visible()
    support.fill("Sent the early help form; the school's family worker will lead.")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    page.locator("#id_follow_up_on-day").fill(str(today.day))
    page.locator("#id_follow_up_on-month").fill(str(today.month))
    page.locator("#id_follow_up_on-year").fill(str(today.year))
    page.get_by_role("button", name="Log the call").click()

    first = Consultation.objects.get()
    expect(page).to_have_url(re.compile(rf"/advice/{first.pk}/$"))
    expect(page.get_by_text(f"Call {first.reference} logged.")).to_be_visible()
    assert first.person == child
    assert first.outcome == ConsultationOutcome.EARLY_HELP
    assert first.follow_up_on == today

    # Due today: on the home page, in words.
    page.get_by_role("link", name="Home").first.click()
    due = page.get_by_test_id("home-follow-ups")
    expect(due).to_contain_text("DUE TODAY")
    expect(due).to_contain_text(f"Due today, {today:%A} {today.day} {today:%B %Y}")
    expect(due).to_contain_text(f"call {first.reference} from Priya Shah, Riverside Primary")
    due.get_by_role("link", name=re.compile(rf"^Mark as done\W+call {first.reference}$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mark the follow-up as done")
    page.get_by_role("button", name="Mark as done").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter what was done to follow up the call"
    )
    page.get_by_label("What was done to follow up the call?").fill(
        "Rang Priya back: Amelia now goes to breakfast club."
    )
    page.get_by_role("button", name="Mark as done").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text(f"Follow-up to call {first.reference} marked as done.")).to_be_visible()
    expect(page.get_by_test_id("home-follow-ups")).to_have_text(
        "None of your follow-ups is due today or overdue."
    )
    first.refresh_from_db()
    assert first.follow_up_done_at is not None

    # A second call, progressed to a contact: the contact form opens filled in.
    page.get_by_role("link", name="Log a call").click()
    page.get_by_label("Caller's name").fill("Dr Olu Adeyemi")
    page.get_by_label("Agency", exact=True).fill("Mill Lane Surgery")
    page.get_by_label("Kind of agency").select_option(label="Health: GP")
    worry = "A toddler with a burn the parents cannot explain."
    page.get_by_label("The caller's worry").fill(worry)
    page.get_by_label("The advice given").fill("This needs the hub: recording a contact now.")
    page.get_by_label("Progressed to a contact").check()
    page.get_by_role("button", name="Log the call").click()

    second = Consultation.objects.latest("id")
    contact = Contact.objects.get()
    assert second.contact == contact
    assert contact.status == ContactStatus.DRAFT
    expect(page).to_have_url(re.compile(rf"/contacts/{contact.pk}/edit/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contact {contact.reference}")
    expect(page.get_by_label("Referrer's name")).to_have_value("Dr Olu Adeyemi")
    expect(page.get_by_label("Organisation")).to_have_value("Mill Lane Surgery")
    expect(page.get_by_label("Referral source")).to_have_value("3A")
    expect(page.get_by_label("Phone", exact=True)).to_be_checked()
    expect(page.get_by_label("The concern, in the referrer's words")).to_have_value(worry)
    received = dt.datetime.now(tz=dt.UTC).astimezone(advice.clock.LONDON).date()
    expect(page.locator("#id_received_date-day")).to_have_value(str(received.day))
