"""The one sensitivity rule (visible_answer_items), for every audience and every role."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mash.accounts import services as account_services
from mash.enquiries import services
from mash.enquiries.models import AnswerItem, Enquiry, Sensitivity
from mash.enquiries.selectors import Audience, VisibleAnswers, visible_answer_items
from tests import factories
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

AGENCIES = ("police", "health", "education", "social_care")
SENSITIVITIES = tuple(Sensitivity.values)


class World:
    """A rated enquiry in a small hub, with one viewer per role (and per agency)."""

    def __init__(self) -> None:
        self.hub = journey.small_hub()
        self.enquiry = journey.rated_enquiry(self.hub)
        self.other_enquiry = journey.rated_enquiry(self.hub)
        hub = self.hub
        self.agency = {key: getattr(hub, key) for key in AGENCIES}
        self.viewers: dict[str, Any] = {
            "manager": hub.manager,
            "coordinator": hub.coordinator,  # in Children's Social Care, like the manager
            "advice_line_worker": factories.advice_line_worker(agency_=hub.police),
            "analyst": factories.analyst(agency_=hub.police),
            "administrator": factories.administrator(agency_=hub.police),
        }
        for key in AGENCIES:
            self.viewers[f"practitioner:{key}"] = hub.practitioners[key]

    def request(self, agency_key: str, enquiry: Enquiry | None = None) -> Any:
        return journey.request_for(enquiry or self.enquiry, self.agency[agency_key])

    def add_items(self, pairs: list[tuple[str, str]], enquiry: Enquiry | None = None) -> None:
        """Items written straight to the table: any mix, whatever the requests' status."""
        AnswerItem.objects.bulk_create(
            [
                AnswerItem(
                    request=self.request(agency_key, enquiry),
                    agency=self.agency[agency_key],
                    summary=f"{n}: {agency_key} {sensitivity}",
                    sensitivity=sensitivity,
                    created_by=self.hub.practitioners[agency_key],
                )
                for n, (agency_key, sensitivity) in enumerate(pairs)
            ]
        )


@pytest.fixture
def world() -> World:
    return World()


def _summaries(answers: VisibleAnswers) -> list[str]:
    return [i.summary for i in answers.items]


def _answer(world: World, agency_key: str, *items: tuple[str, str]) -> None:
    services.answer_request(
        actor=world.hub.practitioners[agency_key],
        request=world.request(agency_key),
        items=[services.ItemEntry(summary=s, sensitivity=sens) for s, sens in items],
    )


@pytest.fixture
def answered(world: World) -> World:
    """Every agency answered with one item of each sensitivity, through the services."""
    for key in AGENCIES:
        _answer(world, key, *[(f"{key} {s}", s) for s in SENSITIVITIES])
    # Another enquiry's answers must never leak into this one's.
    services.answer_request(
        actor=world.hub.practitioners["police"],
        request=world.request("police", world.other_enquiry),
        items=[services.ItemEntry(summary="elsewhere", sensitivity=Sensitivity.SHAREABLE)],
    )
    return world


def _all(*agencies: str, sensitivities: tuple[str, ...] = SENSITIVITIES) -> list[str]:
    return [f"{a} {s}" for a in agencies for s in sensitivities]


def test_a_hub_manager_sees_everything(answered):
    seen = visible_answer_items(enquiry=answered.enquiry, viewer=answered.viewers["manager"])
    assert sorted(_summaries(seen)) == sorted(_all(*AGENCIES))
    assert seen.withheld == {}


def test_a_coordinator_sees_all_but_mash_only_content_and_is_told_who_holds_it(answered):
    seen = visible_answer_items(enquiry=answered.enquiry, viewer=answered.viewers["coordinator"])
    # Their own agency (Children's Social Care) wrote its MASH-only item: they may see it.
    expected = [
        *_all(*AGENCIES, sensitivities=("shareable", "professionals")),
        "social_care mash_only",
    ]
    assert sorted(_summaries(seen)) == sorted(expected)
    assert seen.withheld == {"Education": 1, "Health Visiting": 1, "Police": 1}
    assert list(seen.withheld) == sorted(seen.withheld)  # named in a stable order


