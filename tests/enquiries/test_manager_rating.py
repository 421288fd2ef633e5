"""RAG rating, suggested ratings and agencies not required: /enquiries/<pk>/rate/ and
/enquiries/<pk>/requests/<pk>/not-required/."""

from __future__ import annotations

import pytest

from mash.core.clock import DurationUnit
from mash.core.models import Hub
from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    Enquiry,
    EnquiryStatus,
    Rag,
    Rating,
    RequestStatus,
)
from tests.enquiries import journey
from tests.enquiries.test_manager_support import (
    ESCAPED_XSS,
    TOO_LONG,
    XSS,
    problem,
    text,
    url,
)

pytestmark = pytest.mark.django_db


def _first_rating(enquiry: Enquiry, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "version": enquiry.version,
        "rag": Rag.RED,
        "rationale": "Injury to a young child.",
        "summary_for_agencies": "Bruising to arm; mother and partner at home.",
    }
    data.update(overrides)
    return data


def test_the_rating_page_shows_the_hubs_clocks_and_prefills_the_summary(signed_in):
    hub = journey.small_hub()
    settings = Hub.load()
    settings.amber_amount, settings.amber_unit = 8, DurationUnit.WORKING_HOURS
    settings.save()
    enquiry = journey.consented_enquiry(hub)
    response = signed_in(hub.manager).get(url("rate", enquiry.pk))
    page = text(response)
    assert "Rate the enquiry" in page
    assert "Immediate danger: hold a strategy discussion now" in page
    assert "Agencies answer within 4 clock hours." in page
    assert "Agencies answer within 8 working hours." in page
    assert "Agencies answer within 48 clock hours." in page
    html = response.content.decode()
    assert (
        ">Amelia came to school with bruising on her arm and said she was scared.</textarea>"
        in (html)
    )
    for agency in ("Police", "Health Visiting", "Education"):
        assert f"Why {agency} is not required" in page


def test_rating_asks_every_agency_but_those_not_required(signed_in):
    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    client = signed_in(hub.manager)
    response = client.post(
        url("rate", enquiry.pk),
        _first_rating(
            enquiry,
            not_required=[str(hub.education.pk)],
            **{f"not_required_reason_{hub.education.pk}": "Not of school age yet."},
            **{f"not_required_reason_{hub.police.pk}": "Ignored: not ticked."},
        ),
    )
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.rag == Rag.RED
    assert enquiry.status == EnquiryStatus.CHECKS
    assert enquiry.summary_for_agencies == "Bruising to arm; mother and partner at home."
    statuses = dict(
        AgencyRequest.objects.filter(enquiry=enquiry).values_list("agency__name", "status")
    )
    assert statuses == {
        "Police": RequestStatus.PENDING,
        "Health Visiting": RequestStatus.PENDING,
        "Children's Social Care": RequestStatus.PENDING,
        "Education": RequestStatus.NOT_REQUIRED,
    }
    excluded = journey.request_for(enquiry, hub.education)
    assert excluded.not_required_reason == "Not of school age yet."
    assert "Enquiry rated Red" in text(client.get(response["Location"]))


def test_a_suggested_rating_is_shown_and_preselected_for_the_manager(signed_in):
    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    services.propose_rating(
        actor=hub.coordinator, enquiry=enquiry, rag=Rag.AMBER, reason="Old bruise, no disclosure."
    )
    response = signed_in(hub.manager).get(url("rate", enquiry.pk))
    assert "Suggested rating: Amber" in text(response)
    assert "Old bruise, no disclosure." in text(response)
    assert 'value="amber" checked' in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rag": ""}, "Select a RAG rating"),
        ({"rag": "purple"}, "Select a RAG rating"),
        ({"rationale": ""}, "Enter the rationale for the rating"),
        ({"rationale": TOO_LONG}, "Rationale for the rating must be 20,000 characters or fewer"),
        ({"summary_for_agencies": " "}, "Enter what the agencies need to know to search"),
        ({"summary_for_agencies": TOO_LONG}, "Summary for agencies must be 20,000 characters"),
        ({"not_required": ["999999"]}, "Select agencies from the list"),
        ({"not_required": ["{police}"]}, "Enter why Police is not required"),
    ],
)
def test_bad_ratings_are_shown_next_to_the_field(signed_in, data, message):
    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    if data.get("not_required") == ["{police}"]:
        data = {"not_required": [str(hub.police.pk)]}
    posted = _first_rating(enquiry, **data)
    if "rationale" not in data:
        posted["rationale"] = XSS
    response = signed_in(hub.manager).post(url("rate", enquiry.pk), posted)
    assert message in problem(response)
    if "rationale" not in data:
        assert ESCAPED_XSS in response.content.decode()
    assert not Rating.objects.exists()
    assert not AgencyRequest.objects.exists()


def test_the_missing_reason_for_an_agency_is_linked_to_its_own_box(signed_in):
    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    response = signed_in(hub.manager).post(
        url("rate", enquiry.pk), _first_rating(enquiry, not_required=[str(hub.health.pk)])
    )
    problem(response)
    assert f'href="#id_not_required_reason_{hub.health.pk}"' in response.content.decode()


