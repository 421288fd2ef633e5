"""Reads from the person index, narrowed to what the user may see.

Three pages read through here: the search (anyone who may search the index;
case detail only for the hub's case workers), a person's record and their
chronology (hub managers and co-ordinators). Each runs a fixed number of
queries however many people, contacts or enquiries there are, and each is
audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Prefetch, Q, Value, When
from django.http import Http404

from mash.contacts.models import ContactPerson, ContactStatus
from mash.core import audit, clock
from mash.people import matching
from mash.people.identifiers import format_nhs_number
from mash.people.models import Person, PersonAlias

if TYPE_CHECKING:
    from mash.accounts.models import User
    from mash.contacts.models import Contact
    from mash.enquiries.models import Decision, DecisionAmendment, Enquiry

SEARCH_LIMIT = 20
# How many candidates a search scores before ranking them: enough for any
# sensible search, few enough that a search is cheap however large the index.
SEARCH_CANDIDATES = matching.MAX_CANDIDATES
RE_REFERRAL_MONTHS = 12


def person_index_size(*, user: User) -> int | None:
    """How many people the index holds, for those allowed to use it."""
    if not user.has_perm("people.view_person_index"):
        return None
    return Person.objects.count()


# --- Re-referrals -------------------------------------------------------------------------------


def re_referral_window_start(now: dt.datetime) -> dt.datetime:
    """The start of the 12 months before `now`, counted on the London calendar."""
    local = now.astimezone(clock.LONDON)
    try:
        start = local.replace(year=local.year - 1)
    except ValueError:  # 29 February: a year earlier there is none
        start = local.replace(year=local.year - 1, day=28)
    return start


def re_referral_since(
    person_ids: Iterable[int],
    now: dt.datetime | None = None,
    *,
    exclude_enquiry_id: int | None = None,
) -> dict[int, Decision]:
    """The latest referral decision (section 47 or 17) per person in the 12 months before `now`.

    One query for any number of people. A person missing from the answer had
    no referral decision in that time. `exclude_enquiry_id` leaves out the
    decisions of one enquiry (the one being decided or looked at). It checks no
    permission: callers are selectors that have.
    """
    from mash.enquiries.models import REFERRAL_OUTCOMES, Decision

    ids = sorted({int(i) for i in person_ids})
    if not ids:
        return {}
    moment = now or clock.now()
    decisions = (
        Decision.objects.filter(
            child_id__in=ids,
            outcome__in=REFERRAL_OUTCOMES,
            decided_at__gte=re_referral_window_start(moment),
            decided_at__lte=moment,
        )
        .select_related("enquiry", "decided_by")
        .order_by("child_id", "-decided_at", "-id")
    )
    if exclude_enquiry_id is not None:
        decisions = decisions.exclude(enquiry_id=exclude_enquiry_id)
    latest: dict[int, Decision] = {}
    for decision in decisions:
        latest.setdefault(decision.child_id, decision)
    return latest


# --- Search -------------------------------------------------------------------------------------


def name_readings(name: str) -> list[tuple[str, str]]:
    """The (given, family) pairs a name typed in one box may mean, likeliest first.

    "Hart, Amelia" and "Amelia HART" say which is the family name. Otherwise
    the last word is the family name, and the first word is tried as the
    family name too (people often type "Hart Amelia"). One word may be
    either name.
    """
    text = " ".join(name.split())
    if "," in text:
        family, _, given = text.partition(",")
        family, given = family.strip(), " ".join(given.replace(",", " ").split())
        if family and given:
            return [(given, family)]
        text = family or given
    if not text:
        return []
    words = text.split(" ")
    if len(words) == 1:
        return [("", words[0]), (words[0], "")]
    capitals = [w for w in words if len(w) > 1 and w.isupper()]
    if capitals and len(capitals) < len(words):
        family = " ".join(capitals)
        given = " ".join(w for w in words if w not in capitals)
        return [(given, family)]
    return [(" ".join(words[:-1]), words[-1]), (" ".join(words[1:]), words[0])]


@dataclass(frozen=True)
class SearchTerms:
    name: str = ""
    date_of_birth: dt.date | None = None
    nhs_number: str = ""
    upn: str = ""

    @property
    def fields_used(self) -> list[str]:
        return [
            name
            for name in ("name", "date_of_birth", "nhs_number", "upn")
            if getattr(self, name) not in ("", None)
        ]

    def queries(self) -> list[matching.Query]:
        readings = name_readings(self.name) or [("", "")]
        return [
            matching.Query(
                given_name=given,
                family_name=family,
                date_of_birth=self.date_of_birth,
                nhs_number=self.nhs_number,
                upn=self.upn,
            )
            for given, family in readings
        ]


@dataclass
class SearchResult:
    person: Person
    score: int
    reasons: list[str]
    known: bool  # named on a contact before
    # Case detail, only for those who may open the record (None otherwise).
    open_enquiries: int | None = None
    re_referral: Decision | None = None

    @property
    def postcode(self) -> str:
        household = self.person.household
        return household.address.postcode if household is not None else ""

    @property
    def nhs_number(self) -> str:
        return format_nhs_number(self.person.nhs_number or "")


@dataclass
class SearchResults:
    results: list[SearchResult]
    found: int  # how many matched before the cap
    limit: int
    case_detail: bool  # whether results carry case detail and link to records

    @property
    def capped(self) -> bool:
        return self.found > self.limit


def _given_keys(given: str) -> set[str]:
    keys = {matching.name_key(given), matching.name_key(matching.canonical_given(given))}
    return {k for k in keys if k}


def _blocking(query: matching.Query) -> Q:
    """Who a search looks at: the matcher's candidates, widened for a typo in a name."""
    block = Q()
    condition = matching.candidates_query(query)
    if condition is not None:
        block |= Q(pk__in=Person.objects.filter(condition).values("pk"))
    family_key = matching.name_key(query.family_name)
    given_keys = _given_keys(query.given_name)
    if family_key:
        # The first sounds of the family name: "Jonhson" (JNHSN) finds Johnson (JNSN).
        prefix = family_key[:2]
        block |= Q(family_key__startswith=prefix)
        block |= Q(
            pk__in=PersonAlias.objects.filter(family_key__startswith=prefix).values("person_id")
        )
    elif given_keys:
        block |= Q(given_key__in=given_keys)
        block |= Q(pk__in=PersonAlias.objects.filter(given_key__in=given_keys).values("person_id"))
    return block


