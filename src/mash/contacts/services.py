"""Writes for contacts: drafts, submission (with people matched or created), screening.

Each service takes keyword-only arguments and the acting user, checks
permission, runs in one transaction and audits itself there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from mash.contacts.models import (
    Channel,
    Contact,
    ContactPerson,
    ContactRelationship,
    ContactStatus,
    PersonRole,
    ReferralSource,
    ScreeningOutcome,
)
from mash.core import audit, clock
from mash.core.concurrency import Conflict, bump, lock
from mash.core.forms import MAX_TEXT_LENGTH
from mash.core.models import LocalAuthority
from mash.people import services as people_services
from mash.people.identifiers import clean_nhs_number, clean_upn
from mash.people.models import Household, Person

if TYPE_CHECKING:
    from mash.accounts.models import User

# An unborn child's expected date of birth: not more than this far either side of today.
DUE_DATE_MAX_AHEAD = dt.timedelta(days=305)  # about 10 months
DUE_DATE_MAX_PAST = dt.timedelta(days=31)


@dataclass(frozen=True)
class Details:
    received_at: dt.datetime
    channel: str
    referral_source: str
    concern: str
    family_told: str = ""
    referrer_anonymous: bool = False
    referrer_name: str = ""
    referrer_role: str = ""
    referrer_organisation: str = ""
    referrer_phone: str = ""
    referrer_email: str = ""
    # An incoming transfer (source 5C, or from another authority): the authority that sent it.
    from_local_authority: LocalAuthority | None = None


@dataclass(frozen=True)
class PersonEntry:
    """A child or adult as typed on the contact; link_to names an existing person."""

    role: str
    given_name: str
    family_name: str
    date_of_birth: dt.date | None = None
    expected_date_of_birth: dt.date | None = None
    sex: str = "U"
    ethnicity: str = "NOBT"
    nhs_number: str = ""
    upn: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    town: str = ""
    postcode: str = ""
    school: str = ""
    gp: str = ""
    link_to: int | None = None
    match_score: int | None = None
    match_reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RelationshipEntry:
    adult: int  # index into the adults
    child: int  # index into the children
    relationship: str


def _require(actor: User | None, permission: str, obj: Any = None) -> None:
    if actor is not None and not actor.has_perm(permission, obj):
        raise PermissionDenied


@transaction.atomic
def save_draft(
    *,
    actor: User,
    data: dict[str, Any],
    contact: Contact | None = None,
    expected_version: int | None = None,
) -> Contact:
    """Keeps what was typed, exactly as typed; anyone in the hub can finish the draft."""
    _require(actor, "contacts.record")
    now = clock.now()
    if contact is None:
        contact = Contact.objects.create(
            created_by=actor, created_at=now, updated_at=now, draft=data
        )
        audit.record(action="contacts.draft_created", actor=actor, obj=contact)
        return contact
    contact = lock(Contact.objects.all(), contact.pk, expected_version)
    if contact.status != ContactStatus.DRAFT:
        raise Conflict("This contact has already been submitted.", current=contact)
    contact.draft, contact.updated_at = data, now
    bump(contact, "draft", "updated_at")
    audit.record(action="contacts.draft_saved", actor=actor, obj=contact)
    return contact


# A person's typed details and what they are called in a message.
_PERSON_TEXT = (
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("address_line_1", "Address line 1"),
    ("address_line_2", "Address line 2"),
    ("town", "Town"),
    ("postcode", "Postcode"),
    ("school", "School"),
    ("gp", "GP"),
)
_PERSON_LIMITS = {
    name: getattr(ContactPerson._meta.get_field(name), "max_length", None) or MAX_TEXT_LENGTH
    for name, _ in _PERSON_TEXT
}


def _check(details: Details, people: list[PersonEntry]) -> None:
    """The rules a contact must meet, whatever form or API it came through."""
    errors: dict[str, list[str]] = {}
    now = clock.now()
    today = now.astimezone(clock.LONDON).date()
    if details.received_at > now + dt.timedelta(minutes=5):
        errors.setdefault("received_at", []).append("When it was received cannot be in the future")
    if not details.concern.strip():
        errors.setdefault("concern", []).append("Enter the concern in the referrer's words")
    for name in ("concern", "family_told"):
        if len(getattr(details, name)) > MAX_TEXT_LENGTH:
            errors.setdefault(name, []).append(
                f"This must be {MAX_TEXT_LENGTH:,} characters or fewer"
            )
    sender = details.from_local_authority
    transfer_in = (
        details.referral_source == ReferralSource.LA_EXTERNAL or details.channel == Channel.OTHER_LA
    )
    if sender is None and transfer_in:
        errors.setdefault("from_local_authority", []).append(
            "Select the local authority that sent it"
        )
    if sender is not None:
        if not (
            details.referral_source == ReferralSource.LA_EXTERNAL
            or details.channel == Channel.OTHER_LA
        ):
            errors.setdefault("from_local_authority", []).append(
                "Choose a local authority only for a transfer from another authority"
            )
        elif not LocalAuthority.objects.filter(pk=sender.pk, is_active=True).exists():
            errors.setdefault("from_local_authority", []).append(
                "Select the local authority that sent it from the list"
            )
    children = [p for p in people if p.role == PersonRole.CHILD]
    if not children:
        errors.setdefault("children", []).append("Add at least one child")
    for i, person in enumerate(people):
        key = f"people-{i}"
        if person.link_to is None and not (person.given_name.strip() or person.family_name.strip()):
            errors.setdefault(key, []).append("Enter a name, or link an existing person")
        if person.date_of_birth and person.date_of_birth > today:
            errors.setdefault(key, []).append("Date of birth cannot be in the future")
        if person.date_of_birth and person.expected_date_of_birth:
            errors.setdefault(key, []).append("Give a date of birth or a due date, not both")
        if (
            person.role == PersonRole.CHILD
            and person.link_to is None
            and not (person.date_of_birth or person.expected_date_of_birth)
        ):
            errors.setdefault(key, []).append(
                "Enter the child's date of birth, or the due date for an unborn child"
            )
        if person.expected_date_of_birth:
            if person.expected_date_of_birth > today + DUE_DATE_MAX_AHEAD:
                errors.setdefault(key, []).append("Due date must be within 10 months from today")
            if person.expected_date_of_birth < today - DUE_DATE_MAX_PAST:
                errors.setdefault(key, []).append(
                    "Due date is more than a month ago: enter the date of birth instead"
                )
        for name, label in _PERSON_TEXT:
            limit = _PERSON_LIMITS[name]
            if len(getattr(person, name)) > limit:
                errors.setdefault(key, []).append(f"{label} must be {limit:,} characters or fewer")
        try:
            clean_nhs_number(person.nhs_number)
            clean_upn(person.upn)
        except ValidationError as error:
            errors.setdefault(key, []).extend(error.messages)
    if errors:
        raise ValidationError(errors)


def _household_for(entry: PersonEntry, households: dict[str, Household]) -> Household | None:
    """The household at the entry's address: one per address on a contact."""
    if not entry.address_line_1.strip():
        return None
    key = "|".join(s.strip().lower() for s in (entry.address_line_1, entry.postcode))
    household = households.get(key)
    if household is None:
        household = people_services.new_household(
            line_1=entry.address_line_1,
            line_2=entry.address_line_2,
            town=entry.town,
            postcode=entry.postcode,
        )
        households[key] = household
    return household