def test_rating_without_consent_is_refused_clearly(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    client = signed_in(hub.manager)
    assert "Agencies cannot be asked yet" in text(client.get(url("rate", enquiry.pk)))
    response = client.post(url("rate", enquiry.pk), _first_rating(enquiry))
    assert "Record consent, or an authorised override, before agencies are asked" in problem(
        response
    )
    assert not AgencyRequest.objects.exists()
    assert Enquiry.objects.get(pk=enquiry.pk).rag == ""


def test_re_rating_asks_for_the_reason_and_restarts_the_clocks(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, rag=Rag.GREEN)
    client = signed_in(hub.manager)
    page = text(client.get(url("rate", enquiry.pk)))
    assert "Re-rate the enquiry" in page
    assert "Reason for re-rating" in page
    assert "Summary for agencies" not in page
    assert "not required" not in page
    before = journey.request_for(enquiry, hub.police).deadline_at
    response = client.post(
        url("rate", enquiry.pk),
        {"version": enquiry.version, "rag": Rag.GREEN, "rationale": "Same."},
    )
    assert "The enquiry is already rated Green" in problem(response)
    response = client.post(url("rate", enquiry.pk), {"version": enquiry.version, "rag": ""})
    page = problem(response)
    assert "Select a RAG rating" in page
    assert "Enter the reason for re-rating" in page
    response = client.post(
        url("rate", enquiry.pk),
        {"version": enquiry.version, "rag": Rag.RED, "rationale": "Disclosure at school."},
    )
    assert response.status_code == 302
    latest = Rating.objects.filter(enquiry=enquiry).order_by("-id")[0]
    assert (latest.previous_rag, latest.rag) == (Rag.GREEN, Rag.RED)
    assert latest.rationale == "Disclosure at school."
    assert journey.request_for(enquiry, hub.police).deadline_at < before  # 4 hours, not 48


def test_a_stale_rating_is_a_conflict_and_overwrites_nothing(signed_in, make):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, rag=Rag.AMBER)
    seen = enquiry.version  # the version the first manager's form carries
    other = make.hub_manager(full_name="Jo Quicker")
    services.rate_enquiry(actor=other, enquiry=enquiry, rag=Rag.RED, rationale="Second disclosure.")
    response = signed_in(hub.manager).post(
        url("rate", enquiry.pk), {"version": seen, "rag": Rag.GREEN, "rationale": "Calmer now."}
    )
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this while you were working on it." in page
    assert "RAG rating Red" in page
    assert "Jo Quicker" in page
    assert "Second disclosure." in page
    enquiry.refresh_from_db()
    assert enquiry.rag == Rag.RED
    assert not Rating.objects.filter(rationale="Calmer now.").exists()


def test_two_managers_rating_at_once_the_second_is_told(signed_in, make):
    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    other = make.hub_manager(agency_=hub.social_care)
    services.rate_enquiry(
        actor=other,
        enquiry=enquiry,
        rag=Rag.AMBER,
        rationale="First.",
        summary_for_agencies="First summary.",
        expected_version=enquiry.version,
    )
    response = signed_in(hub.manager).post(url("rate", enquiry.pk), _first_rating(enquiry))
    assert response.status_code == 409
    assert AgencyRequest.objects.filter(enquiry=enquiry).count() == 4
    assert Enquiry.objects.get(pk=enquiry.pk).summary_for_agencies == "First summary."


# A co-ordinator suggests a rating instead.


def test_a_coordinator_suggests_a_rating_and_nothing_is_rated(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    client = signed_in(hub.coordinator)
    page = text(client.get(url("rate", enquiry.pk)))
    assert "Suggest a RAG rating" in page
    assert "Summary for agencies" not in page
    response = client.post(
        url("rate", enquiry.pk), {"rag": Rag.RED, "reason": "Disclosure of being hit."}
    )
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert (enquiry.proposed_rag, enquiry.proposed_rag_by) == (Rag.RED, hub.coordinator)
    assert enquiry.rag == ""
    assert not Rating.objects.exists()
    assert "Suggested rating: Red" in text(client.get(url("detail", enquiry.pk)))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rag": "crimson"}, "Select a RAG rating"),
        ({"reason": ""}, "Enter why you suggest this rating"),
        ({"reason": TOO_LONG}, "Why you suggest this rating must be 20,000 characters or fewer"),
    ],
)
def test_bad_suggestions_are_shown_next_to_the_field(signed_in, data, message):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    response = signed_in(hub.coordinator).post(
        url("rate", enquiry.pk), {"rag": Rag.RED, "reason": XSS, **data}
    )
    assert message in problem(response)
    assert Enquiry.objects.get(pk=enquiry.pk).proposed_rag == ""


# One agency not required.


def test_a_manager_marks_a_pending_agency_not_required(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    health = journey.request_for(enquiry, hub.health)
    client = signed_in(hub.manager)
    address = url("request_not_required", enquiry.pk, health.pk)
    assert "Health Visiting is not required" in text(client.get(address))
    assert "Enter why this agency is not required" in problem(client.post(address, {"reason": ""}))
    assert "20,000 characters or fewer" in problem(client.post(address, {"reason": TOO_LONG}))
    response = client.post(address, {"reason": "Family not registered with health visiting."})
    assert response.status_code == 302
    health.refresh_from_db()
    assert health.status == RequestStatus.NOT_REQUIRED
    assert health.not_required_reason == "Family not registered with health visiting."
    assert health.not_required_by == hub.manager


def test_an_agency_that_already_answered_cannot_be_marked_not_required(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    police = journey.request_for(enquiry, hub.police)
    client = signed_in(hub.manager)
    address = url("request_not_required", enquiry.pk, police.pk)
    assert client.get(address).status_code == 200
    services.answer_request(actor=hub.practitioners["police"], request=police, nothing_held=True)
    response = client.post(address, {"reason": "Too late."})
    assert response.status_code == 409
    page = text(response)
    assert "This agency has already answered or been excluded." in page
    assert "Nothing held" in page
    assert hub.practitioners["police"].full_name in page
    police.refresh_from_db()
    assert police.status == RequestStatus.NOTHING_HELD
    assert "already answered" in text(client.get(address))
