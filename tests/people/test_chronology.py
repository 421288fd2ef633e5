"""A person's chronology: every event in time order, as the viewer may see it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Role
from mash.contacts import services as contact_services
from mash.core import clock
from mash.core.models import AuditEvent
from mash.enquiries import services
from mash.enquiries.models import ConsentStatus, Enquiry, Outcome, OverrideGround, Sensitivity
from mash.enquiries.selectors import visible_answer_items
from mash.people.models import Person
from tests.enquiries import journey
from tests.people.test_record import child_of, decide, enquiry_about

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)  # 9:00 in London (summer time)


def url(person: Person, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/people/{person.pk}/chronology/" + (f"?{query}" if query else "")


def at(minutes: int) -> Any:
    return clock.at(START + dt.timedelta(minutes=minutes))


def what_happened(html: str) -> list[str]:
    """The bold first line of each event, top to bottom."""
    return re.findall(r'<span class="govuk-!-font-weight-bold">(.*?)</span>', html)


def full_story(hub: journey.Hub) -> tuple[Person, Enquiry]:
    """One enquiry about Amelia from contact to amended decision, a few minutes apart."""
    with at(0):
        contact = journey.submitted_contact(hub)
    with at(10):
        contact_services.screen_contact(
            actor=hub.coordinator,
            contact=contact,
            outcome="progress",
            reason="Bruising on a young child: needs checks.",
        )
    enquiry = Enquiry.objects.get(contact=contact)
    with at(20):
        services.record_consent(
            actor=hub.coordinator,
            enquiry=enquiry,
            status=ConsentStatus.REFUSED,
            given_by="Dawn Hart (mother)",
            decided_on=START + dt.timedelta(minutes=15),
        )
    with at(30):
        override = services.propose_override(
            actor=hub.coordinator,
            enquiry=enquiry,
            grounds=[OverrideGround.SIGNIFICANT_HARM],
            justification="Asking could put Amelia at greater risk.",
        )
    with at(40):
        services.decide_override(actor=hub.manager, override=override, authorise=True)
    with at(50):
        services.rate_enquiry(
            actor=hub.manager,
            enquiry=enquiry,
            rag="red",
            rationale="Injury to a young child.",
            summary_for_agencies="Bruising to arm; mother and partner at home.",
        )
    with at(60):
        services.answer_request(
            actor=hub.practitioners["police"],
            request=journey.request_for(enquiry, hub.police),
            items=[
                services.ItemEntry(
                    summary="Intelligence on the partner: violent offences",
                    detail="Source graded B2.",
                    sensitivity=Sensitivity.MASH_ONLY,
                )
            ],
        )
    with at(70):
        services.answer_request(
            actor=hub.practitioners["education"],
            request=journey.request_for(enquiry, hub.education),
            items=[
                services.ItemEntry(
                    summary="Attendance 82%",
                    sensitivity=Sensitivity.PROFESSIONALS,
                    risk_indicators=["neglect"],
                    source_reference="SIMS-123",
                )
            ],
        )
    with at(80):
        services.rate_enquiry(
            actor=hub.manager, enquiry=enquiry, rag="amber", rationale="Bruise explained by GP."
        )
    with at(90):
        services.answer_request(
            actor=hub.practitioners["health"],
            request=journey.request_for(enquiry, hub.health),
            nothing_held=True,
        )
    amelia = child_of(enquiry)
    with at(100):
        decision = decide(hub, enquiry, amelia, Outcome.SECTION_17)
    with at(110):
        services.amend_decision(
            actor=hub.manager,
            decision=decision,
            reason="Police shared more.",
            outcome=Outcome.SECTION_47,
        )
    return amelia, enquiry


EXPECTED_OLDEST_FIRST = [
    "Contact received",
    "Screened: Progress to MASH enquiry",
    "MASH enquiry opened",
    "Consent recorded: refused",
    "Consent override proposed",
    "Consent override authorised",
    "Rated Red",
    "Police answered",
    "Education shared: Attendance 82%",
    "Education answered",
    "Re-rated from Red to Amber",
    "Health Visiting answered: nothing held",
    "Decision: Referral to children&#39;s social care: child and family assessment "
    "(section 17) (since amended)",
    "MASH enquiry closed",
    "Decision amended",
]


def test_a_co_ordinator_sees_every_event_newest_first_without_mash_only_content(signed_in):
    hub = journey.small_hub()
    amelia, enquiry = full_story(hub)
    html = signed_in(hub.coordinator).get(url(amelia)).content.decode()
    assert what_happened(html) == list(reversed(EXPECTED_OLDEST_FIRST))
    assert "Newest first." in html
    assert "Intelligence on the partner" not in html
    assert "Source graded B2" not in html
    assert "MASH-only information is held by Police" in html
    assert f'href="/enquiries/{enquiry.pk}/"' in html
    assert f'href="/contacts/{enquiry.contact_id}/"' in html


def test_a_manager_sees_mash_only_items_marked_as_such(signed_in):
    hub = journey.small_hub()
    amelia, _ = full_story(hub)
    html = signed_in(hub.manager).get(url(amelia, order="oldest")).content.decode()
    expected = list(EXPECTED_OLDEST_FIRST)
    expected.insert(
        expected.index("Police answered"),
        "Police shared: Intelligence on the partner: violent offences",
    )
    assert what_happened(html) == expected
    assert "Oldest first." in html
    assert "Source graded B2." in html
    assert "MASH only: never share it outside the hub" in html
    assert "MASH-only information is held by Police" not in html


def test_each_event_says_when_in_london_time_who_and_what(signed_in):
    hub = journey.small_hub()
    amelia, _ = full_story(hub)
    html = signed_in(hub.manager).get(url(amelia, order="oldest")).content.decode()
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', html, re.S)[1:]
    received, screened = rows[0], rows[1]
    assert "2 June 2025, 08:00" in received  # the contact says it arrived an hour earlier
    assert "By phone" in received
    assert "Source: 2A Schools" in received
    assert "Referrer: Sam Teacher, Designated safeguarding lead, Riverside Primary" in received
    assert hub.coordinator.full_name in received
    assert "2 June 2025, 09:10" in screened
    assert "Reason: Bruising on a young child: needs checks." in screened
    story = "\n".join(rows)
    for text in (
        "Grounds: The child may be at risk of significant harm",
        "Justification: Asking could put Amelia at greater risk.",
        "Rationale: Injury to a young child.",
        "Reason: Bruise explained by GP.",
        "Risk indicators: Neglect",
        "Their reference: SIMS-123",
        "Sensitivity: Professionals only",
        "Primary need: N1 Abuse or neglect",
        "Outcome: Referral to children&#39;s social care: child and family assessment "
        "(section 17) → Strategy discussion / section 47 enquiry",
        "Reason: Police shared more.",
        hub.practitioners["education"].full_name,
    ):
        assert text in story, text


def test_events_of_several_contacts_are_merged_in_time_order(signed_in):
    hub = journey.small_hub()
    with at(0):
        first = journey.open_enquiry(hub)
    amelia = child_of(first)
    with at(60 * 24):
        signposted = journey.submitted_contact(
            hub, people=[journey.child(link_to=amelia.pk), journey.adult()]
        )
    with at(60 * 24 + 5):
        contact_services.screen_contact(
            actor=hub.manager,
            contact=signposted,
            outcome="signposted",
            reason="A parenting course will help.",
            signposted_to="Family Hub",
        )
    html = signed_in(hub.coordinator).get(url(amelia)).content.decode()
    assert what_happened(html) == [
        "Screened: Signposted",
        "Contact received",
        "MASH enquiry opened",
        "Screened: Progress to MASH enquiry",
        "Contact received",
    ]
    assert "Signposted to Family Hub" in html


def test_a_person_with_no_events_says_so(signed_in):
    from mash.people import services as people_services

    household = people_services.create_household(
        actor=None,
        line_1="1 High Street",
        members=[
            people_services.NewPerson(
                given_name="Noah", family_name="Okafor", sex="M", ethnicity="BAFR"
            )
        ],
    )
    hub = journey.small_hub()
    html = signed_in(hub.manager).get(url(household.members.get())).content.decode()
    assert "Nothing has been recorded about this person yet." in html


def test_decisions_about_a_sibling_are_not_in_this_childs_chronology(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(
        hub,
        people=[journey.child(), journey.child("Noah", born=dt.date(2020, 1, 2)), journey.adult()],
    )
    amelia, noah = services.children_of(enquiry)
    decide(hub, enquiry, noah, Outcome.EARLY_HELP)
    html = signed_in(hub.manager).get(url(amelia)).content.decode()
    assert "Decision:" not in html
    assert (
        "Decision: Early help assessment" in signed_in(hub.manager).get(url(noah)).content.decode()
    )


def test_several_enquiries_answers_follow_the_sensitivity_rule():
    """The selector's one-query read of several enquiries applies the same rule."""
    hub = journey.small_hub()
    enquiries = [journey.rated_enquiry(hub) for _ in range(2)]
    for enquiry in enquiries:
        services.answer_request(
            actor=hub.practitioners["police"],
            request=journey.request_for(enquiry, hub.police),
            items=[services.ItemEntry(summary="Intel", sensitivity=Sensitivity.MASH_ONLY)],
        )
        services.answer_request(
            actor=hub.practitioners["health"],
            request=journey.request_for(enquiry, hub.health),
            items=[services.ItemEntry(summary="Seen", sensitivity=Sensitivity.SHAREABLE)],
        )
    ids = [e.pk for e in enquiries]
    coordinator = visible_answer_items(enquiries=ids, viewer=hub.coordinator)
    assert [i.summary for i in coordinator.items] == ["Seen", "Seen"]
    assert coordinator.withheld == {"Police": 2}
    police_requests = {journey.request_for(e, hub.police).pk for e in enquiries}
    assert set(coordinator.withheld_requests) == police_requests
    manager = visible_answer_items(enquiries=ids, viewer=hub.manager)
    assert sorted(i.summary for i in manager.items) == ["Intel", "Intel", "Seen", "Seen"]
    police = visible_answer_items(enquiries=ids, viewer=hub.practitioners["police"])
    assert [i.summary for i in police.items] == ["Intel", "Intel"]
    with pytest.raises(ValueError, match="Give an enquiry"):
        visible_answer_items(enquiry=enquiries[0], enquiries=ids, viewer=hub.manager)


