"""The enquiry's page for the hub: /enquiries/<pk>/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Agency
from mash.core import clock
from mash.core.models import AuditEvent
from mash.enquiries import selectors, services
from mash.enquiries.models import (
    ConsentStatus,
    Outcome,
    OverrideGround,
    Rag,
    Sensitivity,
)
from tests import factories
from tests.enquiries import journey
from tests.enquiries.test_manager_support import (
    ESCAPED_XSS,
    XSS,
    answer_all,
    decide,
    first_child,
    text,
    url,
)

pytestmark = pytest.mark.django_db

SECRET_SUMMARY = "Partner known for violence"
SECRET_DETAIL = "Intelligence report 2291 names the partner."


def test_the_page_shows_the_contact_people_consent_rating_and_requests(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, people=[journey.child(), journey.adult()])
    services.rate_enquiry(
        actor=hub.manager, enquiry=enquiry, rag=Rag.AMBER, rationale="Mother now protective."
    )
    page = text(signed_in(hub.manager).get(url("detail", enquiry.pk)))
    assert f"Enquiry {enquiry.reference}" in page
    assert "Sam Teacher, Designated safeguarding lead, Riverside Primary" in page
    assert "Amelia came to school with bruising" in page
    assert "Mother has been told the school is contacting the hub." in page
    assert "Bruising to arm; mother and partner at home." in page
    assert "Dawn Hart Parent of Amelia Hart" in page
    assert "Given Dawn Hart (mother)" in page
    assert "Red → Amber Mother now protective." in page
    assert f"Red Injury to a young child. {hub.manager.full_name}" in page
    for agency in ("Police", "Health Visiting", "Education", "Children's Social Care"):
        assert f"{agency} Pending" in page
    assert "left" in page  # time left on each pending clock


def test_names_link_to_the_people_pages(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    html = signed_in(hub.manager).get(url("detail", enquiry.pk)).content.decode()
    for link in enquiry.contact.people.all():
        assert f'href="/people/{link.person_id}/"' in html


def test_viewing_the_enquiry_is_audited(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    signed_in(hub.coordinator).get(url("detail", enquiry.pk))
    assert AuditEvent.objects.filter(
        action="enquiries.enquiry.viewed", actor=hub.coordinator, object_id=str(enquiry.pk)
    ).exists()


def test_an_unknown_enquiry_is_not_found(signed_in, make):
    client = signed_in(make.hub_manager())
    assert client.get(url("detail", 987654)).status_code == 404
    assert client.get(url("detail", 10**25)).status_code == 404


def _police_answered(hub):
    enquiry = journey.rated_enquiry(hub)
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[
            services.ItemEntry(
                summary=SECRET_SUMMARY, detail=SECRET_DETAIL, sensitivity=Sensitivity.MASH_ONLY
            ),
            services.ItemEntry(
                summary="Domestic call-out in March",
                detail="Officers attended; no arrest.",
                sensitivity=Sensitivity.PROFESSIONALS,
                risk_indicators=["domestic_abuse"],
                source_reference="NP-2025-881",
            ),
        ],
    )
    return enquiry


def test_a_hub_manager_sees_mash_only_items(signed_in):
    hub = journey.small_hub()
    enquiry = _police_answered(hub)
    page = text(signed_in(hub.manager).get(url("detail", enquiry.pk)))
    assert SECRET_SUMMARY in page
    assert SECRET_DETAIL in page
    assert "MASH only" in page
    assert "Domestic call-out in March" in page
    assert "Domestic abuse" in page
    assert "NP-2025-881" in page
    assert "MASH-only information is held by" not in page


def test_a_coordinator_is_told_who_holds_mash_only_information_but_not_what(signed_in):
    hub = journey.small_hub()
    enquiry = _police_answered(hub)
    response = signed_in(hub.coordinator).get(url("detail", enquiry.pk))
    html = response.content.decode()
    assert "MASH-only information is held by Police" in text(response)
    assert SECRET_SUMMARY not in html
    assert SECRET_DETAIL not in html
    assert "Domestic call-out in March" in html  # professionals-only items are shown


def test_answers_typed_with_markup_are_shown_as_text(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    services.answer_request(
        actor=hub.practitioners["education"],
        request=journey.request_for(enquiry, hub.education),
        items=[services.ItemEntry(summary=XSS, detail=XSS, sensitivity=Sensitivity.SHAREABLE)],
    )
    html = signed_in(hub.manager).get(url("detail", enquiry.pk)).content.decode()
    assert XSS not in html
    assert ESCAPED_XSS in html


def test_an_urgent_enquiry_prompts_a_strategy_discussion_now(signed_in):
    hub = journey.small_hub()
    urgent = journey.rated_enquiry(hub, rag=Rag.URGENT)
    red = journey.rated_enquiry(hub, rag=Rag.RED)
    client = signed_in(hub.manager)
    assert "Urgent: hold a strategy discussion now" in text(client.get(url("detail", urgent.pk)))
    assert "strategy discussion now" not in text(client.get(url("detail", red.pk)))


def _earlier_referral(hub, months_ago: int, outcome: str = Outcome.SECTION_47):
    """A decision for Amelia on an earlier enquiry, `months_ago` months back (30-day months)."""
    with clock.at(clock.now() - dt.timedelta(days=30 * months_ago)):
        earlier = journey.rated_enquiry(hub)
        answer_all(hub, earlier)
        decide(hub, earlier, outcome=outcome)
    return earlier


def _again(hub, child_pk):
    return journey.rated_enquiry(hub, people=[journey.child(link_to=child_pk), journey.adult()])


def test_a_referral_within_12_months_is_a_re_referral(signed_in):
    hub = journey.small_hub()
    earlier = _earlier_referral(hub, months_ago=11)
    again = _again(hub, first_child(earlier).pk)
    response = signed_in(hub.manager).get(url("detail", again.pk))
    page = text(response)
    assert "RE-REFERRAL: Amelia Hart" in page
    assert earlier.reference in page
    assert "Strategy discussion / section 47 enquiry" in page
    assert selectors.re_referrals(enquiry=again).keys() == {first_child(earlier).pk}
    # The earlier enquiry itself is no re-referral of its own decision.
    assert "RE-REFERRAL" not in text(signed_in(hub.manager).get(url("detail", earlier.pk)))


def test_a_section_17_referral_counts_too(signed_in):
    hub = journey.small_hub()
    earlier = _earlier_referral(hub, months_ago=2, outcome=Outcome.SECTION_17)
    again = _again(hub, first_child(earlier).pk)
    assert "RE-REFERRAL" in text(signed_in(hub.coordinator).get(url("detail", again.pk)))


def test_a_referral_more_than_12_months_ago_is_not_a_re_referral(signed_in):
    hub = journey.small_hub()
    earlier = _earlier_referral(hub, months_ago=13)
    again = _again(hub, first_child(earlier).pk)
    assert "RE-REFERRAL" not in text(signed_in(hub.manager).get(url("detail", again.pk)))
    assert selectors.re_referrals(enquiry=again) == {}


def test_a_decision_that_was_not_a_referral_is_not_a_re_referral(signed_in):
    hub = journey.small_hub()
    earlier = _earlier_referral(hub, months_ago=3, outcome=Outcome.NFA)
    again = _again(hub, first_child(earlier).pk)
    assert "RE-REFERRAL" not in text(signed_in(hub.manager).get(url("detail", again.pk)))


def test_overrides_show_grounds_justification_and_who_proposed_and_authorised(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status=ConsentStatus.REFUSED,
        given_by="Dawn Hart",
        decided_on=clock.now() - dt.timedelta(minutes=5),
    )
    proposal = services.propose_override(
        actor=hub.coordinator,
        enquiry=enquiry,
        grounds=[OverrideGround.SIGNIFICANT_HARM, OverrideGround.OTHER],
        other_ground="The partner is a registered offender",
        justification="Asking the family would alert the partner.",
    )
    assert proposal.ground_labels == [
        "Other: The partner is a registered offender",
        "The child may be at risk of significant harm",
    ]
    client = signed_in(hub.manager)
    page = text(client.get(url("detail", enquiry.pk)))
    assert "Refused Dawn Hart" in page
    assert "Consent override Proposed" in page
    assert "The child may be at risk of significant harm" in page
    assert "Other: The partner is a registered offender" in page
    assert "Asking the family would alert the partner." in page
    assert f"Proposed by {hub.coordinator.full_name}" in page
    assert "Authorise or decline" in page
    services.decide_override(actor=hub.manager, override=proposal, authorise=True)
    page = text(client.get(url("detail", enquiry.pk)))
    assert "Consent override Authorised" in page
    assert f"Authorised by {hub.manager.full_name}" in page
    assert "a hub manager authorised an override" in page


def test_decisions_and_their_amendments_keep_what_was_first_recorded(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    answer_all(hub, enquiry)
    decision = decide(hub, enquiry, outcome=Outcome.SECTION_17, themes=["neglect"])
    services.amend_decision(
        actor=hub.manager,
        decision=decision,
        reason="Family agreed to early help instead.",
        outcome=Outcome.EARLY_HELP,
        lead_professional_agency=hub.education,
        themes=["neglect", "mental_health"],
    )
    client = signed_in(hub.manager)
    page = text(client.get(url("detail", enquiry.pk)))
    assert "Early help assessment" in page
    assert "Reason: Family agreed to early help instead." in page
    assert (
        "Decision Referral to children's social care: child and family assessment "
        "(section 17) Early help assessment" in page
    )
    assert "Lead professional's agency (none) Education" in page
    assert "Themes Neglect Mental health, Neglect" in page
    assert "Outcome report for the team that acts next" in page
    html = client.get(url("detail", enquiry.pk)).content.decode()
    assert f'href="/enquiries/{enquiry.pk}/outcome-report/"' in html
    assert f'href="/enquiries/{enquiry.pk}/referrer-letter/"' in html


def test_a_closed_enquiry_says_so_and_offers_no_decision(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    answer_all(hub, enquiry)
    decide(hub, enquiry)
    page = text(signed_in(hub.manager).get(url("detail", enquiry.pk)))
    assert "Closed" in page
    assert "Record the decision" not in page
    assert "What happens next" not in page


# Bounded queries, however many agencies answered with however many items.


def _agency_with_practitioner(n: int):
    agency = factories.agency(name=f"Extra agency {n}")
    return agency, factories.practitioner(agency_=agency)


def _answered_by_everyone(hub, practitioners):
    enquiry = journey.rated_enquiry(hub)
    answer_all(hub, enquiry)
    services.add_to_answer(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[
            services.ItemEntry(summary="More", sensitivity=Sensitivity.PROFESSIONALS),
            services.ItemEntry(summary="And more", sensitivity=Sensitivity.SHAREABLE),
        ],
    )
    for agency, practitioner in practitioners:
        services.answer_request(
            actor=practitioner,
            request=journey.request_for(enquiry, agency),
            items=[
                services.ItemEntry(summary=f"{agency.name} {s}", sensitivity=s)
                for s in Sensitivity.values
            ],
        )
    decision = decide(hub, enquiry, themes=["neglect"])
    services.amend_decision(
        actor=hub.manager, decision=decision, reason="Typo", next_team="Assessment team south"
    )
    return enquiry


def _queries(client, enquiry) -> int:
    client.get(url("detail", enquiry.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("detail", enquiry.pk))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["manager", "coordinator"])
def test_the_page_costs_the_same_queries_for_4_agencies_as_for_16(signed_in, viewer):
    hub = journey.small_hub()
    few = _answered_by_everyone(hub, [])
    extra = [_agency_with_practitioner(n) for n in range(12)]
    many = _answered_by_everyone(hub, extra)
    client = signed_in(getattr(hub, viewer))
    page = text(client.get(url("detail", many.pk)))
    assert page.count("Nothing held.") == 3
    assert "Extra agency 11 professionals Sensitivity Professionals only" in page
    assert _queries(client, few) == _queries(client, many)


def test_the_page_costs_the_same_queries_for_2_agencies_as_for_16(signed_in, make):
    """Two agencies in the hub against sixteen, each answering with three items."""
    manager = make.hub_manager()
    coordinator = make.coordinator()
    pairs = [_agency_with_practitioner(100 + n) for n in range(2)]

    def enquiry_answered_by(pairs_):
        hub = journey.Hub(
            manager=manager,
            coordinator=coordinator,
            police=pairs_[0][0],
            health=pairs_[1][0],
            education=pairs_[0][0],
            social_care=pairs_[1][0],
        )
        enquiry = journey.rated_enquiry(hub)
        for agency, practitioner in pairs_:
            services.answer_request(
                actor=practitioner,
                request=journey.request_for(enquiry, agency),
                items=[
                    services.ItemEntry(summary=f"{agency.name} {s}", sensitivity=s)
                    for s in Sensitivity.values
                ],
            )
        return enquiry

    # Only the hub's agencies at the time of rating are asked.
    Agency.objects.exclude(pk__in=[a.pk for a, _ in pairs]).update(is_active=False)
    two = enquiry_answered_by(pairs)
    pairs += [_agency_with_practitioner(200 + n) for n in range(14)]
    sixteen = enquiry_answered_by(pairs)
    assert two.requests.count() == 2
    assert sixteen.requests.count() == 16
    client = signed_in(manager)
    assert _queries(client, two) == _queries(client, sixteen)
