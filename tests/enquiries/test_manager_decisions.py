"""Decisions per child and their amendments: /enquiries/<pk>/decide/<person>/ and
/enquiries/<pk>/decisions/<pk>/amend/."""

from __future__ import annotations

import pytest

from mash.enquiries import services
from mash.enquiries.models import (
    Decision,
    DecisionAmendment,
    Enquiry,
    EnquiryStatus,
    Outcome,
    RequestStatus,
)
from tests.enquiries import journey
from tests.enquiries.test_manager_support import (
    ESCAPED_XSS,
    TOO_LONG,
    XSS,
    answer_all,
    decide,
    decision_data,
    first_child,
    problem,
    text,
    url,
)

pytestmark = pytest.mark.django_db

PENDING_QUESTION = "Why are you deciding before every agency has answered?"


def _answered(hub, **kw):
    enquiry = journey.rated_enquiry(hub, **kw)
    answer_all(hub, enquiry)
    return enquiry


def test_deciding_for_the_only_child_closes_the_enquiry(signed_in):
    hub = journey.small_hub()
    enquiry = _answered(hub)
    child = first_child(enquiry)
    client = signed_in(hub.manager)
    address = url("decide", enquiry.pk, child.pk)
    page = text(client.get(address))
    assert "Decision for Amelia Hart" in page
    assert PENDING_QUESTION not in page
    for label in ("N0 Not stated", "N9 Cases other than children in need", "Private fostering"):
        assert label in page
    response = client.post(address, decision_data())
    assert response.status_code == 302
    decision = Decision.objects.get(enquiry=enquiry, child=child)
    assert decision.outcome == Outcome.SECTION_17
    assert decision.primary_need == "N1"
    assert sorted(t.theme for t in decision.themes.all()) == ["domestic_abuse", "neglect"]
    assert decision.next_team == "Assessment team north"
    assert decision.referrer_feedback.startswith("Thank you")
    assert decision.pending_reason == ""
    assert decision.decided_by == hub.manager
    assert Enquiry.objects.get(pk=enquiry.pk).status == EnquiryStatus.CLOSED
    page = text(client.get(response["Location"]))
    assert "Decision recorded for Amelia Hart." in page
    assert "Every child now has a decision: the enquiry is closed." in page


def test_an_enquiry_stays_open_until_every_child_has_a_decision(signed_in):
    hub = journey.small_hub()
    enquiry = _answered(hub, people=[journey.child(), journey.child("Ben", "Hart")])
    amelia, ben = services.children_of(enquiry)
    client = signed_in(hub.manager)
    response = client.post(url("decide", enquiry.pk, amelia.pk), decision_data())
    assert "the enquiry is closed" not in text(client.get(response["Location"]))
    assert Enquiry.objects.get(pk=enquiry.pk).is_open
    response = client.post(url("decide", enquiry.pk, ben.pk), decision_data(outcome="nfa"))
    assert "the enquiry is closed" in text(client.get(response["Location"]))
    assert not Enquiry.objects.get(pk=enquiry.pk).is_open


def test_deciding_while_agencies_have_not_answered_needs_a_reason(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        nothing_held=True,
    )
    child = first_child(enquiry)
    client = signed_in(hub.manager)
    address = url("decide", enquiry.pk, child.pk)
    page = text(client.get(address))
    assert PENDING_QUESTION in page
    assert "3 of 4 agencies have not answered" in page
    response = client.post(address, decision_data(rationale=XSS))
    assert "Some agencies have not answered: enter why you are deciding now" in problem(response)
    assert ESCAPED_XSS in response.content.decode()
    assert "20,000 characters or fewer" in problem(
        client.post(address, decision_data(pending_reason=TOO_LONG))
    )
    assert not Decision.objects.exists()
    response = client.post(address, decision_data(pending_reason="Strategy discussion today."))
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.pending_reason == "Strategy discussion today."
    # Closing the enquiry closes the requests nobody answered.
    assert not enquiry.requests.filter(status=RequestStatus.PENDING).exists()


