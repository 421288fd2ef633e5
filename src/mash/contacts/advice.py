"""The professionals' advice line: logging calls, follow-ups and the monthly figures.

Services (log_consultation, update_consultation, complete_follow_up) take keyword-only
arguments and the acting user, check permission, run in one transaction and audit
themselves there. Selectors return only what the user may see.

The advice line is one shared line: every advice-line worker (and hub manager) may read
every consultation and finish anyone's follow-up; only the worker who logged a call, or a
hub manager, may change it. A consultation is not a case record: what it shows of a
matched child is what person search shows an advice-line worker (name, date of birth,
postcode, whether known to the hub), never the record behind it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404

from mash.accounts.models import AgencyKind, Role
from mash.contacts.models import (
    Channel,
    Consultation,
    ConsultationOutcome,
    ContactPerson,
    ReferralSource,
)
from mash.core import audit, clock
from mash.core.concurrency import Conflict, bump, lock
from mash.core.forms import MAX_TEXT_LENGTH
from mash.core.models import AuditEvent
from mash.people import matching
from mash.people.models import Person

if TYPE_CHECKING:
    from mash.accounts.models import User
    from mash.contacts.models import Contact

# A follow-up is booked for today or a day within the next year.
FOLLOW_UP_MAX_AHEAD = dt.timedelta(days=365)
# A child named on a call: born within the last 25 years (care leavers are supported to 25).
CHILD_MAX_AGE_YEARS = 25
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-]{6,40}$")
MATCH_LIMIT = 5

# The Children in Need referral source a contact takes from the caller's kind of agency.
REFERRAL_SOURCE_FOR_KIND: dict[str, str] = {
    AgencyKind.EDUCATION: ReferralSource.SCHOOLS,
    AgencyKind.EARLY_YEARS: ReferralSource.EDUCATION_SERVICES,
    AgencyKind.HEALTH_GP: ReferralSource.GP,
    AgencyKind.HEALTH_VISITING: ReferralSource.HEALTH_VISITOR,
    AgencyKind.HEALTH_SCHOOL_NURSING: ReferralSource.SCHOOL_NURSE,
    AgencyKind.HEALTH_COMMUNITY: ReferralSource.OTHER_PRIMARY_HEALTH,
    AgencyKind.HEALTH_ACUTE: ReferralSource.OTHER_HEALTH,
    AgencyKind.HEALTH_MATERNITY: ReferralSource.OTHER_HEALTH,
    AgencyKind.CAMHS: ReferralSource.OTHER_HEALTH,
    AgencyKind.ADULT_MENTAL_HEALTH: ReferralSource.OTHER_HEALTH,
    AgencyKind.AMBULANCE: ReferralSource.OTHER_HEALTH,
    AgencyKind.HOUSING: ReferralSource.HOUSING,
    AgencyKind.CHILDRENS_SOCIAL_CARE: ReferralSource.LA_SOCIAL_CARE,
    AgencyKind.YOUTH_JUSTICE: ReferralSource.LA_OTHER_INTERNAL,
    AgencyKind.POLICE: ReferralSource.POLICE,
    AgencyKind.PROBATION: ReferralSource.OTHER_LEGAL,
}


def referral_source_for(agency_kind: str) -> str:
    """The referral source for a contact made from a call (8 Other when nothing fits)."""
    return str(REFERRAL_SOURCE_FOR_KIND.get(agency_kind, ReferralSource.OTHER))


def today() -> dt.date:
    return clock.now().astimezone(clock.LONDON).date()


def _require(user: User, permission: str = "contacts.advice_line") -> None:
    if not user.has_perm(permission):
        raise PermissionDenied


def may_change(user: User, consultation: Consultation) -> bool:
    """Only the worker who logged a call, or a hub manager, may change what it records."""
    return user.has_perm("contacts.advice_line") and (
        consultation.created_by_id == user.pk or user.has_role(Role.HUB_MANAGER)
    )


# --- Logging and changing a call ------------------------------------------------------------


@dataclass(frozen=True)
class ConsultationEntry:
    """A call as typed; person_id names the person index record the child was matched to."""

    caller_name: str
    caller_agency: str
    caller_agency_kind: str
    worry: str
    advice: str
    outcome: str
    caller_role: str = ""
    caller_phone: str = ""
    caller_email: str = ""
    child_given_name: str = ""
    child_family_name: str = ""
    child_date_of_birth: dt.date | None = None
    person_id: int | None = None
    early_help_support: str = ""
    follow_up_on: dt.date | None = None


_TEXT = (
    ("caller_name", "Caller's name"),
    ("caller_role", "Caller's role"),
    ("caller_agency", "Caller's agency"),
    ("caller_phone", "Phone number"),
    ("caller_email", "Email address"),
    ("child_given_name", "The child's given name"),
    ("child_family_name", "The child's family name"),
    ("worry", "The worry"),
    ("advice", "The advice given"),
    ("early_help_support", "The support offered"),
)
_LIMITS = {
    name: getattr(Consultation._meta.get_field(name), "max_length", None) or MAX_TEXT_LENGTH
    for name, _ in _TEXT
}


def _clean(entry: ConsultationEntry) -> ConsultationEntry:
    """Text trimmed, NUL characters (which PostgreSQL refuses) dropped."""
    return replace(
        entry,
        **{name: getattr(entry, name).replace("\x00", "").strip() for name, _ in _TEXT},
    )


def _check(
    entry: ConsultationEntry, *, current: Consultation | None = None
) -> dict[str, list[str]]:
    """The rules a call must meet, whatever form it came through."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    for name, label in _TEXT:
        if len(getattr(entry, name)) > _LIMITS[name]:
            add(name, f"{label} must be {_LIMITS[name]:,} characters or fewer")
    if not entry.caller_name:
        add("caller_name", "Enter the caller's name")
    if not entry.caller_agency:
        add("caller_agency", "Enter the agency the caller works for")
    if entry.caller_agency_kind not in AgencyKind.values:
        add("caller_agency_kind", "Select the kind of agency the caller works for")
    if entry.caller_phone and not PHONE_PATTERN.match(entry.caller_phone):
        add("caller_phone", "Enter a phone number, like 01632 960 001 or +44 7700 900 982")
    if entry.caller_email and "caller_email" not in errors:
        try:
            validate_email(entry.caller_email)
        except ValidationError:
            add(
                "caller_email",
                "Enter an email address in the correct format, like name@example.com",
            )
    day = today()
    born = entry.child_date_of_birth
    if born is not None and born > day:
        add("child_date_of_birth", "The child's date of birth must be today or in the past")
    elif born is not None and born.year < day.year - CHILD_MAX_AGE_YEARS:
        add(
            "child_date_of_birth",
            f"The child's date of birth must be within the last {CHILD_MAX_AGE_YEARS} years",
        )
    if not entry.worry:
        add("worry", "Enter the caller's worry")
    if not entry.advice:
        add("advice", "Enter the advice given")
    if entry.outcome not in ConsultationOutcome.values:
        add("outcome", "Select the outcome of the call")
    elif entry.outcome == ConsultationOutcome.EARLY_HELP and not entry.early_help_support:
        add("early_help_support", "Enter the support offered to start an early help assessment")
    follow_up = entry.follow_up_on
    unchanged = current is not None and follow_up == current.follow_up_on
    if follow_up is not None and not unchanged:
        if current is not None and current.follow_up_done_at is not None:
            add("follow_up_on", "The follow-up has been done: its date cannot be changed")
        elif follow_up < day:
            add("follow_up_on", "Follow-up date must be today or in the future")
        elif follow_up > day + FOLLOW_UP_MAX_AHEAD:
            add("follow_up_on", "Follow-up date must be within a year from today")
    if current is not None and current.follow_up_done_at is not None and follow_up is None:
        add("follow_up_on", "The follow-up has been done: its date cannot be removed")
    return errors


