"""Children who cross borders: the responsible local authority, and transfers.

- Where a child lives: a postcode is inside the hub's area when its outward
  code is one of the hub's postcode districts, or its letters are one of the
  hub's postcode areas (Hub.postcode_areas).
- `set_responsible_la`: a hub manager or co-ordinator names the authority
  responsible for the children (none named: the hub's own).
- `transfer_enquiry`: a hub manager hands an open enquiry to that authority.
  The transfer package (JSON for systems, PDF for people) is built from the
  record by `build_package`, never with MASH-only content: agencies' answers
  come only through `visible_answer_items` with the TRANSFER audience.

The package is not stored. The transfer keeps the SHA-256 of the JSON as
produced; a later download rebuilds it from the record "as at" the moment it
was sent and serves it only if the hash still matches (docs/transfer-package.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from mash.contacts.models import (
    Channel,
    ContactPerson,
    PersonRole,
    ReferralSource,
    Relationship,
)
from mash.core import audit, clock
from mash.core.concurrency import Conflict, bump
from mash.core.forms import MAX_TEXT_LENGTH
from mash.core.local_authorities import in_areas, outward_code, parse_areas
from mash.core.models import AuditEvent, Hub, LocalAuthority
from mash.enquiries import selectors
from mash.enquiries.models import (
    ClosedAs,
    ConsentStatus,
    Enquiry,
    EnquiryStatus,
    EnquiryTransfer,
    Outcome,
    OverrideGround,
    OverrideStatus,
    PrimaryNeed,
    Rag,
    RequestStatus,
    RiskIndicator,
    Sensitivity,
    Theme,
)
from mash.enquiries.selectors import Audience
from mash.people.models import Ethnicity, Sex

if TYPE_CHECKING:
    from mash.accounts.models import User

# --- Where a child lives ----------------------------------------------------------------------


@dataclass(frozen=True)
class Responsibility:
    """Who is responsible for an enquiry's children, and why the hub might not be."""

    own: bool
    name: str  # the responsible authority's name, for the page
    authority: LocalAuthority | None  # another authority; None when it is the hub's own
    hub_authority: str  # the hub's own authority's name
    areas_set: bool
    outside: list[ContactPerson] = field(default_factory=list)  # postcode outside the areas
    unplaced: list[ContactPerson] = field(default_factory=list)  # postcode missing or unreadable
    last_change: AuditEvent | None = None
    transfer: EnquiryTransfer | None = None
    can_set: bool = False  # the user may change it (and the enquiry is open)
    can_transfer: bool = False  # the user may transfer the enquiry, and it is ready


def hub_authority_name(hub: Hub) -> str:
    """The hub's own local authority, as named in its settings."""
    if hub.local_authority_name.strip():
        return hub.local_authority_name.strip()
    if hub.la_code:
        found = LocalAuthority.objects.filter(code=hub.la_code).first()
        if found is not None:
            return found.name
    return "The hub's own authority"


def responsibility(
    *, user: User, enquiry: Enquiry, children: list[ContactPerson]
) -> Responsibility:
    """The responsible authority, the children living outside the hub's area, the last
    change and any transfer (a few queries, however many children)."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    hub = Hub.load()
    areas, _ = parse_areas(hub.postcode_areas)
    placed = [(child, in_areas(child.postcode, areas)) for child in children]
    own_name = hub_authority_name(hub)
    authority = enquiry.responsible_la if enquiry.responsible_la_id else None
    last_change = (
        AuditEvent.objects.filter(
            action="enquiries.responsible_la_set",
            object_type="enquiries.enquiry",
            object_id=str(enquiry.pk),
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
        .first()
    )
    transfer = (
        EnquiryTransfer.objects.select_related("to_la", "sent_by").filter(enquiry=enquiry).first()
        if enquiry.closed_as == ClosedAs.TRANSFERRED
        else None
    )
    return Responsibility(
        own=authority is None,
        name=own_name if authority is None else authority.name,
        authority=authority,
        hub_authority=own_name,
        areas_set=bool(areas),
        outside=[child for child, inside in placed if inside is False],
        unplaced=[child for child, inside in placed if inside is None and areas],
        last_change=last_change,
        transfer=transfer,
        can_set=enquiry.is_open and user.has_perm("enquiries.set_responsible_la", enquiry),
        can_transfer=user.has_perm("enquiries.transfer", enquiry) and not transfer_ready(enquiry),
    )


def note_residence_on_opening(*, actor: User, enquiry: Enquiry) -> None:
    """When an enquiry opens its children are the hub's own (responsible_la stays None);
    any child whose postcode lies outside the hub's areas is noted in the audit log, and
    the enquiry's page asks the hub to check the responsible authority."""
    areas, _ = parse_areas(Hub.load().postcode_areas)
    if not areas:
        return
    outside = [
        link
        for link in ContactPerson.objects.filter(
            contact_id=enquiry.contact_id, role=PersonRole.CHILD
        ).order_by("position")
        if in_areas(link.postcode, areas) is False
    ]
    if outside:
        audit.record(
            action="enquiries.children_outside_area",
            actor=actor,
            obj=enquiry,
            detail={
                "children": [link.person_id for link in outside],
                "outward_codes": [outward_code(link.postcode) for link in outside],
            },
        )