def test_no_pending_reason_is_asked_or_kept_once_every_agency_answered(signed_in):
    hub = journey.small_hub()
    enquiry = _answered(hub)
    client = signed_in(hub.manager)
    response = client.post(
        url("decide", enquiry.pk, first_child(enquiry).pk),
        decision_data(pending_reason="Should be ignored."),
    )
    assert response.status_code == 302
    assert Decision.objects.get().pending_reason == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": ""}, "Select the decision"),
        ({"outcome": "s99"}, "Select the decision"),
        ({"primary_need": ""}, "Select the primary need"),
        ({"primary_need": "N10"}, "Select the primary need"),
        ({"themes": ["astrology"]}, "Select themes from the list"),
        ({"rationale": ""}, "Enter the reasoning for the decision"),
        ({"rationale": TOO_LONG}, "Rationale must be 20,000 characters or fewer"),
        ({"next_team": ""}, "Enter the team that acts next"),
        ({"next_team": "x" * 201}, "Team that acts next must be 200 characters or fewer"),
        ({"referrer_feedback": TOO_LONG}, "Feedback for the referrer must be 20,000 characters"),
        ({"outcome": "early_help"}, "Select the lead professional's agency"),
        (
            {"outcome": "early_help", "lead_professional_agency": "999999"},
            "Select the lead professional's agency",
        ),
    ],
)
def test_bad_decisions_are_shown_next_to_the_field(signed_in, data, message):
    hub = journey.small_hub()
    enquiry = _answered(hub)
    posted = decision_data(**{"referrer_feedback": XSS, **data})
    if "referrer_feedback" in data:
        posted["rationale"] = XSS
    response = signed_in(hub.manager).post(
        url("decide", enquiry.pk, first_child(enquiry).pk), posted
    )
    assert message in problem(response)
    assert ESCAPED_XSS in response.content.decode()
    assert not Decision.objects.exists()
    assert Enquiry.objects.get(pk=enquiry.pk).is_open


def test_early_help_records_the_lead_professionals_agency(signed_in):
    hub = journey.small_hub()
    enquiry = _answered(hub)
    response = signed_in(hub.manager).post(
        url("decide", enquiry.pk, first_child(enquiry).pk),
        decision_data(outcome="early_help", lead_professional_agency=str(hub.education.pk)),
    )
    assert response.status_code == 302
    assert Decision.objects.get().lead_professional_agency == hub.education


def test_a_lead_agency_is_not_kept_for_other_outcomes(signed_in):
    hub = journey.small_hub()
    enquiry = _answered(hub)
    signed_in(hub.manager).post(
        url("decide", enquiry.pk, first_child(enquiry).pk),
        decision_data(outcome="s47", lead_professional_agency=str(hub.education.pk)),
    )
    assert Decision.objects.get().lead_professional_agency is None


def test_the_second_manager_to_decide_is_told_and_sees_the_decision(signed_in, make):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, people=[journey.child(), journey.child("Ben", "Hart")])
    amelia = first_child(enquiry)
    first = make.hub_manager(full_name="Alex First", agency_=hub.social_care)
    client = signed_in(hub.manager)
    address = url("decide", enquiry.pk, amelia.pk)
    assert client.get(address).status_code == 200  # both managers have the form open
    services.decide(
        actor=first,
        enquiry=enquiry,
        child=amelia,
        outcome=Outcome.SECTION_47,
        primary_need="N1",
        rationale="Strategy discussion needed at once.",
        next_team="Child protection",
        pending_reason="Urgent.",
    )
    response = client.post(address, decision_data(pending_reason="Mine."))
    assert response.status_code == 409
    page = text(response)
    assert "Someone else has already decided for this child." in page
    assert "Alex First" in page
    assert "Strategy discussion / section 47 enquiry" in page
    assert "Strategy discussion needed at once." in page
    assert "Nothing you entered has been saved" in page
    decision = Decision.objects.get()
    assert decision.decided_by == first
    assert decision.rationale == "Strategy discussion needed at once."
    # The page now shows the decision and offers an amendment, not a second decision.
    response = client.get(address)
    page = text(response)
    assert "A decision has already been recorded for this child." in page
    assert "Record the decision" not in page
    assert url("amend", enquiry.pk, decision.pk) in response.content.decode()


def test_deciding_on_a_closed_enquiry_is_refused_and_changes_nothing(signed_in):
    hub = journey.small_hub()
    enquiry = _answered(hub, people=[journey.child(), journey.child("Ben", "Hart")])
    amelia, ben = services.children_of(enquiry)
    decide(hub, enquiry, amelia)
    # Closed from elsewhere (for example merged into another enquiry) with Ben undecided.
    Enquiry.objects.filter(pk=enquiry.pk).update(status=EnquiryStatus.CLOSED)
    client = signed_in(hub.manager)
    assert "This enquiry has been closed." in text(client.get(url("decide", enquiry.pk, ben.pk)))
    response = client.post(url("decide", enquiry.pk, ben.pk), decision_data())
    assert response.status_code == 409
    assert "This enquiry has been closed." in text(response)
    assert Decision.objects.count() == 1


def test_deciding_again_after_the_enquiry_closed_shows_the_decision(signed_in):
    hub = journey.small_hub()
    enquiry = _answered(hub)
    decide(hub, enquiry, rationale="Recorded first.")
    response = signed_in(hub.manager).post(
        url("decide", enquiry.pk, first_child(enquiry).pk), decision_data()
    )
    assert response.status_code == 409
    page = text(response)
    assert "Someone else has already decided for this child." in page
    assert "Recorded first." in page
    assert Decision.objects.get().rationale == "Recorded first."


