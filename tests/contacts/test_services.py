"""The contact rules, whatever page or API a contact comes through: proven on the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from mash.contacts import services
from mash.contacts.models import (
    Contact,
    ContactPerson,
    ContactRelationship,
    ContactStatus,
    PersonRole,
    Relationship,
    ScreeningOutcome,
)
from mash.core import clock
from mash.core.concurrency import Conflict
from mash.core.models import AuditEvent
from mash.enquiries.models import Enquiry, EnquiryStatus
from mash.people.matching import name_key
from mash.people.models import Household, Person, PersonAlias
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

# A Wednesday afternoon in London (BST): the "today" of the date rules below.
NOW = dt.datetime(2026, 6, 17, 14, 0, tzinfo=clock.LONDON)
TODAY = dt.date(2026, 6, 17)
VALID_NHS = "943 476 5919"
VALID_UPN = "B801200005001"


@pytest.fixture
def hub() -> journey.Hub:
    return journey.small_hub()


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _submit(hub: journey.Hub, people: list[services.PersonEntry], **kw: Any) -> Contact:
    return services.submit_contact(
        actor=hub.coordinator, details=journey.details(**kw), people=people
    )


def _errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def _refused(hub: journey.Hub, people: list[services.PersonEntry], **kw: Any) -> dict:
    before = (Contact.objects.count(), Person.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as excinfo:
        _submit(hub, people, **kw)
    after = (Contact.objects.count(), Person.objects.count(), AuditEvent.objects.count())
    assert after == before, "a refused contact must leave nothing behind"
    return _errors(excinfo)


# Submission rules ------------------------------------------------------------------------


def test_a_valid_contact_is_recorded_awaiting_screening(hub, frozen):
    contact = _submit(hub, [journey.child(nhs_number=VALID_NHS, upn=VALID_UPN), journey.adult()])
    contact.refresh_from_db()
    assert contact.status == ContactStatus.AWAITING_SCREENING
    assert contact.submitted_by == hub.coordinator
    assert contact.submitted_at == clock.now()
    assert contact.version == 1
    child = contact.people.get(role=PersonRole.CHILD)
    assert child.nhs_number == "9434765919"
    assert child.upn == VALID_UPN
    assert child.person.nhs_number == "9434765919"


def test_received_in_the_future_is_refused(hub, frozen):
    errors = _refused(hub, [journey.child()], received_at=clock.now() + dt.timedelta(hours=1))
    assert errors["received_at"] == ["When it was received cannot be in the future"]


def test_received_a_moment_ahead_is_allowed_for_clock_drift(hub, frozen):
    contact = _submit(hub, [journey.child()], received_at=clock.now() + dt.timedelta(minutes=2))
    assert contact.pk


def test_a_contact_needs_a_child(hub, frozen):
    errors = _refused(hub, [journey.adult()])
    assert errors["children"] == ["Add at least one child"]


def test_a_child_needs_a_date_of_birth_or_due_date(hub, frozen):
    no_dates = services.PersonEntry(role="child", given_name="Amelia", family_name="Hart")
    errors = _refused(hub, [no_dates])
    assert errors["people-0"] == [
        "Enter the child's date of birth, or the due date for an unborn child"
    ]


def test_a_linked_child_needs_no_date_of_birth(hub, frozen):
    known = _submit(hub, [journey.child()]).people.get().person
    contact = _submit(
        hub,
        [
            services.PersonEntry(
                role="child", given_name="Amelia", family_name="Hart", link_to=known.pk
            )
        ],
    )
    link = contact.people.get()
    assert link.person == known
    assert link.date_of_birth == known.date_of_birth  # taken from the index


@pytest.mark.parametrize(
    ("due", "ok"),
    [
        (TODAY + dt.timedelta(days=300), True),
        (TODAY + dt.timedelta(days=320), False),
        (TODAY - dt.timedelta(days=30), True),
        (TODAY - dt.timedelta(days=40), False),
    ],
)
def test_due_date_within_ten_months_ahead_and_a_month_past(hub, frozen, due, ok):
    unborn = services.PersonEntry(
        role="child", given_name="Unborn", family_name="Hart", expected_date_of_birth=due
    )
    if ok:
        person = _submit(hub, [unborn, journey.adult()]).people.get(role="child").person
        assert person.expected_date_of_birth == due
        assert person.date_of_birth is None
        assert person.is_unborn
    else:
        errors = _refused(hub, [unborn])
        assert len(errors["people-0"]) == 1
        assert errors["people-0"][0].startswith("Due date")


def test_due_date_too_far_ahead_message(hub, frozen):
    unborn = services.PersonEntry(
        role="child",
        given_name="U",
        family_name="H",
        expected_date_of_birth=TODAY + dt.timedelta(days=400),
    )
    assert _refused(hub, [unborn])["people-0"] == ["Due date must be within 10 months from today"]


def test_due_date_long_past_message(hub, frozen):
    unborn = services.PersonEntry(
        role="child",
        given_name="U",
        family_name="H",
        expected_date_of_birth=TODAY - dt.timedelta(days=60),
    )
    assert _refused(hub, [unborn])["people-0"] == [
        "Due date is more than a month ago: enter the date of birth instead"
    ]


def test_date_of_birth_in_the_future_is_refused(hub, frozen):
    errors = _refused(hub, [journey.child(born=TODAY + dt.timedelta(days=1))])
    assert errors["people-0"] == ["Date of birth cannot be in the future"]


def test_born_today_is_allowed(hub, frozen):
    assert _submit(hub, [journey.child(born=TODAY)]).pk


def test_both_date_of_birth_and_due_date_is_refused(hub, frozen):
    both = journey.child(expected_date_of_birth=TODAY + dt.timedelta(days=30))
    assert _refused(hub, [both])["people-0"] == ["Give a date of birth or a due date, not both"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "943 476 5918", "NHS number is not valid"),
        ("nhs_number", "94347659", "NHS number must be 10 numbers"),
        ("nhs_number", "943476591x", "NHS number must contain only numbers"),
        ("upn", "A801200005001", "Unique pupil number is not valid"),
        ("upn", "B80120000500", "Unique pupil number must be 13 characters"),
    ],
)
def test_wrong_identifiers_are_refused_next_to_the_person(hub, frozen, field, value, message):
    errors = _refused(hub, [journey.adult(), journey.child(**{field: value})])
    assert "people-0" not in errors
    assert errors["people-1"][0].startswith(message)


def test_an_adult_with_a_wrong_nhs_number_is_refused_too(hub, frozen):
    errors = _refused(hub, [journey.child(), journey.adult(nhs_number="9434765918")])
    assert errors["people-1"][0].startswith("NHS number is not valid")


@pytest.mark.parametrize("concern", ["", "   \n  "])
def test_an_empty_concern_is_refused(hub, frozen, concern):
    errors = _refused(hub, [journey.child()], concern=concern)
    assert errors["concern"] == ["Enter the concern in the referrer's words"]


@pytest.mark.parametrize("name", ["concern", "family_told"])
def test_text_over_20000_characters_is_refused(hub, frozen, name):
    errors = _refused(hub, [journey.child()], **{name: "x" * 20_001})
    assert errors[name] == ["This must be 20,000 characters or fewer"]


def test_text_of_exactly_20000_characters_is_kept_whole(hub, frozen):
    contact = _submit(hub, [journey.child()], concern="y" * 20_000)
    contact.refresh_from_db()
    assert len(contact.concern) == 20_000


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("given_name", 100),
        ("family_name", 100),
        ("address_line_1", 200),
        ("town", 100),
        ("postcode", 10),
        ("school", 200),
        ("gp", 200),
    ],
)
@pytest.mark.parametrize("linked", [False, True])
def test_over_long_person_details_are_refused_next_to_the_person(hub, frozen, field, limit, linked):
    # A linked person's details go straight onto the contact: PostgreSQL would
    # refuse an over-long value with an error page rather than a message.
    link_to = None
    if linked:
        link_to = _submit(hub, [journey.child()]).people.get().person.pk
    typed: dict[str, Any] = {"role": "child", "given_name": "Amelia", "family_name": "Hart"}
    typed.update({"date_of_birth": dt.date(2018, 5, 4), "link_to": link_to})
    typed[field] = "x" * (limit + 1)
    entry = services.PersonEntry(**typed)
    errors = _refused(hub, [entry])
    assert any("characters or fewer" in m for m in errors["people-0"])


def test_markup_is_kept_as_typed_text(hub, frozen):
    hostile = "<script>alert(1)</script>"
    contact = _submit(hub, [journey.child(given=hostile)], concern=hostile)
    contact.refresh_from_db()
    assert contact.concern == hostile
    assert contact.people.get().given_name == hostile


def test_an_invalid_referrer_email_is_refused_by_field(hub, frozen):
    with pytest.raises(ValidationError) as excinfo:
        _submit(hub, [journey.child()], referrer_email="not an email")
    assert "referrer_email" in _errors(excinfo)
    assert not Contact.objects.exists()


def test_several_errors_are_reported_together(hub, frozen):
    errors = _refused(
        hub,
        [journey.adult(), journey.child(born=TODAY + dt.timedelta(days=3), nhs_number="1")],
        concern="",
        received_at=clock.now() + dt.timedelta(days=1),
    )
    assert set(errors) == {"received_at", "concern", "people-1"}
    assert len(errors["people-1"]) == 2


# People: linking, new people, households, relationships --------------------------------


def test_new_people_get_phonetic_keys(hub, frozen):
    contact = _submit(hub, [journey.child("Siobhan", "O'Sullivan"), journey.adult("Zoë", "Smyth")])
    child = contact.people.get(role="child").person
    adult = contact.people.get(role="adult").person
    assert (child.given_key, child.family_key) == (name_key("Siobhan"), name_key("O'Sullivan"))
    assert (adult.given_key, adult.family_key) == (name_key("Zoë"), name_key("Smyth"))
    assert adult.family_key == name_key("Smith")
    assert child.created_by == hub.coordinator


def test_linking_reuses_the_person_and_records_an_alias_when_the_name_differs(hub, frozen):
    known = _submit(hub, [journey.child("Katherine", "Hart")]).people.get().person
    people_before = Person.objects.count()
    contact = _submit(
        hub,
        [
            journey.child(
                "Kate",
                "Hart-Jones",
                link_to=known.pk,
                match_score=81,
                match_reasons=["Same date of birth"],
            )
        ],
    )
    link = contact.people.get()
    assert link.person == known
    assert Person.objects.count() == people_before
    assert (link.given_name, link.family_name) == ("Kate", "Hart-Jones")  # as the referrer said
    assert (link.match_score, link.match_reasons) == (81, ["Same date of birth"])
    alias = PersonAlias.objects.get(person=known)
    assert (alias.given_name, alias.family_name) == ("Kate", "Hart-Jones")
    assert (alias.given_key, alias.family_key) == (name_key("Kate"), name_key("Hart-Jones"))
    known.refresh_from_db()
    assert known.given_name == "Katherine"  # the index keeps its name
    event = AuditEvent.objects.get(action="people.alias_added")
    assert event.object_id == str(known.pk)
    assert event.actor == hub.coordinator


def test_linking_with_the_same_name_records_no_alias(hub, frozen):
    known = _submit(hub, [journey.child()]).people.get().person
    _submit(hub, [journey.child("AMELIA", "hart", link_to=known.pk)])
    _submit(hub, [journey.child(link_to=known.pk)])
    assert not PersonAlias.objects.exists()
    assert not AuditEvent.objects.filter(action="people.alias_added").exists()


def test_the_same_alias_is_recorded_once(hub, frozen):
    known = _submit(hub, [journey.child()]).people.get().person
    for _ in range(2):
        _submit(hub, [journey.child("Millie", "Hart", link_to=known.pk)])
    assert PersonAlias.objects.filter(person=known).count() == 1


def test_a_new_person_does_not_record_match_details(hub, frozen):
    contact = _submit(hub, [journey.child(match_score=40, match_reasons=["x"])])
    link = contact.people.get()
    assert (link.match_score, link.match_reasons) == (None, [])


def test_the_same_person_twice_on_one_contact_is_refused_and_nothing_is_kept(hub, frozen):
    known = _submit(hub, [journey.child()]).people.get().person
    errors = _refused(
        hub,
        [journey.adult(), journey.child(link_to=known.pk), journey.child(link_to=known.pk)],
    )
    # The adult was created before the duplicate was found: the whole contact rolled back.
    assert errors["people"] == ["The same person is on this contact twice"]


def test_people_at_the_same_address_share_a_household(hub, frozen):
    home: dict[str, Any] = {
        "address_line_1": "12 Rye Lane",
        "postcode": "se15 4ab",
        "town": "London",
    }
    contact = _submit(
        hub,
        [
            journey.child(**home),
            journey.child("Noah", born=dt.date(2020, 1, 1), **{**home, "postcode": "SE15 4AB "}),
            journey.adult(**home),
            journey.adult("Lee", "Grant", address_line_1="3 Hill Road", postcode="SE5 1AA"),
            journey.adult("Nobody", "Known"),
        ],
    )
    people = [link.person for link in contact.people.order_by("role", "position")]
    by_name = {p.given_name: p for p in people}
    shared = by_name["Amelia"].household
    assert shared is not None
    assert by_name["Noah"].household == shared
    assert by_name["Dawn"].household == shared
    assert shared.address.postcode == "SE15 4AB"
    assert by_name["Lee"].household not in (None, shared)
    assert by_name["Nobody"].household is None
    assert Household.objects.count() == 2


def test_households_are_not_shared_across_contacts(hub, frozen):
    home: dict[str, Any] = {"address_line_1": "12 Rye Lane", "postcode": "SE15 4AB"}
    first = _submit(hub, [journey.child(**home)]).people.get().person
    second = _submit(hub, [journey.child("Noah", **home)]).people.get().person
    assert first.household != second.household


def test_relationships_are_recorded_between_the_contacts_people(hub, frozen):
    contact = services.submit_contact(
        actor=hub.coordinator,
        details=journey.details(),
        people=[
            journey.child(),
            journey.adult(),
            journey.child("Noah", born=dt.date(2021, 3, 3)),
            services.PersonEntry(role="adult", given_name="Lee", family_name="Grant"),
        ],
        relationships=[
            services.RelationshipEntry(adult=0, child=0, relationship=Relationship.PARENT),
            services.RelationshipEntry(adult=0, child=1, relationship=Relationship.PARENT),
            services.RelationshipEntry(adult=1, child=1, relationship=Relationship.ALLEGED_HARM),
        ],
    )
    rows = {
        (r.adult.given_name, r.child.given_name): r.relationship
        for r in ContactRelationship.objects.filter(contact=contact).select_related(
            "adult", "child"
        )
    }
    assert rows == {
        ("Dawn", "Amelia"): Relationship.PARENT,
        ("Dawn", "Noah"): Relationship.PARENT,
        ("Lee", "Noah"): Relationship.ALLEGED_HARM,
    }
    children = contact.people.filter(role="child").order_by("position")
    assert [c.given_name for c in children] == ["Amelia", "Noah"]
    assert [c.position for c in children] == [0, 1]


def test_submission_is_audited_with_counts(hub, frozen):
    known = _submit(hub, [journey.child()]).people.get().person
    start = AuditEvent.objects.count()
    contact = services.submit_contact(
        actor=hub.coordinator,
        details=journey.details(),
        people=[journey.child(link_to=known.pk), journey.adult(), journey.adult("Lee")],
    )
    events = list(AuditEvent.objects.order_by("id")[start:])
    assert [e.action for e in events] == [
        "people.person_created",
        "people.person_created",
        "contacts.contact_submitted",
    ]
    submitted = events[-1]
    assert submitted.object_id == str(contact.pk)
    assert submitted.actor == hub.coordinator
    assert submitted.detail == {"children": 1, "adults": 2, "linked": 1}


@pytest.mark.parametrize("role", ["police_researcher", "advice_line_worker"])
def test_researchers_and_advice_workers_record_contacts(hub, frozen, make, role):
    # They progress a notification or a call to a contact, through the same service.
    actor = getattr(make, role)()
    contact = services.submit_contact(
        actor=actor, details=journey.details(), people=[journey.child()]
    )
    assert contact.submitted_by == actor
    assert Person.objects.count() == 1


@pytest.mark.parametrize("role", ["practitioner", "analyst", "administrator"])
def test_only_the_hub_records_contacts(hub, frozen, make, role):
    actor = getattr(make, role)()
    with pytest.raises(PermissionDenied):
        services.submit_contact(actor=actor, details=journey.details(), people=[journey.child()])
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=actor, data={"concern": "x"})
    assert not Contact.objects.exists()
    assert not Person.objects.exists()


def test_a_manager_may_record_a_contact(hub, frozen):
    contact = services.submit_contact(
        actor=hub.manager, details=journey.details(), people=[journey.child()]
    )
    assert contact.submitted_by == hub.manager


# Drafts ------------------------------------------------------------------------------


def test_a_draft_keeps_what_was_typed_and_anyone_in_the_hub_finishes_it(hub, frozen):
    typed = {"concern": "half a sentence", "children": [{"given_name": "Am", "dob": "31/02"}]}
    draft = services.save_draft(actor=hub.coordinator, data=typed)
    assert draft.status == ContactStatus.DRAFT
    assert draft.draft == typed
    saved = services.save_draft(
        actor=hub.manager, contact=draft, data={**typed, "concern": "more"}, expected_version=1
    )
    assert saved.version == 2
    assert saved.draft["concern"] == "more"
    contact = services.submit_contact(
        actor=hub.manager,
        details=journey.details(),
        people=[journey.child()],
        contact=draft,
        expected_version=2,
    )
    contact.refresh_from_db()
    assert contact.pk == draft.pk
    assert contact.status == ContactStatus.AWAITING_SCREENING
    assert contact.draft == {}
    assert contact.created_by == hub.coordinator
    assert contact.submitted_by == hub.manager
    assert contact.version == 3
    assert [
        e.action
        for e in AuditEvent.objects.filter(
            object_id=str(draft.pk), object_type="contacts.contact"
        ).order_by("id")
    ] == [
        "contacts.draft_created",
        "contacts.draft_saved",
        "contacts.contact_submitted",
    ]


def test_a_draft_saved_over_a_newer_version_is_a_conflict(hub, frozen):
    draft = services.save_draft(actor=hub.coordinator, data={"concern": "first"})
    services.save_draft(
        actor=hub.manager, contact=draft, data={"concern": "second"}, expected_version=1
    )
    with pytest.raises(Conflict) as excinfo:
        services.save_draft(
            actor=hub.coordinator, contact=draft, data={"concern": "third"}, expected_version=1
        )
    assert excinfo.value.current.draft == {"concern": "second"}
    draft.refresh_from_db()
    assert draft.draft == {"concern": "second"}
    assert draft.version == 2


def test_a_submitted_contact_cannot_be_saved_as_a_draft_or_submitted_again(hub, frozen):
    draft = services.save_draft(actor=hub.coordinator, data={})
    services.submit_contact(
        actor=hub.coordinator, details=journey.details(), people=[journey.child()], contact=draft
    )
    with pytest.raises(Conflict):
        services.save_draft(actor=hub.coordinator, contact=draft, data={"x": 1})
    with pytest.raises(Conflict) as excinfo:
        services.submit_contact(
            actor=hub.coordinator,
            details=journey.details(),
            people=[journey.child("Other")],
            contact=draft,
        )
    assert excinfo.value.current.status == ContactStatus.AWAITING_SCREENING
    assert ContactPerson.objects.filter(contact=draft).count() == 1


def test_a_refused_submission_leaves_the_draft_as_it_was(hub, frozen):
    typed = {"concern": ""}
    draft = services.save_draft(actor=hub.coordinator, data=typed)
    with pytest.raises(ValidationError):
        services.submit_contact(
            actor=hub.coordinator,
            details=journey.details(concern=""),
            people=[journey.child()],
            contact=draft,
            expected_version=1,
        )
    draft.refresh_from_db()
    assert (draft.status, draft.draft, draft.version) == (ContactStatus.DRAFT, typed, 1)


# Screening ---------------------------------------------------------------------------


@pytest.fixture
def submitted(hub: journey.Hub, frozen: Any) -> Contact:
    return journey.submitted_contact(hub)


@pytest.mark.parametrize("outcome", [ScreeningOutcome.NO_FURTHER_ACTION, ScreeningOutcome.ADVICE])
def test_screening_out_records_the_reason_and_who(hub, submitted, outcome):
    contact = services.screen_contact(
        actor=hub.coordinator, contact=submitted, outcome=outcome, reason="  Handled by school. "
    )
    contact.refresh_from_db()
    assert contact.status == ContactStatus.SCREENED
    assert (contact.screening_outcome, contact.screening_reason) == (outcome, "Handled by school.")
    assert (contact.screened_by, contact.screened_at) == (hub.coordinator, clock.now())
    assert contact.signposted_to == ""
    assert not Enquiry.objects.exists()
    event = AuditEvent.objects.get(action="contacts.contact_screened")
    assert event.detail == {"outcome": outcome}


def test_screening_needs_a_reason(hub, submitted):
    with pytest.raises(ValidationError) as excinfo:
        services.screen_contact(
            actor=hub.coordinator, contact=submitted, outcome=ScreeningOutcome.ADVICE, reason="  "
        )
    assert _errors(excinfo) == {"reason": ["Enter the reason for the screening decision"]}
    submitted.refresh_from_db()
    assert submitted.status == ContactStatus.AWAITING_SCREENING
    assert not AuditEvent.objects.filter(action="contacts.contact_screened").exists()


def test_screening_needs_a_known_outcome(hub, submitted):
    with pytest.raises(ValidationError) as excinfo:
        services.screen_contact(
            actor=hub.coordinator, contact=submitted, outcome="maybe", reason="r"
        )
    assert _errors(excinfo) == {"outcome": ["Select a screening outcome"]}


def test_signposting_needs_to_whom(hub, submitted):
    with pytest.raises(ValidationError) as excinfo:
        services.screen_contact(
            actor=hub.coordinator,
            contact=submitted,
            outcome=ScreeningOutcome.SIGNPOSTED,
            reason="Needs support",
        )
    assert _errors(excinfo) == {"signposted_to": ["Enter who the family was signposted to"]}
    contact = services.screen_contact(
        actor=hub.coordinator,
        contact=submitted,
        outcome=ScreeningOutcome.SIGNPOSTED,
        reason="Needs support",
        signposted_to=" Family Hub ",
    )
    assert contact.signposted_to == "Family Hub"


def test_signposted_to_is_kept_only_when_signposting(hub, submitted):
    contact = services.screen_contact(
        actor=hub.coordinator,
        contact=submitted,
        outcome=ScreeningOutcome.ADVICE,
        reason="Advice",
        signposted_to="Family Hub",
    )
    assert contact.signposted_to == ""


def test_progressing_opens_exactly_one_enquiry(hub, submitted):
    services.screen_contact(
        actor=hub.manager,
        contact=submitted,
        outcome=ScreeningOutcome.PROGRESS,
        reason="Needs checks",
    )
    enquiry = Enquiry.objects.get()
    assert enquiry.contact == submitted
    # The stage clocks of the performance figures start from this copy of the contact's time.
    assert submitted.received_at is not None
    assert enquiry.contact_received_at == submitted.received_at != enquiry.opened_at
    assert enquiry.status == EnquiryStatus.AWAITING_CONSENT
    assert (enquiry.opened_by, enquiry.opened_at) == (hub.manager, clock.now())
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["contacts.contact_screened", "enquiries.enquiry_opened"]


def test_screening_twice_is_a_conflict(hub, submitted):
    services.screen_contact(
        actor=hub.coordinator,
        contact=submitted,
        outcome=ScreeningOutcome.PROGRESS,
        reason="Needs checks",
    )
    with pytest.raises(Conflict) as excinfo:
        services.screen_contact(
            actor=hub.manager, contact=submitted, outcome=ScreeningOutcome.PROGRESS, reason="Me too"
        )
    assert excinfo.value.current.screening_reason == "Needs checks"
    assert Enquiry.objects.count() == 1


def test_screening_with_a_stale_version_is_a_conflict(hub, submitted):
    with pytest.raises(Conflict):
        services.screen_contact(
            actor=hub.coordinator,
            contact=submitted,
            outcome=ScreeningOutcome.ADVICE,
            reason="r",
            expected_version=7,
        )


def test_a_draft_cannot_be_screened(hub, frozen):
    draft = services.save_draft(actor=hub.coordinator, data={})
    with pytest.raises(Conflict):
        services.screen_contact(
            actor=hub.coordinator, contact=draft, outcome=ScreeningOutcome.ADVICE, reason="r"
        )


@pytest.mark.parametrize("role", ["practitioner", "advice_line_worker", "analyst", "administrator"])
def test_only_the_hub_screens(hub, submitted, make, role):
    with pytest.raises(PermissionDenied):
        services.screen_contact(
            actor=getattr(make, role)(),
            contact=submitted,
            outcome=ScreeningOutcome.PROGRESS,
            reason="r",
        )
    assert not Enquiry.objects.exists()


# People already in the index, and what a submission costs --------------------------------


def test_a_new_person_with_an_nhs_number_already_in_the_index_must_be_linked(hub, frozen):
    _submit(hub, [journey.child(nhs_number=VALID_NHS, upn=VALID_UPN)])
    errors = _refused(hub, [journey.adult(), journey.child("Other", nhs_number=VALID_NHS)])
    assert errors == {
        "people-1": ["Someone in the index already has this NHS number: find them and link them"]
    }
    errors = _refused(hub, [journey.child("Other", upn=VALID_UPN)])
    assert errors["people-0"][0].startswith("Someone in the index already has this unique pupil")


def test_two_new_people_with_one_nhs_number_are_refused(hub, frozen):
    errors = _refused(
        hub, [journey.child(nhs_number=VALID_NHS), journey.child("Noah", nhs_number=VALID_NHS)]
    )
    assert errors == {"people-1": ["Another new person here has this NHS number"]}


def test_a_link_to_nobody_is_refused_next_to_the_person(hub, frozen):
    errors = _refused(hub, [journey.child(), journey.child("Noah", link_to=999_999)])
    assert errors == {"people-1": ["The person linked is not in the index: search for them again"]}


def _family(n: int, known: list[Person]) -> list[services.PersonEntry]:
    home: dict[str, Any] = {"address_line_1": "12 Rye Lane", "postcode": "SE15 4AB"}
    children = [journey.child(f"Child{i}", nhs_number="", **home) for i in range(n)]
    adults = [journey.adult(p.given_name, p.family_name, link_to=p.pk, **home) for p in known[:n]]
    return children + adults


def test_a_submission_costs_the_same_queries_however_many_people(hub, frozen):
    known = [_submit(hub, [journey.child(f"Known{i}")]).people.get().person for i in range(6)]
    hub.coordinator.has_perm("contacts.record")  # the roles are read once per user

    def cost(n: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            services.submit_contact(
                actor=hub.coordinator,
                details=journey.details(),
                people=_family(n, known),
                relationships=[services.RelationshipEntry(adult=0, child=0, relationship="parent")],
            )
        return len(queries)

    assert cost(1) == cost(6)
    assert cost(3) <= 12
