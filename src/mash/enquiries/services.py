"""Writes for MASH enquiries: consent, overrides, RAG rating, agency checks, decisions.

Each service takes keyword-only arguments and the acting user, checks
permission, runs in one transaction and audits itself there. Where two people
can act on one record at once, the second gets a Conflict naming what the
first recorded (see core/concurrency.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from mash.accounts.models import Agency
from mash.contacts.models import Contact, ContactPerson, PersonRole
from mash.core import audit, clock
from mash.core.concurrency import Conflict, bump, lock
from mash.core.forms import MAX_TEXT_LENGTH
from mash.core.models import Hub, Team
from mash.enquiries import deadlines
from mash.enquiries.models import (
    AgencyRequest,
    AnswerItem,
    Consent,
    ConsentOverride,
    ConsentStatus,
    Decision,
    DecisionAmendment,
    DecisionTheme,
    Enquiry,
    EnquiryStatus,
    Outcome,
    OverrideGround,
    OverrideStatus,
    PrimaryNeed,
    Rag,
    Rating,
    RequestStatus,
    RiskIndicator,
    Sensitivity,
    Theme,
)
from mash.people.models import Person

if TYPE_CHECKING:
    from mash.accounts.models import User


# rate_enquiry(team=...) left out: keep the enquiry's team.
KEEP_TEAM = object()


def _require(actor: User, permission: str, obj: Any = None) -> None:
    if not actor.has_perm(permission, obj):
        raise PermissionDenied


def _text(errors: dict[str, list[str]], name: str, value: str, message: str) -> None:
    if not value.strip():
        errors.setdefault(name, []).append(message)
    elif len(value) > MAX_TEXT_LENGTH:
        errors.setdefault(name, []).append(f"This must be {MAX_TEXT_LENGTH:,} characters or fewer")


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _require_open(enquiry: Enquiry) -> None:
    if enquiry.status == EnquiryStatus.CLOSED:
        raise Conflict("This enquiry has been closed.", current=enquiry)


def open_enquiry(*, actor: User, contact: Contact) -> Enquiry:
    """Opens the enquiry for a contact screened to progress (called inside screening)."""
    _require(actor, "contacts.screen")
    now = clock.now()
    enquiry = Enquiry.objects.create(
        contact=contact,
        # Every submitted contact has its received_at; the opening moment is a fallback only.
        contact_received_at=contact.received_at or now,
        opened_by=actor,
        opened_at=now,
    )
    audit.record(
        action="enquiries.enquiry_opened", actor=actor, obj=enquiry, detail={"contact": contact.pk}
    )
    # The hub's own authority is responsible (responsible_la None); a child living outside
    # the hub's postcode areas is noted for the hub to check (enquiries/transfer.py).
    from mash.enquiries.transfer import note_residence_on_opening

    note_residence_on_opening(actor=actor, enquiry=enquiry)
    return enquiry


def checks_may_proceed(enquiry: Enquiry) -> bool:
    """Consent given, or a manager authorised an override: only then are agencies asked."""
    latest = enquiry.consents.order_by("-recorded_at", "-id").first()
    if latest is not None and latest.status == ConsentStatus.GIVEN:
        return True
    return enquiry.overrides.filter(status=OverrideStatus.AUTHORISED).exists()


def _advance_after_consent(enquiry: Enquiry) -> None:
    if enquiry.status == EnquiryStatus.AWAITING_CONSENT and checks_may_proceed(enquiry):
        enquiry.status = EnquiryStatus.AWAITING_RATING
        bump(enquiry, "status")


@transaction.atomic
def record_consent(
    *,
    actor: User,
    enquiry: Enquiry,
    status: str,
    given_by: str = "",
    decided_on: Any = None,
    notes: str = "",
) -> Consent:
    """Records whether the family agreed to information being shared (the latest record applies)."""
    _require(actor, "enquiries.record_consent", enquiry)
    enquiry = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    _require_open(enquiry)
    errors: dict[str, list[str]] = {}
    if status not in ConsentStatus.values:
        errors["status"] = ["Select whether consent was given, refused or not sought"]
    if status in (ConsentStatus.GIVEN, ConsentStatus.REFUSED) and not given_by.strip():
        errors["given_by"] = ["Enter who gave or refused consent"]
    if status in (ConsentStatus.GIVEN, ConsentStatus.REFUSED) and decided_on is None:
        errors["decided_on"] = ["Enter when consent was given or refused"]
    if decided_on is not None and decided_on > clock.now():
        errors["decided_on"] = ["When consent was given or refused cannot be in the future"]
    if len(notes) > MAX_TEXT_LENGTH:
        errors["notes"] = [f"Notes must be {MAX_TEXT_LENGTH:,} characters or fewer"]
    _raise(errors)
    consent = Consent.objects.create(
        enquiry=enquiry,
        status=status,
        given_by=given_by.strip(),
        decided_on=decided_on,
        notes=notes.strip(),
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    audit.record(
        action="enquiries.consent_recorded",
        actor=actor,
        obj=enquiry,
        detail={"status": status, "consent": consent.pk},
    )
    _advance_after_consent(enquiry)
    return consent


@transaction.atomic
def propose_override(
    *,
    actor: User,
    enquiry: Enquiry,
    grounds: list[str],
    justification: str,
    other_ground: str = "",
) -> ConsentOverride:
    """Proposes checks without consent. A hub manager's own proposal is authorised at once."""
    _require(actor, "enquiries.propose_override", enquiry)
    enquiry = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    _require_open(enquiry)
    errors: dict[str, list[str]] = {}
    if not grounds or any(g not in OverrideGround.values for g in grounds):
        errors["grounds"] = ["Select the grounds for overriding consent"]
    if OverrideGround.OTHER in grounds and not other_ground.strip():
        errors["other_ground"] = ["Enter the other grounds"]
    if len(other_ground) > 500:
        errors["other_ground"] = ["The other grounds must be 500 characters or fewer"]
    _text(errors, "justification", justification, "Enter the justification for the override")
    _raise(errors)
    now = clock.now()
    override = ConsentOverride.objects.create(
        enquiry=enquiry,
        grounds=sorted(set(grounds)),
        other_ground=other_ground.strip(),
        justification=justification.strip(),
        proposed_by=actor,
        proposed_at=now,
    )
    audit.record(
        action="enquiries.override_proposed",
        actor=actor,
        obj=enquiry,
        detail={"override": override.pk, "grounds": override.grounds},
    )
    if actor.has_perm("enquiries.authorise_override", enquiry):
        _decide_override(actor, override, authorise=True, reason="")
    return override


