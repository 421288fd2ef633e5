"""The enquiry rules, proven on the services: consent, overrides, rating, answers, decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from mash.contacts.models import PersonRole
from mash.core import clock
from mash.core.clock import DurationUnit
from mash.core.concurrency import Conflict
from mash.core.models import AuditEvent, Hub
from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    AnswerItem,
    Consent,
    ConsentOverride,
    ConsentStatus,
    Decision,
    DecisionAmendment,
    Enquiry,
    EnquiryStatus,
    Outcome,
    OverrideGround,
    OverrideStatus,
    Rag,
    Rating,
    RequestStatus,
    Sensitivity,
    Theme,
)
from tests import factories
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

# A Friday afternoon in London (BST).
FRIDAY = dt.datetime(2026, 6, 19, 16, 30, tzinfo=clock.LONDON)


@pytest.fixture
def traveller() -> Any:
    with time_machine.travel(FRIDAY, tick=False) as t:
        yield t


@pytest.fixture
def hub(traveller: Any) -> journey.Hub:
    return journey.small_hub()


def _errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def _actions(since: int = 0) -> list[str]:
    return list(
        AuditEvent.objects.filter(id__gt=since).order_by("id").values_list("action", flat=True)
    )


def _last_audit_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def _item(summary: str = "Known to us", sensitivity: str = Sensitivity.PROFESSIONALS, **kw: Any):
    return services.ItemEntry(summary=summary, sensitivity=sensitivity, **kw)


def _answer_all(hub: journey.Hub, enquiry: Enquiry) -> None:
    for key, agency in (
        ("police", hub.police),
        ("health", hub.health),
        ("education", hub.education),
        ("social_care", hub.social_care),
    ):
        services.answer_request(
            actor=hub.practitioners[key],
            request=journey.request_for(enquiry, agency),
            nothing_held=True,
        )


def _decide(
    hub: journey.Hub, enquiry: Enquiry, child: Any = None, *, actor: Any = None, **kw: Any
) -> Decision:
    fields: dict[str, Any] = {
        "outcome": Outcome.SECTION_17,
        "primary_need": "N1",
        "rationale": "Bruising and a history of domestic abuse.",
        "next_team": "Assessment team",
    }
    fields.update(kw)
    return services.decide(
        actor=actor or hub.manager,
        enquiry=enquiry,
        child=child or services.children_of(enquiry)[0],
        **fields,
    )


# Consent -----------------------------------------------------------------------------


@pytest.fixture
def enquiry(hub: journey.Hub) -> Enquiry:
    return journey.open_enquiry(hub)


@pytest.mark.parametrize("status", [ConsentStatus.GIVEN, ConsentStatus.REFUSED])
def test_given_or_refused_consent_needs_who_and_when(hub, enquiry, status):
    with pytest.raises(ValidationError) as excinfo:
        services.record_consent(actor=hub.coordinator, enquiry=enquiry, status=status)
    assert _errors(excinfo) == {
        "given_by": ["Enter who gave or refused consent"],
        "decided_on": ["Enter when consent was given or refused"],
    }
    assert not Consent.objects.exists()
    consent = services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status=status,
        given_by=" Dawn Hart (mother) ",
        decided_on=clock.now() - dt.timedelta(hours=1),
    )
    assert consent.given_by == "Dawn Hart (mother)"
    assert consent.recorded_by == hub.coordinator


def test_consent_cannot_be_decided_in_the_future(hub, enquiry):
    with pytest.raises(ValidationError) as excinfo:
        services.record_consent(
            actor=hub.coordinator,
            enquiry=enquiry,
            status=ConsentStatus.GIVEN,
            given_by="Dawn",
            decided_on=clock.now() + dt.timedelta(days=1),
        )
    assert _errors(excinfo) == {
        "decided_on": ["When consent was given or refused cannot be in the future"]
    }


def test_consent_needs_a_known_status_and_short_notes(hub, enquiry):
    with pytest.raises(ValidationError) as excinfo:
        services.record_consent(
            actor=hub.coordinator, enquiry=enquiry, status="maybe", notes="n" * 20_001
        )
    assert set(_errors(excinfo)) == {"status", "notes"}


def test_consent_not_sought_needs_no_who_or_when_and_does_not_open_checks(hub, enquiry):
    services.record_consent(actor=hub.coordinator, enquiry=enquiry, status="not_sought")
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.AWAITING_CONSENT
    assert not services.checks_may_proceed(enquiry)


def test_consent_given_lets_checks_proceed(hub, enquiry):
    assert not services.checks_may_proceed(enquiry)
    start = _last_audit_id()
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status=ConsentStatus.GIVEN,
        given_by="Dawn",
        decided_on=clock.now(),
    )
    enquiry.refresh_from_db()
    assert services.checks_may_proceed(enquiry)
    assert enquiry.status == EnquiryStatus.AWAITING_RATING
    assert _actions(start) == ["enquiries.consent_recorded"]


def test_the_latest_consent_applies(hub, enquiry, traveller):
    services.record_consent(
        actor=hub.coordinator, enquiry=enquiry, status="given", given_by="D", decided_on=clock.now()
    )
    traveller.shift(dt.timedelta(minutes=5))
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status="refused",
        given_by="D",
        decided_on=clock.now(),
    )
    assert not services.checks_may_proceed(enquiry)


def test_refused_consent_with_an_authorised_override_lets_checks_proceed(hub, enquiry):
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status="refused",
        given_by="D",
        decided_on=clock.now(),
    )
    assert not services.checks_may_proceed(enquiry)
    services.propose_override(
        actor=hub.manager,
        enquiry=enquiry,
        grounds=[OverrideGround.SIGNIFICANT_HARM],
        justification="Injury to a toddler.",
    )
    assert services.checks_may_proceed(enquiry)


@pytest.mark.parametrize("role", ["practitioner", "advice_line_worker", "analyst", "administrator"])
def test_only_the_hub_records_consent(hub, enquiry, make, role):
    with pytest.raises(PermissionDenied):
        services.record_consent(actor=getattr(make, role)(), enquiry=enquiry, status="not_sought")


# Overrides ---------------------------------------------------------------------------


def _propose(actor: Any, enquiry: Enquiry, **kw: Any) -> ConsentOverride:
    fields: dict[str, Any] = {
        "grounds": [OverrideGround.SIGNIFICANT_HARM, OverrideGround.PREJUDICE_CRIME],
        "justification": "Telling the mother could alert the partner.",
    }
    fields.update(kw)
    return services.propose_override(actor=actor, enquiry=enquiry, **fields)


def test_a_coordinator_proposes_an_override(hub, enquiry):
    start = _last_audit_id()
    override = _propose(hub.coordinator, enquiry)
    override.refresh_from_db()
    assert override.status == OverrideStatus.PROPOSED
    assert override.proposed_by == hub.coordinator
    assert override.grounds == sorted(
        [OverrideGround.SIGNIFICANT_HARM, OverrideGround.PREJUDICE_CRIME]
    )
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.AWAITING_CONSENT
    assert not services.checks_may_proceed(enquiry)
    assert _actions(start) == ["enquiries.override_proposed"]


def test_a_manager_authorises_a_proposed_override(hub, enquiry):
    override = _propose(hub.coordinator, enquiry)
    start = _last_audit_id()
    decided = services.decide_override(actor=hub.manager, override=override, authorise=True)
    assert decided.status == OverrideStatus.AUTHORISED
    assert (decided.decided_by, decided.decided_at) == (hub.manager, clock.now())
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.AWAITING_RATING
    assert _actions(start) == ["enquiries.override_authorised"]


def test_a_managers_own_proposal_is_authorised_at_once(hub, enquiry):
    start = _last_audit_id()
    override = _propose(hub.manager, enquiry)
    override.refresh_from_db()
    assert override.status == OverrideStatus.AUTHORISED
    assert override.decided_by == hub.manager
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.AWAITING_RATING
    assert _actions(start) == ["enquiries.override_proposed", "enquiries.override_authorised"]


def test_declining_needs_a_reason(hub, enquiry):
    override = _propose(hub.coordinator, enquiry)
    with pytest.raises(ValidationError) as excinfo:
        services.decide_override(actor=hub.manager, override=override, authorise=False)
    assert _errors(excinfo) == {"reason": ["Enter why the override is declined"]}
    override.refresh_from_db()
    assert override.status == OverrideStatus.PROPOSED
    declined = services.decide_override(
        actor=hub.manager, override=override, authorise=False, reason=" Ask the mother first. "
    )
    assert declined.status == OverrideStatus.DECLINED
    assert declined.declined_reason == "Ask the mother first."
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.AWAITING_CONSENT
    assert AuditEvent.objects.filter(action="enquiries.override_declined").count() == 1


def test_deciding_an_override_twice_is_a_conflict(hub, enquiry):
    override = _propose(hub.coordinator, enquiry)
    other_manager = factories.hub_manager(agency_=hub.social_care)
    services.decide_override(actor=hub.manager, override=override, authorise=True)
    with pytest.raises(Conflict) as excinfo:
        services.decide_override(
            actor=other_manager, override=override, authorise=False, reason="No"
        )
    assert excinfo.value.current.status == OverrideStatus.AUTHORISED
    assert excinfo.value.current.decided_by == hub.manager
    override.refresh_from_db()
    assert override.status == OverrideStatus.AUTHORISED


def test_a_coordinator_cannot_authorise_an_override(hub, enquiry):
    override = _propose(hub.coordinator, enquiry)
    with pytest.raises(PermissionDenied):
        services.decide_override(actor=hub.coordinator, override=override, authorise=True)
    override.refresh_from_db()
    assert override.status == OverrideStatus.PROPOSED


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"grounds": []}, {"grounds"}),
        ({"grounds": ["because"]}, {"grounds"}),
        ({"grounds": [OverrideGround.OTHER]}, {"other_ground"}),
        ({"grounds": [OverrideGround.OTHER], "other_ground": "x" * 501}, {"other_ground"}),
        ({"justification": "  "}, {"justification"}),
        ({"justification": "j" * 20_001}, {"justification"}),
    ],
)
def test_an_override_needs_grounds_and_a_justification(hub, enquiry, fields, errors):
    with pytest.raises(ValidationError) as excinfo:
        _propose(hub.manager, enquiry, **fields)
    assert set(_errors(excinfo)) == errors
    assert not ConsentOverride.objects.exists()


def test_other_grounds_are_named(hub, enquiry):
    override = _propose(
        hub.coordinator, enquiry, grounds=[OverrideGround.OTHER], other_ground="Court order"
    )
    assert override.ground_labels == ["Other: Court order"]


# Rating ------------------------------------------------------------------------------


@pytest.fixture
def consented(hub: journey.Hub) -> Enquiry:
    return journey.consented_enquiry(hub)


def _rate(
    hub: journey.Hub, enquiry: Enquiry, rag: str = Rag.RED, *, actor: Any = None, **kw: Any
) -> Enquiry:
    fields: dict[str, Any] = {
        "rationale": "Injury to a young child.",
        "summary_for_agencies": "Amelia Hart, 8: bruising; mother and partner at home.",
    }
    fields.update(kw)
    return services.rate_enquiry(actor=actor or hub.manager, enquiry=enquiry, rag=rag, **fields)


def test_rating_needs_consent_or_an_authorised_override(hub, enquiry):
    with pytest.raises(ValidationError) as excinfo:
        _rate(hub, enquiry)
    assert _errors(excinfo) == {
        "rag": ["Record consent, or an authorised override, before agencies are asked"]
    }
    _propose(hub.coordinator, enquiry)
    with pytest.raises(ValidationError):
        _rate(hub, enquiry)  # proposed is not enough
    assert not AgencyRequest.objects.exists()
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("rag", "hours"), [(Rag.URGENT, 4), (Rag.RED, 4), (Rag.AMBER, 24), (Rag.GREEN, 48)]
)
def test_rating_asks_every_active_agency_with_the_hubs_clock(hub, consented, rag, hours):
    factories.agency(name="Closed Service", is_active=False)
    start = _last_audit_id()
    enquiry = _rate(hub, consented, rag)
    assert enquiry.status == EnquiryStatus.CHECKS
    assert (enquiry.rag, enquiry.rated_at) == (rag, clock.now())
    requests = list(AgencyRequest.objects.filter(enquiry=enquiry).select_related("agency"))
    assert sorted(r.agency.name for r in requests) == sorted(
        [hub.police.name, hub.health.name, hub.education.name, hub.social_care.name]
    )
    for request in requests:
        assert request.status == RequestStatus.PENDING
        assert request.requested_at == request.clock_started_at == clock.now()
        assert request.deadline_at == clock.now() + dt.timedelta(hours=hours)
        assert (request.duration_amount, request.duration_unit) == (hours, DurationUnit.CLOCK_HOURS)
    rating = Rating.objects.get(enquiry=enquiry)
    assert (rating.rag, rating.previous_rag, rating.rated_by) == (rag, "", hub.manager)
    assert _actions(start) == ["enquiries.enquiry_rated"]


def test_amber_of_one_working_day_on_a_friday_afternoon_runs_to_monday(hub, consented):
    hub_settings = Hub.load()
    hub_settings.amber_amount, hub_settings.amber_unit = 1, DurationUnit.WORKING_DAYS
    hub_settings.save()
    _rate(hub, consented, Rag.AMBER)
    monday = dt.datetime(2026, 6, 22, 16, 30, tzinfo=clock.LONDON)
    for request in AgencyRequest.objects.filter(enquiry=consented):
        assert request.deadline_at == monday
        assert str(request.duration) == "1 working day"


def test_agencies_not_required_are_recorded_with_their_reasons(hub, consented):
    enquiry = _rate(hub, consented, not_required={hub.education.pk: " Child not of school age "})
    excluded = journey.request_for(enquiry, hub.education)
    assert excluded.status == RequestStatus.NOT_REQUIRED
    assert excluded.not_required_reason == "Child not of school age"
    assert excluded.not_required_by == hub.manager
    pending = AgencyRequest.objects.filter(enquiry=enquiry, status=RequestStatus.PENDING)
    assert pending.count() == 3
    event = AuditEvent.objects.get(action="enquiries.enquiry_rated")
    assert event.detail["not_required"] == [hub.education.pk]


def test_an_agency_not_required_needs_a_reason(hub, consented):
    with pytest.raises(ValidationError) as excinfo:
        _rate(hub, consented, not_required={hub.police.pk: " "})
    assert _errors(excinfo) == {
        f"not_required_{hub.police.pk}": ["Enter why this agency is not required"]
    }
    assert not AgencyRequest.objects.exists()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"rag": "purple"}, {"rag"}),
        ({"rationale": ""}, {"rationale"}),
        ({"rationale": "r" * 20_001}, {"rationale"}),
        ({"summary_for_agencies": " "}, {"summary_for_agencies"}),
    ],
)
def test_a_first_rating_needs_a_rag_a_rationale_and_a_summary(hub, consented, fields, errors):
    rag = fields.pop("rag", Rag.RED)
    with pytest.raises(ValidationError) as excinfo:
        _rate(hub, consented, rag, **fields)
    assert set(_errors(excinfo)) == errors
    consented.refresh_from_db()
    assert consented.rag == ""
    assert not AuditEvent.objects.filter(action="enquiries.enquiry_rated").exists()


def test_re_rating_restarts_only_pending_clocks_from_the_moment_of_re_rating(
    hub, consented, traveller
):
    rated_at = clock.now()
    enquiry = _rate(hub, consented, Rag.GREEN, not_required={hub.education.pk: "Not school age"})
    traveller.shift(dt.timedelta(hours=1))
    police = services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[_item()],
    )
    traveller.shift(dt.timedelta(hours=1))
    re_rated_at = clock.now()
    start = _last_audit_id()
    enquiry = services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag=Rag.RED,
        rationale="Police now report a weapon in the house.",
        expected_version=enquiry.version,
    )
    assert (enquiry.rag, enquiry.rated_at) == (Rag.RED, re_rated_at)
    for agency in (hub.health, hub.social_care):
        request = journey.request_for(enquiry, agency)
        assert request.clock_started_at == re_rated_at
        assert request.deadline_at == re_rated_at + dt.timedelta(hours=4)
        assert (request.duration_amount, request.requested_at) == (4, rated_at)
    answered = journey.request_for(enquiry, hub.police)
    assert answered.status == RequestStatus.ANSWERED
    assert (answered.clock_started_at, answered.deadline_at) == (
        police.clock_started_at,
        rated_at + dt.timedelta(hours=48),
    )
    excluded = journey.request_for(enquiry, hub.education)
    assert excluded.status == RequestStatus.NOT_REQUIRED
    assert excluded.deadline_at == rated_at + dt.timedelta(hours=48)
    latest = Rating.objects.filter(enquiry=enquiry).order_by("-rated_at").first()
    assert latest is not None
    assert (latest.rag, latest.previous_rag, latest.rationale) == (
        Rag.RED,
        Rag.GREEN,
        "Police now report a weapon in the house.",
    )
    assert Rating.objects.filter(enquiry=enquiry).count() == 2
    assert _actions(start) == ["enquiries.enquiry_re_rated"]
    assert AuditEvent.objects.get(action="enquiries.enquiry_re_rated").detail["previous"] == "green"


def test_re_rating_needs_a_reason(hub, consented):
    enquiry = _rate(hub, consented, Rag.GREEN)
    with pytest.raises(ValidationError) as excinfo:
        services.rate_enquiry(actor=hub.manager, enquiry=enquiry, rag=Rag.RED, rationale=" ")
    assert _errors(excinfo) == {"rationale": ["Enter the reason for re-rating"]}


def test_re_rating_to_the_same_rag_is_refused(hub, consented):
    enquiry = _rate(hub, consented, Rag.AMBER)
    with pytest.raises(ValidationError) as excinfo:
        services.rate_enquiry(actor=hub.manager, enquiry=enquiry, rag=Rag.AMBER, rationale="Why")
    assert _errors(excinfo) == {"rag": ["The enquiry is already rated Amber"]}
    assert Rating.objects.count() == 1


def test_rating_with_an_old_version_is_a_conflict(hub, consented):
    seen = consented.version
    _rate(hub, consented, Rag.GREEN, expected_version=seen)
    with pytest.raises(Conflict) as excinfo:
        _rate(hub, consented, Rag.RED, expected_version=seen)
    assert excinfo.value.current.rag == Rag.GREEN
    assert Rating.objects.count() == 1


@pytest.mark.parametrize("who", ["coordinator", "practitioner"])
def test_coordinators_and_practitioners_cannot_rate(hub, consented, who):
    actor = hub.coordinator if who == "coordinator" else hub.practitioners["police"]
    with pytest.raises(PermissionDenied):
        _rate(hub, consented, actor=actor)
    assert not Rating.objects.exists()


def test_a_coordinator_proposes_a_rating_for_the_manager(hub, consented):
    enquiry = services.propose_rating(
        actor=hub.coordinator, enquiry=consented, rag=Rag.AMBER, reason=" Older bruising "
    )
    assert (enquiry.proposed_rag, enquiry.proposed_rag_reason, enquiry.proposed_rag_by) == (
        Rag.AMBER,
        "Older bruising",
        hub.coordinator,
    )
    assert enquiry.rag == ""
    with pytest.raises(ValidationError) as excinfo:
        services.propose_rating(actor=hub.coordinator, enquiry=consented, rag="x", reason="")
    assert set(_errors(excinfo)) == {"rag", "reason"}
    with pytest.raises(PermissionDenied):
        services.propose_rating(
            actor=hub.practitioners["police"], enquiry=consented, rag=Rag.RED, reason="r"
        )


def test_a_manager_marks_a_pending_agency_not_required(hub):
    enquiry = journey.rated_enquiry(hub)
    request = journey.request_for(enquiry, hub.health)
    with pytest.raises(ValidationError):
        services.mark_not_required(actor=hub.manager, request=request, reason="")
    with pytest.raises(PermissionDenied):
        services.mark_not_required(actor=hub.coordinator, request=request, reason="r")
    done = services.mark_not_required(actor=hub.manager, request=request, reason="Not known")
    assert (done.status, done.not_required_reason, done.not_required_by) == (
        RequestStatus.NOT_REQUIRED,
        "Not known",
        hub.manager,
    )
    with pytest.raises(Conflict):
        services.mark_not_required(actor=hub.manager, request=request, reason="again")
    assert AuditEvent.objects.filter(action="enquiries.request_not_required").count() == 1


# Answers -----------------------------------------------------------------------------


@pytest.fixture
def rated(hub: journey.Hub) -> Enquiry:
    return journey.rated_enquiry(hub)


def test_a_practitioner_answers_with_items(hub, rated, traveller):
    request = journey.request_for(rated, hub.police)
    traveller.shift(dt.timedelta(minutes=20))
    start = _last_audit_id()
    answered = services.answer_request(
        actor=hub.practitioners["police"],
        request=request,
        items=[
            _item(
                " Domestic abuse call-out, March ",
                Sensitivity.PROFESSIONALS,
                detail=" Partner arrested. ",
                risk_indicators=["violence", "domestic_abuse", "violence"],
                source_reference=" NICHE-123 ",
            ),
            _item("Intelligence on partner", Sensitivity.MASH_ONLY),
        ],
        expected_version=request.version,
    )
    assert answered.status == RequestStatus.ANSWERED
    assert (answered.answered_by, answered.answered_at) == (
        hub.practitioners["police"],
        clock.now(),
    )
    first, second = AnswerItem.objects.filter(request=request).order_by("id")
    assert (first.summary, first.detail, first.source_reference) == (
        "Domestic abuse call-out, March",
        "Partner arrested.",
        "NICHE-123",
    )
    assert first.risk_indicators == ["domestic_abuse", "violence"]
    assert first.agency == hub.police
    assert first.created_by == hub.practitioners["police"]
    assert second.sensitivity == Sensitivity.MASH_ONLY
    assert _actions(start) == ["enquiries.request_answered"]


def test_nothing_held(hub, rated):
    request = journey.request_for(rated, hub.health)
    answered = services.answer_request(
        actor=hub.practitioners["health"], request=request, nothing_held=True
    )
    assert answered.status == RequestStatus.NOTHING_HELD
    assert not AnswerItem.objects.exists()


def test_nothing_held_and_items_together_are_refused(hub, rated):
    request = journey.request_for(rated, hub.health)
    with pytest.raises(ValidationError) as excinfo:
        services.answer_request(
            actor=hub.practitioners["health"],
            request=request,
            nothing_held=True,
            items=[_item()],
        )
    assert set(_errors(excinfo)) == {"nothing_held"}
    with pytest.raises(ValidationError) as excinfo:
        services.answer_request(actor=hub.practitioners["health"], request=request)
    assert set(_errors(excinfo)) == {"items"}
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert not AnswerItem.objects.exists()


@pytest.mark.parametrize(
    "item",
    [
        services.ItemEntry(summary=" ", sensitivity=Sensitivity.SHAREABLE),
        services.ItemEntry(summary="s" * 501, sensitivity=Sensitivity.SHAREABLE),
        services.ItemEntry(summary="s", sensitivity="secret"),
        services.ItemEntry(summary="s", sensitivity=Sensitivity.SHAREABLE, detail="d" * 20_001),
        services.ItemEntry(summary="s", sensitivity=Sensitivity.SHAREABLE, risk_indicators=["x"]),
        services.ItemEntry(
            summary="s", sensitivity=Sensitivity.SHAREABLE, source_reference="r" * 101
        ),
    ],
)
def test_each_item_is_checked(hub, rated, item):
    request = journey.request_for(rated, hub.health)
    with pytest.raises(ValidationError) as excinfo:
        services.answer_request(
            actor=hub.practitioners["health"], request=request, items=[_item(), item]
        )
    assert set(_errors(excinfo)) == {"items-1"}
    assert not AnswerItem.objects.exists()


def test_only_the_requests_agency_answers(hub, rated, make):
    request = journey.request_for(rated, hub.police)
    for actor in (
        hub.practitioners["health"],
        hub.manager,
        hub.coordinator,
        make.advice_line_worker(agency_=hub.police),
        make.analyst(agency_=hub.police),
        make.administrator(agency_=hub.police),
    ):
        with pytest.raises(PermissionDenied):
            services.answer_request(actor=actor, request=request, nothing_held=True)
        with pytest.raises(PermissionDenied):
            services.add_to_answer(actor=actor, request=request, items=[_item()])
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    colleague = make.practitioner(agency_=hub.police)
    assert services.answer_request(actor=colleague, request=request, nothing_held=True)


def test_adding_to_an_answer_keeps_earlier_items_unchanged(hub, rated, traveller):
    police = hub.practitioners["police"]
    request = journey.request_for(rated, hub.police)
    services.answer_request(actor=police, request=request, items=[_item("First", detail="one")])
    before = list(AnswerItem.objects.values())
    traveller.shift(dt.timedelta(hours=1))
    colleague = factories.practitioner(agency_=hub.police)
    start = _last_audit_id()
    services.add_to_answer(
        actor=colleague, request=request, items=[_item("Second", Sensitivity.MASH_ONLY)]
    )
    after = list(AnswerItem.objects.order_by("id").values())
    assert after[: len(before)] == before
    assert [(i["summary"], i["created_by_id"]) for i in after] == [
        ("First", police.pk),
        ("Second", colleague.pk),
    ]
    assert after[1]["created_at"] == clock.now()
    request.refresh_from_db()
    assert request.status == RequestStatus.ANSWERED
    assert request.answered_by == police  # who answered first stays on record
    assert _actions(start) == ["enquiries.answer_added_to"]


def test_adding_to_nothing_held_makes_it_answered(hub, rated):
    request = journey.request_for(rated, hub.health)
    services.answer_request(actor=hub.practitioners["health"], request=request, nothing_held=True)
    services.add_to_answer(actor=hub.practitioners["health"], request=request, items=[_item()])
    request.refresh_from_db()
    assert request.status == RequestStatus.ANSWERED


def test_adding_needs_an_answer_and_items(hub, rated):
    request = journey.request_for(rated, hub.health)
    with pytest.raises(Conflict):
        services.add_to_answer(actor=hub.practitioners["health"], request=request, items=[_item()])
    services.answer_request(actor=hub.practitioners["health"], request=request, nothing_held=True)
    with pytest.raises(ValidationError):
        services.add_to_answer(actor=hub.practitioners["health"], request=request, items=[])


def test_answering_twice_is_a_conflict_with_the_first_answer(hub, rated, make):
    request = journey.request_for(rated, hub.police)
    first = hub.practitioners["police"]
    services.answer_request(actor=first, request=request, items=[_item("Mine")])
    with pytest.raises(Conflict) as excinfo:
        services.answer_request(
            actor=make.practitioner(agency_=hub.police), request=request, nothing_held=True
        )
    current = excinfo.value.current
    assert (current.pk, current.status, current.answered_by) == (
        request.pk,
        RequestStatus.ANSWERED,
        first,
    )
    assert [i.summary for i in AnswerItem.objects.all()] == ["Mine"]
    assert AuditEvent.objects.filter(action="enquiries.request_answered").count() == 1


def test_answering_with_a_stale_version_is_a_conflict(hub, rated):
    request = journey.request_for(rated, hub.police)
    services.mark_not_required(actor=hub.manager, request=request, reason="Duplicate")
    with pytest.raises(Conflict):
        services.answer_request(
            actor=hub.practitioners["police"],
            request=request,
            nothing_held=True,
            expected_version=request.version,
        )


def test_answering_a_request_not_required_is_a_conflict(hub):
    enquiry = journey.consented_enquiry(hub)
    services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag=Rag.RED,
        rationale="r",
        summary_for_agencies="s",
        not_required={hub.education.pk: "Not school age"},
    )
    request = journey.request_for(enquiry, hub.education)
    with pytest.raises(Conflict) as excinfo:
        services.answer_request(
            actor=hub.practitioners["education"], request=request, items=[_item()]
        )
    assert excinfo.value.current.status == RequestStatus.NOT_REQUIRED
    assert not AnswerItem.objects.exists()


# Decisions ---------------------------------------------------------------------------


def test_a_manager_decides_for_a_child_and_the_enquiry_closes(hub, rated):
    _answer_all(hub, rated)
    start = _last_audit_id()
    decision = _decide(
        hub,
        rated,
        themes=[Theme.DOMESTIC_ABUSE, Theme.NEGLECT, Theme.NEGLECT],
        referrer_feedback=" Thank you; an assessment will follow. ",
        pending_reason="ignored: nothing is pending",
    )
    assert decision.decided_by == hub.manager
    assert decision.decided_at == clock.now()
    assert decision.pending_reason == ""
    assert decision.referrer_feedback == "Thank you; an assessment will follow."
    assert sorted(decision.themes.values_list("theme", flat=True)) == ["domestic_abuse", "neglect"]
    rated.refresh_from_db()
    assert rated.status == EnquiryStatus.CLOSED
    assert rated.closed_at == clock.now()
    assert _actions(start) == ["enquiries.decision_recorded", "enquiries.enquiry_closed"]


@pytest.mark.parametrize("who", ["coordinator", "practitioner"])
def test_only_a_manager_decides(hub, rated, who):
    actor = hub.coordinator if who == "coordinator" else hub.practitioners["police"]
    with pytest.raises(PermissionDenied):
        _decide(hub, rated, actor=actor, pending_reason="Urgent")
    assert not Decision.objects.exists()


def test_the_child_must_be_on_the_enquiry(hub, rated):
    adult = rated.contact.people.get(role=PersonRole.ADULT).person
    stranger = journey.open_enquiry(hub).contact.people.get(role=PersonRole.CHILD).person
    for person in (adult, stranger):
        with pytest.raises(ValidationError) as excinfo:
            _decide(hub, rated, child=person, pending_reason="Urgent")
        assert _errors(excinfo) == {"child": ["This child is not on the enquiry"]}


def test_deciding_while_agencies_are_pending_needs_a_reason(hub, rated):
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(rated, hub.police),
        nothing_held=True,
    )
    with pytest.raises(ValidationError) as excinfo:
        _decide(hub, rated)
    assert _errors(excinfo) == {
        "pending_reason": ["Some agencies have not answered: enter why you are deciding now"]
    }
    decision = _decide(hub, rated, pending_reason=" Immediate risk ")
    assert decision.pending_reason == "Immediate risk"


def test_early_help_needs_the_lead_professionals_agency(hub, rated):
    _answer_all(hub, rated)
    with pytest.raises(ValidationError) as excinfo:
        _decide(hub, rated, outcome=Outcome.EARLY_HELP)
    assert _errors(excinfo) == {
        "lead_professional_agency": ["Select the lead professional's agency"]
    }
    decision = _decide(
        hub, rated, outcome=Outcome.EARLY_HELP, lead_professional_agency=hub.education
    )
    assert decision.lead_professional_agency == hub.education


def test_a_lead_professional_is_kept_only_for_early_help(hub, rated):
    _answer_all(hub, rated)
    decision = _decide(hub, rated, outcome=Outcome.NFA, lead_professional_agency=hub.education)
    assert decision.lead_professional_agency is None


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"outcome": "jail"}, {"outcome"}),
        ({"primary_need": "N10"}, {"primary_need"}),
        ({"themes": ["bad"]}, {"themes"}),
        ({"rationale": " "}, {"rationale"}),
        ({"rationale": "r" * 20_001}, {"rationale"}),
        ({"next_team": ""}, {"next_team"}),
        ({"next_team": "t" * 201}, {"next_team"}),
        ({"referrer_feedback": "f" * 20_001}, {"referrer_feedback"}),
    ],
)
def test_a_decision_is_checked(hub, rated, fields, errors):
    _answer_all(hub, rated)
    with pytest.raises(ValidationError) as excinfo:
        _decide(hub, rated, **fields)
    assert set(_errors(excinfo)) == errors
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action="enquiries.decision_recorded").exists()


def test_a_second_decision_for_the_same_child_is_a_conflict_carrying_the_first(hub, traveller):
    two = journey.rated_enquiry(
        hub, people=[journey.child(), journey.child("Noah", born=dt.date(2021, 1, 1))]
    )
    amelia = services.children_of(two)[0]
    first = _decide(hub, two, child=amelia, pending_reason="Urgent")
    other = factories.hub_manager(agency_=hub.social_care)
    with pytest.raises(Conflict) as excinfo:
        _decide(hub, two, child=amelia, actor=other, outcome=Outcome.NFA, pending_reason="r")
    assert excinfo.value.current == first
    assert excinfo.value.current.outcome == Outcome.SECTION_17
    assert Decision.objects.count() == 1


def test_the_enquiry_closes_when_every_child_is_decided(hub):
    enquiry = journey.rated_enquiry(
        hub,
        people=[journey.child(), journey.adult(), journey.child("Noah", born=dt.date(2021, 1, 1))],
    )
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[_item()],
    )
    amelia, noah = services.children_of(enquiry)
    _decide(hub, enquiry, child=amelia, pending_reason="Risk is clear")
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.CHECKS
    assert AgencyRequest.objects.filter(enquiry=enquiry, status=RequestStatus.PENDING).count() == 3
    _decide(
        hub,
        enquiry,
        child=noah,
        outcome=Outcome.EARLY_HELP,
        lead_professional_agency=hub.health,
        pending_reason="Risk is clear",
    )
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.CLOSED
    requests = {r.agency_id: r for r in AgencyRequest.objects.filter(enquiry=enquiry)}
    assert requests[hub.police.pk].status == RequestStatus.ANSWERED
    for agency in (hub.health, hub.education, hub.social_care):
        request = requests[agency.pk]
        assert request.status == RequestStatus.NOT_REQUIRED
        assert request.not_required_reason == (
            "The enquiry was decided before this agency answered."
        )
        assert request.not_required_by == hub.manager
    assert AuditEvent.objects.filter(action="enquiries.enquiry_closed").count() == 1
    # A practitioner who opens the request now is told it is no longer needed.
    with pytest.raises(Conflict):
        services.answer_request(
            actor=hub.practitioners["health"],
            request=requests[hub.health.pk],
            nothing_held=True,
        )


def test_deciding_on_a_closed_enquiry_is_a_conflict(hub, rated):
    _answer_all(hub, rated)
    decision = _decide(hub, rated)
    with pytest.raises(Conflict) as excinfo:
        _decide(hub, rated, outcome=Outcome.NFA)
    assert excinfo.value.current == decision
    newcomer = journey.open_enquiry(hub).contact.people.get(role=PersonRole.CHILD).person
    with pytest.raises(Conflict) as excinfo:
        _decide(hub, rated, child=newcomer)
    assert excinfo.value.current.pk == rated.pk
    for write in (
        lambda: services.record_consent(actor=hub.manager, enquiry=rated, status="not_sought"),
        lambda: _propose(hub.manager, rated),
        lambda: services.rate_enquiry(
            actor=hub.manager, enquiry=rated, rag=Rag.GREEN, rationale="r"
        ),
        lambda: services.propose_rating(
            actor=hub.manager, enquiry=rated, rag=Rag.GREEN, reason="r"
        ),
    ):
        with pytest.raises(Conflict):
            write()


# Amendments --------------------------------------------------------------------------


@pytest.fixture
def decision(hub: journey.Hub, rated: Enquiry) -> Decision:
    _answer_all(hub, rated)
    return _decide(hub, rated, themes=[Theme.NEGLECT])


def test_an_amendment_records_old_and_new_per_field_and_themes(hub, decision, traveller):
    traveller.shift(dt.timedelta(days=1))
    start = _last_audit_id()
    amendment = services.amend_decision(
        actor=hub.manager,
        decision=decision,
        reason=" Wrong outcome chosen ",
        outcome=Outcome.EARLY_HELP,
        lead_professional_agency=hub.education,
        rationale=decision.rationale,  # unchanged: not recorded
        themes=[Theme.DOMESTIC_ABUSE, Theme.NEGLECT],
    )
    assert amendment.changes == {
        "outcome": [Outcome.SECTION_17, Outcome.EARLY_HELP],
        "lead_professional_agency": [None, hub.education.pk],
        "themes": [["neglect"], ["domestic_abuse", "neglect"]],
    }
    assert (amendment.reason, amendment.amended_by, amendment.amended_at) == (
        "Wrong outcome chosen",
        hub.manager,
        clock.now(),
    )
    decision.refresh_from_db()
    assert decision.outcome == Outcome.EARLY_HELP
    assert decision.lead_professional_agency == hub.education
    assert sorted(decision.themes.values_list("theme", flat=True)) == ["domestic_abuse", "neglect"]
    assert decision.decided_at < amendment.amended_at  # the original stays as decided
    assert _actions(start) == ["enquiries.decision_amended"]
    event = AuditEvent.objects.get(action="enquiries.decision_amended")
    assert event.detail == {
        "decision": decision.pk,
        "changed": ["lead_professional_agency", "outcome", "themes"],
    }


def test_an_amendment_needs_a_reason(hub, decision):
    with pytest.raises(ValidationError) as excinfo:
        services.amend_decision(
            actor=hub.manager, decision=decision, reason=" ", outcome=Outcome.NFA
        )
    assert _errors(excinfo) == {"reason": ["Enter the reason for the amendment"]}
    decision.refresh_from_db()
    assert decision.outcome == Outcome.SECTION_17


def test_an_amendment_that_changes_nothing_is_refused(hub, decision):
    with pytest.raises(ValidationError) as excinfo:
        services.amend_decision(
            actor=hub.manager,
            decision=decision,
            reason="Checking",
            outcome=decision.outcome,
            themes=[Theme.NEGLECT],
        )
    assert _errors(excinfo) == {"__all__": ["Nothing was changed"]}
    assert not DecisionAmendment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rationale": "  "}, "rationale"),
        ({"rationale": "r" * 20_001}, "rationale"),
        ({"next_team": ""}, "next_team"),
        ({"next_team": "t" * 201}, "next_team"),
        ({"referrer_feedback": "f" * 20_001}, "referrer_feedback"),
        ({"outcome": "jail"}, "outcome"),
        ({"primary_need": "N10"}, "primary_need"),
        ({"themes": ["bad"]}, "themes"),
    ],
)
def test_an_amendment_is_checked_like_a_decision(hub, decision, changes, field):
    with pytest.raises(ValidationError) as excinfo:
        services.amend_decision(actor=hub.manager, decision=decision, reason="Fix", **changes)
    assert set(_errors(excinfo)) == {field}
    assert not DecisionAmendment.objects.exists()


def test_amending_away_from_early_help_drops_the_lead_professional(hub, rated):
    _answer_all(hub, rated)
    decision = _decide(hub, rated, outcome=Outcome.EARLY_HELP, lead_professional_agency=hub.health)
    amendment = services.amend_decision(
        actor=hub.manager, decision=decision, reason="Needs assessment", outcome=Outcome.SECTION_17
    )
    assert amendment.changes == {
        "outcome": [Outcome.EARLY_HELP, Outcome.SECTION_17],
        "lead_professional_agency": [hub.health.pk, None],
    }
    decision.refresh_from_db()
    assert decision.lead_professional_agency is None


def test_an_amendment_that_fails_late_leaves_everything_as_it_was(hub, decision):
    # The themes are replaced before the early-help check refuses the amendment: the
    # whole amendment, its theme changes and its audit event must roll back together.
    start = _last_audit_id()
    with pytest.raises(ValidationError):
        services.amend_decision(
            actor=hub.manager,
            decision=decision,
            reason="Fix",
            outcome=Outcome.EARLY_HELP,
            themes=[Theme.CSE],
        )
    decision.refresh_from_db()
    assert decision.outcome == Outcome.SECTION_17
    assert list(decision.themes.values_list("theme", flat=True)) == ["neglect"]
    assert not DecisionAmendment.objects.exists()
    assert _actions(start) == []


def test_only_a_manager_amends(hub, decision):
    with pytest.raises(PermissionDenied):
        services.amend_decision(
            actor=hub.coordinator, decision=decision, reason="r", outcome=Outcome.NFA
        )


def test_amend_refuses_fields_that_are_not_amendable(hub, decision):
    with pytest.raises(TypeError):
        services.amend_decision(
            actor=hub.manager, decision=decision, reason="r", child=decision.child
        )


def test_every_amendment_stays_visible(hub, decision):
    services.amend_decision(actor=hub.manager, decision=decision, reason="one", outcome=Outcome.NFA)
    services.amend_decision(
        actor=hub.manager, decision=decision, reason="two", outcome=Outcome.SIGNPOST
    )
    changes = [a.changes["outcome"] for a in decision.amendments.order_by("id")]
    assert changes == [[Outcome.SECTION_17, Outcome.NFA], [Outcome.NFA, Outcome.SIGNPOST]]


# Audit: every service writes its event in its own transaction --------------------------


def test_a_refused_write_leaves_no_audit_event(hub, rated):
    request = journey.request_for(rated, hub.police)
    refused = [
        lambda: services.record_consent(actor=hub.manager, enquiry=rated, status="bad"),
        lambda: _propose(hub.coordinator, rated, grounds=[]),
        lambda: services.propose_rating(actor=hub.coordinator, enquiry=rated, rag="x", reason="r"),
        lambda: services.rate_enquiry(actor=hub.manager, enquiry=rated, rag=Rag.RED, rationale="r"),
        lambda: services.mark_not_required(actor=hub.manager, request=request, reason=""),
        lambda: services.answer_request(actor=hub.practitioners["police"], request=request),
        lambda: _decide(hub, rated),
    ]
    for write in refused:
        before = AuditEvent.objects.count()
        with pytest.raises(ValidationError):
            write()
        assert AuditEvent.objects.count() == before


def test_a_whole_enquiry_writes_the_expected_audit_trail(hub):
    start = _last_audit_id()
    enquiry = journey.rated_enquiry(hub)
    _answer_all(hub, enquiry)
    _decide(hub, enquiry)
    actions = _actions(start)
    assert actions == [
        "people.person_created",
        "people.person_created",
        "contacts.contact_submitted",
        "contacts.contact_screened",
        "enquiries.enquiry_opened",
        "enquiries.consent_recorded",
        "enquiries.enquiry_rated",
        *["enquiries.request_answered"] * 4,
        "enquiries.decision_recorded",
        "enquiries.enquiry_closed",
    ]
    assert all(e.actor is not None for e in AuditEvent.objects.filter(id__gt=start))


def test_a_lead_professional_given_without_early_help_is_not_an_amendment(hub, decision):
    with pytest.raises(ValidationError):
        services.amend_decision(
            actor=hub.manager,
            decision=decision,
            reason="r",
            lead_professional_agency=hub.health,
        )
    assert not DecisionAmendment.objects.exists()


def test_deciding_before_any_agency_was_asked_needs_a_reason():
    from django.core.exceptions import ValidationError

    from mash.enquiries import services as enquiry_services
    from mash.enquiries.models import Decision, Outcome
    from tests.enquiries import journey as j

    hub = j.small_hub()
    enquiry = j.consented_enquiry(hub)
    child = enquiry_services.children_of(enquiry)[0]
    fields: dict[str, Any] = {
        "actor": hub.manager,
        "enquiry": enquiry,
        "child": child,
        "outcome": Outcome.NFA,
        "primary_need": "N9",
        "rationale": "Known family, no new risk.",
        "next_team": "None",
    }
    with pytest.raises(ValidationError) as error:
        enquiry_services.decide(**fields)
    assert "No agency has been asked yet" in str(error.value)
    decision = enquiry_services.decide(**fields, pending_reason="Police confirmed on the phone.")
    assert Decision.objects.get(pk=decision.pk).pending_reason == "Police confirmed on the phone."