# --- Setting the responsible authority -------------------------------------------------------

REASON_MAX_LENGTH = 500  # kept whole in the audit event, which is where the reason lives


def _require(actor: User, permission: str, obj: Any = None) -> None:
    if not actor.has_perm(permission, obj):
        raise PermissionDenied


def _lock_open(enquiry: Enquiry, expected_version: int | None) -> Enquiry:
    """The enquiry locked for this transaction: open, and still as the user saw it."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    existing = EnquiryTransfer.objects.filter(enquiry_id=locked.pk).first()
    if existing is not None:
        raise Conflict("This enquiry has already been transferred.", current=existing)
    if locked.status == EnquiryStatus.CLOSED:
        raise Conflict("This enquiry has been closed.", current=locked)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("Someone else changed this enquiry while you were working on it.", locked)
    return locked


@transaction.atomic
def set_responsible_la(
    *,
    actor: User,
    enquiry: Enquiry,
    local_authority: LocalAuthority | None,
    reason: str,
    expected_version: int | None = None,
) -> Enquiry:
    """Names the authority responsible for an open enquiry's children (None: the hub's own),
    with a reason; audited."""
    _require(actor, "enquiries.set_responsible_la", enquiry)
    enquiry = _lock_open(enquiry, expected_version)
    hub = Hub.load()
    errors: dict[str, list[str]] = {}
    if local_authority is not None:
        local_authority = LocalAuthority.objects.filter(pk=local_authority.pk).first()
        if local_authority is None:
            errors["local_authority"] = ["Select a local authority from the list"]
        elif not local_authority.is_active:
            errors["local_authority"] = [
                f"{local_authority.name} no longer exists: select the authority that replaced it"
            ]
        elif hub.la_code and local_authority.code == hub.la_code:
            local_authority = None  # the hub's own authority, chosen by name
    if not reason.strip():
        errors["reason"] = ["Enter why this authority is responsible"]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"The reason must be {REASON_MAX_LENGTH} characters or fewer"]
    new_id = local_authority.pk if local_authority is not None else None
    if not errors and new_id == enquiry.responsible_la_id:
        errors["local_authority"] = [
            "This is already the responsible authority: select another, or go back"
        ]
    if errors:
        raise ValidationError(errors)
    previous = enquiry.responsible_la
    enquiry.responsible_la = local_authority
    bump(enquiry, "responsible_la")
    audit.record(
        action="enquiries.responsible_la_set",
        actor=actor,
        obj=enquiry,
        detail={
            "from": previous.code if previous is not None else None,
            "to": local_authority.code if local_authority is not None else None,
            "reason": reason.strip(),
        },
    )
    return enquiry


# --- The transfer package --------------------------------------------------------------------

SCHEMA = "mash-transfer-package"
SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Package:
    data: dict[str, Any]
    content: bytes  # the JSON file, exactly as served
    sha256: str


def _coded(choices: Any, value: Any) -> dict[str, str] | None:
    if value in (None, ""):
        return None
    label = choices(value).label if value in choices.values else value
    return {"code": str(value), "label": str(label)}


def _when(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _day(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _person(person: ContactPerson, ref: str, child: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ref": ref,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "date_of_birth": _day(person.date_of_birth),
    }
    if child:
        data["expected_date_of_birth"] = _day(person.expected_date_of_birth)
    data.update(
        {
            "sex": _coded(Sex, person.sex),
            "ethnicity": _coded(Ethnicity, person.ethnicity),
            "nhs_number": person.nhs_number or None,
            "upn": person.upn or None,
            "address": {
                "line_1": person.address_line_1,
                "line_2": person.address_line_2,
                "town": person.town,
                "postcode": person.postcode,
            },
        }
    )
    if child:
        data["school"] = person.school
    data["gp"] = person.gp
    return data


def _decision_as_at(decision: Any, moment: dt.datetime) -> dict[str, Any]:
    """A decision's values as they stood at `moment`: later amendments undone."""
    values: dict[str, Any] = {
        "outcome": decision.outcome,
        "primary_need": decision.primary_need,
        "rationale": decision.rationale,
        "next_team": decision.next_team,
        "themes": sorted(t.theme for t in decision.themes.all()),
    }
    for amendment in sorted(
        decision.amendments.all(), key=lambda a: (a.amended_at, a.id), reverse=True
    ):
        if amendment.amended_at <= moment:
            break
        for name, pair in amendment.changes.items():
            if name in values and isinstance(pair, list) and len(pair) == 2:
                values[name] = pair[0]
    return values