def _people_for(actor: User, people: list[PersonEntry]) -> list[Person]:
    """Each entry's person in the index: the one linked (an alias noted), or a new one.

    In a fixed number of queries: the linked people are read together and the
    new ones are added together.
    """
    linked = Person.objects.in_bulk({e.link_to for e in people if e.link_to is not None})
    errors = {
        f"people-{i}": ["The person linked is not in the index: search for them again"]
        for i, entry in enumerate(people)
        if entry.link_to is not None and entry.link_to not in linked
    }
    if errors:
        raise ValidationError(errors)
    households: dict[str, Household] = {}
    found: dict[int, Person] = {}
    new: list[tuple[int, people_services.NewPerson, Household | None]] = []
    for i, entry in enumerate(people):
        if entry.link_to is not None:
            person = linked[entry.link_to]
            people_services.add_alias(
                actor=actor,
                person=person,
                given_name=entry.given_name,
                family_name=entry.family_name,
            )
            found[i] = person
            continue
        member = people_services.NewPerson(
            given_name=entry.given_name or "Unknown",
            family_name=entry.family_name or "Unknown",
            sex=entry.sex,
            ethnicity=entry.ethnicity,
            date_of_birth=entry.date_of_birth,
            expected_date_of_birth=entry.expected_date_of_birth,
            nhs_number=entry.nhs_number,
            upn=entry.upn,
        )
        new.append((i, member, _household_for(entry, households)))
    added = people_services.add_people(
        actor=actor,
        members=[(member, household) for _, member, household in new],
        error_keys=[f"people-{i}" for i, _, _ in new],
    )
    for (i, _, _), person in zip(new, added, strict=True):
        found[i] = person
    return [found[i] for i in range(len(people))]