def test_a_coordinator_outside_the_answering_agencies_sees_no_mash_only_item(answered):
    outsider = factories.coordinator()
    seen = visible_answer_items(enquiry=answered.enquiry, viewer=outsider)
    assert all(i.sensitivity != Sensitivity.MASH_ONLY for i in seen.items)
    assert seen.withheld == {
        "Children's Social Care": 1,
        "Education": 1,
        "Health Visiting": 1,
        "Police": 1,
    }


def test_withheld_counts_count_items(world):
    world.add_items([("police", "mash_only")] * 3 + [("health", "mash_only")])
    seen = visible_answer_items(enquiry=world.enquiry, viewer=world.viewers["coordinator"])
    assert seen.items == []
    assert seen.withheld == {"Police": 3, "Health Visiting": 1}


@pytest.mark.parametrize("agency_key", AGENCIES)
def test_a_practitioner_sees_only_their_own_agencys_items(answered, agency_key):
    viewer = answered.viewers[f"practitioner:{agency_key}"]
    seen = visible_answer_items(enquiry=answered.enquiry, viewer=viewer)
    assert sorted(_summaries(seen)) == sorted(_all(agency_key))  # MASH-only included
    assert seen.withheld == {}  # nor are they told what others hold
    by_request = visible_answer_items(request=answered.request(agency_key), viewer=viewer)
    assert sorted(_summaries(by_request)) == sorted(_all(agency_key))
    others = [k for k in AGENCIES if k != agency_key]
    for other in others:
        assert visible_answer_items(request=answered.request(other), viewer=viewer).items == []


@pytest.mark.parametrize("role", ["advice_line_worker", "analyst", "administrator"])
def test_others_in_the_hub_see_nothing(answered, role):
    seen = visible_answer_items(enquiry=answered.enquiry, viewer=answered.viewers[role])
    assert seen.items == []
    assert seen.withheld == {}


def test_a_deactivated_manager_sees_nothing(answered):
    manager = account_services.set_user_active(
        actor=None, user=answered.viewers["manager"], active=False
    )
    seen = visible_answer_items(enquiry=answered.enquiry, viewer=manager)
    assert seen.items == []


@pytest.mark.parametrize("audience", [Audience.OUTCOME_REPORT, Audience.TRANSFER])
def test_documents_that_leave_the_hub_exclude_mash_only(answered, audience):
    seen = visible_answer_items(enquiry=answered.enquiry, audience=audience)
    assert sorted(_summaries(seen)) == sorted(
        _all(*AGENCIES, sensitivities=("shareable", "professionals"))
    )
    # Whoever prints it: the document's audience decides, not the printer's rights.
    as_manager = visible_answer_items(
        enquiry=answered.enquiry, audience=audience, viewer=answered.viewers["manager"]
    )
    assert _summaries(as_manager) == _summaries(seen)


def test_the_referrers_letter_holds_only_what_the_family_may_see(answered):
    seen = visible_answer_items(
        enquiry=answered.enquiry, audience=Audience.REFERRER, viewer=answered.viewers["manager"]
    )
    assert sorted(_summaries(seen)) == sorted(_all(*AGENCIES, sensitivities=("shareable",)))


def test_items_come_in_the_order_they_were_written(answered):
    seen = visible_answer_items(enquiry=answered.enquiry, viewer=answered.viewers["manager"])
    keys = [(i.created_at, i.pk) for i in seen.items]
    assert keys == sorted(keys)


