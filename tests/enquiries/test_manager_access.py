"""Who may open and post to each of the hub's enquiry pages.

Hub managers: everything. Referral co-ordinators: the list, the enquiry,
consent, overrides and suggesting a rating. Everyone else (agency
practitioners, even of an agency asked on the enquiry; advice-line workers,
analysts, administrators): 403, and a valid post changes nothing. Anonymous:
the sign-in page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from mash.accounts.models import Role
from mash.core import clock
from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    Consent,
    ConsentOverride,
    ConsentStatus,
    Decision,
    DecisionAmendment,
    Enquiry,
    OverrideGround,
    Rating,
)
from tests import factories
from tests.enquiries import journey
from tests.enquiries.test_manager_support import (
    SIGN_IN_URL,
    answer_all,
    decide,
    decision_data,
    first_child,
    url,
)

pytestmark = pytest.mark.django_db

MANAGER_ONLY = {"override_decide", "request_not_required", "decide", "amend"}
HUB = {"list", "detail", "consent", "override", "rate"}


def _setting() -> tuple[journey.Hub, dict[str, tuple[str, dict[str, Any]]]]:
    """Every page's URL and a valid post for it."""
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    proposal = services.propose_override(
        actor=hub.coordinator,
        enquiry=enquiry,
        grounds=[OverrideGround.SIGNIFICANT_HARM],
        justification="Risk of harm.",
    )
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status=ConsentStatus.GIVEN,
        given_by="Dawn Hart",
        decided_on=clock.now() - dt.timedelta(hours=1),
    )
    services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag="red",
        rationale="Injury.",
        summary_for_agencies="Bruising.",
    )
    enquiry = Enquiry.objects.get(pk=enquiry.pk)
    closed = journey.rated_enquiry(hub)
    answer_all(hub, closed)
    decision = decide(hub, closed)
    yesterday = (clock.now() - dt.timedelta(days=1)).astimezone(clock.LONDON)
    pages: dict[str, tuple[str, dict[str, Any]]] = {
        "list": (url("list"), {}),
        "detail": (url("detail", enquiry.pk), {}),
        "consent": (
            url("consent", enquiry.pk),
            {
                "status": "refused",
                "given_by": "Dawn Hart",
                "decided_on-day": yesterday.day,
                "decided_on-month": yesterday.month,
                "decided_on-year": yesterday.year,
                "decided_time": "10:00",
            },
        ),
        "override": (
            url("override", enquiry.pk),
            {"grounds": ["greater_risk"], "justification": "Taken over."},
        ),
        "override_decide": (
            url("override_decide", enquiry.pk, proposal.pk),
            {"decision": "authorise"},
        ),
        "rate": (
            url("rate", enquiry.pk),
            {"rag": "green", "rationale": "Taken over.", "reason": "Taken over."},
        ),
        "request_not_required": (
            url("request_not_required", enquiry.pk, journey.request_for(enquiry, hub.police).pk),
            {"reason": "Taken over."},
        ),
        "decide": (
            url("decide", enquiry.pk, first_child(enquiry).pk),
            decision_data(pending_reason="Taken over."),
        ),
        "amend": (
            url("amend", closed.pk, decision.pk),
            {**decision_data(), "next_team": "Taken over", "reason": "Taken over."},
        ),
    }
    return hub, pages


def _snapshot() -> tuple[Any, ...]:
    return (
        list(Consent.objects.values_list("id", "status")),
        list(ConsentOverride.objects.values_list("id", "status")),
        list(Rating.objects.values_list("id", "rag")),
        list(AgencyRequest.objects.order_by("id").values_list("id", "status", "deadline_at")),
        list(Decision.objects.values_list("id", "outcome", "next_team")),
        DecisionAmendment.objects.count(),
        list(Enquiry.objects.order_by("id").values_list("id", "status", "rag", "proposed_rag")),
    )


def _user(role: str, hub: journey.Hub) -> Any:
    return {
        "manager": hub.manager,
        "coordinator": hub.coordinator,
        "practitioner of an agency asked": hub.practitioners["police"],
        "practitioner of another agency": factories.practitioner(),
        Role.ADVICE_LINE_WORKER: factories.advice_line_worker(),
        Role.ANALYST: factories.analyst(),
        Role.ADMINISTRATOR: factories.administrator(),
    }[role]


REFUSED = [
    "practitioner of an agency asked",
    "practitioner of another agency",
    Role.ADVICE_LINE_WORKER,
    Role.ANALYST,
    Role.ADMINISTRATOR,
]


def test_a_hub_manager_reaches_every_page(signed_in):
    hub, pages = _setting()
    client = signed_in(hub.manager)
    for name, (address, _) in pages.items():
        assert client.get(address).status_code == 200, name
        if name not in {"list", "detail"}:
            # An empty post re-shows the form with its errors; nothing is saved.
            before = _snapshot()
            response = client.post(address, {})
            assert response.status_code == 200, name
            assert "There is a problem" in response.content.decode(), name
            assert _snapshot() == before, name


def test_a_coordinator_reaches_the_hub_pages_and_no_manager_action(signed_in):
    hub, pages = _setting()
    client = signed_in(hub.coordinator)
    for name, (address, data) in pages.items():
        if name in HUB:
            assert client.get(address).status_code == 200, name
        else:
            before = _snapshot()
            assert client.get(address).status_code == 403, name
            assert client.post(address, data).status_code == 403, name
            assert _snapshot() == before, name


@pytest.mark.parametrize("role", REFUSED)
def test_everyone_else_is_refused_every_page_and_changes_nothing(signed_in, role):
    hub, pages = _setting()
    client = signed_in(_user(role, hub))
    before = _snapshot()
    for name, (address, data) in pages.items():
        assert client.get(address).status_code == 403, name
        assert client.post(address, data).status_code == 403, name
    assert _snapshot() == before


def test_list_and_detail_refuse_posts(signed_in):
    hub, pages = _setting()
    client = signed_in(hub.manager)
    assert client.post(pages["list"][0]).status_code == 405
    assert client.post(pages["detail"][0]).status_code == 405


def test_anonymous_visitors_are_sent_to_sign_in(client):
    _, pages = _setting()
    before = _snapshot()
    for name, (address, data) in pages.items():
        for response in (client.get(address), client.post(address, data)):
            assert response.status_code == 302, name
            assert response["Location"].startswith(SIGN_IN_URL), name
    assert _snapshot() == before


def test_parts_of_another_enquiry_are_not_found(signed_in):
    hub, _ = _setting()
    other = journey.rated_enquiry(hub)
    client = signed_in(hub.manager)
    override_pk = ConsentOverride.objects.get().pk
    police = journey.request_for(Enquiry.objects.exclude(pk=other.pk)[0], hub.police)
    decision = Decision.objects.get()
    adult = next(p for p in other.contact.people.all() if p.role == "adult")
    for address in (
        url("override_decide", other.pk, override_pk),
        url("request_not_required", other.pk, police.pk),
        url("amend", other.pk, decision.pk),
        url("decide", other.pk, adult.person_id),  # an adult, not a child
        url("decide", other.pk, decision.child_id),  # a child on another enquiry
        url("consent", 987654),
        url("rate", 10**25),
    ):
        assert client.get(address).status_code == 404, address
        assert client.post(address, {}).status_code == 404, address
