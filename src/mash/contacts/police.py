"""Writes for police notifications: receiving one (API, CSV or by hand), the same way.

Every route into the triage queue calls `receive_notification`, so the rules, the
replay check and the audit event are the same whether the force's system, a CSV
file or a researcher at a keyboard sent it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction

from mash.accounts.models import Agency, AgencyKind
from mash.contacts.models import (
    AdultRole,
    DashRisk,
    IncidentType,
    NotificationAdult,
    NotificationChild,
    PoliceNotification,
    ReceivedVia,
)
from mash.core import audit, clock
from mash.core.forms import MAX_TEXT_LENGTH

if TYPE_CHECKING:
    from mash.accounts.models import User
    from mash.api.models import ApiToken

MAX_CHILDREN = 20
MAX_ADULTS = 20
# An incident date this far back is almost certainly a typing mistake.
OLDEST_INCIDENT = dt.timedelta(days=366 * 5)


@dataclass(frozen=True)
class ChildEntry:
    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None
    seen: bool | None = None
    spoken_to: bool | None = None


@dataclass(frozen=True)
class AdultEntry:
    role: str
    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None


@dataclass(frozen=True)
class NotificationEntry:
    """A notification as sent: the same fields whichever way it arrived."""

    occurrence_reference: str
    incident_at: dt.datetime
    incident_type: str
    children: list[ChildEntry]
    adults: list[AdultEntry] = field(default_factory=list)
    dash_risk: str = ""
    location: str = ""
    narrative: str = ""
    officer_name: str = ""
    officer_collar_number: str = ""
    officer_team: str = ""

    def content_hash(self) -> str:
        """The same notification sent twice hashes the same; any change hashes differently."""
        data = asdict(self)
        data["incident_at"] = self.incident_at.astimezone(dt.UTC).isoformat()
        canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class ReplayConflict(Exception):
    """The force already sent this occurrence reference, with different content."""

    def __init__(self, existing: PoliceNotification) -> None:
        super().__init__(
            f"Occurrence reference {existing.occurrence_reference} was already received "
            f"({existing.reference}) with different content."
        )
        self.existing = existing


def _limit(model: type[models.Model], name: str) -> int:
    return getattr(model._meta.get_field(name), "max_length", None) or MAX_TEXT_LENGTH


def check(entry: NotificationEntry, *, force: Agency | None) -> dict[str, list[str]]:
    """Every problem with a notification, by field (`children.0.date_of_birth` for a child's).

    Shared by the API, the CSV upload and the form, so each says the same thing.
    """
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if force is None:
        add("force", "Select the police force that sent the notification")
    elif force.kind != AgencyKind.POLICE or not force.is_active:
        add("force", "The force must be an active police agency of the hub")
    reference = entry.occurrence_reference.strip()
    if not reference:
        add("occurrence_reference", "Enter the force's occurrence reference")
    elif len(reference) > _limit(PoliceNotification, "occurrence_reference"):
        add("occurrence_reference", "The occurrence reference must be 40 characters or fewer")
    now = clock.now()
    if entry.incident_at.tzinfo is None:
        add("incident_at", "The incident time must say its time zone")
    elif entry.incident_at > now + dt.timedelta(minutes=5):
        add("incident_at", "The incident cannot be in the future")
    elif entry.incident_at < now - OLDEST_INCIDENT:
        add("incident_at", "The incident must be within the last 5 years")
    if entry.incident_type not in IncidentType.values:
        add("incident_type", "Choose the type of incident from the list")
    if entry.dash_risk and entry.dash_risk not in DashRisk.values:
        add("dash_risk", "The DASH risk level must be standard, medium or high")
    elif entry.dash_risk and entry.incident_type != IncidentType.DOMESTIC_ABUSE:
        add("dash_risk", "A DASH risk level is given only for domestic abuse")
    elif not entry.dash_risk and entry.incident_type == IncidentType.DOMESTIC_ABUSE:
        add("dash_risk", "Enter the DASH risk level for domestic abuse")
    for name in ("location", "officer_name", "officer_collar_number", "officer_team"):
        limit = _limit(PoliceNotification, name)
        if len(getattr(entry, name)) > limit:
            label = name.replace("_", " ").capitalize()
            add(name, f"{label} must be {limit:,} characters or fewer")
    if len(entry.narrative) > MAX_TEXT_LENGTH:
        add("narrative", f"The narrative must be {MAX_TEXT_LENGTH:,} characters or fewer")
    today = clock.localtime(now).date()
    if not entry.children:
        add("children", "Name at least one child present (a name or a date of birth)")
    elif len(entry.children) > MAX_CHILDREN:
        add("children", f"A notification can name at most {MAX_CHILDREN} children")
    for i, child in enumerate(entry.children[:MAX_CHILDREN]):
        if not (child.given_name.strip() or child.family_name.strip() or child.date_of_birth):
            add(f"children.{i}.given_name", "Enter the child's name or date of birth")
        for name in ("given_name", "family_name"):
            if len(getattr(child, name)) > _limit(NotificationChild, name):
                add(f"children.{i}.{name}", "Names must be 100 characters or fewer")
        if child.date_of_birth and child.date_of_birth > today:
            add(f"children.{i}.date_of_birth", "A child's date of birth cannot be in the future")
        elif child.date_of_birth and child.date_of_birth <= _eighteen_years_before(today):
            add(f"children.{i}.date_of_birth", "A child must be under 18")
        if child.spoken_to and child.seen is False:
            add(f"children.{i}.spoken_to", "A child spoken to was also seen")
    if len(entry.adults) > MAX_ADULTS:
        add("adults", f"A notification can name at most {MAX_ADULTS} adults")
    for i, adult in enumerate(entry.adults[:MAX_ADULTS]):
        if adult.role not in AdultRole.values:
            add(f"adults.{i}.role", "The adult's role must be victim, suspect, witness or other")
        if not (adult.given_name.strip() or adult.family_name.strip()):
            add(f"adults.{i}.given_name", "Enter the adult's name")
        for name in ("given_name", "family_name"):
            if len(getattr(adult, name)) > _limit(NotificationAdult, name):
                add(f"adults.{i}.{name}", "Names must be 100 characters or fewer")
        if adult.date_of_birth and adult.date_of_birth > today:
            add(f"adults.{i}.date_of_birth", "A date of birth cannot be in the future")
    return errors


def _eighteen_years_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 18)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 18, day=28)


def _clean(entry: NotificationEntry) -> NotificationEntry:
    """Whitespace trimmed, so a replay with a stray space is still the same notification."""

    def strip(value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    return NotificationEntry(
        **{
            **{k: strip(v) for k, v in asdict(entry).items() if k not in ("children", "adults")},
            "incident_at": entry.incident_at,
            "children": [
                ChildEntry(**{k: strip(v) for k, v in asdict(c).items()}) for c in entry.children
            ],
            "adults": [
                AdultEntry(**{k: strip(v) for k, v in asdict(a).items()}) for a in entry.adults
            ],
        }
    )


def receive_notification(
    *,
    actor: User | None,
    force: Agency | None,
    entry: NotificationEntry,
    via: str,
    token: ApiToken | None = None,
) -> tuple[PoliceNotification, bool]:
    """Adds a notification to the triage queue, once: (notification, created).

    The same force and occurrence reference again with the same content returns the
    first one and creates nothing; with different content it raises ReplayConflict.
    `actor` is None only for the API, where the token stands for the force's system.
    """
    if actor is not None and not actor.has_perm("contacts.record_police"):
        raise PermissionDenied
    if via not in ReceivedVia.values or (via == ReceivedVia.API) != (token is not None):
        raise ValueError("an API notification comes with its token, and only then")
    entry = _clean(entry)
    errors = check(entry, force=force)
    if errors:
        raise ValidationError(errors)
    assert force is not None  # noqa: S101 (check() refused a missing force)
    digest = entry.content_hash()
    existing = _existing(force, entry.occurrence_reference)
    if existing is not None:
        return _replayed(existing, digest)
    try:
        with transaction.atomic():
            return _create(actor, force, entry, via, token, digest), True
    except IntegrityError:
        # Sent twice at the same moment: the other request created it first.
        existing = _existing(force, entry.occurrence_reference)
        if existing is None:
            raise
        return _replayed(existing, digest)


def _existing(force: Agency, reference: str) -> PoliceNotification | None:
    # Unique per force: no ordering needed (cheaper on the API's hot path).
    found = PoliceNotification.objects.filter(force=force, occurrence_reference=reference)
    return next(iter(found.order_by()[:1]), None)


def _replayed(existing: PoliceNotification, digest: str) -> tuple[PoliceNotification, bool]:
    if existing.content_hash != digest:
        raise ReplayConflict(existing)
    return existing, False


def _create(
    actor: User | None,
    force: Agency,
    entry: NotificationEntry,
    via: str,
    token: ApiToken | None,
    digest: str,
) -> PoliceNotification:
    now = clock.now()
    notification = PoliceNotification.objects.create(
        force=force,
        occurrence_reference=entry.occurrence_reference,
        incident_at=entry.incident_at,
        incident_type=entry.incident_type,
        dash_risk=entry.dash_risk,
        location=entry.location,
        narrative=entry.narrative,
        officer_name=entry.officer_name,
        officer_collar_number=entry.officer_collar_number,
        officer_team=entry.officer_team,
        received_at=now,
        received_via=via,
        received_by=actor,
        api_token=token,
        content_hash=digest,
    )
    NotificationChild.objects.bulk_create(
        NotificationChild(notification=notification, position=i, **asdict(child))
        for i, child in enumerate(entry.children)
    )
    NotificationAdult.objects.bulk_create(
        NotificationAdult(notification=notification, position=i, **asdict(adult))
        for i, adult in enumerate(entry.adults)
    )
    audit.record(
        action="contacts.police_notification_received",
        actor=actor,
        obj=notification,
        detail={
            "via": via,
            "force": force.pk,
            "occurrence_reference": entry.occurrence_reference,
            **({"token": token.pk} if token is not None else {}),
        },
        actor_label="" if actor is not None else f"api:{token.name if token else ''}",
    )
    return notification