def _decide_override(
    actor: User, override: ConsentOverride, *, authorise: bool, reason: str
) -> None:
    override.status = OverrideStatus.AUTHORISED if authorise else OverrideStatus.DECLINED
    override.decided_by, override.decided_at = actor, clock.now()
    override.declined_reason = "" if authorise else reason.strip()
    override.save(update_fields=["status", "decided_by", "decided_at", "declined_reason"])
    audit.record(
        action="enquiries.override_authorised" if authorise else "enquiries.override_declined",
        actor=actor,
        obj=override.enquiry,
        detail={"override": override.pk},
    )
    if authorise:
        _advance_after_consent(Enquiry.objects.select_for_update().get(pk=override.enquiry_id))


@transaction.atomic
def decide_override(
    *, actor: User, override: ConsentOverride, authorise: bool, reason: str = ""
) -> ConsentOverride:
    """A hub manager authorises or declines a proposed override."""
    _require(actor, "enquiries.authorise_override", override.enquiry)
    override = (
        ConsentOverride.objects.select_for_update().select_related("enquiry").get(pk=override.pk)
    )
    if override.status != OverrideStatus.PROPOSED:
        raise Conflict("This override has already been decided.", current=override)
    if not authorise:
        errors: dict[str, list[str]] = {}
        _text(errors, "reason", reason, "Enter why the override is declined")
        _raise(errors)
    _decide_override(actor, override, authorise=authorise, reason=reason)
    return override


@transaction.atomic
def propose_rating(*, actor: User, enquiry: Enquiry, rag: str, reason: str) -> Enquiry:
    """A co-ordinator suggests a RAG rating for the manager to confirm."""
    _require(actor, "enquiries.propose_rating", enquiry)
    enquiry = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    _require_open(enquiry)
    errors: dict[str, list[str]] = {}
    if rag not in Rag.values:
        errors["rag"] = ["Select a RAG rating"]
    _text(errors, "reason", reason, "Enter why you suggest this rating")
    _raise(errors)
    enquiry.proposed_rag, enquiry.proposed_rag_reason = rag, reason.strip()
    enquiry.proposed_rag_by = actor
    bump(enquiry, "proposed_rag", "proposed_rag_reason", "proposed_rag_by")
    audit.record(action="enquiries.rating_proposed", actor=actor, obj=enquiry, detail={"rag": rag})
    return enquiry


