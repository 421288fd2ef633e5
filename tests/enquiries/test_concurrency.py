"""Two people acting on one record at the same moment: one wins, the other is told.

Each race runs the two service calls in two real threads, released together by
a barrier, each on its own database connection, so the database's own locking
decides the winner (PostgreSQL's row locks; SQLite's IMMEDIATE transactions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from mash.contacts import services as contact_services
from mash.contacts.models import ScreeningOutcome
from mash.core.concurrency import Conflict
from mash.core.models import AuditEvent
from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    AnswerItem,
    Decision,
    Enquiry,
    Outcome,
    Rag,
    Rating,
    RequestStatus,
    Sensitivity,
)
from tests import factories
from tests.enquiries import journey

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls at the same moment in threads; each result or the exception it raised."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[Any] = [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[n] = call()
        except Exception as error:  # the test inspects whatever happened
            results[n] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer never finished"
    return results


def _winner_and_loser(results: list[Any]) -> tuple[Any, Conflict]:
    conflicts = [r for r in results if isinstance(r, Conflict)]
    others = [r for r in results if not isinstance(r, Conflict)]
    assert len(conflicts) == 1, f"expected exactly one Conflict, got {results!r}"
    assert len(others) == 1
    assert not isinstance(others[0], Exception), f"the winner failed: {others[0]!r}"
    return others[0], conflicts[0]


def _decide(manager: Any, enquiry: Enquiry, child: Any, outcome: str) -> Callable[[], Decision]:
    return lambda: services.decide(
        actor=manager,
        enquiry=enquiry,
        child=child,
        outcome=outcome,
        primary_need="N1",
        rationale=f"Decided as {outcome}",
        next_team="Assessment team",
        pending_reason="Risk is clear already",
    )


@pytest.mark.parametrize("round_", range(3))
def test_two_managers_deciding_for_one_child_at_once(round_):
    hub = journey.small_hub()
    second_manager = factories.hub_manager(agency_=hub.social_care)
    enquiry = journey.rated_enquiry(hub)
    child = services.children_of(enquiry)[0]

    results = race(
        _decide(hub.manager, enquiry, child, Outcome.SECTION_47),
        _decide(second_manager, enquiry, child, Outcome.NFA),
    )

    winner, loser = _winner_and_loser(results)
    assert isinstance(winner, Decision)
    assert "already decided" in loser.message
    current = loser.current
    assert isinstance(current, Decision)
    assert current.pk == winner.pk
    assert (current.outcome, current.decided_by_id) == (winner.outcome, winner.decided_by_id)
    stored = Decision.objects.get()  # exactly one decision, the winner's, untouched
    assert (stored.pk, stored.outcome, stored.rationale) == (
        winner.pk,
        winner.outcome,
        f"Decided as {winner.outcome}",
    )
    assert AuditEvent.objects.filter(action="enquiries.decision_recorded").count() == 1
    assert AuditEvent.objects.filter(action="enquiries.enquiry_closed").count() == 1


def test_two_managers_deciding_for_different_children_at_once_both_succeed():
    hub = journey.small_hub()
    second_manager = factories.hub_manager(agency_=hub.social_care)
    enquiry = journey.rated_enquiry(
        hub, people=[journey.child(), journey.child("Noah"), journey.adult()]
    )
    amelia, noah = services.children_of(enquiry)

    results = race(
        _decide(hub.manager, enquiry, amelia, Outcome.SECTION_17),
        _decide(second_manager, enquiry, noah, Outcome.NFA),
    )

    assert all(isinstance(r, Decision) for r in results), results
    enquiry.refresh_from_db()
    assert enquiry.status == "closed"  # whoever came second closed it
    assert AuditEvent.objects.filter(action="enquiries.enquiry_closed").count() == 1


def _answer(actor: Any, request: AgencyRequest, **kw: Any) -> Callable[[], AgencyRequest]:
    return lambda: services.answer_request(actor=actor, request=request, **kw)


@pytest.mark.parametrize("round_", range(3))
def test_two_practitioners_answering_one_request_at_once(round_):
    hub = journey.small_hub()
    first = hub.practitioners["police"]
    second = factories.practitioner(agency_=hub.police)
    enquiry = journey.rated_enquiry(hub)
    request = journey.request_for(enquiry, hub.police)
    items = [
        services.ItemEntry(summary="Call-out in March", sensitivity=Sensitivity.PROFESSIONALS),
        services.ItemEntry(summary="Intelligence", sensitivity=Sensitivity.MASH_ONLY),
    ]

    results = race(
        _answer(first, request, items=items, expected_version=request.version),
        _answer(second, request, nothing_held=True, expected_version=request.version),
    )

    winner, loser = _winner_and_loser(results)
    current = loser.current
    assert isinstance(current, AgencyRequest)
    assert current.pk == request.pk
    assert (current.status, current.answered_by_id) == (winner.status, winner.answered_by_id)
    request.refresh_from_db()
    assert (request.status, request.answered_by_id) == (winner.status, winner.answered_by_id)
    stored = list(AnswerItem.objects.filter(request=request).order_by("id"))
    if winner.status == RequestStatus.ANSWERED:
        assert winner.answered_by_id == first.pk
        assert [i.summary for i in stored] == ["Call-out in March", "Intelligence"]
    else:
        assert winner.answered_by_id == second.pk
        assert stored == []
    assert AuditEvent.objects.filter(action="enquiries.request_answered").count() == 1


def test_two_practitioners_answering_without_versions_still_get_a_conflict():
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    request = journey.request_for(enquiry, hub.health)
    second = factories.practitioner(agency_=hub.health)
    item = [services.ItemEntry(summary="Seen at clinic", sensitivity=Sensitivity.SHAREABLE)]

    results = race(
        _answer(hub.practitioners["health"], request, items=item),
        _answer(second, request, items=item),
    )

    winner, loser = _winner_and_loser(results)
    assert "already answered" in loser.message
    assert loser.current.answered_by_id == winner.answered_by_id
    assert AnswerItem.objects.filter(request=request).count() == 1


def test_two_managers_rating_from_the_same_page_at_once():
    hub = journey.small_hub()
    second_manager = factories.hub_manager(agency_=hub.social_care)
    enquiry = journey.consented_enquiry(hub)
    seen = enquiry.version

    def rate(actor: Any, rag: str) -> Callable[[], Enquiry]:
        return lambda: services.rate_enquiry(
            actor=actor,
            enquiry=enquiry,
            rag=rag,
            rationale=f"Looks {rag}",
            summary_for_agencies="Bruising",
            expected_version=seen,
        )

    results = race(rate(hub.manager, Rag.RED), rate(second_manager, Rag.GREEN))

    winner, loser = _winner_and_loser(results)
    assert loser.current.rag == winner.rag
    assert Rating.objects.count() == 1
    assert AgencyRequest.objects.filter(enquiry=enquiry).count() == 4  # one set of requests


def test_two_coordinators_screening_one_contact_at_once_open_one_enquiry():
    hub = journey.small_hub()
    second = factories.coordinator(agency_=hub.social_care)
    contact = journey.submitted_contact(hub)

    def screen(actor: Any, outcome: str) -> Callable[[], Any]:
        return lambda: contact_services.screen_contact(
            actor=actor, contact=contact, outcome=outcome, reason=f"Chose {outcome}"
        )

    results = race(
        screen(hub.coordinator, ScreeningOutcome.PROGRESS),
        screen(second, ScreeningOutcome.ADVICE),
    )

    winner, loser = _winner_and_loser(results)
    assert loser.current.screening_outcome == winner.screening_outcome
    assert Enquiry.objects.count() == (1 if winner.screening_outcome == "progress" else 0)


# Stale versions: the page showed an older state than the one now stored ------------------


def test_rating_with_an_old_version_is_a_conflict_and_changes_nothing():
    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    seen = enquiry.version
    services.propose_rating(actor=hub.coordinator, enquiry=enquiry, rag=Rag.RED, reason="Injury")
    with pytest.raises(Conflict) as excinfo:
        services.rate_enquiry(
            actor=hub.manager,
            enquiry=enquiry,
            rag=Rag.GREEN,
            rationale="Minor",
            summary_for_agencies="s",
            expected_version=seen,
        )
    assert excinfo.value.current.proposed_rag == Rag.RED  # they see the new suggestion
    enquiry.refresh_from_db()
    assert enquiry.rag == ""
    assert not AgencyRequest.objects.exists()


def test_a_draft_saved_from_an_old_page_is_a_conflict_and_keeps_the_newer_text():
    hub = journey.small_hub()
    draft = contact_services.save_draft(actor=hub.coordinator, data={"concern": "first"})
    seen = draft.version
    contact_services.save_draft(
        actor=hub.manager, contact=draft, data={"concern": "newer"}, expected_version=seen
    )
    with pytest.raises(Conflict) as excinfo:
        contact_services.save_draft(
            actor=hub.coordinator, contact=draft, data={"concern": "older"}, expected_version=seen
        )
    assert excinfo.value.current.draft == {"concern": "newer"}
    draft.refresh_from_db()
    assert draft.draft == {"concern": "newer"}


def test_two_draft_saves_from_one_version_at_once():
    hub = journey.small_hub()
    draft = contact_services.save_draft(actor=hub.coordinator, data={"concern": "first"})

    def save(actor: Any, text: str) -> Callable[[], Any]:
        return lambda: contact_services.save_draft(
            actor=actor, contact=draft, data={"concern": text}, expected_version=draft.version
        )

    results = race(save(hub.coordinator, "mine"), save(hub.manager, "theirs"))

    winner, loser = _winner_and_loser(results)
    draft.refresh_from_db()
    assert draft.draft == winner.draft
    assert loser.current.draft == winner.draft
    assert draft.version == 2


def test_two_people_finishing_one_draft_at_once_record_one_contact():
    hub = journey.small_hub()
    draft = contact_services.save_draft(actor=hub.coordinator, data={"concern": "typed"})

    def submit(actor: Any, given: str) -> Callable[[], Any]:
        return lambda: contact_services.submit_contact(
            actor=actor,
            details=journey.details(),
            people=[journey.child(given)],
            contact=draft,
            expected_version=draft.version,
        )

    results = race(submit(hub.coordinator, "Amelia"), submit(hub.manager, "Noah"))

    winner, loser = _winner_and_loser(results)
    assert loser.current.pk == draft.pk
    names = list(draft.people.values_list("given_name", flat=True))
    assert len(names) == 1
    assert names == [winner.people.get().given_name]
