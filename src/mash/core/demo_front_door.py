"""The demo hub's police notifications and advice-line calls, through the services.

Ninety days of notifications arrive as the force's system would send them
(`receive_notification`), are matched to the person index and triaged by the
hub's police researcher and managers (`record_outcome`), some marked as saying
too little (`mark_quality`); today's arrivals wait in the queue. The advice
line logs its calls (`log_consultation`) and completes the follow-ups that have
fallen due. Each step runs at its own moment (`clock.at`), so every rule holds
and every audit event is written, as in real use.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Callable

from faker import Faker

from mash.accounts.models import Agency, AgencyKind, Role, User
from mash.api import services as api_services
from mash.api.models import ApiToken
from mash.contacts import advice, police, quality, triage
from mash.contacts.models import (
    AdultRole,
    Consultation,
    ConsultationOutcome,
    DashRisk,
    IncidentType,
    NotificationChild,
    PoliceNotification,
    QualityIssue,
    ReceivedVia,
    TriageOutcome,
    UniversalService,
)
from mash.core import clock
from mash.people.models import Person

DAYS = 90
DAY2 = dt.timedelta(days=2)
QUEUE_TODAY = 14
POLICE_TEAMS = (
    "Response Team A",
    "Response Team B",
    "Neighbourhood Policing",
    "Domestic Abuse Investigation Unit",
    "Criminal Investigation Department",
    "",  # the officer did not say
)
INCIDENTS: dict[str, float] = {
    IncidentType.DOMESTIC_ABUSE: 55,
    IncidentType.MISSING_CHILD: 12,
    IncidentType.EXPLOITATION: 6,
    IncidentType.DRUGS: 6,
    IncidentType.ANTI_SOCIAL_BEHAVIOUR: 8,
    IncidentType.PARENT_ARRESTED: 7,
    IncidentType.OTHER: 6,
}
NARRATIVES: dict[str, str] = {
    IncidentType.DOMESTIC_ABUSE: (
        "Police called by a neighbour to a verbal argument between {a} and {b}. {c} was in "
        "the home at the time and was seen in the living room; {c_pro} appeared calm."
    ),
    IncidentType.MISSING_CHILD: (
        "{c} was reported missing by {a} at 21:00 and found by officers at a friend's "
        "address at 01:30. Return home interview to be offered."
    ),
    IncidentType.EXPLOITATION: (
        "{c} was stopped with two older young people near the station carrying a new phone "
        "and cash. Concerns about possible criminal exploitation."
    ),
    IncidentType.DRUGS: (
        "Cannabis found at the home address during a search relating to {a}. {c} present "
        "and spoken to by officers."
    ),
    IncidentType.ANTI_SOCIAL_BEHAVIOUR: (
        "{c} named in a group causing damage to bus shelters. Words of advice given and "
        "{a} informed."
    ),
    IncidentType.PARENT_ARRESTED: (
        "{a} arrested at the home address on suspicion of theft. {c} cared for by {b} overnight."
    ),
    IncidentType.OTHER: (
        "Police attended a report of a disturbance at the address involving {a}. {c} "
        "present; no injuries seen."
    ),
}
WORRIES = (
    (
        "A teacher is worried that {c} has come to school hungry on several days this "
        "month and is often late.",
        "Talk to the family about what is happening at home and offer the school's "
        "breakfast club; consider an early help assessment if it continues.",
    ),
    (
        "A health visitor has noticed that {c}'s home is cold and the family have no "
        "credit on the meter.",
        "Signpost the family to the council's hardship fund and the energy advice line; "
        "record the visit and review in two weeks.",
    ),
    (
        "A GP practice nurse says {c} has missed three appointments and the parent was "
        "vague about why.",
        "Contact the parent to rebook, ask about barriers to attending, and discuss with "
        "the practice safeguarding lead.",
    ),
    (
        "A youth worker heard that {c} is staying out late with older friends.",
        "Speak to {c} and the family about who they spend time with; call back if "
        "there are signs of exploitation.",
    ),
)
CALLERS: tuple[tuple[str, str, str], ...] = (
    ("Designated safeguarding lead", "Northbridge Primary School", AgencyKind.EDUCATION),
    ("Class teacher", "St Mary's Church of England School", AgencyKind.EDUCATION),
    ("Health visitor", "Northbridge Health Visiting", AgencyKind.HEALTH_VISITING),
    ("Practice nurse", "Riverside Surgery", AgencyKind.HEALTH_GP),
    ("School nurse", "School Nursing Service", AgencyKind.HEALTH_SCHOOL_NURSING),
    ("Housing officer", "Northbridge Housing Options", AgencyKind.HOUSING),
    ("Youth worker", "Northbridge Youth Service", AgencyKind.OTHER),
    ("Nursery manager", "Little Acorns Nursery", AgencyKind.EARLY_YEARS),
)


def seed_front_door(
    *, seed_value: int, now: dt.datetime, log: Callable[[str], None] = print
) -> Counter[str]:
    """Ninety days of police notifications and advice-line calls, and today's queue."""
    rng = random.Random(seed_value + 5)  # noqa: S311 (invented data, not security)
    faker = Faker("en_GB")
    faker.seed_instance(seed_value + 5)
    force = Agency.objects.filter(kind=AgencyKind.POLICE, is_active=True).order_by("pk").first()
    if force is None:
        return Counter()
    staff = _staff()
    families = _families()
    stats: Counter[str] = Counter()
    today = clock.localtime(now).date()
    start = today - dt.timedelta(days=DAYS)
    administrators = staff[Role.ADMINISTRATOR]
    if not administrators:
        return stats
    # The force's system was given its key before the first notification.
    with clock.at(_moment(start - dt.timedelta(days=1), rng, first_hour=10, last_hour=11)):
        token, _ = api_services.issue_token(
            actor=administrators[0], agency=force, name="Force records system"
        )
    reference = 40_000 + rng.randrange(1000)
    for offset in range(DAYS + 1):
        day = start + dt.timedelta(days=offset)
        arrivals = rng.randint(3, 7) if day.weekday() < 5 else rng.randint(4, 9)
        for _ in range(arrivals):
            received = _moment(day, rng, first_hour=0, last_hour=23)
            if received >= now - dt.timedelta(minutes=5):
                continue
            reference += 1
            notification = _receive(force, token, families, rng, faker, reference, received)
            if notification is None:
                continue
            stats["notifications"] += 1
            # Today's arrivals wait in the queue; earlier ones were triaged within hours.
            if received > now - dt.timedelta(hours=20):
                stats["waiting"] += 1
                continue
            triaged = received + dt.timedelta(minutes=rng.randint(20, 60 * 20))
            if triaged >= now:
                stats["waiting"] += 1
                continue
            _triage(notification, staff, rng, triaged, stats)
    # A busy night: the queue the researcher finds this morning.
    for _ in range(QUEUE_TODAY):
        received = now - dt.timedelta(minutes=rng.randint(10, 18 * 60))
        reference += 1
        if _receive(force, token, families, rng, faker, reference, received) is not None:
            stats["notifications"] += 1
            stats["waiting"] += 1
    for offset in range(DAYS + 1):
        day = start + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for _ in range(rng.randint(2, 4)):
            called = _moment(day, rng, first_hour=9, last_hour=16)
            if called >= now:
                continue
            _call(staff, families, rng, faker, called, today, stats)
    _complete_follow_ups(staff, rng, now, stats)
    log(
        f"{stats['notifications']} police notifications over {DAYS} days "
        f"({stats['waiting']} waiting for triage, {stats['poor']} marked poor), "
        f"{stats['calls']} advice-line calls ({stats['follow-ups due']} follow-ups due)"
    )
    return stats


