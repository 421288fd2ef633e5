"""Consent and consent overrides: /enquiries/<pk>/consent/, /override/, /overrides/<pk>/decide/."""

from __future__ import annotations

import datetime as dt

import pytest

from mash.core import clock
from mash.enquiries import services
from mash.enquiries.models import (
    Consent,
    ConsentOverride,
    ConsentStatus,
    Enquiry,
    EnquiryStatus,
    OverrideGround,
    OverrideStatus,
)
from tests.enquiries import journey
from tests.enquiries.test_manager_support import (
    ESCAPED_XSS,
    TOO_LONG,
    XSS,
    answer_all,
    decide,
    problem,
    text,
    url,
)

pytestmark = pytest.mark.django_db


def _when(moment: dt.datetime) -> dict[str, str]:
    local = moment.astimezone(clock.LONDON)
    return {
        "decided_on-day": str(local.day),
        "decided_on-month": str(local.month),
        "decided_on-year": str(local.year),
        "decided_time": local.strftime("%H:%M"),
    }


def _consent(**overrides: str) -> dict[str, str]:
    data = {
        "status": ConsentStatus.GIVEN,
        "given_by": "Dawn Hart (mother)",
        **_when(clock.now() - dt.timedelta(hours=2)),
        "notes": "Agreed on the phone.",
    }
    data.update(overrides)
    return data


# Consent.


@pytest.mark.parametrize("who", ["manager", "coordinator"])
def test_consent_given_lets_the_enquiry_be_rated(signed_in, who):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    client = signed_in(getattr(hub, who))
    page = text(client.get(url("consent", enquiry.pk)))
    assert "Record consent" in page
    assert f"Enquiry {enquiry.reference}: Amelia Hart" in page
    moment = (clock.now() - dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    response = client.post(url("consent", enquiry.pk), _consent(**_when(moment)))
    assert response.status_code == 302
    assert response["Location"] == url("detail", enquiry.pk)
    consent = Consent.objects.get(enquiry=enquiry)
    assert consent.status == ConsentStatus.GIVEN
    assert consent.given_by == "Dawn Hart (mother)"
    assert consent.decided_on == moment
    assert consent.recorded_by == getattr(hub, who)
    assert Enquiry.objects.get(pk=enquiry.pk).status == EnquiryStatus.AWAITING_RATING
    assert "Consent recorded." in text(client.get(response["Location"]))


def test_consent_not_sought_needs_no_name_or_date(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    response = signed_in(hub.coordinator).post(
        url("consent", enquiry.pk), {"status": ConsentStatus.NOT_SOUGHT, "notes": "Risk of flight."}
    )
    assert response.status_code == 302
    assert Consent.objects.get(enquiry=enquiry).status == ConsentStatus.NOT_SOUGHT
    assert Enquiry.objects.get(pk=enquiry.pk).status == EnquiryStatus.AWAITING_CONSENT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": ""}, "Select whether consent was given, refused or not sought"),
        ({"status": "maybe"}, "Select whether consent was given, refused or not sought"),
        ({"given_by": ""}, "Enter who gave or refused consent"),
        ({"given_by": "x" * 201}, "Who gave or refused consent must be 200 characters or fewer"),
        (
            {"decided_on-day": "", "decided_on-month": "", "decided_on-year": ""},
            "Enter the date consent was given or refused",
        ),
        ({"decided_on-day": "31", "decided_on-month": "2"}, "must be a real date"),
        ({"decided_on-year": "25"}, "year must include 4 numbers"),
        ({"decided_time": ""}, "Enter the time consent was given or refused"),
        ({"decided_time": "25:00"}, "Enter a real time"),
        ({"decided_time": "noon"}, "Enter the time in the 24-hour clock, like 14:30"),
        ({"notes": TOO_LONG}, "Notes must be 20,000 characters or fewer"),
    ],
)
def test_bad_consent_is_shown_next_to_the_field_and_the_rest_is_kept(signed_in, data, message):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    posted = {**_consent(notes=XSS), **data}
    if "given_by" not in data:
        posted["given_by"] = XSS
    response = signed_in(hub.coordinator).post(url("consent", enquiry.pk), posted)
    page = problem(response)
    assert message in page
    html = response.content.decode()
    if "notes" not in data:
        assert ESCAPED_XSS in html  # what was typed is kept, shown as text
    assert not Consent.objects.exists()