def origin(hub: Hub) -> dict[str, Any]:
    """Where a package comes from: the hub and its authority (kept in the transfer's audit
    event, so renaming the hub later does not change a package already sent)."""
    return {
        "from_la": {"code": hub.la_code or None, "name": hub_authority_name(hub)},
        "from_hub": hub.name,
    }


def build_package(
    *,
    user: User,
    enquiry: Enquiry,
    transfer: EnquiryTransfer | None = None,
    to_la: LocalAuthority | None = None,
    source: dict[str, Any] | None = None,
) -> Package:
    """The transfer package, JSON and its hash: from the record as it stood when the
    transfer was sent (or now, for a preview), without MASH-only content."""
    source = source or origin(Hub.load())
    moment = transfer.sent_at if transfer is not None else clock.now()
    destination = transfer.to_la if transfer is not None else to_la
    history = selectors.enquiry_history(user=user, enquiry=enquiry)
    people = selectors.people_on_enquiry(user=user, enquiry=enquiry)
    answers = selectors.visible_answer_items(enquiry=enquiry, audience=Audience.TRANSFER)
    contact = enquiry.contact

    refs: dict[int, str] = {}
    for i, person in enumerate(people.children):
        refs[person.pk] = f"child-{i + 1}"
    for i, person in enumerate(people.adults):
        refs[person.pk] = f"adult-{i + 1}"
    child_refs = {p.person_id: refs[p.pk] for p in people.children}
    adults = []
    for person in people.adults:
        entry = _person(person, refs[person.pk], child=False)
        entry["relationships"] = [
            {"child": refs[r.child_id], "relationship": _coded(Relationship, r.relationship)}
            for r in history.relationships
            if r.adult_id == person.pk and r.child_id in refs
        ]
        adults.append(entry)

    consents = [c for c in history.consents if c.recorded_at <= moment]
    latest = consents[-1] if consents else None
    overrides = [
        o
        for o in history.overrides
        if o.status == OverrideStatus.AUTHORISED and o.decided_at and o.decided_at <= moment
    ]

    by_agency: dict[str, dict[str, Any]] = {}
    for item in answers.items:
        if item.created_at > moment or item.sensitivity == Sensitivity.MASH_ONLY:
            continue  # the second test is the selector's already; kept as a guard
        group = by_agency.setdefault(
            item.agency.name, {"agency": item.agency.name, "nothing_held": False, "items": []}
        )
        group["items"].append(
            {
                "summary": item.summary,
                "detail": item.detail,
                "risk_indicators": [_coded(RiskIndicator, r) for r in item.risk_indicators if r],
                "source_reference": item.source_reference,
                "sensitivity": _coded(Sensitivity, item.sensitivity),
                "recorded_at": _when(item.created_at),
                "recorded_by": item.created_by.full_name,
            }
        )
    for request in history.requests:
        if (
            request.status == RequestStatus.NOTHING_HELD
            and request.answered_at is not None
            and request.answered_at <= moment
        ):
            group = by_agency.setdefault(
                request.agency.name,
                {"agency": request.agency.name, "nothing_held": True, "items": []},
            )
            group["nothing_held"] = not group["items"]

    decisions = []
    for decision in history.decisions:
        if decision.decided_at > moment:
            continue
        values = _decision_as_at(decision, moment)
        decisions.append(
            {
                "child": child_refs.get(decision.child_id),
                "outcome": _coded(Outcome, values["outcome"]),
                "primary_need": _coded(PrimaryNeed, values["primary_need"]),
                "themes": [_coded(Theme, t) for t in values["themes"]],
                "rationale": values["rationale"],
                "next_team": values["next_team"],
                "decided_at": _when(decision.decided_at),
                "decided_by": decision.decided_by.full_name,
            }
        )

    referrer: dict[str, Any] = {"anonymous": contact.referrer_anonymous}
    if not contact.referrer_anonymous:
        referrer.update(
            {
                "name": contact.referrer_name,
                "role": contact.referrer_role,
                "organisation": contact.referrer_organisation,
                "phone": contact.referrer_phone,
                "email": contact.referrer_email,
            }
        )

    data: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "status": "sent" if transfer is not None else "preview",
        "transfer": {
            "from_la": source.get("from_la"),
            "from_hub": source.get("from_hub"),
            "to_la": {
                "code": destination.code if destination else None,
                "name": destination.name if destination else None,
            },
            "recipient": transfer.recipient if transfer is not None else None,
            "recipient_email": (transfer.recipient_email or None) if transfer else None,
            "reason": transfer.reason if transfer is not None else None,
            "sent_at": _when(transfer.sent_at) if transfer is not None else None,
            "sent_by": transfer.sent_by.full_name if transfer is not None else None,
            "as_at": _when(moment),
        },
        "enquiry": {
            "reference": enquiry.reference,
            "opened_at": _when(enquiry.opened_at),
            "rag": _coded(Rag, enquiry.rag),
            "rated_at": _when(enquiry.rated_at),
            "summary_for_agencies": enquiry.summary_for_agencies,
        },
        "contact": {
            "reference": contact.reference,
            "received_at": _when(contact.received_at),
            "channel": _coded(Channel, contact.channel),
            "referral_source": _coded(ReferralSource, contact.referral_source),
            "concern": contact.concern,
            "family_told": contact.family_told,
        },
        "referrer": referrer,
        "children": [_person(p, refs[p.pk], child=True) for p in people.children],
        "adults": adults,
        "consent": {
            "latest": None
            if latest is None
            else {
                "status": _coded(ConsentStatus, latest.status),
                "given_by": latest.given_by,
                "decided_on": _when(latest.decided_on),
                "notes": latest.notes,
                "recorded_at": _when(latest.recorded_at),
            },
            "overrides": [
                {
                    "grounds": [_coded(OverrideGround, g) for g in o.grounds],
                    "other_ground": o.other_ground,
                    "justification": o.justification,
                    "proposed_at": _when(o.proposed_at),
                    "proposed_by": o.proposed_by.full_name,
                    "authorised_at": _when(o.decided_at),
                    "authorised_by": o.decided_by.full_name if o.decided_by else None,
                }
                for o in overrides
            ],
        },
        "ratings": [
            {
                "rag": _coded(Rag, r.rag),
                "previous_rag": _coded(Rag, r.previous_rag),
                "rationale": r.rationale,
                "rated_at": _when(r.rated_at),
                "rated_by": r.rated_by.full_name,
            }
            for r in history.ratings
            if r.rated_at <= moment
        ],
        "agency_information": [by_agency[name] for name in sorted(by_agency)],
        "decisions": decisions,
    }
    content = (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return Package(data=data, content=content, sha256=hashlib.sha256(content).hexdigest())


# --- The transfer ----------------------------------------------------------------------------


def transfer_ready(enquiry: Enquiry) -> str:
    """Why an enquiry cannot be transferred now, in words; "" when it can."""
    if enquiry.closed_as == ClosedAs.TRANSFERRED:
        return "This enquiry has already been transferred."
    if enquiry.status == EnquiryStatus.CLOSED:
        return "This enquiry has been closed: it can no longer be transferred."
    if enquiry.responsible_la_id is None:
        return (
            "The hub's own authority is responsible for these children. Set the responsible "
            "local authority to another authority before transferring."
        )
    if enquiry.responsible_la is not None and not enquiry.responsible_la.is_active:
        return (
            f"{enquiry.responsible_la.name} no longer exists: set the responsible authority "
            "to the authority that replaced it."
        )
    return ""


@transaction.atomic
def transfer_enquiry(
    *,
    actor: User,
    enquiry: Enquiry,
    recipient: str,
    reason: str,
    recipient_email: str = "",
    expected_version: int | None = None,
) -> EnquiryTransfer:
    """Hands an open enquiry to its responsible authority: records the transfer and the
    package's hash, closes the enquiry as transferred and stops pending agency requests,
    in one transaction. A second transfer is a Conflict naming the first."""
    _require(actor, "enquiries.transfer", enquiry)
    enquiry = _lock_open(enquiry, expected_version)
    errors: dict[str, list[str]] = {}
    not_ready = transfer_ready(enquiry)
    if not_ready:
        errors["__all__"] = [not_ready]
    recipient, recipient_email = recipient.strip(), recipient_email.strip()
    if not recipient:
        errors["recipient"] = ["Enter the team or person the enquiry is going to"]
    elif len(recipient) > 200:
        errors["recipient"] = ["The team or person must be 200 characters or fewer"]
    if recipient_email:
        try:
            validate_email(recipient_email)
        except ValidationError:
            errors["recipient_email"] = [
                "Enter an email address in the correct format, like name@example.com"
            ]
        if len(recipient_email) > 254:
            errors["recipient_email"] = ["The email address must be 254 characters or fewer"]
    if not reason.strip():
        errors["reason"] = ["Enter why the enquiry is being transferred"]
    elif len(reason) > MAX_TEXT_LENGTH:
        errors["reason"] = [f"The reason must be {MAX_TEXT_LENGTH:,} characters or fewer"]
    if errors:
        raise ValidationError(errors)
    to_la = enquiry.responsible_la
    if to_la is None:  # pragma: no cover - transfer_ready said so
        raise ValidationError({"__all__": ["There is no other authority to transfer to."]})
    now = clock.now()
    record = EnquiryTransfer(
        enquiry=enquiry,
        to_la=to_la,
        recipient=recipient,
        recipient_email=recipient_email,
        reason=reason.strip(),
        sent_at=now,
        sent_by=actor,
    )
    # Built before anything below changes: the package is the record as it stood.
    source = origin(Hub.load())
    package = build_package(user=actor, enquiry=enquiry, transfer=record, source=source)
    record.package_sha256 = package.sha256
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            "This enquiry has already been transferred.",
            current=EnquiryTransfer.objects.filter(enquiry_id=enquiry.pk).first(),
        ) from None
    stopped = enquiry.requests.filter(status=RequestStatus.PENDING).update(
        status=RequestStatus.NOT_REQUIRED,
        not_required_reason=(
            f"The enquiry was transferred to {to_la.name} before this agency answered."
        ),
        not_required_by=actor,
    )
    enquiry.status, enquiry.closed_at = EnquiryStatus.CLOSED, now
    enquiry.closed_as = ClosedAs.TRANSFERRED
    bump(enquiry, "status", "closed_at", "closed_as")
    audit.record(
        action="enquiries.enquiry_transferred",
        actor=actor,
        obj=enquiry,
        detail={
            "transfer": record.pk,
            "to": to_la.code,
            "recipient": recipient,
            "package_sha256": package.sha256,
            "requests_stopped": stopped,
            **source,
        },
    )
    audit.record(
        action="enquiries.enquiry_closed",
        actor=actor,
        obj=enquiry,
        detail={"closed_as": ClosedAs.TRANSFERRED},
    )
    return record


class PackageChanged(Exception):
    """The record no longer gives the package that was sent (its hash differs)."""


def sent_package(*, user: User, transfer: EnquiryTransfer) -> Package:
    """The package as it was sent, rebuilt from the record and checked against its hash."""
    if not user.has_perm("enquiries.view"):
        raise PermissionDenied
    event = (
        AuditEvent.objects.filter(
            action="enquiries.enquiry_transferred",
            object_type="enquiries.enquiry",
            object_id=str(transfer.enquiry_id),
        )
        .order_by("id")
        .first()
    )
    source = None
    if event is not None and "from_hub" in event.detail:
        source = {"from_la": event.detail.get("from_la"), "from_hub": event.detail["from_hub"]}
    package = build_package(user=user, enquiry=transfer.enquiry, transfer=transfer, source=source)
    if package.sha256 != transfer.package_sha256:
        raise PackageChanged(transfer.package_sha256)
    return package