def _person(entry: ConsultationEntry, errors: dict[str, list[str]]) -> Person | None:
    if entry.person_id is None:
        return None
    person = Person.objects.filter(pk=entry.person_id).first()
    if person is None:
        errors.setdefault("person_id", []).append(
            "The record chosen is no longer in the person index: find matches again"
        )
    return person


def _apply(consultation: Consultation, entry: ConsultationEntry, person: Person | None) -> None:
    for name, _ in _TEXT:
        setattr(consultation, name, getattr(entry, name))
    consultation.caller_agency_kind = entry.caller_agency_kind
    consultation.child_date_of_birth = entry.child_date_of_birth
    consultation.person = person
    consultation.outcome = entry.outcome
    if entry.outcome != ConsultationOutcome.EARLY_HELP:
        consultation.early_help_support = ""
    consultation.follow_up_on = entry.follow_up_on


def _progress_to_contact(actor: User, consultation: Consultation) -> Contact:
    """A draft contact filled in from the call, for the worker to check and finish."""
    from mash.contacts import services as contact_services
    from mash.contacts.forms import PrefillPerson, prefilled_data

    children = []
    if consultation.child_given_name or consultation.child_family_name or consultation.person_id:
        children.append(
            PrefillPerson(
                given_name=consultation.child_given_name,
                family_name=consultation.child_family_name,
                date_of_birth=consultation.child_date_of_birth,
                person_id=consultation.person_id,
            )
        )
    data = prefilled_data(
        received_at=consultation.called_at,
        channel=Channel.PHONE,
        referral_source=referral_source_for(consultation.caller_agency_kind),
        concern=consultation.worry,
        children=children,
        referrer={
            "name": consultation.caller_name,
            "role": consultation.caller_role,
            "organisation": consultation.caller_agency,
            "phone": consultation.caller_phone,
            "email": consultation.caller_email,
        },
    )
    return contact_services.save_draft(actor=actor, data=data)