def test_consent_dated_in_the_future_is_refused(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    client = signed_in(hub.coordinator)
    for later in (dt.timedelta(minutes=30), dt.timedelta(days=2)):
        response = client.post(url("consent", enquiry.pk), _consent(**_when(clock.now() + later)))
        assert "When consent was given or refused must be in the past" in problem(response)
    assert not Consent.objects.exists()


def test_consent_on_a_closed_enquiry_is_a_conflict(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    answer_all(hub, enquiry)
    decide(hub, enquiry)
    before = Consent.objects.count()
    response = signed_in(hub.manager).post(url("consent", enquiry.pk), _consent())
    assert response.status_code == 409
    page = text(response)
    assert "This enquiry has been closed." in page
    assert "Nothing you entered has been saved" in page
    assert Consent.objects.count() == before


# Overrides.


def test_a_coordinator_proposes_an_override_for_a_manager_to_authorise(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    client = signed_in(hub.coordinator)
    page = text(client.get(url("override", enquiry.pk)))
    assert "A hub manager must authorise the override" in page
    for ground in OverrideGround:
        assert ground.label in page
    response = client.post(
        url("override", enquiry.pk),
        {
            "grounds": [OverrideGround.GREATER_RISK, OverrideGround.OTHER],
            "other_ground": "Partner is a registered offender",
            "justification": "Telling the family would alert the partner.",
        },
    )
    assert response.status_code == 302
    proposal = ConsentOverride.objects.get(enquiry=enquiry)
    assert proposal.status == OverrideStatus.PROPOSED
    assert proposal.grounds == ["greater_risk", "other"]
    assert proposal.other_ground == "Partner is a registered offender"
    assert Enquiry.objects.get(pk=enquiry.pk).status == EnquiryStatus.AWAITING_CONSENT
    assert "A hub manager must authorise it" in text(client.get(response["Location"]))


def test_a_managers_own_override_is_authorised_at_once_and_the_page_says_so(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    client = signed_in(hub.manager)
    page = text(client.get(url("override", enquiry.pk)))
    assert "your override is authorised as soon as you save it" in page
    response = client.post(
        url("override", enquiry.pk),
        {"grounds": [OverrideGround.SIGNIFICANT_HARM], "justification": "Injury to a baby."},
    )
    assert response.status_code == 302
    proposal = ConsentOverride.objects.get(enquiry=enquiry)
    assert proposal.status == OverrideStatus.AUTHORISED
    assert proposal.decided_by == hub.manager
    assert Enquiry.objects.get(pk=enquiry.pk).status == EnquiryStatus.AWAITING_RATING


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grounds": []}, "Select the grounds for overriding consent"),
        ({"grounds": ["because"]}, "Select the grounds for overriding consent"),
        ({"grounds": ["other"], "other_ground": ""}, "Enter the other grounds"),
        ({"grounds": ["other"], "other_ground": "x" * 501}, "500 characters or fewer"),
        ({"justification": ""}, "Enter the justification for the override"),
        ({"justification": "   "}, "Enter the justification for the override"),
        ({"justification": TOO_LONG}, "Justification must be 20,000 characters or fewer"),
    ],
)
def test_bad_overrides_are_shown_next_to_the_field(signed_in, data, message):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    posted = {"grounds": ["significant_harm"], "justification": XSS, **data}
    response = signed_in(hub.coordinator).post(url("override", enquiry.pk), posted)
    assert message in problem(response)
    if "justification" not in data:
        assert ESCAPED_XSS in response.content.decode()
    assert not ConsentOverride.objects.exists()


def _proposed(hub):
    enquiry = journey.open_enquiry(hub)
    proposal = services.propose_override(
        actor=hub.coordinator,
        enquiry=enquiry,
        grounds=[OverrideGround.PREJUDICE_CRIME],
        justification="Police investigation under way.",
    )
    return enquiry, proposal


def test_a_manager_authorises_a_proposed_override(signed_in):
    hub = journey.small_hub()
    enquiry, proposal = _proposed(hub)
    client = signed_in(hub.manager)
    page = text(client.get(url("override_decide", enquiry.pk, proposal.pk)))
    assert "prejudice the prevention or detection of a crime" in page
    assert "Police investigation under way." in page
    assert f"Proposed by {hub.coordinator.full_name}" in page
    response = client.post(
        url("override_decide", enquiry.pk, proposal.pk), {"decision": "authorise"}
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == OverrideStatus.AUTHORISED
    assert proposal.decided_by == hub.manager
    assert Enquiry.objects.get(pk=enquiry.pk).status == EnquiryStatus.AWAITING_RATING


def test_declining_an_override_needs_a_reason(signed_in):
    hub = journey.small_hub()
    enquiry, proposal = _proposed(hub)
    client = signed_in(hub.manager)
    address = url("override_decide", enquiry.pk, proposal.pk)
    assert "Enter why the override is declined" in problem(
        client.post(address, {"decision": "decline", "reason": ""})
    )
    assert "Select whether you authorise or decline the override" in problem(
        client.post(address, {"decision": "perhaps", "reason": XSS})
    )
    assert "20,000 characters or fewer" in problem(
        client.post(address, {"decision": "decline", "reason": TOO_LONG})
    )
    proposal.refresh_from_db()
    assert proposal.status == OverrideStatus.PROPOSED
    response = client.post(address, {"decision": "decline", "reason": "Consent can be sought."})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == OverrideStatus.DECLINED
    assert proposal.declined_reason == "Consent can be sought."


def test_an_override_decided_by_someone_else_is_a_conflict(signed_in, make):
    hub = journey.small_hub()
    enquiry, proposal = _proposed(hub)
    other = make.hub_manager(full_name="Morgan Other")
    client = signed_in(hub.manager)
    address = url("override_decide", enquiry.pk, proposal.pk)
    assert client.get(address).status_code == 200  # the form, before the other manager acts
    services.decide_override(actor=other, override=proposal, authorise=False, reason="Ask first.")
    response = client.post(address, {"decision": "authorise"})
    assert response.status_code == 409
    page = text(response)
    assert "This override has already been decided." in page
    assert "Declined" in page
    assert "Morgan Other" in page
    assert "Ask first." in page
    proposal.refresh_from_db()
    assert proposal.status == OverrideStatus.DECLINED
    # Opening the page again says so, without a form.
    page = text(client.get(address))
    assert "already been decided" in page
    assert "Do you authorise" not in page


def test_the_action_pages_of_a_closed_enquiry_say_so_and_offer_no_form(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    answer_all(hub, enquiry)
    decide(hub, enquiry)
    client = signed_in(hub.manager)
    for name in ("consent", "override", "rate"):
        response = client.get(url(name, enquiry.pk))
        assert response.status_code == 200, name
        assert "This enquiry has been closed." in text(response), name
        assert 'method="post" novalidate' not in response.content.decode(), name
    before = list(enquiry.ratings.values_list("id", flat=True))
    response = client.post(url("rate", enquiry.pk), {"rag": "green", "rationale": "Late."})
    assert response.status_code == 409
    assert list(enquiry.ratings.values_list("id", flat=True)) == before