def _priority(queries: list[matching.Query]) -> Case:
    """Strongest keys first, so the candidate cap never drops an exact match."""
    exact, names, dates = Q(pk__in=[]), Q(pk__in=[]), Q(pk__in=[])
    for query in queries:
        if query.nhs_number:
            exact |= Q(nhs_number=query.nhs_number)
        if query.upn:
            exact |= Q(upn=query.upn)
        family_key = matching.name_key(query.family_name)
        if family_key:
            names |= Q(family_key=family_key)
        days = [d for d in (query.date_of_birth, matching.swapped(query.date_of_birth)) if d]
        if days:
            dates |= Q(date_of_birth__in=days)
    return Case(
        When(exact, then=Value(0)),
        When(names & dates, then=Value(1)),
        When(names | dates, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def _relevant(query: matching.Query, person: Person) -> bool:
    """Whether a candidate answers what was typed (the score alone cannot say)."""
    if query.nhs_number and person.nhs_number and person.nhs_number != query.nhs_number:
        return False
    if query.upn and person.upn and person.upn != query.upn:
        return False
    if (query.nhs_number and person.nhs_number == query.nhs_number) or (
        query.upn and person.upn == query.upn
    ):
        return True
    if query.given_name or query.family_name:
        # Each name typed must be like one the person is known by.
        for part in (
            matching.Query(family_name=query.family_name) if query.family_name else None,
            matching.Query(given_name=query.given_name) if query.given_name else None,
        ):
            if part is not None and matching.score(part, person).score == 0:
                return False
        return True
    if query.date_of_birth:
        return matching.score(matching.Query(date_of_birth=query.date_of_birth), person).score > 0
    return False


def search_people(*, user: User, terms: SearchTerms, limit: int = SEARCH_LIMIT) -> SearchResults:
    """People matching the terms, best first, showing only what the user may see; audited.

    The audit records which fields were used, never what was typed in them (it
    may be a child's name).
    """
    if not user.has_perm("people.search"):
        raise PermissionDenied
    queries = terms.queries()
    block = Q()
    for query in queries:
        block |= _blocking(query)
    candidates: list[Person] = []
    if block:
        candidates = list(
            Person.objects.filter(block)
            .annotate(search_priority=_priority(queries))
            .select_related("household__address")
            .prefetch_related(Prefetch("aliases", queryset=PersonAlias.objects.order_by("pk")))
            .order_by("search_priority", "pk")[:SEARCH_CANDIDATES]
        )
    scored: list[matching.Candidate] = []
    for person in candidates:
        best: matching.Candidate | None = None
        for query in queries:
            if not _relevant(query, person):
                continue
            candidate = matching.score(query, person)
            if best is None or candidate.score > best.score:
                best = candidate
        if best is not None:
            scored.append(best)
    scored.sort(key=lambda c: (-c.score, c.person.family_name, c.person.given_name, c.person.pk))
    shown = scored[:limit]
    ids = [c.person.pk for c in shown]
    case_detail = user.has_perm("people.view_record")
    known: set[int] = set()
    open_counts: dict[int, int] = {}
    referrals: dict[int, Decision] = {}
    if ids:
        known = set(
            ContactPerson.objects.filter(person_id__in=ids)
            .values_list("person_id", flat=True)
            .distinct()
        )
        if case_detail:
            open_counts = _open_enquiry_counts(ids)
            referrals = re_referral_since(ids)
    results = [
        SearchResult(
            person=c.person,
            score=c.score,
            reasons=c.reasons if case_detail else [],
            known=c.person.pk in known,
            open_enquiries=open_counts.get(c.person.pk, 0) if case_detail else None,
            re_referral=referrals.get(c.person.pk) if case_detail else None,
        )
        for c in shown
    ]
    audit.record(
        action="people.searched",
        actor=user,
        detail={"fields": terms.fields_used, "results": len(results)},
    )
    return SearchResults(results=results, found=len(scored), limit=limit, case_detail=case_detail)


def _open_enquiry_counts(person_ids: list[int]) -> dict[int, int]:
    from mash.enquiries.models import OPEN_STATUSES

    rows = (
        ContactPerson.objects.filter(
            person_id__in=person_ids, contact__enquiry__status__in=OPEN_STATUSES
        )
        .values("person_id")
        .annotate(n=Count("contact__enquiry", distinct=True))
        .order_by()
    )
    return {row["person_id"]: row["n"] for row in rows}


# --- A person's record --------------------------------------------------------------------------


@dataclass
class PersonRecord:
    person: Person
    aliases: list[PersonAlias]
    household_members: list[Person]
    contacts: list[Contact]  # newest first, each with its enquiry (or none)
    open_enquiries: list[Enquiry]
    enquiries: list[Enquiry]  # every enquiry the person was on, newest first
    decisions: dict[int, Decision]  # enquiry id -> this person's decision on it
    re_referral: Decision | None
    re_referral_window_start: dt.datetime


def _person(user: User, pk: int) -> Person:
    if not user.has_perm("people.view_record"):
        raise PermissionDenied
    try:
        return (
            Person.objects.select_related("household__address")
            .prefetch_related(Prefetch("aliases", queryset=PersonAlias.objects.order_by("pk")))
            .get(pk=pk)
        )
    except Person.DoesNotExist:
        raise Http404("No such person") from None


def _contacts_of(person: Person) -> list[Contact]:
    """Every submitted contact naming the person, newest first, with its enquiry and users."""
    links = (
        ContactPerson.objects.filter(person=person)
        .exclude(contact__status=ContactStatus.DRAFT)
        .select_related(
            "contact",
            "contact__enquiry",
            "contact__enquiry__opened_by",
            "contact__submitted_by",
            "contact__screened_by",
        )
        .order_by("-contact__received_at", "-contact_id")
    )
    contacts = []
    for link in links:
        contact = link.contact
        contact.person_link = link  # type: ignore[attr-defined]  # how the contact named them
        contacts.append(contact)
    return contacts


def _enquiry_of(contact: Contact) -> Enquiry | None:
    from mash.enquiries.models import Enquiry

    try:
        return contact.enquiry
    except Enquiry.DoesNotExist:
        return None


def person_record(*, user: User, pk: int) -> PersonRecord:
    """A person's record for the hub's case workers, in a fixed number of queries; audited."""
    from mash.enquiries.models import Decision, DecisionAmendment

    person = _person(user, pk)
    members: list[Person] = []
    if person.household_id is not None:
        members = list(
            Person.objects.filter(household_id=person.household_id)
            .exclude(pk=person.pk)
            .order_by("date_of_birth", "family_name", "given_name", "pk")
        )
    contacts = _contacts_of(person)
    enquiries: list[Enquiry] = []
    for contact in contacts:
        enquiry = _enquiry_of(contact)
        if enquiry is not None:
            enquiry.contact = contact
            enquiries.append(enquiry)
    decisions = {
        d.enquiry_id: d
        for d in Decision.objects.filter(child=person)
        .select_related("decided_by")
        .prefetch_related(
            Prefetch(
                "amendments",
                queryset=DecisionAmendment.objects.select_related("amended_by").order_by(
                    "amended_at", "id"
                ),
            )
        )
    }
    now = clock.now()
    record = PersonRecord(
        person=person,
        aliases=list(person.aliases.all()),
        household_members=members,
        contacts=contacts,
        open_enquiries=[e for e in enquiries if e.is_open],
        enquiries=enquiries,
        decisions=decisions,
        re_referral=re_referral_since([person.pk], now).get(person.pk),
        re_referral_window_start=re_referral_window_start(now),
    )
    audit.viewed(actor=user, obj=person, detail={"page": "record"})
    return record


# --- A person's chronology ----------------------------------------------------------------------


@dataclass
class Event:
    at: dt.datetime
    what: str
    by: str = ""
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. what the viewer may not see
    kind: str = ""
    link: str = ""  # "contact" or "enquiry"
    link_pk: int | None = None
    reference: str = ""
    sequence: int = 0  # keeps events at one moment in the order they happened


# Where events share a moment (a service records several things at once), the
# order they happen in: an agency's items, then its answer; a decision, then closing.
FLOW = {
    "contact": 0,
    "screening": 1,
    "enquiry": 2,
    "consent": 3,
    "override": 4,
    "rating": 5,
    "item": 6,
    "answer": 7,
    "decision": 8,
    "amendment": 9,
    "closed": 10,
}


@dataclass
class Chronology:
    person: Person
    events: list[Event]
    newest_first: bool


def _name(user: object) -> str:
    return str(getattr(user, "full_name", "") or "") if user is not None else ""


def _clip(text: str, limit: int = 600) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(clock.LONDON).strftime("%-d %B %Y, %H:%M")


def _amendment_lines(changes: dict[str, list[object]]) -> list[str]:
    from mash.enquiries.models import Outcome, PrimaryNeed

    choices: dict[str, type[Outcome] | type[PrimaryNeed]] = {
        "outcome": Outcome,
        "primary_need": PrimaryNeed,
    }
    labels = {
        "outcome": "Outcome",
        "primary_need": "Primary need",
        "rationale": "Rationale",
        "next_team": "Team that acts next",
        "lead_professional_agency": "Lead professional's agency",
        "referrer_feedback": "Feedback for the referrer",
        "themes": "Themes",
    }
    lines = []
    for name, (old, new) in sorted(changes.items()):
        label = labels.get(name, name.replace("_", " ").capitalize())
        kind = choices.get(name)
        if kind is not None and old in kind.values and new in kind.values:
            lines.append(f"{label}: {kind(old).label} → {kind(new).label}")
        elif name == "next_team":
            lines.append(f"{label}: {old} → {new}")
        else:
            lines.append(f"{label} changed")
    return lines


def _referrer(contact: Contact) -> str:
    if contact.referrer_anonymous:
        return "Anonymous"
    parts = (contact.referrer_name, contact.referrer_role, contact.referrer_organisation)
    return ", ".join(p for p in parts if p)


class _Events:
    """Collects a person's events; an event on an enquiry links to it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.enquiries: dict[int, Enquiry] = {}

    def add(self, event: Event) -> None:
        event.sequence = len(self.events)
        self.events.append(event)

    def on_contact(self, contact: Contact, event: Event) -> None:
        event.link, event.link_pk, event.reference = "contact", contact.pk, contact.reference
        self.add(event)

    def on_enquiry(self, enquiry_id: int, event: Event) -> None:
        event.link, event.link_pk = "enquiry", enquiry_id
        event.reference = self.enquiries[enquiry_id].reference
        self.add(event)


def _contact_events(events: _Events, contacts: list[Contact]) -> None:
    for contact in contacts:
        if contact.received_at is not None:
            referrer = _referrer(contact)
            lines = [
                f"By {contact.get_channel_display().lower()}" if contact.channel else "",
                f"Source: {contact.get_referral_source_display()}"
                if contact.referral_source
                else "",
                f"Referrer: {referrer}" if referrer else "",
                f"Concern: {_clip(contact.concern, 300)}" if contact.concern else "",
            ]
            events.on_contact(
                contact,
                Event(
                    at=contact.received_at,
                    what="Contact received",
                    by=_name(contact.submitted_by),
                    lines=[line for line in lines if line],
                    kind="contact",
                ),
            )
        if contact.screened_at is not None:
            lines = [f"Reason: {_clip(contact.screening_reason)}"]
            if contact.signposted_to:
                lines.append(f"Signposted to {contact.signposted_to}")
            events.on_contact(
                contact,
                Event(
                    at=contact.screened_at,
                    what=f"Screened: {contact.get_screening_outcome_display()}",
                    by=_name(contact.screened_by),
                    lines=lines,
                    kind="screening",
                ),
            )
        enquiry = _enquiry_of(contact)
        if enquiry is None:
            continue
        events.enquiries[enquiry.pk] = enquiry
        events.on_enquiry(
            enquiry.pk,
            Event(
                at=enquiry.opened_at,
                what="MASH enquiry opened",
                by=_name(enquiry.opened_by),
                kind="enquiry",
            ),
        )
        if enquiry.closed_at is not None:
            events.on_enquiry(
                enquiry.pk, Event(at=enquiry.closed_at, what="MASH enquiry closed", kind="closed")
            )


def _consent_and_rating_events(events: _Events, ids: list[int]) -> None:
    from mash.enquiries.models import Consent, ConsentOverride, OverrideStatus, Rating

    for consent in Consent.objects.filter(enquiry_id__in=ids).select_related("recorded_by"):
        lines = []
        if consent.given_by:
            lines.append(f"Given or refused by {consent.given_by}")
        if consent.decided_on is not None:
            lines.append(f"When: {_when(consent.decided_on)}")
        if consent.notes:
            lines.append(_clip(consent.notes))
        events.on_enquiry(
            consent.enquiry_id,
            Event(
                at=consent.recorded_at,
                what=f"Consent recorded: {consent.get_status_display().lower()}",
                by=_name(consent.recorded_by),
                lines=lines,
                kind="consent",
            ),
        )
    overrides = ConsentOverride.objects.filter(enquiry_id__in=ids).select_related(
        "proposed_by", "decided_by"
    )
    for override in overrides:
        events.on_enquiry(
            override.enquiry_id,
            Event(
                at=override.proposed_at,
                what="Consent override proposed",
                by=_name(override.proposed_by),
                lines=[
                    "Grounds: " + "; ".join(override.ground_labels),
                    f"Justification: {_clip(override.justification)}",
                ],
                kind="override",
            ),
        )
        if override.decided_at is not None:
            authorised = override.status == OverrideStatus.AUTHORISED
            events.on_enquiry(
                override.enquiry_id,
                Event(
                    at=override.decided_at,
                    what=f"Consent override {'authorised' if authorised else 'declined'}",
                    by=_name(override.decided_by),
                    lines=[] if authorised else [f"Reason: {_clip(override.declined_reason)}"],
                    kind="override",
                ),
            )
    for rating in Rating.objects.filter(enquiry_id__in=ids).select_related("rated_by"):
        if rating.previous_rag:
            what = (
                f"Re-rated from {rating.get_previous_rag_display()} to {rating.get_rag_display()}"
            )
            line = f"Reason: {_clip(rating.rationale)}"
        else:
            what, line = (
                f"Rated {rating.get_rag_display()}",
                f"Rationale: {_clip(rating.rationale)}",
            )
        events.on_enquiry(
            rating.enquiry_id,
            Event(
                at=rating.rated_at,
                what=what,
                by=_name(rating.rated_by),
                lines=[line],
                kind="rating",
            ),
        )


def _answer_events(events: _Events, ids: list[int], user: User) -> None:
    """Agencies' answers, through the one sensitivity rule: only what the user may see."""
    from mash.enquiries.models import AgencyRequest, RequestStatus, Sensitivity
    from mash.enquiries.selectors import visible_answer_items

    visible = visible_answer_items(enquiries=ids, viewer=user)
    requests = list(
        AgencyRequest.objects.filter(enquiry_id__in=ids).select_related("agency", "answered_by")
    )
    enquiry_of_request = {r.pk: r.enquiry_id for r in requests}
    for request in requests:
        answered = request.status in (RequestStatus.ANSWERED, RequestStatus.NOTHING_HELD)
        if not answered or request.answered_at is None:
            continue
        nothing = request.status == RequestStatus.NOTHING_HELD
        notes = []
        if request.pk in visible.withheld_requests:
            notes.append(f"MASH-only information is held by {request.agency.name}")
        events.on_enquiry(
            request.enquiry_id,
            Event(
                at=request.answered_at,
                what=f"{request.agency.name} answered" + (": nothing held" if nothing else ""),
                by=_name(request.answered_by),
                notes=notes,
                kind="answer",
            ),
        )
    for item in visible.items:
        lines = [f"Sensitivity: {item.get_sensitivity_display()}"]
        if item.detail:
            lines.append(_clip(item.detail))
        if item.risk_indicators:
            lines.append("Risk indicators: " + ", ".join(item.risk_indicator_labels))
        if item.source_reference:
            lines.append(f"Their reference: {item.source_reference}")
        mash_only = item.sensitivity == Sensitivity.MASH_ONLY
        events.on_enquiry(
            enquiry_of_request[item.request_id],
            Event(
                at=item.created_at,
                what=f"{item.agency.name} shared: {item.summary}",
                by=_name(item.created_by),
                lines=lines,
                notes=["MASH only: never share it outside the hub"] if mash_only else [],
                kind="item",
            ),
        )


def _label(choices: Any, value: object) -> str:
    return str(choices(value).label) if value in choices.values else str(value)


def _as_first_decided(decision: Decision, amendments: list[DecisionAmendment]) -> dict[str, object]:
    """The decision as it was first recorded: each amended field's value before its first
    amendment ("themes" is present only if they were amended)."""
    first: dict[str, object] = {
        name: getattr(decision, name)
        for name in ("outcome", "primary_need", "next_team", "rationale")
    }
    seen: set[str] = set()
    for amendment in amendments:
        for name, (old, _new) in amendment.changes.items():
            if name not in seen:
                seen.add(name)
                first[name] = old
    return first


def _decision_events(events: _Events, person: Person) -> None:
    from mash.enquiries.models import Decision, DecisionAmendment, Outcome, PrimaryNeed, Theme

    decisions = (
        Decision.objects.filter(child=person)
        .select_related("decided_by", "enquiry")
        .prefetch_related(
            "themes",
            Prefetch(
                "amendments",
                queryset=DecisionAmendment.objects.select_related("amended_by").order_by(
                    "amended_at", "id"
                ),
            ),
        )
    )
    for decision in decisions:
        events.enquiries.setdefault(decision.enquiry_id, decision.enquiry)
        amendments = list(decision.amendments.all())
        first = _as_first_decided(decision, amendments)
        lines = [
            f"Primary need: {_label(PrimaryNeed, first['primary_need'])}",
            f"Team that acts next: {first['next_team']}",
        ]
        themes = [t.get_theme_display() for t in decision.themes.all()]
        if "themes" in first:  # amended since: as first decided
            themes = [_label(Theme, t) for t in first["themes"]]  # type: ignore[attr-defined]
        if themes:
            lines.append("Themes: " + ", ".join(themes))
        lines.append(f"Rationale: {_clip(str(first['rationale']))}")
        if decision.pending_reason:
            lines.append(f"Decided before every agency answered: {_clip(decision.pending_reason)}")
        events.on_enquiry(
            decision.enquiry_id,
            Event(
                at=decision.decided_at,
                what=f"Decision: {_label(Outcome, first['outcome'])}"
                + (" (since amended)" if amendments else ""),
                by=_name(decision.decided_by),
                lines=lines,
                kind="decision",
            ),
        )
        for amendment in amendments:
            events.on_enquiry(
                decision.enquiry_id,
                Event(
                    at=amendment.amended_at,
                    what="Decision amended",
                    by=_name(amendment.amended_by),
                    lines=[
                        *_amendment_lines(amendment.changes),
                        f"Reason: {_clip(amendment.reason)}",
                    ],
                    kind="amendment",
                ),
            )


def person_chronology(*, user: User, pk: int, newest_first: bool = True) -> Chronology:
    """Everything that happened to a person, in time order, as the user may see it; audited.

    A fixed number of queries however many contacts and enquiries the person
    has; agencies' answers come through the one sensitivity rule.
    """
    person = _person(user, pk)
    events = _Events()
    _contact_events(events, _contacts_of(person))
    ids = sorted(events.enquiries)
    if ids:
        _consent_and_rating_events(events, ids)
        _answer_events(events, ids, user)
    _decision_events(events, person)
    ordered = sorted(
        events.events,
        key=lambda e: (e.at, FLOW.get(e.kind, 0), e.sequence),
        reverse=newest_first,
    )
    audit.viewed(actor=user, obj=person, detail={"page": "chronology"})
    return Chronology(person=person, events=ordered, newest_first=newest_first)
