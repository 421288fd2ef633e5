"""Writes for triaging police notifications: matching the children, linking one by hand,
and recording the outcome.

Matching runs lazily (the queue and the notification's page match whatever has not been
matched yet, in bulk) so that receiving a notification stays fast. An outcome is recorded
once: a second researcher who triaged the same notification at the same moment is told.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects

from mash.contacts.models import (
    AdultRole,
    Channel,
    Contact,
    DashRisk,
    NotificationChild,
    PoliceNotification,
    ReferralSource,
    Relationship,
    TriageOutcome,
    UniversalService,
)
from mash.core import audit, clock
from mash.core.concurrency import Conflict, bump, lock
from mash.core.forms import MAX_TEXT_LENGTH
from mash.people import matching
from mash.people.models import Person, PersonAlias

if TYPE_CHECKING:
    from mash.accounts.models import User
    from mash.enquiries.models import Enquiry

# A child is linked without asking only on the same date of birth and both names the same
# (65) or the given name a known variant (61). A given name that only sounds the same (59),
# a date of birth with day and month swapped (at most 55) or a name alone (at most 40) is
# shown to the researcher as a candidate instead: police give no NHS number to settle it.
CONFIDENT_MATCH = 60
# How many unmatched notifications one page view matches at most (the oldest first).
MATCH_BATCH = 200
# How many candidates the researcher may choose from for one child.
CANDIDATES = 8
MAX_DETAIL = getattr(PoliceNotification._meta.get_field("shared_with_detail"), "max_length", 300)
NO_MATCH_REASON = "No match: chosen by a researcher"
CHOSEN_REASON = "Chosen by a researcher"


def _require(actor: User, permission: str = "contacts.triage_police") -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied


# --- Matching --------------------------------------------------------------------------------


def child_query(child: NotificationChild) -> matching.Query:
    """What the officer recorded, as a person-index query (police give no NHS number)."""
    return matching.Query(
        given_name=child.given_name,
        family_name=child.family_name,
        date_of_birth=child.date_of_birth,
    )


def _confident(child: NotificationChild, people: list[Person]) -> matching.Candidate | None:
    """The one clear best candidate at or above CONFIDENT_MATCH, if there is one."""
    if not (child.given_name.strip() or child.family_name.strip()):
        return None
    query = child_query(child)
    scored = sorted((matching.score(query, p) for p in people), key=lambda c: -c.score)
    if not scored or scored[0].score < CONFIDENT_MATCH:
        return None
    if len(scored) > 1 and scored[1].score == scored[0].score:
        return None  # two records fit equally well: the researcher decides
    return scored[0]


def match_children(notification: PoliceNotification) -> None:
    """Links each of the notification's children to the index where one record clearly fits."""
    match_unmatched([notification.pk])