def _detail(consultation: Consultation) -> dict[str, Any]:
    """What the audit keeps of a call: its shape, never what was said or who was named."""
    return {
        "outcome": consultation.outcome,
        "child_named": bool(
            consultation.child_given_name
            or consultation.child_family_name
            or consultation.child_date_of_birth
        ),
        "person": consultation.person_id,
        "contact": consultation.contact_id,
        "follow_up_on": consultation.follow_up_on.isoformat()
        if consultation.follow_up_on
        else None,
    }


@transaction.atomic
def log_consultation(*, actor: User, entry: ConsultationEntry) -> Consultation:
    """Records a call; progressed to a contact, it also starts that contact as a draft."""
    _require(actor)
    entry = _clean(entry)
    errors = _check(entry)
    person = _person(entry, errors)
    if errors:
        raise ValidationError(errors)
    now = clock.now()
    consultation = Consultation(called_at=now, created_at=now, created_by=actor)
    _apply(consultation, entry, person)
    consultation.save()
    if entry.outcome == ConsultationOutcome.CONTACT:
        consultation.contact = _progress_to_contact(actor, consultation)
        consultation.save(update_fields=["contact"])
    audit.record(
        action="contacts.consultation_logged",
        actor=actor,
        obj=consultation,
        detail=_detail(consultation),
    )
    return consultation


@transaction.atomic
def update_consultation(
    *,
    actor: User,
    consultation: Consultation,
    entry: ConsultationEntry,
    expected_version: int | None = None,
) -> Consultation:
    """Changes what a call records (its author or a hub manager), never over someone else's."""
    _require(actor)
    current = lock(Consultation.objects.all(), consultation.pk, expected_version)
    if not may_change(actor, current):
        raise PermissionDenied
    entry = _clean(entry)
    errors = _check(entry, current=current)
    if current.outcome == ConsultationOutcome.CONTACT and entry.outcome != current.outcome:
        errors.setdefault("outcome", []).append(
            "This call has been progressed to a contact: its outcome cannot be changed"
        )
    person = _person(entry, errors)
    if errors:
        raise ValidationError(errors)
    _apply(current, entry, person)
    if entry.outcome == ConsultationOutcome.CONTACT and current.contact_id is None:
        current.contact = _progress_to_contact(actor, current)
    bump(
        current,
        *(name for name, _ in _TEXT),
        "caller_agency_kind",
        "child_date_of_birth",
        "person",
        "outcome",
        "follow_up_on",
        "contact",
    )
    audit.record(
        action="contacts.consultation_changed",
        actor=actor,
        obj=current,
        detail=_detail(current),
    )
    return current