@transaction.atomic
def rate_enquiry(
    *,
    actor: User,
    enquiry: Enquiry,
    rag: str,
    rationale: str,
    summary_for_agencies: str = "",
    not_required: dict[int, str] | None = None,
    expected_version: int | None = None,
    team: Team | object | None = KEEP_TEAM,
) -> Enquiry:
    """Rates (or re-rates) an enquiry and starts every open agency clock from now.

    The first rating asks every active member agency (except those marked not
    required, with a reason). A re-rating records the old and new rating and
    its reason and restarts the open requests' clocks. The enquiry is allocated
    to `team` (None: to no team; left out: the team stays as it is).
    """
    _require(actor, "enquiries.rate", enquiry)
    enquiry = lock(Enquiry.objects.all(), enquiry.pk, expected_version)
    _require_open(enquiry)
    if not checks_may_proceed(enquiry):
        raise ValidationError(
            {"rag": ["Record consent, or an authorised override, before agencies are asked"]}
        )
    first = not enquiry.rag
    errors: dict[str, list[str]] = {}
    if rag not in Rag.values:
        errors["rag"] = ["Select a RAG rating"]
    _text(
        errors,
        "rationale",
        rationale,
        "Enter the rationale for the rating" if first else "Enter the reason for re-rating",
    )
    if first:
        _text(
            errors,
            "summary_for_agencies",
            summary_for_agencies,
            "Enter what the agencies need to know to search their records",
        )
    if not first and rag == enquiry.rag:
        errors.setdefault("rag", []).append(
            f"The enquiry is already rated {enquiry.get_rag_display()}"
        )
    if (
        isinstance(team, Team)
        and team.pk != enquiry.team_id
        and not Team.objects.filter(pk=team.pk, is_active=True).exists()
    ):
        errors.setdefault("team", []).append(f"{team.name} is no longer an active team")
    agencies = list(Agency.objects.filter(is_active=True).order_by("name"))
    not_required = {int(k): v for k, v in (not_required or {}).items()}
    for agency_id, reason in not_required.items():
        if not reason.strip():
            errors.setdefault(f"not_required_{agency_id}", []).append(
                "Enter why this agency is not required"
            )
    _raise(errors)

    now = clock.now()
    hub = Hub.load()
    duration, calendar = hub.duration_for(rag), hub.calendar()
    due = clock.deadline(now, duration, calendar)
    reminder = deadlines.reminder_time(now, due, duration, calendar)
    Rating.objects.create(
        enquiry=enquiry,
        rag=rag,
        previous_rag=enquiry.rag,
        rationale=rationale.strip(),
        rated_by=actor,
        rated_at=now,
    )
    if first:
        AgencyRequest.objects.bulk_create(
            [
                AgencyRequest(
                    enquiry=enquiry,
                    agency=agency,
                    requested_at=now,
                    clock_started_at=now,
                    deadline_at=due,
                    reminder_at=reminder,
                    duration_amount=duration.amount,
                    duration_unit=duration.unit,
                    status=RequestStatus.NOT_REQUIRED
                    if agency.pk in not_required
                    else RequestStatus.PENDING,
                    not_required_reason=not_required.get(agency.pk, "").strip(),
                    not_required_by=actor if agency.pk in not_required else None,
                )
                for agency in agencies
            ]
        )
        enquiry.summary_for_agencies = summary_for_agencies.strip()
        enquiry.status = EnquiryStatus.CHECKS
    else:
        enquiry.requests.filter(status=RequestStatus.PENDING).update(
            clock_started_at=now,
            deadline_at=due,
            reminder_at=reminder,
            duration_amount=duration.amount,
            duration_unit=duration.unit,
        )
    previous, previous_team = enquiry.rag, enquiry.team_id
    if team is not KEEP_TEAM:
        enquiry.team = team if isinstance(team, Team) else None
    enquiry.rag, enquiry.rated_at = rag, now
    # A rating answers any co-ordinator's proposal.
    enquiry.proposed_rag, enquiry.proposed_rag_reason, enquiry.proposed_rag_by = "", "", None
    bump(
        enquiry,
        "rag",
        "rated_at",
        "summary_for_agencies",
        "status",
        "team",
        "proposed_rag",
        "proposed_rag_reason",
        "proposed_rag_by",
    )
    # The worker sweeps at the reminder and at the deadline (the minute sweep is the net).
    deadlines.schedule([reminder, due])
    audit.record(
        action="enquiries.enquiry_rated" if first else "enquiries.enquiry_re_rated",
        actor=actor,
        obj=enquiry,
        detail={
            "rag": rag,
            "previous": previous,
            "deadline": due.isoformat(),
            "not_required": sorted(not_required),
            "team": enquiry.team_id,
            "previous_team": previous_team,
        },
    )
    return enquiry