@transaction.atomic
def submit_contact(
    *,
    actor: User,
    details: Details,
    people: list[PersonEntry],
    relationships: list[RelationshipEntry] | None = None,
    contact: Contact | None = None,
    expected_version: int | None = None,
) -> Contact:
    """Records a finished contact, every person linked to the index (matched or new)."""
    _require(actor, "contacts.record")
    _check(details, people)
    now = clock.now()
    if contact is None:
        contact = Contact(created_by=actor, created_at=now)
    else:
        contact = lock(Contact.objects.all(), contact.pk, expected_version)
        if contact.status != ContactStatus.DRAFT:
            raise Conflict("This contact has already been submitted.", current=contact)
        contact.version += 1
    for name, value in details.__dict__.items():
        setattr(contact, name, value.strip() if isinstance(value, str) else value)
    contact.status = ContactStatus.AWAITING_SCREENING
    contact.draft = {}
    contact.updated_at = contact.submitted_at = now
    contact.submitted_by = actor
    contact.full_clean(exclude=["created_by", "submitted_by", "screened_by"])
    contact.save()

    links: list[ContactPerson] = []
    seen: set[int] = set()
    positions = {PersonRole.CHILD: 0, PersonRole.ADULT: 0}
    for entry, person in zip(people, _people_for(actor, people), strict=True):
        if person.pk in seen:
            raise ValidationError({"people": ["The same person is on this contact twice"]})
        seen.add(person.pk)
        role = PersonRole(entry.role)
        link = ContactPerson(
            contact=contact,
            person=person,
            role=role,
            position=positions[role],
            given_name=entry.given_name or person.given_name,
            family_name=entry.family_name or person.family_name,
            date_of_birth=entry.date_of_birth
            or (None if entry.expected_date_of_birth else person.date_of_birth),
            expected_date_of_birth=entry.expected_date_of_birth,
            sex=entry.sex,
            ethnicity=entry.ethnicity,
            nhs_number=clean_nhs_number(entry.nhs_number),
            upn=clean_upn(entry.upn),
            address_line_1=entry.address_line_1,
            address_line_2=entry.address_line_2,
            town=entry.town,
            postcode=entry.postcode.upper().strip(),
            school=entry.school,
            gp=entry.gp,
            match_score=entry.match_score if entry.link_to else None,
            match_reasons=entry.match_reasons if entry.link_to else [],
        )
        positions[role] += 1
        links.append(link)
    ContactPerson.objects.bulk_create(links)
    children = [link for link in links if link.role == PersonRole.CHILD]
    adults = [link for link in links if link.role == PersonRole.ADULT]
    ContactRelationship.objects.bulk_create(
        [
            ContactRelationship(
                contact=contact,
                adult=adults[r.adult],
                child=children[r.child],
                relationship=r.relationship,
            )
            for r in relationships or []
            if r.adult < len(adults) and r.child < len(children)
        ]
    )
    audit.record(
        action="contacts.contact_submitted",
        actor=actor,
        obj=contact,
        detail={
            "children": len(children),
            "adults": len(adults),
            "linked": sum(1 for e in people if e.link_to is not None),
        },
    )
    return contact


@transaction.atomic
def screen_contact(
    *,
    actor: User,
    contact: Contact,
    outcome: str,
    reason: str,
    signposted_to: str = "",
    expected_version: int | None = None,
) -> Contact:
    """Records the screening decision; progressing opens a MASH enquiry."""
    _require(actor, "contacts.screen")
    contact = lock(Contact.objects.all(), contact.pk, expected_version)
    if contact.status != ContactStatus.AWAITING_SCREENING:
        raise Conflict("This contact has already been screened.", current=contact)
    errors: dict[str, list[str]] = {}
    if outcome not in ScreeningOutcome.values:
        errors["outcome"] = ["Select a screening outcome"]
    if not reason.strip():
        errors["reason"] = ["Enter the reason for the screening decision"]
    if outcome == ScreeningOutcome.SIGNPOSTED and not signposted_to.strip():
        errors["signposted_to"] = ["Enter who the family was signposted to"]
    if errors:
        raise ValidationError(errors)
    now = clock.now()
    contact.screening_outcome, contact.screening_reason = outcome, reason.strip()
    contact.signposted_to = signposted_to.strip() if outcome == ScreeningOutcome.SIGNPOSTED else ""
    contact.screened_at, contact.screened_by = now, actor
    contact.status = ContactStatus.SCREENED
    bump(
        contact,
        "screening_outcome",
        "screening_reason",
        "signposted_to",
        "screened_at",
        "screened_by",
        "status",
    )
    audit.record(
        action="contacts.contact_screened", actor=actor, obj=contact, detail={"outcome": outcome}
    )
    if outcome == ScreeningOutcome.PROGRESS:
        from mash.enquiries import services as enquiry_services

        enquiry_services.open_enquiry(actor=actor, contact=contact)
    return contact