@transaction.atomic
def complete_follow_up(
    *,
    actor: User,
    consultation: Consultation,
    note: str,
    expected_version: int | None = None,
) -> Consultation:
    """Marks a call's follow-up done, with what was done; anyone on the line may."""
    _require(actor)
    current = lock(Consultation.objects.all(), consultation.pk, expected_version)
    if current.follow_up_on is None:
        raise ValidationError({"note": ["This call has no follow-up to mark as done"]})
    if current.follow_up_done_at is not None:
        raise Conflict("This follow-up has already been marked as done.", current=current)
    note = note.replace("\x00", "").strip()
    if not note:
        raise ValidationError({"note": ["Enter what was done to follow up the call"]})
    if len(note) > MAX_TEXT_LENGTH:
        raise ValidationError({"note": [f"Note must be {MAX_TEXT_LENGTH:,} characters or fewer"]})
    current.follow_up_done_at = clock.now()
    current.follow_up_note = note
    bump(current, "follow_up_done_at", "follow_up_note")
    audit.record(
        action="contacts.consultation_follow_up_done",
        actor=actor,
        obj=current,
        detail={"due": current.follow_up_on.isoformat()},
    )
    return current


# --- Reads ----------------------------------------------------------------------------------


def consultations(*, user: User, mine: bool) -> QuerySet[Consultation]:
    """Calls on the line, newest first: the user's own, or everyone's (a shared line)."""
    _require(user)
    calls = Consultation.objects.select_related("created_by", "contact").order_by(
        "-called_at", "-id"
    )
    return calls.filter(created_by=user) if mine else calls


def consultation_for(*, user: User, pk: int, viewing: bool = True) -> Consultation:
    """One call; opening one that names a child is audited."""
    _require(user)
    try:
        consultation = Consultation.objects.select_related(
            "created_by", "contact", "person__household__address"
        ).get(pk=pk)
    except Consultation.DoesNotExist:
        raise Http404 from None
    if viewing and (_detail(consultation)["child_named"] or consultation.person_id):
        audit.viewed(actor=user, obj=consultation, detail={"child_named": True})
    return consultation


def follow_ups(
    *, user: User, due_by: dt.date | None = None, mine: bool = False
) -> QuerySet[Consultation]:
    """Follow-ups not yet done, soonest first; due_by narrows to those due by that day."""
    _require(user)
    calls = Consultation.objects.filter(
        follow_up_on__isnull=False, follow_up_done_at__isnull=True
    ).select_related("created_by")
    if due_by is not None:
        calls = calls.filter(follow_up_on__lte=due_by)
    if mine:
        calls = calls.filter(created_by=user)
    return calls.order_by("follow_up_on", "called_at", "id")