@transaction.atomic
def mark_not_required(*, actor: User, request: AgencyRequest, reason: str) -> AgencyRequest:
    """A manager excludes an agency from an enquiry's checks, with a reason."""
    _require(actor, "enquiries.rate", request.enquiry)
    request = AgencyRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RequestStatus.PENDING:
        raise Conflict("This agency has already answered or been excluded.", current=request)
    errors: dict[str, list[str]] = {}
    _text(errors, "reason", reason, "Enter why this agency is not required")
    _raise(errors)
    request.status, request.not_required_reason = RequestStatus.NOT_REQUIRED, reason.strip()
    request.not_required_by = actor
    bump(request, "status", "not_required_reason", "not_required_by")
    audit.record(
        action="enquiries.request_not_required",
        actor=actor,
        obj=request,
        detail={"enquiry": request.enquiry_id, "agency": request.agency_id},
    )
    return request


@dataclass(frozen=True)
class ItemEntry:
    summary: str
    sensitivity: str
    detail: str = ""
    risk_indicators: list[str] = field(default_factory=list)
    source_reference: str = ""


def _check_items(items: list[ItemEntry]) -> None:
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        key = f"items-{i}"
        if not item.summary.strip():
            errors.setdefault(key, []).append("Enter a summary of what is held")
        elif len(item.summary) > 500:
            errors.setdefault(key, []).append("The summary must be 500 characters or fewer")
        if item.sensitivity not in Sensitivity.values:
            errors.setdefault(key, []).append("Select who this may be shared with")
        if len(item.detail) > MAX_TEXT_LENGTH:
            errors.setdefault(key, []).append(
                f"The detail must be {MAX_TEXT_LENGTH:,} characters or fewer"
            )
        if any(r not in RiskIndicator.values for r in item.risk_indicators):
            errors.setdefault(key, []).append("Select risk indicators from the list")
        if len(item.source_reference) > 100:
            errors.setdefault(key, []).append("The reference must be 100 characters or fewer")
    _raise(errors)


def _create_items(actor: User, request: AgencyRequest, items: list[ItemEntry]) -> None:
    now = clock.now()
    AnswerItem.objects.bulk_create(
        [
            AnswerItem(
                request=request,
                agency_id=request.agency_id,
                summary=item.summary.strip(),
                detail=item.detail.strip(),
                risk_indicators=sorted(set(item.risk_indicators)),
                source_reference=item.source_reference.strip(),
                sensitivity=item.sensitivity,
                created_by=actor,
                created_at=now,
            )
            for item in items
        ]
    )


@transaction.atomic
def answer_request(
    *,
    actor: User,
    request: AgencyRequest,
    items: list[ItemEntry] | None = None,
    nothing_held: bool = False,
    expected_version: int | None = None,
) -> AgencyRequest:
    """An agency's answer: "nothing held", or what it holds, item by item with a sensitivity."""
    _require(actor, "enquiries.answer_request", request)
    request = lock(AgencyRequest.objects.all(), request.pk, expected_version)
    if request.status in (RequestStatus.ANSWERED, RequestStatus.NOTHING_HELD):
        raise Conflict("Someone in your agency has already answered this request.", current=request)
    if request.status == RequestStatus.NOT_REQUIRED:
        raise Conflict("The hub no longer needs an answer from your agency.", current=request)
    items = items or []
    if nothing_held and items:
        raise ValidationError(
            {"nothing_held": ["Either say nothing is held, or record what is held, not both"]}
        )
    if not nothing_held and not items:
        raise ValidationError({"items": ["Record what your agency holds, or say nothing is held"]})
    _check_items(items)
    _create_items(actor, request, items)
    request.status = RequestStatus.NOTHING_HELD if nothing_held else RequestStatus.ANSWERED
    request.answered_at, request.answered_by = clock.now(), actor
    bump(request, "status", "answered_at", "answered_by")
    audit.record(
        action="enquiries.request_answered",
        actor=actor,
        obj=request,
        detail={"enquiry": request.enquiry_id, "status": request.status, "items": len(items)},
    )
    return request