# Amendments.


def _decided(hub):
    enquiry = _answered(hub)
    decision = decide(hub, enquiry, themes=["neglect"], referrer_feedback="Thanks.")
    return enquiry, decision


def test_the_amend_form_is_prefilled_with_the_decision(signed_in):
    hub = journey.small_hub()
    enquiry, decision = _decided(hub)
    response = signed_in(hub.manager).get(url("amend", enquiry.pk, decision.pk))
    html = response.content.decode()
    assert 'value="s17" checked' in html
    assert 'value="neglect" checked' in html
    assert 'value="N1" selected' in html
    assert 'value="Assessment team"' in html
    assert ">Assessment needed.</textarea>" in html
    assert "Reason for the amendment" in text(response)


def test_an_amendment_records_only_what_changed_and_why(signed_in):
    hub = journey.small_hub()
    enquiry, decision = _decided(hub)
    client = signed_in(hub.manager)
    data = {
        "outcome": "s17",
        "primary_need": "N1",
        "themes": ["neglect", "mental_health"],
        "rationale": "Assessment needed.",
        "next_team": "Assessment team south",
        "referrer_feedback": "Thanks.",
        "reason": "Wrong team: the family lives in the south.",
    }
    response = client.post(url("amend", enquiry.pk, decision.pk), data)
    assert response.status_code == 302
    amendment = DecisionAmendment.objects.get()
    assert amendment.changes == {
        "next_team": ["Assessment team", "Assessment team south"],
        "themes": [["neglect"], ["mental_health", "neglect"]],
    }
    assert amendment.reason == "Wrong team: the family lives in the south."
    assert amendment.amended_by == hub.manager
    decision.refresh_from_db()
    assert decision.next_team == "Assessment team south"
    page = text(client.get(response["Location"]))
    assert "Decision for Amelia Hart amended." in page
    assert "Team that acts next Assessment team Assessment team south" in page


def test_an_amendment_to_early_help_needs_the_lead_agency(signed_in):
    hub = journey.small_hub()
    enquiry, decision = _decided(hub)
    client = signed_in(hub.manager)
    address = url("amend", enquiry.pk, decision.pk)
    data = {
        "outcome": "early_help",
        "primary_need": "N1",
        "themes": ["neglect"],
        "rationale": "Assessment needed.",
        "next_team": "Assessment team",
        "referrer_feedback": "Thanks.",
        "reason": "Family accepted early help.",
    }
    assert "Select the lead professional's agency" in problem(client.post(address, data))
    response = client.post(address, {**data, "lead_professional_agency": hub.health.pk})
    assert response.status_code == 302
    assert DecisionAmendment.objects.get().changes == {
        "outcome": ["s17", "early_help"],
        "lead_professional_agency": [None, hub.health.pk],
    }


def test_an_amendment_needs_a_reason_and_a_change(signed_in):
    hub = journey.small_hub()
    enquiry, decision = _decided(hub)
    client = signed_in(hub.manager)
    address = url("amend", enquiry.pk, decision.pk)
    unchanged = {
        "outcome": "s17",
        "primary_need": "N1",
        "themes": ["neglect"],
        "rationale": "Assessment needed.",
        "next_team": "Assessment team",
        "referrer_feedback": "Thanks.",
    }
    assert "Enter the reason for the amendment" in problem(
        client.post(address, {**unchanged, "next_team": XSS, "reason": ""})
    )
    assert "Reason for the amendment must be 20,000 characters or fewer" in problem(
        client.post(address, {**unchanged, "reason": TOO_LONG})
    )
    assert "Nothing was changed" in problem(client.post(address, {**unchanged, "reason": "Why"}))
    assert not DecisionAmendment.objects.exists()


def test_deciding_an_unrated_enquiry_asks_why_no_agency_was_asked(signed_in):
    from django.urls import reverse

    from mash.enquiries import services as enquiry_services
    from mash.enquiries.models import Decision
    from tests.enquiries import journey as j

    hub = j.small_hub()
    enquiry = j.consented_enquiry(hub)
    child = enquiry_services.children_of(enquiry)[0]
    client = signed_in(hub.manager)
    url = reverse("enquiries:decide", args=[enquiry.pk, child.pk])
    page = client.get(url).content.decode()
    assert "no agency has been asked" in page
    data = {
        "outcome": "nfa",
        "primary_need": "N9",
        "rationale": "Known, no new risk.",
        "next_team": "None",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Why are you deciding before any agency has been asked?" in response.content.decode()
    assert "No agency has been asked yet: enter why you are deciding without checks" in problem(
        response
    )
    assert not Decision.objects.exists()
    response = client.post(url, {**data, "pending_reason": "Police confirmed by phone."})
    assert response.status_code == 302
    assert Decision.objects.get().pending_reason == "Police confirmed by phone."