def _staff() -> dict[str, list[User]]:
    staff: dict[str, list[User]] = defaultdict(list)
    for user in User.objects.filter(is_active=True).prefetch_related("role_grants").order_by("pk"):
        for role in user.roles:
            staff[role].append(user)
    return staff


def _families() -> list[tuple[list[Person], list[Person]]]:
    """Households with children: (children, adults), from the person index."""
    by_household: dict[int, list[Person]] = defaultdict(list)
    people = Person.objects.filter(household__isnull=False, date_of_birth__isnull=False)
    for person in people.only(
        "id", "given_name", "family_name", "date_of_birth", "household_id"
    ).order_by("pk"):
        assert person.household_id is not None  # noqa: S101 (filtered above)
        by_household[person.household_id].append(person)
    today = clock.localtime(clock.now()).date()
    families = []
    for members in by_household.values():
        children = [
            p for p in members if p.date_of_birth and (today - p.date_of_birth).days < 17 * 365
        ]
        adults = [
            p for p in members if p.date_of_birth and (today - p.date_of_birth).days >= 18 * 365
        ]
        if children and adults:
            families.append((children, adults))
    return families


def _moment(day: dt.date, rng: random.Random, *, first_hour: int, last_hour: int) -> dt.datetime:
    local = dt.datetime.combine(
        day, dt.time(rng.randint(first_hour, last_hour), rng.randrange(60)), tzinfo=clock.LONDON
    )
    return local.astimezone(dt.UTC)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _receive(
    force: Agency,
    token: ApiToken,
    families: list[tuple[list[Person], list[Person]]],
    rng: random.Random,
    faker: Faker,
    reference: int,
    received: dt.datetime,
) -> PoliceNotification | None:
    if not families:
        return None
    children, adults = rng.choice(families)
    kind = _weighted(rng, INCIDENTS)
    # Only children already born when the incident happened.
    born = [c for c in children if c.date_of_birth and c.date_of_birth < received.date() - DAY2]
    if not born:
        return None
    present = born[: rng.randint(1, min(3, len(born)))]
    poor = rng.random() < 0.12  # the officer left things out
    child_entries = []
    for child in present:
        given = child.given_name
        if rng.random() < 0.08:  # a typo in the officer's notes
            given = given[:-1] or given
        child_entries.append(
            police.ChildEntry(
                given_name="" if poor and rng.random() < 0.5 else given,
                family_name=child.family_name,
                date_of_birth=None if rng.random() < 0.1 else child.date_of_birth,
                seen=(seen := rng.random() < 0.85),
                spoken_to=seen and rng.random() < 0.6,
            )
        )
    a, b = adults[0], adults[1] if len(adults) > 1 else None
    adult_entries = [
        police.AdultEntry(
            role=AdultRole.VICTIM if kind == IncidentType.DOMESTIC_ABUSE else AdultRole.OTHER,
            given_name=a.given_name,
            family_name=a.family_name,
            date_of_birth=a.date_of_birth,
        )
    ]
    if b is not None:
        adult_entries.append(
            police.AdultEntry(
                role=AdultRole.SUSPECT
                if kind == IncidentType.DOMESTIC_ABUSE
                else AdultRole.WITNESS,
                given_name=b.given_name,
                family_name=b.family_name,
                date_of_birth=b.date_of_birth,
            )
        )
    child_name = present[0].given_name
    narrative = NARRATIVES[kind].format(
        a=a.given_name,
        b=b.given_name if b is not None else "a neighbour",
        c=child_name,
        c_pro="they",
    )
    entry = police.NotificationEntry(
        occurrence_reference=f"NB-{received:%y}-{reference:06d}",
        incident_at=received - dt.timedelta(hours=rng.randint(1, 30)),
        incident_type=kind,
        dash_risk=_weighted(rng, {DashRisk.STANDARD: 60, DashRisk.MEDIUM: 30, DashRisk.HIGH: 10})
        if kind == IncidentType.DOMESTIC_ABUSE
        else "",
        children=child_entries,
        adults=adult_entries,
        location=f"{faker.building_number()} {faker.street_name()}",
        narrative="" if poor and rng.random() < 0.5 else narrative,
        officer_name=f"PC {faker.last_name()}",
        officer_collar_number=str(rng.randint(1000, 9999)),
        officer_team=rng.choice(POLICE_TEAMS),
    )
    with clock.at(received):
        notification, _ = police.receive_notification(
            actor=None, force=force, entry=entry, via=ReceivedVia.API, token=token
        )
    return notification


