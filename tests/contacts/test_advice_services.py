"""The advice line's rules, whatever page they come through: proven on the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from mash.accounts.models import AgencyKind, Role
from mash.contacts import advice
from mash.contacts.forms import from_draft
from mash.contacts.models import (
    Channel,
    Consultation,
    ConsultationOutcome,
    Contact,
    ContactStatus,
    ReferralSource,
)
from mash.core import clock
from mash.core.concurrency import Conflict
from mash.core.models import AuditEvent
from mash.people import matching
from mash.people import services as people_services
from tests.contacts.test_advice_support import NOW, TODAY, call, entry, indexed_child, line
from tests.enquiries import journey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def the_line() -> Any:
    return line()


def _refused(actor: Any, **overrides: Any) -> dict[str, list[str]]:
    before = (Consultation.objects.count(), Contact.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as excinfo:
        advice.log_consultation(actor=actor, entry=entry(**overrides))
    after = (Consultation.objects.count(), Contact.objects.count(), AuditEvent.objects.count())
    assert after == before, "a refused call must leave nothing behind"
    return excinfo.value.message_dict


# --- Each outcome ---------------------------------------------------------------------------


def test_advice_only_is_logged_with_who_and_when(the_line):
    consultation = call(the_line.worker)
    consultation.refresh_from_db()
    assert consultation.reference == f"AL-{consultation.pk:06d}"
    assert consultation.outcome == ConsultationOutcome.ADVICE_ONLY
    assert consultation.called_at == NOW
    assert consultation.created_by == the_line.worker
    assert consultation.contact is None
    assert consultation.person is None
    assert consultation.caller_agency_kind == AgencyKind.EDUCATION
    assert consultation.version == 1
    event = AuditEvent.objects.get(action="contacts.consultation_logged")
    assert event.actor == the_line.worker
    assert event.object_id == str(consultation.pk)
    assert event.detail == {
        "outcome": "advice_only",
        "child_named": False,
        "person": None,
        "contact": None,
        "follow_up_on": None,
    }


def test_early_help_needs_the_support_offered(the_line):
    errors = _refused(the_line.worker, outcome=ConsultationOutcome.EARLY_HELP)
    assert errors == {
        "early_help_support": ["Enter the support offered to start an early help assessment"]
    }
    consultation = call(
        the_line.worker,
        outcome=ConsultationOutcome.EARLY_HELP,
        early_help_support="  Sent the early help form; the school's family worker will lead.  ",
    )
    assert consultation.early_help_support == (
        "Sent the early help form; the school's family worker will lead."
    )


def test_support_is_kept_only_for_an_early_help_recommendation(the_line):
    consultation = call(the_line.worker, early_help_support="Typed, then changed their mind")
    assert consultation.early_help_support == ""


def test_progressing_to_a_contact_starts_a_prefilled_draft(the_line):
    child = indexed_child()
    consultation = call(
        the_line.worker,
        outcome=ConsultationOutcome.CONTACT,
        caller_agency_kind=AgencyKind.HEALTH_VISITING,
        caller_agency="Riverton Health Visiting",
        child_given_name="Amelia",
        child_family_name="Hart",
        child_date_of_birth=dt.date(2018, 5, 4),
        person_id=child.pk,
    )
    contact = consultation.contact
    assert contact is not None
    contact.refresh_from_db()
    assert contact.status == ContactStatus.DRAFT
    assert contact.created_by == the_line.worker
    data = from_draft(contact.draft)
    assert data["channel"] == [Channel.PHONE]
    assert data["referral_source"] == [ReferralSource.HEALTH_VISITOR]
    assert data["referrer_name"] == ["Priya Shah"]
    assert data["referrer_role"] == ["Designated safeguarding lead"]
    assert data["referrer_organisation"] == ["Riverton Health Visiting"]
    assert data["referrer_phone"] == ["01632 960 001"]
    assert data["referrer_email"] == ["priya.shah@riverside.example"]
    assert data["concern"] == ["Amelia has come to school hungry most days this term."]
    assert data["children-0-given_name"] == ["Amelia"]
    assert data["children-0-date_of_birth-year"] == ["2018"]
    assert data["children-0-link_to"] == [str(child.pk)]
    # Received when the call came in, in London time.
    assert data["received_time"] == ["10:30"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="contacts.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["contacts.draft_created", "contacts.consultation_logged"]
    assert AuditEvent.objects.get(action="contacts.consultation_logged").detail["contact"] == (
        contact.pk
    )


def test_progressing_without_a_child_leaves_an_empty_child_to_fill_in(the_line):
    consultation = call(the_line.manager, outcome=ConsultationOutcome.CONTACT)
    assert consultation.contact is not None
    data = from_draft(consultation.contact.draft)
    assert data["children-TOTAL_FORMS"] == ["1"]
    assert "children-0-link_to" not in data


def test_a_failure_making_the_contact_leaves_no_call_behind(the_line, monkeypatch):
    from mash.contacts import services as contact_services

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(contact_services, "save_draft", broken)
    with pytest.raises(RuntimeError):
        call(the_line.worker, outcome=ConsultationOutcome.CONTACT)
    assert not Consultation.objects.exists()
    assert not AuditEvent.objects.filter(action="contacts.consultation_logged").exists()


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        (AgencyKind.EDUCATION, "2A"),
        (AgencyKind.EARLY_YEARS, "2B"),
        (AgencyKind.HEALTH_GP, "3A"),
        (AgencyKind.HEALTH_VISITING, "3B"),
        (AgencyKind.HEALTH_SCHOOL_NURSING, "3C"),
        (AgencyKind.HEALTH_ACUTE, "3F"),
        (AgencyKind.HOUSING, "4"),
        (AgencyKind.CHILDRENS_SOCIAL_CARE, "5A"),
        (AgencyKind.YOUTH_JUSTICE, "5B"),
        (AgencyKind.POLICE, "6"),
        (AgencyKind.PROBATION, "7"),
        (AgencyKind.DOMESTIC_ABUSE, "8"),
        (AgencyKind.OTHER, "8"),
        ("", "8"),
    ],
)
def test_the_referral_source_follows_the_callers_agency(kind, source):
    assert advice.referral_source_for(kind) == source


def test_every_kind_of_agency_gives_a_real_referral_source():
    for kind in AgencyKind.values:
        assert advice.referral_source_for(kind) in ReferralSource.values


# --- Validation -----------------------------------------------------------------------------


def test_missing_answers_are_each_named(the_line):
    errors = _refused(
        the_line.worker,
        caller_name=" ",
        caller_agency="",
        caller_agency_kind="",
        worry="\n",
        advice="",
        outcome="",
    )
    assert errors == {
        "caller_name": ["Enter the caller's name"],
        "caller_agency": ["Enter the agency the caller works for"],
        "caller_agency_kind": ["Select the kind of agency the caller works for"],
        "worry": ["Enter the caller's worry"],
        "advice": ["Enter the advice given"],
        "outcome": ["Select the outcome of the call"],
    }


def test_wrong_choices_are_refused(the_line):
    errors = _refused(the_line.worker, caller_agency_kind="spies", outcome="shrug")
    assert set(errors) == {"caller_agency_kind", "outcome"}


@pytest.mark.parametrize(
    ("name", "limit", "message"),
    [
        ("caller_name", 150, "Caller's name must be 150 characters or fewer"),
        ("caller_role", 150, "Caller's role must be 150 characters or fewer"),
        ("caller_agency", 200, "Caller's agency must be 200 characters or fewer"),
        ("child_given_name", 100, "The child's given name must be 100 characters or fewer"),
        ("child_family_name", 100, "The child's family name must be 100 characters or fewer"),
        ("worry", 20_000, "The worry must be 20,000 characters or fewer"),
        ("advice", 20_000, "The advice given must be 20,000 characters or fewer"),
    ],
)
def test_oversized_text_is_refused(the_line, name, limit, message):
    call(the_line.worker, **{name: "x" * limit})  # at the limit: fine
    assert message in _refused(the_line.worker, **{name: "x" * (limit + 1)})[name]


def test_oversized_support_is_refused(the_line):
    errors = _refused(
        the_line.worker, outcome=ConsultationOutcome.EARLY_HELP, early_help_support="x" * 20_001
    )
    assert errors["early_help_support"] == [
        "The support offered must be 20,000 characters or fewer"
    ]


def test_contact_details_must_be_real(the_line):
    errors = _refused(the_line.worker, caller_phone="call me maybe", caller_email="priya@")
    assert errors == {
        "caller_phone": ["Enter a phone number, like 01632 960 001 or +44 7700 900 982"],
        "caller_email": ["Enter an email address in the correct format, like name@example.com"],
    }


def test_hostile_text_is_kept_as_text_and_nul_characters_dropped(the_line):
    hostile = "<script>alert('x')</script> =HYPERLINK(\"http://evil\") ' OR 1=1 --"
    consultation = call(the_line.worker, caller_name=hostile[:150], worry=f"Worry\x00{hostile}")
    consultation.refresh_from_db()
    assert consultation.caller_name == hostile[:150].strip()
    assert consultation.worry == f"Worry{hostile}"


def test_the_childs_date_of_birth_must_be_a_childs(the_line):
    errors = _refused(the_line.worker, child_date_of_birth=TODAY + dt.timedelta(days=1))
    assert errors == {
        "child_date_of_birth": ["The child's date of birth must be today or in the past"]
    }
    errors = _refused(the_line.worker, child_date_of_birth=dt.date(1990, 1, 1))
    assert errors == {
        "child_date_of_birth": ["The child's date of birth must be within the last 25 years"]
    }
    assert call(the_line.worker, child_date_of_birth=TODAY).child_date_of_birth == TODAY


def test_a_child_linked_to_a_record_that_has_gone_is_refused(the_line):
    errors = _refused(the_line.worker, person_id=999_999)
    assert errors == {
        "person_id": ["The record chosen is no longer in the person index: find matches again"]
    }


def test_a_matched_child_is_linked(the_line):
    child = indexed_child()
    consultation = call(
        the_line.worker, child_given_name="Amelia", child_family_name="Hart", person_id=child.pk
    )
    assert consultation.person == child
    assert AuditEvent.objects.get(action="contacts.consultation_logged").detail["person"] == (
        child.pk
    )


# --- Follow-up rules ------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, 1, 365])
def test_a_follow_up_may_be_today_or_within_a_year(the_line, days):
    day = TODAY + dt.timedelta(days=days)
    assert call(the_line.worker, follow_up_on=day).follow_up_on == day


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (-1, "Follow-up date must be today or in the future"),
        (-400, "Follow-up date must be today or in the future"),
        (366, "Follow-up date must be within a year from today"),
    ],
)
def test_a_follow_up_in_the_past_or_too_far_ahead_is_refused(the_line, days, message):
    errors = _refused(the_line.worker, follow_up_on=TODAY + dt.timedelta(days=days))
    assert errors == {"follow_up_on": [message]}


def test_today_is_londons_today_just_after_midnight(the_line):
    # 23:30 UTC on 11 June is 00:30 on 12 June in London: the 11th is yesterday there.
    with time_machine.travel(dt.datetime(2025, 6, 11, 23, 30, tzinfo=dt.UTC), tick=False):
        errors = _refused(the_line.worker, follow_up_on=TODAY)
        assert errors == {"follow_up_on": ["Follow-up date must be today or in the future"]}
        assert call(the_line.worker, follow_up_on=dt.date(2025, 6, 12)).follow_up_on


def test_any_worker_on_the_line_may_mark_a_follow_up_done(the_line):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    done = advice.complete_follow_up(
        actor=the_line.colleague,
        consultation=consultation,
        note="  Rang Priya back: breakfast club has started.  ",
        expected_version=1,
    )
    assert done.follow_up_done_at == NOW
    assert done.follow_up_note == "Rang Priya back: breakfast club has started."
    assert done.version == 2
    event = AuditEvent.objects.get(action="contacts.consultation_follow_up_done")
    assert event.actor == the_line.colleague
    assert event.detail == {"due": "2025-06-11"}
    assert advice.follow_up_done_by(done) == "Ben Colleague"


def test_a_follow_up_needs_a_note_of_what_was_done(the_line):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    for note, message in (
        ("  ", "Enter what was done to follow up the call"),
        ("\x00", "Enter what was done to follow up the call"),
        ("x" * 20_001, "Note must be 20,000 characters or fewer"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            advice.complete_follow_up(actor=the_line.worker, consultation=consultation, note=note)
        assert excinfo.value.message_dict == {"note": [message]}
    consultation.refresh_from_db()
    assert consultation.follow_up_done_at is None


def test_a_call_without_a_follow_up_cannot_have_one_done(the_line):
    consultation = call(the_line.worker)
    with pytest.raises(ValidationError):
        advice.complete_follow_up(actor=the_line.worker, consultation=consultation, note="Done")


def test_a_follow_up_is_done_once(the_line):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    advice.complete_follow_up(actor=the_line.worker, consultation=consultation, note="Done")
    with pytest.raises(Conflict):
        advice.complete_follow_up(
            actor=the_line.colleague, consultation=consultation, note="Me too"
        )
    consultation.refresh_from_db()
    assert consultation.follow_up_note == "Done"


def test_a_follow_up_done_on_a_stale_page_is_a_conflict(the_line):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    advice.update_consultation(
        actor=the_line.worker,
        consultation=consultation,
        entry=entry(follow_up_on=TODAY, advice="Changed advice"),
        expected_version=1,
    )
    with pytest.raises(Conflict):
        advice.complete_follow_up(
            actor=the_line.colleague, consultation=consultation, note="Done", expected_version=1
        )


# --- Changing a call ------------------------------------------------------------------------


def test_the_author_may_change_a_call(the_line):
    consultation = call(the_line.worker)
    changed = advice.update_consultation(
        actor=the_line.worker,
        consultation=consultation,
        entry=entry(advice="Better advice", follow_up_on=TODAY + dt.timedelta(days=7)),
        expected_version=1,
    )
    assert changed.advice == "Better advice"
    assert changed.follow_up_on == TODAY + dt.timedelta(days=7)
    assert changed.version == 2
    assert AuditEvent.objects.filter(action="contacts.consultation_changed").count() == 1


def test_a_hub_manager_may_change_anyones_call_but_a_colleague_may_not(the_line):
    consultation = call(the_line.worker)
    with pytest.raises(PermissionDenied):
        advice.update_consultation(
            actor=the_line.colleague, consultation=consultation, entry=entry(advice="Mine now")
        )
    changed = advice.update_consultation(
        actor=the_line.manager, consultation=consultation, entry=entry(advice="Checked")
    )
    assert changed.advice == "Checked"


def test_a_change_over_someone_elses_is_a_conflict(the_line):
    consultation = call(the_line.worker)
    advice.update_consultation(
        actor=the_line.manager, consultation=consultation, entry=entry(advice="First")
    )
    with pytest.raises(Conflict):
        advice.update_consultation(
            actor=the_line.worker,
            consultation=consultation,
            entry=entry(advice="Second"),
            expected_version=1,
        )
    consultation.refresh_from_db()
    assert consultation.advice == "First"


def test_a_follow_up_date_now_past_may_stay_when_other_things_change(the_line):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        changed = advice.update_consultation(
            actor=the_line.worker,
            consultation=consultation,
            entry=entry(follow_up_on=TODAY, advice="More detail"),
        )
        assert changed.follow_up_on == TODAY
        with pytest.raises(ValidationError) as excinfo:
            advice.update_consultation(
                actor=the_line.worker,
                consultation=consultation,
                entry=entry(follow_up_on=TODAY + dt.timedelta(days=1)),
            )
        assert excinfo.value.message_dict == {
            "follow_up_on": ["Follow-up date must be today or in the future"]
        }


def test_a_done_follow_up_keeps_its_date(the_line):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    advice.complete_follow_up(actor=the_line.worker, consultation=consultation, note="Done")
    for follow_up, message in (
        (TODAY + dt.timedelta(days=2), "The follow-up has been done: its date cannot be changed"),
        (None, "The follow-up has been done: its date cannot be removed"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            advice.update_consultation(
                actor=the_line.worker,
                consultation=consultation,
                entry=entry(follow_up_on=follow_up),
            )
        assert excinfo.value.message_dict == {"follow_up_on": [message]}


def test_a_call_progressed_to_a_contact_stays_progressed(the_line):
    consultation = call(the_line.worker, outcome=ConsultationOutcome.CONTACT)
    with pytest.raises(ValidationError) as excinfo:
        advice.update_consultation(
            actor=the_line.worker,
            consultation=consultation,
            entry=entry(outcome=ConsultationOutcome.ADVICE_ONLY),
        )
    assert excinfo.value.message_dict == {
        "outcome": ["This call has been progressed to a contact: its outcome cannot be changed"]
    }
    # Changing something else keeps the one contact it started.
    changed = advice.update_consultation(
        actor=the_line.worker,
        consultation=consultation,
        entry=entry(outcome=ConsultationOutcome.CONTACT, advice="More"),
    )
    assert changed.contact_id == consultation.contact_id
    assert Contact.objects.count() == 1


def test_a_call_changed_to_progress_starts_its_contact(the_line):
    consultation = call(the_line.worker)
    changed = advice.update_consultation(
        actor=the_line.worker,
        consultation=consultation,
        entry=entry(outcome=ConsultationOutcome.CONTACT),
    )
    assert changed.contact is not None
    assert changed.contact.status == ContactStatus.DRAFT


# --- Permissions for every role -------------------------------------------------------------

ALLOWED = {Role.ADVICE_LINE_WORKER, Role.HUB_MANAGER}


@pytest.mark.parametrize("role", Role.values)
def test_only_the_advice_line_logs_and_reads_calls(role, make, the_line):
    user = make.ROLE_FACTORIES[role]()
    existing = call(the_line.worker, follow_up_on=TODAY)
    if role in ALLOWED:
        assert call(user).created_by == user
        assert advice.consultation_for(user=user, pk=existing.pk) == existing
        assert existing in advice.consultations(user=user, mine=False)
        assert existing in advice.follow_ups(user=user)
        return
    before = Consultation.objects.count()
    with pytest.raises(PermissionDenied):
        call(user)
    with pytest.raises(PermissionDenied):
        call(user, outcome=ConsultationOutcome.CONTACT)
    assert Consultation.objects.count() == before
    with pytest.raises(PermissionDenied):
        advice.update_consultation(actor=user, consultation=existing, entry=entry())
    with pytest.raises(PermissionDenied):
        advice.complete_follow_up(actor=user, consultation=existing, note="Done")
    for read in (
        lambda: advice.consultations(user=user, mine=False),
        lambda: advice.consultation_for(user=user, pk=existing.pk),
        lambda: advice.follow_ups(user=user),
        lambda: advice.child_matches(user=user, query=matching.Query(family_name="Hart")),
    ):
        with pytest.raises(PermissionDenied):
            read()


@pytest.mark.parametrize("role", Role.values)
def test_the_figures_are_for_the_line_and_analysts(role, make):
    user = make.ROLE_FACTORIES[role]()
    allowed = role in ALLOWED | {Role.ANALYST}
    if allowed:
        assert advice.month_figures(user=user, month=TODAY).calls == 0
    else:
        with pytest.raises(PermissionDenied):
            advice.month_figures(user=user, month=TODAY)


def test_an_analyst_never_reaches_a_call(make, the_line):
    analyst = make.analyst()
    consultation = call(the_line.worker)
    with pytest.raises(PermissionDenied):
        advice.consultation_for(user=analyst, pk=consultation.pk)


# --- Reads ----------------------------------------------------------------------------------


def test_the_list_is_mine_or_the_whole_line(the_line):
    mine = call(the_line.worker)
    theirs = call(the_line.colleague)
    assert list(advice.consultations(user=the_line.worker, mine=True)) == [mine]
    assert set(advice.consultations(user=the_line.worker, mine=False)) == {mine, theirs}


def test_opening_a_call_that_names_a_child_is_audited(the_line):
    plain = call(the_line.worker)
    named = call(the_line.worker, child_given_name="Amelia", child_family_name="Hart")
    advice.consultation_for(user=the_line.colleague, pk=plain.pk)
    assert not AuditEvent.objects.filter(action="contacts.consultation.viewed").exists()
    advice.consultation_for(user=the_line.colleague, pk=named.pk)
    event = AuditEvent.objects.get(action="contacts.consultation.viewed")
    assert (event.actor, event.object_id) == (the_line.colleague, str(named.pk))
    advice.consultation_for(user=the_line.colleague, pk=named.pk, viewing=False)
    assert AuditEvent.objects.filter(action="contacts.consultation.viewed").count() == 1
    with pytest.raises(Http404):
        advice.consultation_for(user=the_line.worker, pk=999_999)


def test_follow_ups_due_are_today_and_overdue_soonest_first(the_line):
    with time_machine.travel(NOW - dt.timedelta(days=3), tick=False):
        overdue = call(the_line.worker, follow_up_on=TODAY - dt.timedelta(days=1))
    today = call(the_line.colleague, follow_up_on=TODAY)
    later = call(the_line.worker, follow_up_on=TODAY + dt.timedelta(days=1))
    done = call(the_line.worker, follow_up_on=TODAY)
    advice.complete_follow_up(actor=the_line.worker, consultation=done, note="Done")
    call(the_line.worker)  # no follow-up
    assert list(advice.follow_ups(user=the_line.worker, due_by=TODAY)) == [overdue, today]
    assert list(advice.follow_ups(user=the_line.worker, due_by=TODAY, mine=True)) == [overdue]
    assert list(advice.follow_ups(user=the_line.worker)) == [overdue, today, later]


def test_due_dates_are_worded():
    assert advice.due_words(TODAY - dt.timedelta(days=2), TODAY) == (
        "OVERDUE",
        "Due Monday 9 June 2025, 2 days ago",
    )
    assert advice.due_words(TODAY - dt.timedelta(days=1), TODAY)[1].endswith("1 day ago")
    assert advice.due_words(TODAY, TODAY) == ("DUE TODAY", "Due today, Wednesday 11 June 2025")
    assert advice.due_words(TODAY + dt.timedelta(days=1), TODAY) == (
        "",
        "Due Thursday 12 June 2025, in 1 day",
    )


# --- Matching the child ---------------------------------------------------------------------


def test_matches_show_only_what_the_line_may_see(the_line):
    child = indexed_child()
    people_services.add_alias(actor=None, person=child, given_name="Millie", family_name="Smith")
    journey.submitted_contact(journey.small_hub())  # names an Amelia Hart born 4 May 2018
    found = advice.child_matches(
        user=the_line.worker,
        query=matching.Query(given_name="Millie", family_name="Smith"),
    )
    assert next(m.person for m in found) == child
    match = found[0]
    assert match.score > 0
    assert match.postcode == "RV1 2AB"
    assert match.known is False
    assert not any("Smith" in reason for reason in match.reasons)
    assert "A name they are also known by is like the one typed" in match.reasons
    event = AuditEvent.objects.filter(action="people.searched").latest("id")
    assert event.detail == {
        "fields": ["given_name", "family_name"],
        "results": len(found),
        "via": "advice_line",
    }
    assert "Millie" not in str(event.detail)


def test_a_child_named_on_a_contact_is_known_to_the_hub(the_line):
    journey.submitted_contact(journey.small_hub())
    found = advice.child_matches(
        user=the_line.worker,
        query=matching.Query(family_name="Hart", date_of_birth=dt.date(2018, 5, 4)),
    )
    assert found
    assert found[0].known is True
    assert found[0].reasons[:1] == ["Same date of birth"]


def test_the_chosen_record_is_always_among_the_matches(the_line):
    chosen = indexed_child(given="Zara", family="Quill", born=dt.date(2016, 1, 2), nhs_number="")
    found = advice.child_matches(
        user=the_line.worker, query=matching.Query(family_name="Hart"), linked=chosen
    )
    assert [m.chosen for m in found if m.person == chosen] == [True]


def test_a_month_runs_midnight_to_midnight_in_london():
    start, end = advice.month_bounds(dt.date(2025, 3, 15))
    assert start == dt.datetime(2025, 3, 1, tzinfo=clock.LONDON)
    assert end == dt.datetime(2025, 4, 1, tzinfo=clock.LONDON)
    assert end.utcoffset() == dt.timedelta(hours=1)  # British Summer Time by then
    assert advice.month_bounds(dt.date(2025, 12, 31))[1].date() == dt.date(2026, 1, 1)