def follow_up_done_by(consultation: Consultation) -> str:
    """Who marked a follow-up done (the audit log holds it)."""
    event = (
        AuditEvent.objects.filter(
            object_type=consultation._meta.label_lower,
            object_id=str(consultation.pk),
            action="contacts.consultation_follow_up_done",
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if event is None:
        return ""
    return event.actor.full_name if event.actor is not None else event.actor_label


def due_words(day: dt.date, on: dt.date | None = None) -> tuple[str, str]:
    """How a follow-up date reads: a tag ("OVERDUE", "DUE TODAY", "") and the date in words."""
    on = on or today()
    written = f"{day:%A} {day.day} {day:%B %Y}"
    if day < on:
        late = (on - day).days
        return "OVERDUE", f"Due {written}, {late} day{'s' if late != 1 else ''} ago"
    if day == on:
        return "DUE TODAY", f"Due today, {written}"
    ahead = (day - on).days
    return "", f"Due {written}, in {ahead} day{'s' if ahead != 1 else ''}"


# --- Matching the child ---------------------------------------------------------------------


@dataclass
class ChildMatch:
    """What the advice line may see of a possible match: never the case record."""

    person: Person
    score: int
    reasons: list[str] = field(default_factory=list)
    known: bool = False
    chosen: bool = False

    @property
    def postcode(self) -> str:
        household = self.person.household
        return household.address.postcode if household is not None else ""


def _shown_reasons(reasons: list[str]) -> list[str]:
    """The reasons, without the other names a person is known by (not the line's to see)."""
    return [
        "A name they are also known by is like the one typed"
        if reason.startswith("Known alias:")
        else reason
        for reason in reasons
    ]


def child_matches(
    *, user: User, query: matching.Query, linked: Person | None = None
) -> list[ChildMatch]:
    """Likely index records for the child named on a call, best first; the chosen one kept.

    Audited as a search of the index (which fields were used, never what was typed).
    """
    _require(user)
    if not user.has_perm("people.search"):
        raise PermissionDenied
    found = matching.find(query, limit=MATCH_LIMIT)
    result = [ChildMatch(c.person, c.score, _shown_reasons(c.reasons)) for c in found]
    if linked is not None and all(m.person.pk != linked.pk for m in result):
        scored = matching.score(query, linked)
        result.append(ChildMatch(linked, scored.score, _shown_reasons(scored.reasons)))
    ids = [m.person.pk for m in result]
    known = set(
        ContactPerson.objects.filter(person_id__in=ids)
        .values_list("person_id", flat=True)
        .distinct()
        if ids
        else []
    )
    for m in result:
        m.known = m.person.pk in known
        m.chosen = linked is not None and m.person.pk == linked.pk
    fields_used = [
        name
        for name, value in (
            ("given_name", query.given_name),
            ("family_name", query.family_name),
            ("date_of_birth", query.date_of_birth),
        )
        if value
    ]
    audit.record(
        action="people.searched",
        actor=user,
        detail={"fields": fields_used, "results": len(result), "via": "advice_line"},
    )
    return result


def chosen_person(*, user: User, value: str) -> Person | None:
    """The index record a call's child was linked to (the form's value), if it exists."""
    _require(user)
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        return None
    return Person.objects.select_related("household__address").filter(pk=int(value)).first()


def known_to_hub(person: Person | None) -> bool:
    return person is not None and ContactPerson.objects.filter(person=person).exists()


# --- The monthly figures --------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    calls: int


@dataclass(frozen=True)
class MonthFigures:
    month: dt.date  # the first of the month
    calls: int
    by_agency_kind: list[Row]
    by_outcome: list[Row]
    early_help: int

    @property
    def early_help_share(self) -> int | None:
        """Calls ending in an early help recommendation, as a whole percentage of all calls."""
        if not self.calls:
            return None
        return round(100 * self.early_help / self.calls)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's start and the next month's start, at midnight in London."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=clock.LONDON),
        dt.datetime.combine(following, dt.time(), tzinfo=clock.LONDON),
    )


def month_figures(*, user: User, month: dt.date) -> MonthFigures:
    """Calls in a month by the caller's kind of agency and by outcome: counts only, no names.

    Two queries, however many calls.
    """
    _require(user, "contacts.advice_figures")
    start, end = month_bounds(month)
    calls = Consultation.objects.filter(called_at__gte=start, called_at__lt=end).order_by()
    kinds = dict(
        calls.values_list("caller_agency_kind")
        .annotate(n=Count("id"))
        .values_list("caller_agency_kind", "n")
    )
    outcomes = dict(
        calls.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n")
    )
    labels = dict(AgencyKind.choices)
    by_kind = [Row(str(labels[k]), kinds[k]) for k in AgencyKind.values if kinds.get(k)]
    # Anything stored outside the list (or left blank) is still counted, never dropped.
    others = sum(n for k, n in kinds.items() if k not in labels)
    if others:
        by_kind.append(Row("Not recorded", others))
    by_kind.sort(key=lambda r: (-r.calls, r.label))
    by_outcome = [
        Row(str(label), outcomes.get(value, 0)) for value, label in ConsultationOutcome.choices
    ]
    return MonthFigures(
        month=month.replace(day=1),
        calls=sum(kinds.values()),
        by_agency_kind=by_kind,
        by_outcome=by_outcome,
        early_help=outcomes.get(ConsultationOutcome.EARLY_HELP, 0),
    )
