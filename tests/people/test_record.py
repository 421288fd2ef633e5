"""A person's record: details, household, contacts, enquiries, decisions, re-referral banner."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Role
from mash.core import clock
from mash.core.models import AuditEvent
from mash.enquiries import services
from mash.enquiries.models import Decision, Enquiry, Outcome
from mash.people import services as people_services
from mash.people.models import Person
from mash.people.selectors import re_referral_since, re_referral_window_start
from tests.enquiries import journey

pytestmark = pytest.mark.django_db


def record_url(person: Person) -> str:
    return f"/people/{person.pk}/"


def enquiry_about(
    hub: journey.Hub, child: Person | None = None, *, rag: str = "red", **child_kw: Any
) -> Enquiry:
    """A rated enquiry about a child: a new one, or one already in the index."""
    entry = journey.child(link_to=child.pk, **child_kw) if child else journey.child(**child_kw)
    return journey.rated_enquiry(hub, rag=rag, people=[entry, journey.adult()])


def decide(hub: journey.Hub, enquiry: Enquiry, child: Person, outcome: str) -> Decision:
    return services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=child,
        outcome=outcome,
        primary_need="N1",
        rationale="What the agencies shared shows a pattern of harm.",
        next_team="Assessment team",
        lead_professional_agency=hub.education if outcome == Outcome.EARLY_HELP else None,
        pending_reason="The picture is clear enough to decide now.",
    )


def child_of(enquiry: Enquiry) -> Person:
    return services.children_of(enquiry)[0]


def decided_at(hub: journey.Hub, child: Person, when: dt.datetime, outcome: str) -> Decision:
    """An enquiry about the child, from contact to decision, all at `when`."""
    with clock.at(when):
        enquiry = enquiry_about(hub, child)
        return decide(hub, enquiry, child, outcome)


@pytest.fixture
def hub() -> journey.Hub:
    return journey.small_hub()


def test_the_record_shows_details_household_and_aliases(hub, signed_in):
    household = people_services.create_household(
        actor=hub.coordinator,
        line_1="12 Rye Lane",
        town="London",
        postcode="SE15 4AB",
        members=[
            people_services.NewPerson(
                given_name="Amelia",
                family_name="Hart",
                sex="F",
                ethnicity="WBRI",
                date_of_birth=dt.date(2016, 5, 4),
                nhs_number="9434765919",
                upn="B801200005001",
            ),
            people_services.NewPerson(
                given_name="Dawn", family_name="Hart", sex="F", ethnicity="WBRI"
            ),
            people_services.NewPerson(
                given_name="Baby",
                family_name="Hart",
                sex="U",
                ethnicity="NOBT",
                expected_date_of_birth=clock.now().date() + dt.timedelta(days=40),
            ),
        ],
    )
    amelia, dawn, baby = household.members.order_by("pk")
    people_services.add_alias(actor=None, person=amelia, given_name="Amy", family_name="Stone")
    html = signed_in(hub.coordinator).get(record_url(amelia)).content.decode()
    for text in (
        "Amelia Hart",
        "4 May 2016",
        "943 476 5919",
        "B801200005001",
        "White: British",
        "12 Rye Lane, London, SE15 4AB",
        "Amy Stone",
    ):
        assert text in html, text
    assert f'href="/people/{dawn.pk}/"' in html
    assert f'href="/people/{baby.pk}/"' in html
    assert "Unborn, due" in html
    assert "No open enquiries." in html
    assert "No contacts name this person." in html
    assert "Re-referral" not in html


def test_the_record_shows_open_enquiries_contacts_and_decisions(hub, signed_in):
    first = enquiry_about(hub)
    amelia = child_of(first)
    decision = decide(hub, first, amelia, Outcome.EARLY_HELP)
    second = enquiry_about(hub, amelia, rag="amber")
    signposted = journey.submitted_contact(
        hub, people=[journey.child(link_to=amelia.pk), journey.adult()]
    )
    from mash.contacts import services as contact_services

    contact_services.screen_contact(
        actor=hub.coordinator,
        contact=signposted,
        outcome="signposted",
        reason="Needs a parenting course.",
        signposted_to="Family Hub",
    )
    html = signed_in(hub.manager).get(record_url(amelia)).content.decode()
    open_section = html.split("Open enquiries</h2>")[1].split("<h2")[0]
    assert f'href="/enquiries/{second.pk}/"' in open_section
    assert second.reference in open_section
    assert "Amber" in open_section
    assert "Agency checks" in open_section
    assert f'href="/enquiries/{first.pk}/"' not in open_section

    contacts = html.split("Contacts</h2>")[1].split("<h2")[0]
    for contact in (first.contact, second.contact, signposted):
        assert f'href="/contacts/{contact.pk}/"' in contacts
    assert "2A Schools" in contacts
    assert "Progress to MASH enquiry" in contacts
    assert "Signposted" in contacts

    decisions = html.split("Enquiries and decisions</h2>")[1]
    assert f'href="/enquiries/{first.pk}/"' in decisions
    assert "Early help assessment" in decisions
    assert hub.manager.full_name in decisions
    assert clock.now().astimezone(clock.LONDON).strftime("%-d %B %Y") in decisions
    assert "No decision yet" in decisions  # the second enquiry
    assert decision.decided_by == hub.manager


def test_an_amended_decision_says_so(hub, signed_in):
    enquiry = enquiry_about(hub)
    amelia = child_of(enquiry)
    decision = decide(hub, enquiry, amelia, Outcome.NFA)
    services.amend_decision(
        actor=hub.manager,
        decision=decision,
        reason="Police shared more.",
        outcome=Outcome.SECTION_17,
    )
    html = signed_in(hub.manager).get(record_url(amelia)).content.decode()
    decisions = html.split("Enquiries and decisions</h2>")[1]
    assert "Referral to children&#39;s social care" in decisions
    assert "(amended 1 time)" in decisions


# --- Re-referral --------------------------------------------------------------------------------


def test_a_referral_decision_11_months_ago_shows_the_re_referral_banner(hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    when = clock.now() - dt.timedelta(days=335)
    decision = decided_at(hub, amelia, when, Outcome.SECTION_47)
    html = signed_in(hub.coordinator).get(record_url(amelia)).content.decode()
    banner = html.split('data-testid="re-referral"')[1].split("</div>\n</div>")[0]
    assert "RE-REFERRAL" in banner
    assert when.astimezone(clock.LONDON).strftime("%-d %B %Y") in banner
    assert "Strategy discussion / section 47 enquiry" in banner
    assert decision.enquiry.reference in banner
    assert hub.manager.full_name in banner


def test_a_section_17_decision_also_makes_a_re_referral(hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    decided_at(hub, amelia, clock.now() - dt.timedelta(days=30), Outcome.SECTION_17)
    html = signed_in(hub.manager).get(record_url(amelia)).content.decode()
    assert 'data-testid="re-referral"' in html
    assert "child and family assessment (section 17)" in html


def test_a_referral_decision_13_months_ago_shows_no_banner(hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    decided_at(hub, amelia, clock.now() - dt.timedelta(days=396), Outcome.SECTION_47)
    html = signed_in(hub.coordinator).get(record_url(amelia)).content.decode()
    assert "RE-REFERRAL" not in html
    assert 'data-testid="re-referral"' not in html
    assert "Strategy discussion / section 47 enquiry" in html  # still listed, just not recent


@pytest.mark.parametrize("outcome", [Outcome.EARLY_HELP, Outcome.SIGNPOST, Outcome.NFA])
def test_a_decision_that_is_not_a_referral_shows_no_banner(outcome, hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    decided_at(hub, amelia, clock.now() - dt.timedelta(days=60), outcome)
    html = signed_in(hub.coordinator).get(record_url(amelia)).content.decode()
    assert "RE-REFERRAL" not in html


def test_the_banner_names_the_latest_referral(hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    decided_at(hub, amelia, clock.now() - dt.timedelta(days=300), Outcome.SECTION_47)
    latest = decided_at(hub, amelia, clock.now() - dt.timedelta(days=20), Outcome.SECTION_17)
    found = re_referral_since([amelia.pk])
    assert found[amelia.pk] == latest


def test_re_referral_since_answers_for_many_people_in_one_query(hub, django_assert_num_queries):
    now = clock.now()
    referred, early_help, old = (child_of(enquiry_about(hub)) for _ in range(3))
    recent = decided_at(hub, referred, now - dt.timedelta(days=100), Outcome.SECTION_47)
    decided_at(hub, early_help, now - dt.timedelta(days=100), Outcome.EARLY_HELP)
    decided_at(hub, old, now - dt.timedelta(days=400), Outcome.SECTION_17)
    with django_assert_num_queries(1):
        found = re_referral_since([referred.pk, early_help.pk, old.pk], now)
        assert found == {referred.pk: recent}
        assert found[referred.pk].enquiry.reference  # loaded with it
    # Seen from before the decision was made, there was none yet.
    assert re_referral_since([referred.pk], now - dt.timedelta(days=101)) == {}
    # And one enquiry's own decision can be left out.
    assert re_referral_since([referred.pk], now, exclude_enquiry_id=recent.enquiry_id) == {}
    assert re_referral_since([]) == {}


def test_the_window_is_twelve_months_on_the_london_calendar():
    summer = dt.datetime(2025, 7, 1, 9, 30, tzinfo=dt.UTC)
    assert re_referral_window_start(summer) == dt.datetime(2024, 7, 1, 10, 30, tzinfo=clock.LONDON)
    leap = dt.datetime(2024, 2, 29, 12, 0, tzinfo=dt.UTC)
    assert re_referral_window_start(leap).date() == dt.date(2023, 2, 28)


# --- Access and audit ---------------------------------------------------------------------------


def test_viewing_the_record_is_audited(hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    signed_in(hub.coordinator).get(record_url(amelia))
    event = AuditEvent.objects.get(action="people.person.viewed")
    assert event.actor == hub.coordinator
    assert event.object_id == str(amelia.pk)
    assert event.detail == {"page": "record"}


ALLOWED = {Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR}


@pytest.mark.parametrize("role", Role.values)
def test_who_may_open_a_record(role, hub, make, signed_in):
    amelia = child_of(enquiry_about(hub))
    client = signed_in(make.ROLE_FACTORIES[role](agency_=hub.police))
    response = client.get(record_url(amelia))
    html = response.content.decode()
    if role in ALLOWED:
        assert response.status_code == 200
        assert "Amelia Hart" in html
    else:
        assert response.status_code == 403
        assert "Amelia" not in html
        assert not AuditEvent.objects.filter(action="people.person.viewed").exists()


def test_a_practitioner_of_an_agency_asked_about_the_child_may_not_open_the_record(hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    for practitioner in hub.practitioners.values():
        assert signed_in(practitioner).get(record_url(amelia)).status_code == 403


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(hub, client):
    amelia = child_of(enquiry_about(hub))
    response = client.get(record_url(amelia))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_a_record_that_does_not_exist_is_not_found(hub, signed_in):
    assert signed_in(hub.manager).get("/people/999999/").status_code == 404


def test_the_record_is_read_only(hub, signed_in):
    amelia = child_of(enquiry_about(hub))
    assert signed_in(hub.manager).post(record_url(amelia)).status_code == 405


def test_names_with_markup_are_shown_as_text(hub, signed_in):
    enquiry = enquiry_about(hub, given="<script>alert(1)</script>", family="<b>Hart</b>")
    html = signed_in(hub.manager).get(record_url(child_of(enquiry))).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Queries ------------------------------------------------------------------------------------


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_record_costs_the_same_for_1_as_for_10_enquiries(
    hub, signed_in, django_assert_max_num_queries
):
    first = enquiry_about(hub)
    amelia = child_of(first)
    decision = decide(hub, first, amelia, Outcome.SECTION_17)
    services.amend_decision(
        actor=hub.manager, decision=decision, reason="Corrected.", next_team="Family support"
    )
    client = signed_in(hub.manager)
    baseline = _queries(client, record_url(amelia))
    for i in range(9):
        enquiry = enquiry_about(hub, amelia)
        if i % 2:
            decision = decide(hub, enquiry, amelia, Outcome.SECTION_47)
            services.amend_decision(
                actor=hub.manager, decision=decision, reason="Corrected.", next_team="Team B"
            )
    with django_assert_max_num_queries(baseline):
        html = client.get(record_url(amelia)).content.decode()
    assert len(re.findall(r'href="/enquiries/\d+/"', html)) >= 10