def match_unmatched(notification_ids: Iterable[int]) -> list[int]:
    """Matches those of the notifications not matched yet, in a fixed number of queries.

    A confident match needs the same date of birth, so the candidates are everyone born on
    one of the children's dates: one query for them all, one for their other names. Two
    pages matching at once each take only the notifications the other has not locked.
    Returns the ids matched.
    """
    ids = list(notification_ids)[:MATCH_BATCH]
    if not ids:
        return []
    with transaction.atomic():
        claimed = list(
            PoliceNotification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, matched_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not claimed:
            return []
        children = list(
            NotificationChild.objects.filter(notification_id__in=claimed, person__isnull=True)
        )
        people = list(
            Person.objects.filter(
                date_of_birth__in=NotificationChild.objects.filter(
                    notification_id__in=claimed, date_of_birth__isnull=False
                ).values("date_of_birth")
            ).only("pk", "given_name", "family_name", "date_of_birth", "household_id")
        )
        prefetch_related_objects(
            people,
            Prefetch(
                "aliases", queryset=PersonAlias.objects.order_by("pk"), to_attr="known_aliases"
            ),
        )
        born: dict[dt.date, list[Person]] = defaultdict(list)
        for person in people:
            if person.date_of_birth is not None:
                born[person.date_of_birth].append(person)
        linked: list[NotificationChild] = []
        for child in children:
            if child.date_of_birth is None:
                continue
            best = _confident(child, born.get(child.date_of_birth, []))
            if best is not None:
                child.person = best.person
                child.match_score, child.match_reasons = best.score, best.reasons
                linked.append(child)
        if linked:
            NotificationChild.objects.bulk_update(
                linked, ["person", "match_score", "match_reasons"]
            )
        PoliceNotification.objects.filter(pk__in=claimed).update(matched_at=clock.now())
        by_notification: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for child in linked:
            by_notification[child.notification_id].append(
                {"child": child.position, "person": child.person_id, "score": child.match_score}
            )
        audit.record_many(
            action="contacts.police_children_matched",
            actor=None,
            actor_label="automatic matching",
            objects=[
                (PoliceNotification(pk=pk), {"linked": by_notification.get(pk, [])})
                for pk in claimed
            ],
        )
    return claimed


def candidates(child: NotificationChild) -> list[matching.Candidate]:
    """The index records the child may be, best first; the one linked always among them."""
    found = matching.find(child_query(child), limit=CANDIDATES)
    if child.person is not None and all(c.person.pk != child.person_id for c in found):
        found.append(matching.score(child_query(child), child.person))
    return found


@transaction.atomic
def link_child(
    *,
    actor: User,
    notification: PoliceNotification,
    child: NotificationChild,
    person: Person | None,
    expected_version: int | None = None,
) -> NotificationChild:
    """Links the child to one of its candidates, or to nobody ("no match"), audited."""
    _require(actor)
    notification = lock(PoliceNotification.objects.all(), notification.pk, expected_version)
    if notification.outcome:
        raise Conflict(f"{notification.reference} has already been triaged.", current=notification)
    if child.notification_id != notification.pk:
        raise ValidationError({"person": ["That child is not on this notification"]})
    child = NotificationChild.objects.select_related("person").get(pk=child.pk)
    previous = child.person_id
    if person is None:
        child.person, child.match_score, child.match_reasons = None, None, [NO_MATCH_REASON]
    else:
        if person.pk not in {c.person.pk for c in candidates(child)}:
            raise ValidationError(
                {"person": ["Choose one of the records listed, or 'No match in the index'"]}
            )
        scored = matching.score(child_query(child), person)
        child.person, child.match_score = person, scored.score
        child.match_reasons = [CHOSEN_REASON, *scored.reasons]
    child.save(update_fields=["person", "match_score", "match_reasons"])
    if notification.matched_at is None:
        notification.matched_at = clock.now()
    bump(notification, "matched_at")
    audit.record(
        action="contacts.police_child_linked",
        actor=actor,
        obj=notification,
        detail={"child": child.position, "person": child.person_id, "previous": previous},
    )
    return child


# --- Outcomes --------------------------------------------------------------------------------


def _ordinal_date(moment: dt.datetime) -> str:
    local = clock.localtime(moment)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def _yes_no(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def concern_text(notification: PoliceNotification, reason: str) -> str:
    """The contact's concern: the incident in brief, then the officer's narrative."""
    incident = notification.get_incident_type_display()
    if notification.dash_risk:
        incident += f" (DASH risk: {DashRisk(notification.dash_risk).label.lower()})"
    lines = [
        f"Police notification {notification.reference} from {notification.force.name}, "
        f"occurrence reference {notification.occurrence_reference}.",
        f"Incident: {incident} on {_ordinal_date(notification.incident_at)}"
        + (f", at {notification.location}." if notification.location else "."),
    ]
    for child in notification.children.all():
        lines.append(
            f"Child present: {child.full_name}; seen: {_yes_no(child.seen)}; "
            f"spoken to: {_yes_no(child.spoken_to)}."
        )
    for adult in notification.adults.all():
        lines.append(f"Adult involved: {adult} ({AdultRole(adult.role).label.lower()}).")
    lines += ["", "The officer's narrative:", notification.narrative or "None given."]
    lines += ["", f"Why it was progressed: {reason}"]
    return "\n".join(lines)


def prefilled_contact_data(notification: PoliceNotification, reason: str) -> dict[str, Any]:
    """The contact form's data, filled in from the notification (source 6, police)."""
    from mash.contacts.forms import PrefillPerson, prefilled_data

    children = list(notification.children.all())
    adults = list(notification.adults.all())
    # A suspect in an incident with children present is, for the hub, the person alleged
    # to cause harm; any other relationship is not known from the notification.
    relationships = tuple((i, Relationship.ALLEGED_HARM.value) for i in range(len(children)))
    officer_role = ", ".join(
        part
        for part in (
            "Police officer",
            f"collar number {notification.officer_collar_number}"
            if notification.officer_collar_number
            else "",
            notification.officer_team,
        )
        if part
    )
    return prefilled_data(
        received_at=notification.received_at,
        channel=Channel.POLICE_NOTIFICATION,
        referral_source=ReferralSource.POLICE,
        concern=concern_text(notification, reason),
        children=[
            PrefillPerson(
                given_name=c.given_name,
                family_name=c.family_name,
                date_of_birth=c.date_of_birth,
                person_id=c.person_id,
            )
            for c in children
        ],
        adults=[
            PrefillPerson(
                given_name=a.given_name,
                family_name=a.family_name,
                date_of_birth=a.date_of_birth,
                relationships=relationships if a.role == AdultRole.SUSPECT else (),
            )
            for a in adults
        ],
        referrer={
            "name": notification.officer_name,
            "role": officer_role,
            "organisation": notification.force.name,
        },
    )


def open_enquiries_of(children: Sequence[NotificationChild]) -> list[Enquiry]:
    """The open enquiries of the children linked to the index, oldest first."""
    from mash.enquiries.models import OPEN_STATUSES, Enquiry

    people = {c.person_id for c in children if c.person_id is not None}
    if not people:
        return []
    return list(
        Enquiry.objects.filter(status__in=OPEN_STATUSES, contact__people__person_id__in=people)
        .distinct()
        .order_by("opened_at", "pk")
    )


def _check(
    notification: PoliceNotification,
    *,
    outcome: str,
    reason: str,
    shared_with: list[str],
    shared_with_detail: str,
    enquiry: Enquiry | None,
) -> Enquiry | None:
    errors: dict[str, list[str]] = {}
    if outcome not in TriageOutcome.values:
        errors["outcome"] = ["Select an outcome"]
    if not reason:
        errors["reason"] = ["Enter the reason for the outcome"]
    elif len(reason) > MAX_TEXT_LENGTH:
        errors["reason"] = [f"The reason must be {MAX_TEXT_LENGTH:,} characters or fewer"]
    if outcome == TriageOutcome.SHARE_UNIVERSAL:
        if not shared_with:
            errors["shared_with"] = ["Select who the notification is shared with"]
        elif any(s not in UniversalService.values for s in shared_with):
            errors["shared_with"] = ["Select services from the list"]
        if not shared_with_detail:
            errors["shared_with_detail"] = [
                "Enter which school, health visiting team or practice it is shared with"
            ]
        elif len(shared_with_detail) > MAX_DETAIL:
            errors["shared_with_detail"] = [f"This must be {MAX_DETAIL} characters or fewer"]
    chosen = None
    if outcome == TriageOutcome.ADD_TO_ENQUIRY:
        allowed = {e.pk: e for e in open_enquiries_of(list(notification.children.all()))}
        if not allowed:
            errors["outcome"] = ["None of the children has an open enquiry: choose another outcome"]
        elif enquiry is None:
            errors["enquiry"] = ["Choose the enquiry to add the notification to"]
        elif enquiry.pk not in allowed:
            errors["enquiry"] = ["Choose one of the children's open enquiries"]
        else:
            chosen = allowed[enquiry.pk]
    if errors:
        raise ValidationError(errors)
    return chosen


@transaction.atomic
def record_outcome(
    *,
    actor: User,
    notification: PoliceNotification,
    outcome: str,
    reason: str,
    shared_with: Sequence[str] = (),
    shared_with_detail: str = "",
    enquiry: Enquiry | None = None,
    expected_version: int | None = None,
) -> PoliceNotification:
    """Records the triage outcome once, with its reason, audited; a second attempt conflicts.

    Progressing opens a draft contact filled in from the notification (the caller takes the
    user to it); sharing records which universal services were told; adding to an enquiry
    links the notification to one of its children's open enquiries.
    """
    _require(actor)
    # Not joined to the force: FOR UPDATE would lock the force's row too.
    notification = lock(PoliceNotification.objects.all(), notification.pk, None)
    if notification.outcome:
        raise Conflict(
            f"{notification.reference} was triaged by someone else while you were looking "
            "at it. Your outcome has not been recorded.",
            current=notification,
        )
    if expected_version is not None and notification.version != expected_version:
        raise Conflict(
            f"{notification.reference} was changed by someone else while you were looking at "
            "it. Check it again, then record the outcome.",
            current=notification,
        )
    reason = reason.replace("\x00", "").strip()
    shared = list(dict.fromkeys(s for s in shared_with if s)) if shared_with else []
    detail = shared_with_detail.replace("\x00", "").strip()
    chosen = _check(
        notification,
        outcome=outcome,
        reason=reason,
        shared_with=shared,
        shared_with_detail=detail,
        enquiry=enquiry,
    )
    sharing = outcome == TriageOutcome.SHARE_UNIVERSAL
    notification.outcome, notification.outcome_reason = outcome, reason
    notification.shared_with = shared if sharing else []
    notification.shared_with_detail = detail if sharing else ""
    notification.enquiry = chosen
    notification.triaged_at, notification.triaged_by = clock.now(), actor
    contact: Contact | None = None
    if outcome == TriageOutcome.PROGRESS_CONTACT:
        from mash.contacts import services as contact_services

        _require(actor, "contacts.record")
        contact = contact_services.save_draft(
            actor=actor, data=prefilled_contact_data(notification, reason)
        )
        notification.contact = contact
    bump(
        notification,
        "outcome",
        "outcome_reason",
        "shared_with",
        "shared_with_detail",
        "enquiry",
        "contact",
        "triaged_at",
        "triaged_by",
    )
    detail_: dict[str, Any] = {"outcome": outcome}
    if sharing:
        detail_["shared_with"] = [UniversalService(s).label for s in shared]
        detail_["shared_with_detail"] = detail
    if chosen is not None:
        detail_["enquiry"] = chosen.reference
    if contact is not None:
        detail_["contact"] = contact.reference
    audit.record(
        action="contacts.police_notification_triaged", actor=actor, obj=notification, detail=detail_
    )
    return notification


def outcome_summary(notification: PoliceNotification) -> str:
    """The outcome in a few words, for the announcement after recording it."""
    if notification.outcome == TriageOutcome.SHARE_UNIVERSAL:
        services = ", ".join(UniversalService(s).label.lower() for s in notification.shared_with)
        return f"shared with {services}"
    if notification.outcome == TriageOutcome.ADD_TO_ENQUIRY and notification.enquiry_id:
        return f"added to enquiry E-{notification.enquiry_id:06d}"
    if notification.outcome == TriageOutcome.PROGRESS_CONTACT and notification.contact_id:
        return f"progressed to contact C-{notification.contact_id:06d}"
    if notification.outcome == TriageOutcome.RECORD_ONLY:
        return "record only"
    return str(notification.get_outcome_display()).lower()