# --- Access and audit ---------------------------------------------------------------------------


def test_viewing_the_chronology_is_audited(signed_in):
    hub = journey.small_hub()
    amelia = child_of(journey.open_enquiry(hub))
    signed_in(hub.manager).get(url(amelia))
    event = AuditEvent.objects.get(action="people.person.viewed")
    assert event.actor == hub.manager
    assert event.object_id == str(amelia.pk)
    assert event.detail == {"page": "chronology"}


@pytest.mark.parametrize("role", Role.values)
def test_who_may_see_a_chronology(role, make, signed_in):
    hub = journey.small_hub()
    amelia = child_of(journey.rated_enquiry(hub))
    response = signed_in(make.ROLE_FACTORIES[role](agency_=hub.police)).get(url(amelia))
    if role in (Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR):
        assert response.status_code == 200
        assert "Contact received" in response.content.decode()
    else:
        assert response.status_code == 403
        assert "Amelia" not in response.content.decode()
        assert not AuditEvent.objects.filter(action="people.person.viewed").exists()


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(client):
    hub = journey.small_hub()
    amelia = child_of(journey.open_enquiry(hub))
    response = client.get(url(amelia))
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_a_chronology_of_nobody_is_not_found(signed_in):
    hub = journey.small_hub()
    assert signed_in(hub.coordinator).get("/people/424242/chronology/").status_code == 404