def _triage(
    notification: PoliceNotification,
    staff: dict[str, list[User]],
    rng: random.Random,
    when: dt.datetime,
    stats: Counter[str],
) -> None:
    triagers = staff[Role.POLICE_RESEARCHER] * 3 + staff[Role.HUB_MANAGER]
    if not triagers:
        return
    actor = rng.choice(triagers)
    with clock.at(when):
        triage.match_unmatched([notification.pk])
        children = list(NotificationChild.objects.filter(notification=notification))
        open_enquiries = triage.open_enquiries_of(children)
        roll = rng.random()
        if open_enquiries and roll < 0.5:
            triage.record_outcome(
                actor=actor,
                notification=notification,
                outcome=TriageOutcome.ADD_TO_ENQUIRY,
                reason="The child already has an open MASH enquiry: added for the manager.",
                enquiry=open_enquiries[0],
            )
            stats["added"] += 1
        elif roll < 0.3:
            services = rng.sample(
                [UniversalService.SCHOOL, UniversalService.HEALTH_VISITOR, UniversalService.GP],
                k=rng.randint(1, 2),
            )
            triage.record_outcome(
                actor=actor,
                notification=notification,
                outcome=TriageOutcome.SHARE_UNIVERSAL,
                reason="Low-level concern: universal services told so they can support.",
                shared_with=services,
                shared_with_detail="Shared by secure email",
            )
            stats["shared"] += 1
        else:
            triage.record_outcome(
                actor=actor,
                notification=notification,
                outcome=TriageOutcome.RECORD_ONLY,
                reason="No role for children's social care: recorded for the history.",
            )
        notification.refresh_from_db()
        if not notification.narrative or any(not c.given_name for c in children):
            issue = (
                QualityIssue.NO_NARRATIVE
                if not notification.narrative
                else QualityIssue.CHILD_NOT_IDENTIFIED
            )
            quality.mark_quality(actor=actor, notification=notification, issue=issue, note="")
            stats["poor"] += 1