@transaction.atomic
def add_to_answer(*, actor: User, request: AgencyRequest, items: list[ItemEntry]) -> AgencyRequest:
    """Adds to an agency's answer; earlier items stay as they were, with time and author."""
    _require(actor, "enquiries.answer_request", request)
    request = AgencyRequest.objects.select_for_update().select_related("enquiry").get(pk=request.pk)
    # Once decided, the enquiry's record (and the outcome documents drawn from it) is final.
    _require_open(request.enquiry)
    if request.status not in (RequestStatus.ANSWERED, RequestStatus.NOTHING_HELD):
        raise Conflict("Answer the request before adding to it.", current=request)
    if not items:
        raise ValidationError({"items": ["Record what you are adding"]})
    _check_items(items)
    _create_items(actor, request, items)
    if request.status == RequestStatus.NOTHING_HELD:
        request.status = RequestStatus.ANSWERED
    bump(request, "status")
    audit.record(
        action="enquiries.answer_added_to",
        actor=actor,
        obj=request,
        detail={"enquiry": request.enquiry_id, "items": len(items)},
    )
    return request


def children_of(enquiry: Enquiry) -> list[Person]:
    return [
        link.person
        for link in enquiry.contact.people.filter(role=PersonRole.CHILD)
        .select_related("person")
        .order_by("position")
    ]


@transaction.atomic
def decide(
    *,
    actor: User,
    enquiry: Enquiry,
    child: Person,
    outcome: str,
    primary_need: str,
    rationale: str,
    next_team: str,
    themes: list[str] | None = None,
    lead_professional_agency: Agency | None = None,
    referrer_feedback: str = "",
    pending_reason: str = "",
) -> Decision:
    """A hub manager's decision for one child; final, so a second one is a Conflict."""
    _require(actor, "enquiries.decide", enquiry)
    enquiry = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    existing = Decision.objects.filter(enquiry=enquiry, child=child).first()
    if existing is not None:
        raise Conflict("Someone else has already decided for this child.", current=existing)
    _require_open(enquiry)
    children = _child_ids(enquiry)
    if child.pk not in children:
        raise ValidationError({"child": ["This child is not on the enquiry"]})
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = ["Select the decision"]
    if primary_need not in PrimaryNeed.values:
        errors["primary_need"] = ["Select the primary need"]
    if any(t not in Theme.values for t in themes or []):
        errors["themes"] = ["Select themes from the list"]
    _text(errors, "rationale", rationale, "Enter the reasoning for the decision")
    if not next_team.strip():
        errors["next_team"] = ["Enter the team that acts next"]
    elif len(next_team) > 200:
        errors["next_team"] = ["The team must be 200 characters or fewer"]
    if outcome == Outcome.EARLY_HELP and lead_professional_agency is None:
        errors["lead_professional_agency"] = ["Select the lead professional's agency"]
    if len(referrer_feedback) > MAX_TEXT_LENGTH:
        errors["referrer_feedback"] = [f"Feedback must be {MAX_TEXT_LENGTH:,} characters or fewer"]
    # Deciding without every agency's answer, or before any agency was asked,
    # needs a reason on the record.
    unasked = not enquiry.rag
    pending = unasked or enquiry.requests.filter(status=RequestStatus.PENDING).exists()
    if pending and not pending_reason.strip():
        errors["pending_reason"] = [
            "No agency has been asked yet: enter why you are deciding without checks"
            if unasked
            else "Some agencies have not answered: enter why you are deciding now"
        ]
    _raise(errors)
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                enquiry=enquiry,
                child=child,
                outcome=outcome,
                primary_need=primary_need,
                rationale=rationale.strip(),
                next_team=next_team.strip(),
                lead_professional_agency=lead_professional_agency
                if outcome == Outcome.EARLY_HELP
                else None,
                referrer_feedback=referrer_feedback.strip(),
                pending_reason=pending_reason.strip() if pending else "",
                decided_by=actor,
                decided_at=clock.now(),
            )
    except IntegrityError:
        raise Conflict(
            "Someone else has already decided for this child.",
            current=Decision.objects.filter(enquiry=enquiry, child=child).first(),
        ) from None
    DecisionTheme.objects.bulk_create(
        [DecisionTheme(decision=decision, theme=t) for t in sorted(set(themes or []))]
    )
    audit.record(
        action="enquiries.decision_recorded",
        actor=actor,
        obj=enquiry,
        detail={"decision": decision.pk, "child": child.pk, "outcome": outcome},
    )
    _close_if_decided(actor, enquiry, children)
    return decision