def test_an_unknown_order_falls_back_to_newest_first(signed_in):
    hub = journey.small_hub()
    amelia = child_of(journey.open_enquiry(hub))
    html = signed_in(hub.coordinator).get(url(amelia, order="<script>")).content.decode()
    assert "Newest first." in html
    assert "<script>" not in html.split("<main")[1].split("</main>")[0]


# --- Queries ------------------------------------------------------------------------------------


def _answered_enquiry_about(hub: journey.Hub, amelia: Person | None) -> Enquiry:
    """An enquiry with answers, an override, a re-rating and an amended decision."""
    enquiry = enquiry_about(hub, amelia)
    amelia = amelia or child_of(enquiry)
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[services.ItemEntry(summary="Intel", sensitivity=Sensitivity.MASH_ONLY)],
    )
    services.answer_request(
        actor=hub.practitioners["education"],
        request=journey.request_for(enquiry, hub.education),
        items=[services.ItemEntry(summary="Attendance", sensitivity=Sensitivity.PROFESSIONALS)],
    )
    services.propose_override(
        actor=hub.coordinator,
        enquiry=enquiry,
        grounds=[OverrideGround.GREATER_RISK],
        justification="Belt and braces.",
    )
    services.rate_enquiry(actor=hub.manager, enquiry=enquiry, rag="amber", rationale="Calmer.")
    decision = decide(hub, enquiry, amelia, Outcome.SECTION_17)
    services.amend_decision(
        actor=hub.manager, decision=decision, reason="Corrected.", next_team="Family support"
    )
    return enquiry