def _call(
    staff: dict[str, list[User]],
    families: list[tuple[list[Person], list[Person]]],
    rng: random.Random,
    faker: Faker,
    called: dt.datetime,
    today: dt.date,
    stats: Counter[str],
) -> None:
    workers = staff[Role.ADVICE_LINE_WORKER]
    if not workers or not families:
        return
    children, _ = rng.choice(families)
    born = [c for c in children if c.date_of_birth and c.date_of_birth < called.date() - DAY2]
    if not born:
        return
    child = rng.choice(born)
    role, agency, kind = rng.choice(CALLERS)
    worry, advice_given = rng.choice(WORRIES)
    outcome = _weighted(
        rng, {ConsultationOutcome.ADVICE_ONLY: 65, ConsultationOutcome.EARLY_HELP: 35}
    )
    day = clock.localtime(called).date()
    follow_up = day + dt.timedelta(days=rng.randint(1, 14)) if rng.random() < 0.35 else None
    named = rng.random() < 0.8
    entry = advice.ConsultationEntry(
        caller_name=faker.name(),
        caller_role=role,
        caller_agency=agency,
        caller_agency_kind=kind,
        caller_phone=faker.phone_number(),
        worry=worry.format(c=child.given_name if named else "a child"),
        advice=advice_given.format(c=child.given_name if named else "the child"),
        outcome=outcome,
        early_help_support=(
            "Sent the early help assessment form and offered the early help team's "
            "drop-in to complete it together."
            if outcome == ConsultationOutcome.EARLY_HELP
            else ""
        ),
        child_given_name=child.given_name if named else "",
        child_family_name=child.family_name if named else "",
        child_date_of_birth=child.date_of_birth if named else None,
        person_id=child.pk if named else None,
        follow_up_on=follow_up,
    )
    with clock.at(called):
        advice.log_consultation(actor=rng.choice(workers), entry=entry)
    stats["calls"] += 1
    if follow_up is not None and follow_up <= today:
        stats["follow-ups"] += 1


def _complete_follow_ups(
    staff: dict[str, list[User]], rng: random.Random, now: dt.datetime, stats: Counter[str]
) -> None:
    """Follow-ups that fell due before today were done on the day; a few are left for today."""
    workers = staff[Role.ADVICE_LINE_WORKER]
    today = clock.localtime(now).date()
    due = Consultation.objects.filter(
        follow_up_on__isnull=False, follow_up_on__lte=today, follow_up_done_at__isnull=True
    ).order_by("follow_up_on", "pk")
    for consultation in due:
        assert consultation.follow_up_on is not None  # noqa: S101 (filtered above)
        if consultation.follow_up_on >= today - dt.timedelta(days=1) or rng.random() < 0.1:
            stats["follow-ups due"] += 1
            continue
        done = dt.datetime.combine(
            consultation.follow_up_on, dt.time(15, rng.randrange(60)), tzinfo=clock.LONDON
        )
        with clock.at(done.astimezone(dt.UTC)):
            advice.complete_follow_up(
                actor=rng.choice(workers),
                consultation=consultation,
                note="Called back: the family have taken up the support offered.",
            )