def _child_ids(enquiry: Enquiry) -> set[int]:
    """The person ids of the enquiry's children (children_of without loading them)."""
    return set(
        ContactPerson.objects.filter(
            contact_id=enquiry.contact_id, role=PersonRole.CHILD
        ).values_list("person_id", flat=True)
    )


def _close_if_decided(actor: User, enquiry: Enquiry, children: set[int]) -> None:
    decided = set(enquiry.decisions.values_list("child_id", flat=True))
    if children - decided:
        return
    now = clock.now()
    enquiry.requests.filter(status=RequestStatus.PENDING).update(
        status=RequestStatus.NOT_REQUIRED,
        not_required_reason="The enquiry was decided before this agency answered.",
        not_required_by=actor,
    )
    enquiry.status, enquiry.closed_at, enquiry.closed_as = EnquiryStatus.CLOSED, now, "decided"
    bump(enquiry, "status", "closed_at", "closed_as")
    audit.record(action="enquiries.enquiry_closed", actor=actor, obj=enquiry)


AMENDABLE = (
    "outcome",
    "primary_need",
    "rationale",
    "next_team",
    "lead_professional_agency",
    "referrer_feedback",
)


@transaction.atomic
def amend_decision(
    *,
    actor: User,
    decision: Decision,
    reason: str,
    themes: list[str] | None = None,
    **changes: Any,
) -> DecisionAmendment:
    """Corrects a decision; the amendment keeps old and new values and why, both visible."""
    _require(actor, "enquiries.decide", decision.enquiry)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    errors: dict[str, list[str]] = {}
    _text(errors, "reason", reason, "Enter the reason for the amendment")
    if "outcome" in changes and changes["outcome"] not in Outcome.values:
        errors["outcome"] = ["Select the decision"]
    if "primary_need" in changes and changes["primary_need"] not in PrimaryNeed.values:
        errors["primary_need"] = ["Select the primary need"]
    if any(t not in Theme.values for t in themes or []):
        errors["themes"] = ["Select themes from the list"]
    # The same rules as a new decision's, for what is being changed.
    if "rationale" in changes:
        _text(errors, "rationale", changes["rationale"], "Enter the reasoning for the decision")
    if "next_team" in changes:
        if not changes["next_team"].strip():
            errors["next_team"] = ["Enter the team that acts next"]
        elif len(changes["next_team"]) > 200:
            errors["next_team"] = ["The team must be 200 characters or fewer"]
    if len(changes.get("referrer_feedback", "")) > MAX_TEXT_LENGTH:
        errors["referrer_feedback"] = [f"Feedback must be {MAX_TEXT_LENGTH:,} characters or fewer"]
    unknown = set(changes) - set(AMENDABLE)
    if unknown:
        raise TypeError(f"amend_decision() cannot change {sorted(unknown)}")
    _raise(errors)
    recorded: dict[str, list[Any]] = {}
    lead_before = decision.lead_professional_agency_id
    for name, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        old = getattr(decision, name)
        if old != value:
            recorded[name] = [getattr(old, "pk", old), getattr(value, "pk", value)]
            setattr(decision, name, value)
    if decision.outcome != Outcome.EARLY_HELP and decision.lead_professional_agency is not None:
        # Only early help has a lead professional (as when deciding).
        decision.lead_professional_agency = None
        recorded.pop("lead_professional_agency", None)
        if lead_before is not None:
            recorded["lead_professional_agency"] = [lead_before, None]
    if themes is not None:
        old_themes = sorted(decision.themes.values_list("theme", flat=True))
        if old_themes != sorted(set(themes)):
            recorded["themes"] = [old_themes, sorted(set(themes))]
            decision.themes.all().delete()
            DecisionTheme.objects.bulk_create(
                [DecisionTheme(decision=decision, theme=t) for t in sorted(set(themes))]
            )
    if not recorded:
        raise ValidationError({"__all__": ["Nothing was changed"]})
    if decision.outcome == Outcome.EARLY_HELP and decision.lead_professional_agency is None:
        raise ValidationError(
            {"lead_professional_agency": ["Select the lead professional's agency"]}
        )
    decision.save()
    amendment = DecisionAmendment.objects.create(
        decision=decision,
        changes=recorded,
        reason=reason.strip(),
        amended_by=actor,
        amended_at=clock.now(),
    )
    audit.record(
        action="enquiries.decision_amended",
        actor=actor,
        obj=decision.enquiry,
        detail={"decision": decision.pk, "changed": sorted(recorded)},
    )
    return amendment