@pytest.mark.parametrize("role", [Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR])
def test_the_chronology_costs_the_same_for_1_as_for_10_enquiries(
    role, signed_in, django_assert_max_num_queries
):
    hub = journey.small_hub()
    first = _answered_enquiry_about(hub, None)
    amelia = child_of(first)
    client = signed_in(hub.manager if role == Role.HUB_MANAGER else hub.coordinator)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(amelia)).status_code == 200
    baseline = len(queries.captured_queries)
    for _ in range(9):
        _answered_enquiry_about(hub, amelia)
    with django_assert_max_num_queries(baseline):
        html = client.get(url(amelia)).content.decode()
    assert html.count("Decision amended") == 10


def test_a_declined_override_and_amended_themes_read_as_first_recorded(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    amelia = child_of(enquiry)
    override = services.propose_override(
        actor=hub.coordinator,
        enquiry=enquiry,
        grounds=[OverrideGround.PREJUDICE_CRIME],
        justification="Police are investigating.",
    )
    services.decide_override(
        actor=hub.manager, override=override, authorise=False, reason="Ask the family first."
    )
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status=ConsentStatus.GIVEN,
        given_by="Dawn Hart (mother)",
        decided_on=clock.now(),
    )
    services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag="green",
        rationale="Low risk.",
        summary_for_agencies="Check records.",
    )
    decision = services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=amelia,
        outcome=Outcome.SIGNPOST,
        primary_need="N4",
        rationale="Universal services fit.",
        next_team="Family Hub",
        themes=["neglect"],
        pending_reason="Enough is known.",
    )
    services.amend_decision(
        actor=hub.manager,
        decision=decision,
        reason="Missed a theme.",
        themes=["neglect", "domestic_abuse"],
        primary_need="N1",
    )
    html = signed_in(hub.coordinator).get(url(amelia, order="oldest")).content.decode()
    assert "Consent override declined" in html
    assert "Reason: Ask the family first." in html
    decided = html.split("Decision: Signpost to universal services")[1].split("</tr>")[0]
    assert "Themes: Neglect" in decided
    assert "Domestic abuse" not in decided
    assert "Primary need: N4 Family in acute stress" in decided
    amended = html.split("Decision amended")[1].split("</tr>")[0]
    assert "Primary need: N4 Family in acute stress → N1 Abuse or neglect" in amended
    assert "Themes changed" in amended
    assert "Reason: Missed a theme." in amended
