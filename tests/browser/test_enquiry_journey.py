"""The whole MASH enquiry in real Chromium, each person at their own desk.

A co-ordinator records a contact for two children (one already known, re-referred), a hub
manager overrides consent and rates it, three agencies answer, the manager decides for
each child and the outcome documents are produced. Only the background (agencies, users
and the earlier referral four months ago) is built through the services; everything else
is done through the pages, signed in through the real sign-in form.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from mash.core import clock
from mash.enquiries import services
from mash.enquiries.models import Outcome
from tests.enquiries import journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Distinctive strings, so that "not on the page" means something.
CONCERN = "CONCERN-5520: Millie said her mother's partner hit her; Ruby was in the room."
SUMMARY_FOR_AGENCIES = "AGENCY-SUMMARY-8812: physical harm to Millie, sibling Ruby at home."
POLICE_SUMMARY = "POLICE-INTEL-7731: partner linked to a violent incident"
POLICE_DETAIL = "POLICE-DETAIL-9042: intelligence from an operation still running."
EDUCATION_SUMMARY = "EDU-ATTEND-4410: Millie's attendance is 71% this term"
EDUCATION_DETAIL = "EDU-DETAIL-3307: two unexplained absences after weekends."
REFERRER_FEEDBACK = "FEEDBACK-6618: a social worker will contact the family this week."

BORN_MILLIE = dt.date(2017, 3, 12)


@pytest.fixture
def hub_with_history() -> journey.Hub:
    """Four agencies and their people; Amelia Brennan was referred four months ago (s47)."""
    hub = journey.small_hub()
    with clock.at(clock.now() - dt.timedelta(days=122)):
        previous = journey.rated_enquiry(
            hub,
            people=[
                journey.child("Amelia", "Brennan", born=BORN_MILLIE),
                journey.adult("Gary", "Brennan"),
            ],
        )
        services.decide(
            actor=hub.manager,
            enquiry=previous,
            child=services.children_of(previous)[0],
            outcome=Outcome.SECTION_47,
            primary_need="N1",
            rationale="Injury to a young child.",
            next_team="Assessment team",
            pending_reason="Strategy discussion needed at once.",
        )
    return hub


def _at_desk(new_page: Any, sign_in: Any, user: Any) -> Any:
    """A browser of their own, signed in through the sign-in form."""
    pg = new_page()
    sign_in(pg, user)
    expect(pg.get_by_role("button", name="Sign out")).to_be_visible()
    return pg


def _fill_date(block: Any, group: str, day: dt.date) -> None:
    dates = block.get_by_role("group", name=group, exact=True)
    dates.get_by_label("Day").fill(str(day.day))
    dates.get_by_label("Month").fill(str(day.month))
    dates.get_by_label("Year").fill(str(day.year))


def _fill_person(block: Any, given: str, family: str, born: dt.date, sex: str) -> None:
    block.get_by_label("Given name").fill(given)
    block.get_by_label("Family name").fill(family)
    _fill_date(block, "Date of birth", born)
    block.get_by_role("group", name="Sex", exact=True).get_by_label(sex, exact=True).check()


def _body(pg: Any) -> Any:
    return pg.locator("main")


def _answer(pg: Any, reference: str, **item: str) -> None:
    """An agency practitioner opens the request from their queue and answers it."""
    pg.goto("/requests/")
    pg.get_by_role("link", name=reference).click()
    expect(pg.get_by_role("heading", level=1)).to_have_text(f"Enquiry {reference}")
    # They see the summary for agencies, not the concern in the referrer's words.
    expect(_body(pg)).to_contain_text(SUMMARY_FOR_AGENCIES)
    expect(_body(pg)).not_to_contain_text("CONCERN-5520")
    if not item:
        pg.get_by_label("No, nothing held").check()
    else:
        pg.get_by_label("Yes, record what is held").check()
        first = pg.get_by_test_id("item-0")
        first.get_by_label("Summary", exact=True).fill(item["summary"])
        first.get_by_label("Detail (optional)").fill(item["detail"])
        first.get_by_label(item["risk"], exact=True).check()
        first.get_by_label("Reference in your system (optional)").fill(item["their_reference"])
        first.get_by_label(item["sensitivity"], exact=True).check()
    pg.get_by_role("button", name="Send answer").click()
    expect(_body(pg)).to_contain_text("Your answer has been sent to the hub")


def _decide(pg: Any, child: str, outcome: str, need: str, **extra: str) -> None:
    pg.get_by_role("link", name=f"Record the decision for {child}").first.click()
    expect(pg.get_by_role("heading", level=1)).to_have_text(f"Decision for {child}")
    expect(pg.get_by_test_id("pending")).to_have_count(0)  # every agency has answered
    pg.get_by_label(outcome, exact=True).check()
    if "lead" in extra:
        pg.get_by_label("Lead professional's agency").select_option(label=extra["lead"])
    pg.get_by_label("Primary need").select_option(need)
    pg.get_by_label(extra.get("theme", "Domestic abuse"), exact=True).check()
    pg.get_by_label("Rationale", exact=True).fill(f"Rationale for {child}: {outcome}.")
    pg.get_by_label("Team that acts next").fill(extra.get("team", "Assessment team north"))
    pg.get_by_label("Feedback for the referrer").fill(REFERRER_FEEDBACK)
    pg.get_by_role("button", name="Record the decision").click()
    expect(_body(pg)).to_contain_text(f"Decision recorded for {child}.")


def _assert_pdf(pg: Any, link_name: str) -> None:
    href = pg.get_by_role("button", name=link_name).get_attribute("href")
    response = pg.context.request.get(href)
    assert response.status == 200, href
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"


@pytest.mark.page_status(403)
def test_a_two_child_contact_goes_through_the_hub_to_its_outcome_documents(
    new_page, sign_in, hub_with_history
):
    hub = hub_with_history
    police, health, education = (hub.practitioners[k] for k in ("police", "health", "education"))

    # 1. The co-ordinator records the contact.
    coordinator = _at_desk(new_page, sign_in, hub.coordinator)
    coordinator.goto("/contacts/new/")
    coordinator.get_by_role("group", name="How was it received?").get_by_label(
        "Phone", exact=True
    ).check()
    coordinator.get_by_label("Referral source").select_option("2A")
    coordinator.get_by_label("Referrer's name").fill("Sam Okafor")
    coordinator.get_by_label("Referrer's role").fill("Designated safeguarding lead")
    coordinator.get_by_label("Organisation").fill("Riverside Primary")
    coordinator.get_by_label("Phone number").fill("01632 960 001")
    coordinator.get_by_label("Email address").fill("s.okafor@riverside.example")

    # Child 1 is Amelia Brennan, typed as the referrer said it: a nickname and a typo.
    child_1 = coordinator.locator("#children-0")
    _fill_person(child_1, "Millie", "Brenan", BORN_MILLIE, "Female")
    child_1.get_by_role("button", name="Find matches for child 1").click()
    expect(coordinator.locator("#children-0-matches")).to_be_focused()
    matches = coordinator.locator("#children-0-matches")
    expect(matches.get_by_label("Link to Amelia Brennan")).to_be_visible()
    expect(matches).to_contain_text("RE-REFERRAL: referred in the last 12 months")
    expect(matches).to_contain_text("Given name a known variant (Amelia)")
    expect(matches).to_contain_text("Same date of birth")
    matches.get_by_label("Link to Amelia Brennan").check()

    coordinator.get_by_role("button", name="Add another child").click()
    child_2 = coordinator.locator("#children-1")
    expect(child_2.get_by_label("Given name")).to_be_focused()
    _fill_person(child_2, "Ruby", "Brennan", dt.date(2020, 9, 1), "Female")

    adult = coordinator.locator("#adults-0")
    _fill_person(adult, "Kerry", "Walsh", dt.date(1991, 7, 23), "Female")
    adult.get_by_label("Postcode").fill("ZZ99 3CZ")

    # Saved as a draft once (the co-ordinator is called away), then reopened from the list.
    coordinator.get_by_role("button", name="Save as draft").click()
    expect(_body(coordinator)).to_contain_text("Anyone in the hub can finish it")
    coordinator.goto("/contacts/")
    draft = coordinator.get_by_role("row").filter(has_text="Millie Brenan, Ruby Brennan")
    draft.get_by_role("link").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Contact "))
    expect(coordinator.get_by_label("Referrer's name")).to_have_value("Sam Okafor")
    expect(child_1.get_by_label("Given name")).to_have_value("Millie")
    expect(child_2.get_by_label("Family name")).to_have_value("Brennan")
    expect(adult.get_by_label("Postcode")).to_have_value("ZZ99 3CZ")
    linked = coordinator.locator("#children-0-matches").get_by_label("Link to Amelia Brennan")
    expect(linked).to_be_checked()
    expect(coordinator.locator("#children-0-matches")).to_contain_text("RE-REFERRAL")

    # The adult's relationships now name both children.
    adult.get_by_label("Relationship to Millie Brenan").select_option(label="Parent")
    adult.get_by_label("Relationship to Ruby Brennan").select_option(label="Parent")
    coordinator.get_by_label("The concern, in the referrer's words").fill(CONCERN)
    coordinator.get_by_label("What has the family been told?").fill(
        "Kerry knows the school has called the hub."
    )
    coordinator.get_by_role("button", name="Submit contact").click()
    expect(_body(coordinator)).to_contain_text("It is waiting to be screened.")
    expect(_body(coordinator)).to_contain_text("(in the index as Amelia Brennan)")

    coordinator.get_by_label("Progress to MASH enquiry").check()
    coordinator.get_by_label("Reason for the decision").fill(
        "Physical harm alleged by a child: agencies must be checked."
    )
    coordinator.get_by_role("button", name="Record the screening decision").click()
    expect(coordinator).to_have_url(re.compile(r"/enquiries/\d+/$"))
    expect(_body(coordinator)).to_contain_text("progressed to a MASH enquiry")
    enquiry_url = coordinator.url
    heading = coordinator.get_by_role("heading", level=1).inner_text()
    reference = heading.removeprefix("Enquiry ").strip()

    # 2. The hub manager overrides consent and rates the enquiry red.
    manager = _at_desk(new_page, sign_in, hub.manager)
    manager.goto(enquiry_url)
    banner = manager.get_by_test_id("re-referral")
    expect(banner).to_contain_text("RE-REFERRAL: Millie Brenan")
    expect(banner).to_contain_text("Strategy discussion / section 47 enquiry")
    expect(banner).to_have_count(1)  # Ruby is new to the hub

    manager.get_by_role("link", name="Override consent").click()
    expect(manager.get_by_test_id("authorised-at-once")).to_be_visible()
    manager.get_by_label("The child may be at risk of significant harm").check()
    manager.get_by_label("Justification").fill(
        "Asking the mother would warn the partner alleged to have hit Millie."
    )
    manager.get_by_role("button", name="Authorise the override").click()
    expect(_body(manager)).to_contain_text("Override authorised")
    expect(manager.get_by_test_id("override")).to_contain_text("Authorised by")

    manager.get_by_role("link", name="Rate the enquiry").click()
    manager.get_by_role("radio", name="Red", exact=True).check()
    manager.get_by_label("Rationale for the rating").fill("Alleged assault on a child of eight.")
    manager.get_by_label("Summary for agencies").fill(SUMMARY_FOR_AGENCIES)
    manager.get_by_label("Children's Social Care", exact=True).check()
    manager.get_by_label("Why Children's Social Care is not required").fill(
        "The hub's own records are already on the enquiry."
    )
    manager.get_by_role("button", name="Rate the enquiry and ask the agencies").click()
    expect(_body(manager)).to_contain_text("Enquiry rated Red.")
    expect(manager.get_by_test_id("re-referral")).to_be_visible()

    # 3. Each agency answers at its own desk.
    police_desk = _at_desk(new_page, sign_in, police)
    _answer(
        police_desk,
        reference,
        summary=POLICE_SUMMARY,
        detail=POLICE_DETAIL,
        risk="Violence or threats",
        their_reference="OP-HERON-77",
        sensitivity="MASH only",
    )
    police_request_url = police_desk.url
    expect(_body(police_desk)).to_contain_text(POLICE_SUMMARY)  # their own item, MASH-only

    health_desk = _at_desk(new_page, sign_in, health)
    _answer(health_desk, reference)
    expect(health_desk.get_by_test_id("answered")).to_contain_text("Nothing held.")

    education_desk = _at_desk(new_page, sign_in, education)
    _answer(
        education_desk,
        reference,
        summary=EDUCATION_SUMMARY,
        detail=EDUCATION_DETAIL,
        risk="Not engaging with services",
        their_reference="SIMS-20431",
        sensitivity="Professionals only",
    )

    # 4. Education sees its own answer, never another agency's.
    expect(_body(education_desk)).to_contain_text(EDUCATION_SUMMARY)
    for hidden in ("POLICE-INTEL-7731", "POLICE-DETAIL-9042", "OP-HERON-77"):
        expect(_body(education_desk)).not_to_contain_text(hidden)
    expect(_body(education_desk)).not_to_contain_text("Nothing held")
    expect(_body(education_desk)).not_to_contain_text("Health Visiting")
    expect(_body(education_desk)).not_to_contain_text("MASH-only information is held by")
    refused = education_desk.goto(police_request_url)
    assert refused is not None
    assert refused.status == 403
    expect(_body(education_desk)).not_to_contain_text("POLICE-INTEL-7731")

    # 5. The manager reads everything and decides for each child.
    manager.goto(enquiry_url)
    expect(_body(manager)).to_contain_text(POLICE_SUMMARY)  # hub managers see MASH-only items
    expect(_body(manager)).to_contain_text(EDUCATION_SUMMARY)
    expect(_body(manager)).to_contain_text("Nothing held.")
    expect(_body(manager)).to_contain_text("Ready for decision")
    _decide(
        manager,
        "Millie Brenan",
        "Strategy discussion / section 47 enquiry",
        "N1",
    )
    _decide(
        manager,
        "Ruby Brennan",
        "Early help assessment",
        "N4",
        lead="Education",
        theme="Neglect",
        team="Early help hub",
    )
    expect(_body(manager)).to_contain_text("the enquiry is closed")
    expect(_body(manager).get_by_text("Closed", exact=True)).to_be_visible()
    decisions = manager.get_by_test_id("decision")
    expect(decisions).to_have_count(2)
    expect(decisions.nth(1)).to_contain_text("Lead professional's agency")
    expect(decisions.nth(1)).to_contain_text("Education")

    # 6. The outcome report keeps MASH-only content out; the referrer's letter shares
    # neither agency's item.
    manager.get_by_role("link", name="Outcome report for the team that acts next").click()
    report = _body(manager)
    expect(report).to_contain_text(f"Outcome report: enquiry {reference}")
    expect(report).to_contain_text(EDUCATION_SUMMARY)
    expect(report).to_contain_text(EDUCATION_DETAIL)
    expect(report).to_contain_text("Nothing held: Health Visiting.")
    for hidden in ("POLICE-INTEL-7731", "POLICE-DETAIL-9042", "OP-HERON-77"):
        expect(report).not_to_contain_text(hidden)
    _assert_pdf(manager, "Download PDF")

    manager.goto(enquiry_url)
    manager.get_by_role("link", name="Feedback letter for the referrer").click()
    letter = _body(manager)
    expect(letter).to_contain_text(REFERRER_FEEDBACK)
    expect(letter).to_contain_text("Sam Okafor")
    for hidden in ("EDU-ATTEND-4410", "EDU-DETAIL-3307", "POLICE-INTEL-7731", "POLICE-DETAIL"):
        expect(letter).not_to_contain_text(hidden)
    _assert_pdf(manager, "Download PDF")

    # 7. The co-ordinator is told the police hold MASH-only information, not what it is.
    coordinator.goto(enquiry_url)
    expect(coordinator.get_by_test_id("withheld")).to_contain_text(
        "MASH-only information is held by Police"
    )
    expect(_body(coordinator)).to_contain_text(EDUCATION_SUMMARY)
    for hidden in ("POLICE-INTEL-7731", "POLICE-DETAIL-9042", "OP-HERON-77"):
        expect(_body(coordinator)).not_to_contain_text(hidden)