def test_the_rule_refuses_unclear_questions(world):
    with pytest.raises(ValueError, match="Give an enquiry"):
        visible_answer_items(viewer=world.viewers["manager"])
    with pytest.raises(ValueError, match="Give an enquiry"):
        visible_answer_items(
            enquiry=world.enquiry, request=world.request("police"), viewer=world.hub.manager
        )
    with pytest.raises(ValueError, match="Unknown audience"):
        visible_answer_items(enquiry=world.enquiry)  # the hub, but who is looking?
    with pytest.raises(ValueError, match="Unknown audience"):
        visible_answer_items(enquiry=world.enquiry, viewer=world.hub.manager, audience="press")


# Any mix of items -----------------------------------------------------------------------

items_strategy = st.lists(
    st.tuples(st.sampled_from(AGENCIES), st.sampled_from(SENSITIVITIES)), max_size=14
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=items_strategy, other=items_strategy)
def test_the_rule_holds_for_any_mix_of_items(world, pairs, other):
    with transaction.atomic():
        world.add_items(pairs)
        world.add_items(other, enquiry=world.other_enquiry)  # never shown for this enquiry
        mine = {i.pk for i in AnswerItem.objects.filter(request__enquiry=world.enquiry)}
        _check_invariants(world, pairs, mine)
        transaction.set_rollback(True)


def _check_invariants(world: World, pairs: list[tuple[str, str]], mine: set[int]) -> None:
    name_of = {key: agency.name for key, agency in world.agency.items()}
    outcome = visible_answer_items(enquiry=world.enquiry, audience=Audience.OUTCOME_REPORT)
    transfer = visible_answer_items(enquiry=world.enquiry, audience=Audience.TRANSFER)
    referrer = visible_answer_items(enquiry=world.enquiry, audience=Audience.REFERRER)
    outcome_ids = {i.pk for i in outcome.items}
    referrer_ids = {i.pk for i in referrer.items}
    assert outcome_ids == {i.pk for i in transfer.items}
    assert referrer_ids <= outcome_ids <= mine
    assert len(outcome_ids) == sum(1 for _, s in pairs if s != Sensitivity.MASH_ONLY)
    assert len(referrer_ids) == sum(1 for _, s in pairs if s == Sensitivity.SHAREABLE)
    assert all(i.sensitivity == Sensitivity.SHAREABLE for i in referrer.items)

    for role, viewer in world.viewers.items():
        seen = visible_answer_items(enquiry=world.enquiry, viewer=viewer)
        ids = [i.pk for i in seen.items]
        assert len(ids) == len(set(ids))
        assert set(ids) <= mine
        for item in seen.items:
            if item.sensitivity == Sensitivity.MASH_ONLY and item.agency_id != viewer.agency_id:
                assert role == "manager", f"{role} saw another agency's MASH-only item"
        assert sum(seen.withheld_requests.values()) == sum(seen.withheld.values())
        # A person's chronology reads several enquiries at once under the same rule.
        both = visible_answer_items(enquiries=[world.enquiry, world.other_enquiry], viewer=viewer)
        for item in both.items:
            if item.sensitivity == Sensitivity.MASH_ONLY and item.agency_id != viewer.agency_id:
                assert role == "manager", f"{role} saw another agency's MASH-only item"
        assert set(ids) == {i.pk for i in both.items} & mine
        if role == "manager":
            assert set(ids) == mine
        elif role == "coordinator":
            hidden = [
                a
                for a, s in pairs
                if s == Sensitivity.MASH_ONLY and world.agency[a].pk != viewer.agency_id
            ]
            assert len(ids) == len(pairs) - len(hidden)
            assert seen.withheld == dict(Counter(name_of[a] for a in hidden))
        elif role.startswith("practitioner:"):
            key = role.split(":", 1)[1]
            assert all(i.agency_id == world.agency[key].pk for i in seen.items)
            assert len(ids) == sum(1 for a, _ in pairs if a == key)
            assert seen.withheld == {}
        else:
            assert ids == []
            assert seen.withheld == {}
