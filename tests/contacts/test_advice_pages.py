"""The advice line's pages through the Django test client: who reaches them, logging a call
with the child matched, the list, a call, follow-ups, and the worker's home page.

The line is shared: every advice-line worker reads every call and may do anyone's
follow-up; only a call's author (or a hub manager) may change it. Nobody on the line
reaches a case record through it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from mash.accounts.models import AgencyKind, Role
from mash.contacts.models import Consultation, ConsultationOutcome, Contact, ContactStatus
from mash.core.models import AuditEvent
from tests.contacts.test_advice_support import (
    NOW,
    TODAY,
    call,
    error_for,
    indexed_child,
    line,
    summary_links,
    text,
    valid_post,
)
from tests.enquiries import journey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def the_line() -> Any:
    return line()


@pytest.fixture
def worker(the_line, signed_in) -> Client:
    return signed_in(the_line.worker)


# --- Who reaches which page -----------------------------------------------------------------

LINE: set[str] = {Role.ADVICE_LINE_WORKER, Role.HUB_MANAGER}
FIGURES: set[str] = LINE | {Role.ANALYST}


def _pages(consultation: Consultation) -> list[tuple[str, set[str]]]:
    pk = consultation.pk
    return [
        ("/advice/", LINE),
        ("/advice/new/", LINE),
        ("/advice/follow-ups/", LINE),
        (f"/advice/{pk}/", LINE),
        (f"/advice/{pk}/follow-up/", LINE),
        ("/advice/figures/", FIGURES),
        ("/advice/figures/?format=csv", FIGURES),
    ]


@pytest.mark.parametrize("role", Role.values)
def test_every_role_but_the_lines_is_refused(role, make, signed_in, the_line):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    client = signed_in(make.ROLE_FACTORIES[role]())
    for url, allowed in _pages(consultation):
        status = client.get(url).status_code
        assert status == (200 if role in allowed else 403), (url, status)
    # The edit page: only the call's author or a hub manager.
    status = client.get(f"/advice/{consultation.pk}/edit/").status_code
    assert status == (200 if role == Role.HUB_MANAGER else 403)
    if role not in LINE:
        before = (Consultation.objects.count(), AuditEvent.objects.count())
        assert client.post("/advice/new/", valid_post()).status_code == 403
        assert client.post(f"/advice/{consultation.pk}/edit/", valid_post()).status_code == 403
        response = client.post(f"/advice/{consultation.pk}/follow-up/", {"note": "Done"})
        assert response.status_code == 403
        assert (Consultation.objects.count(), AuditEvent.objects.count()) == before


def test_a_visitor_is_sent_to_sign_in(the_line):
    consultation = call(the_line.worker)
    for url in ("/advice/", "/advice/new/", f"/advice/{consultation.pk}/", "/advice/figures/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


def test_the_read_only_pages_refuse_a_post(worker):
    for url in ("/advice/", "/advice/follow-ups/", "/advice/figures/"):
        assert worker.post(url).status_code == 405


def test_a_call_that_does_not_exist_is_not_found(worker):
    for url in ("/advice/999999/", "/advice/999999/edit/", "/advice/999999/follow-up/"):
        assert worker.get(url).status_code == 404


# --- Logging a call -------------------------------------------------------------------------


def test_a_worker_logs_a_call_and_sees_it(the_line, worker):
    page = worker.get("/advice/new/")
    assert page.status_code == 200
    assert "Log a call" in text(page)
    response = worker.post("/advice/new/", valid_post(follow_up_on=TODAY + dt.timedelta(days=2)))
    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/advice/{consultation.pk}/"
    assert consultation.created_by == the_line.worker
    assert consultation.follow_up_on == TODAY + dt.timedelta(days=2)
    shown = text(worker.get(response["Location"]))
    assert f"Call {consultation.reference} logged." in shown
    assert "Priya Shah" in shown
    assert "Kind of agency Education" in shown
    assert "Due Friday 13 June 2025, in 2 days" in shown
    assert "The caller did not name a child." in shown


def test_an_early_help_recommendation_asks_for_the_support_offered(worker):
    response = worker.post("/advice/new/", valid_post(outcome=ConsultationOutcome.EARLY_HELP))
    assert response.status_code == 200
    assert error_for(response, "id_early_help_support") == (
        "Enter the support offered to start an early help assessment"
    )
    assert "#id_early_help_support" in summary_links(response)
    assert response.content.decode().count("<title>Error: ") == 1
    response = worker.post(
        "/advice/new/",
        valid_post(outcome=ConsultationOutcome.EARLY_HELP, early_help_support="Sent the form"),
    )
    assert response.status_code == 302
    assert Consultation.objects.get().early_help_support == "Sent the form"


def test_missing_answers_are_shown_next_to_each_field(worker):
    response = worker.post(
        "/advice/new/",
        valid_post(caller_name="", caller_agency="", caller_agency_kind="", worry="", advice="")
        | {"outcome": ""},
    )
    assert response.status_code == 200
    assert not Consultation.objects.exists()
    assert error_for(response, "id_caller_name") == "Enter the caller's name"
    assert error_for(response, "id_caller_agency") == "Enter the agency the caller works for"
    assert error_for(response, "id_caller_agency_kind") == (
        "Select the kind of agency the caller works for"
    )
    assert error_for(response, "id_worry") == "Enter the caller's worry"
    assert error_for(response, "id_advice") == "Enter the advice given"
    assert error_for(response, "id_outcome") == "Select the outcome of the call"
    assert summary_links(response) == [
        "#id_caller_name",
        "#id_caller_agency",
        "#id_caller_agency_kind",
        "#id_worry",
        "#id_advice",
        "#id_outcome",
    ]


def test_wrong_oversized_and_hostile_input_is_refused_or_escaped(worker):
    response = worker.post(
        "/advice/new/",
        valid_post(
            caller_name="x" * 151,
            caller_agency_kind="spies",
            caller_phone="ring ring",
            caller_email="not-an-email",
            outcome="shrug",
            worry="w" * 20_001,
            follow_up_on=("31", "2", "2025"),
            child_date_of_birth=("a", "b", "c"),
        ),
    )
    assert response.status_code == 200
    assert not Consultation.objects.exists()
    assert error_for(response, "id_caller_name") == "Caller's name must be 150 characters or fewer"
    assert error_for(response, "id_caller_agency_kind") == (
        "Select the kind of agency the caller works for"
    )
    assert "phone number" in error_for(response, "id_caller_phone")
    assert "email address" in error_for(response, "id_caller_email")
    assert error_for(response, "id_outcome") == "Select the outcome of the call"
    assert error_for(response, "id_worry") == "The worry must be 20,000 characters or fewer"
    assert error_for(response, "id_follow_up_on") == "Follow-up date must be a real date"
    assert error_for(response, "id_child_date_of_birth") == (
        "Date of birth must be a real date, written in numbers"
    )

    hostile = '<script>alert("x")</script>'
    response = worker.post(
        "/advice/new/", valid_post(caller_name=hostile, worry=f"Worry\x00 {hostile}")
    )
    consultation = Consultation.objects.get()
    assert consultation.worry == f"Worry {hostile}"
    page = worker.get(response["Location"]).content.decode()
    assert hostile not in page
    assert "&lt;script&gt;" in page


def test_a_follow_up_in_the_past_or_too_far_ahead_is_refused_by_the_page(worker):
    for day, message in (
        (TODAY - dt.timedelta(days=1), "Follow-up date must be today or in the future"),
        (TODAY + dt.timedelta(days=366), "Follow-up date must be within a year from today"),
    ):
        response = worker.post("/advice/new/", valid_post(follow_up_on=day))
        assert response.status_code == 200
        assert error_for(response, "id_follow_up_on") == message
        assert "#id_follow_up_on-day" in summary_links(response)
    assert not Consultation.objects.exists()


def test_a_hostile_link_value_is_refused(worker):
    for value in ("1 OR 1=1", "99999999999999999999999", "-1"):
        response = worker.post("/advice/new/", valid_post(child_family_name="Hart", link_to=value))
        assert response.status_code == 200, value
        assert error_for(response, "id_link_to") == (
            "The record chosen is no longer in the person index: find matches again"
        )
    assert not Consultation.objects.exists()


# --- Matching the child ---------------------------------------------------------------------


def _find(client: Client, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "child_given_name": "Amelia",
        "child_family_name": "Hart",
        "child_date_of_birth": dt.date(2018, 5, 4),
        "action": "match",
    }
    fields.update(overrides)
    return client.post("/advice/new/", valid_post(**fields))


def test_find_matches_shows_name_birth_postcode_and_whether_known(worker):
    child = indexed_child()
    response = _find(worker)
    assert response.status_code == 200
    assert not Consultation.objects.exists()
    shown = text(response)
    assert "Possible matches for the child in the person index" in shown
    assert "This is Amelia Hart" in shown
    assert "Born 4 May 2018" in shown
    assert "Postcode RV1 2AB" in shown
    assert "No contacts recorded" in shown
    assert "Score" in shown
    assert "Same date of birth" in shown
    assert "Not in the person index" in shown
    # Never the record behind the match.
    assert "943 476 5919" not in shown
    assert "9434765919" not in shown
    assert f"/people/{child.pk}/" not in response.content.decode()
    assert "open enquir" not in shown.lower()
    # No errors while matching.
    assert "There is a problem" not in shown
    assert 'id="child-matches"' in response.content.decode()


def test_a_child_known_to_the_hub_says_so(worker):
    journey.submitted_contact(journey.small_hub())  # names Amelia Hart, born 4 May 2018
    shown = text(_find(worker))
    assert "Known to the hub: speak to the MASH team" in shown


def test_a_hub_manager_may_open_the_record_from_a_match(the_line, signed_in):
    child = indexed_child()
    response = _find(signed_in(the_line.manager))
    assert f"/people/{child.pk}/" in response.content.decode()


def test_matches_as_they_type_leave_the_focus_alone(worker):
    indexed_child()
    typed = worker.post(
        "/advice/new/",
        valid_post(child_family_name="Hart", action="match"),
        headers={"HX-Request": "true", "HX-Trigger": "child-box"},
    )
    asked = worker.post("/advice/new/", valid_post(child_family_name="Hart", action="match"))
    assert 'id="child-matches" class="govuk-!-margin-bottom-4" tabindex="-1">' in (
        typed.content.decode()
    )
    assert 'tabindex="-1" autofocus>' in asked.content.decode()


def test_no_matches_and_nothing_to_match_on_are_said_plainly(worker):
    shown = text(_find(worker, child_family_name="Nobody-Here", child_date_of_birth=None))
    assert "No likely matches in the person index" in shown
    shown = text(_find(worker, child_family_name="", child_date_of_birth=None))
    assert "Enter the child's family name or date of birth to find matches" in shown


def test_a_child_with_matches_must_be_chosen_or_said_not_in_the_index(the_line, worker):
    child = indexed_child()
    post = valid_post(
        child_given_name="Amelia", child_family_name="Hart", child_date_of_birth=dt.date(2018, 5, 4)
    )
    response = worker.post("/advice/new/", post)
    assert response.status_code == 200
    assert not Consultation.objects.exists()
    assert error_for(response, "id_link_to") == (
        "Check the possible matches for the child: choose their record, or 'Not in the person "
        "index'"
    )
    assert "#child-matches" in summary_links(response)
    assert "This is Amelia Hart" in text(response)

    response = worker.post("/advice/new/", {**post, "link_to": "none"})
    assert response.status_code == 302
    assert Consultation.objects.get().person is None

    response = worker.post("/advice/new/", {**post, "link_to": str(child.pk)})
    assert response.status_code == 302
    linked = Consultation.objects.latest("id")
    assert linked.person == child
    shown = text(worker.get(response["Location"]))
    assert "In the person index Amelia Hart, born 4 May 2018, postcode RV1 2AB" in shown
    assert "No contacts recorded" in shown
    assert "943 476 5919" not in shown


def test_a_child_not_in_the_index_needs_no_choice(worker):
    response = worker.post(
        "/advice/new/", valid_post(child_given_name="Zed", child_family_name="Nobody-Here")
    )
    assert response.status_code == 302
    assert Consultation.objects.get().child_family_name == "Nobody-Here"


# --- Progressing to a contact ---------------------------------------------------------------


def test_progressing_lands_on_the_prefilled_contact_form(the_line, worker):
    child = indexed_child()
    response = worker.post(
        "/advice/new/",
        valid_post(
            outcome=ConsultationOutcome.CONTACT,
            caller_agency_kind=AgencyKind.HEALTH_GP,
            child_given_name="Amelia",
            child_family_name="Hart",
            child_date_of_birth=dt.date(2018, 5, 4),
            link_to=str(child.pk),
        ),
    )
    consultation = Consultation.objects.get()
    contact = Contact.objects.get()
    assert consultation.contact == contact
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.pk}/edit/"
    form = worker.get(response["Location"])
    assert form.status_code == 200
    body = form.content.decode()
    assert 'value="Priya Shah"' in body
    assert 'value="Riverside Primary"' in body
    assert re.search(r'<option value="3A"\s+selected', body)
    assert "Amelia has come to school hungry" in body
    assert f"Contact {contact.reference} has been filled in from the call" in text(form)
    # The call says where its contact is.
    detail = worker.get(f"/advice/{consultation.pk}/").content.decode()
    assert f'href="/contacts/{contact.pk}/edit/"' in detail


def test_a_colleague_sees_the_contact_reference_but_cannot_open_anothers_draft(the_line, signed_in):
    consultation = call(the_line.worker, outcome=ConsultationOutcome.CONTACT)
    contact = consultation.contact
    assert contact is not None
    colleague = signed_in(the_line.colleague)
    detail = colleague.get(f"/advice/{consultation.pk}/")
    assert contact.reference in text(detail)
    assert f"/contacts/{contact.pk}/" not in detail.content.decode()
    assert colleague.get(f"/contacts/{contact.pk}/edit/").status_code == 404


# --- The list -------------------------------------------------------------------------------


def test_a_worker_sees_their_own_calls_and_may_see_the_whole_line(the_line, worker):
    mine = call(the_line.worker)
    theirs = call(the_line.colleague, caller_name="Olu Adeyemi")
    own = text(worker.get("/advice/"))
    assert mine.reference in own
    assert theirs.reference not in own
    everyone = text(worker.get("/advice/?whose=all"))
    assert mine.reference in everyone
    assert theirs.reference in everyone
    assert "Ben Colleague" in everyone
    # A shared line: a worker opens a colleague's call.
    assert worker.get(f"/advice/{theirs.pk}/").status_code == 200


def test_a_hub_manager_sees_the_whole_line_first(the_line, signed_in):
    call(the_line.worker)
    call(the_line.colleague)
    shown = text(signed_in(the_line.manager).get("/advice/"))
    assert "All calls on the line" in shown
    assert shown.count("AL-") == 2


def test_the_list_is_paginated_in_a_fixed_number_of_queries(
    the_line, worker, django_assert_max_num_queries
):
    for _ in range(3):
        call(the_line.worker, outcome=ConsultationOutcome.CONTACT, follow_up_on=TODAY)
    with django_assert_max_num_queries(16) as few:
        worker.get("/advice/?whose=all")
    for _ in range(30):
        call(the_line.colleague, outcome=ConsultationOutcome.CONTACT, follow_up_on=TODAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = worker.get("/advice/?whose=all")
    assert text(response).count("AL-") == 25
    assert "page=2" in response.content.decode()
    assert worker.get("/advice/?whose=all&page=2").status_code == 200
    assert worker.get("/advice/?whose=all&page=x'--").status_code == 200
    assert worker.get("/advice/?whose=<script>").status_code == 200


# --- A call ---------------------------------------------------------------------------------


def test_opening_a_call_that_names_a_child_is_audited(the_line, worker):
    named = call(the_line.colleague, child_given_name="Amelia", child_family_name="Hart")
    worker.get(f"/advice/{named.pk}/")
    event = AuditEvent.objects.get(action="contacts.consultation.viewed")
    assert (event.actor, event.object_id) == (the_line.worker, str(named.pk))


def test_changing_a_call(the_line, worker, signed_in):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    page = worker.get(f"/advice/{consultation.pk}/edit/")
    assert page.status_code == 200
    assert 'value="Priya Shah"' in page.content.decode()
    response = worker.post(
        f"/advice/{consultation.pk}/edit/",
        valid_post(advice="Better advice", follow_up_on=TODAY, version="1"),
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert (consultation.advice, consultation.version) == ("Better advice", 2)
    assert f"Call {consultation.reference} changed." in text(worker.get(response["Location"]))
    # A colleague may read it, not change it; the detail page offers them no change.
    colleague = signed_in(the_line.colleague)
    assert "Change this call" not in text(colleague.get(f"/advice/{consultation.pk}/"))
    assert colleague.get(f"/advice/{consultation.pk}/edit/").status_code == 403


def test_a_change_over_someone_elses_is_stopped_and_kept(the_line, worker, signed_in):
    consultation = call(the_line.worker)
    manager = signed_in(the_line.manager)
    manager.post(
        f"/advice/{consultation.pk}/edit/", valid_post(advice="Manager's note", version="1")
    )
    response = worker.post(
        f"/advice/{consultation.pk}/edit/", valid_post(advice="Mine", version="1")
    )
    assert response.status_code == 200
    assert "Someone else changed this call while you were working on it." in text(response)
    assert 'name="version" value="2"' in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.advice == "Manager's note"
    # Saving again, knowingly, replaces theirs.
    response = worker.post(
        f"/advice/{consultation.pk}/edit/", valid_post(advice="Mine", version="2")
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.advice == "Mine"


def test_a_progressed_call_shows_its_outcome_fixed(the_line, worker):
    consultation = call(the_line.worker, outcome=ConsultationOutcome.CONTACT)
    page = text(worker.get(f"/advice/{consultation.pk}/edit/"))
    assert "This cannot be changed" in page
    response = worker.post(
        f"/advice/{consultation.pk}/edit/",
        valid_post(outcome=ConsultationOutcome.ADVICE_ONLY, version="1"),
    )
    assert error_for(response, "id_outcome") == (
        "This call has been progressed to a contact: its outcome cannot be changed"
    )


# --- Follow-ups -----------------------------------------------------------------------------


def test_marking_a_follow_up_done(the_line, worker):
    consultation = call(the_line.colleague, follow_up_on=TODAY)
    page = worker.get(f"/advice/{consultation.pk}/follow-up/")
    assert "Mark the follow-up as done" in text(page)
    response = worker.post(f"/advice/{consultation.pk}/follow-up/", {"note": "", "version": "1"})
    assert response.status_code == 200
    assert error_for(response, "id_note") == "Enter what was done to follow up the call"
    response = worker.post(
        f"/advice/{consultation.pk}/follow-up/", {"note": "x" * 20_001, "version": "1"}
    )
    assert error_for(response, "id_note") == "Note must be 20,000 characters or fewer"
    response = worker.post(
        f"/advice/{consultation.pk}/follow-up/",
        {"note": "Rang back: all sorted.", "version": "1", "from": "home"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    consultation.refresh_from_db()
    assert consultation.follow_up_done_at == NOW
    detail = text(worker.get(f"/advice/{consultation.pk}/"))
    assert "Rang back: all sorted." in detail
    assert "by Asha Worker" in detail
    # Done once: the page says so rather than offering it again.
    again = worker.get(f"/advice/{consultation.pk}/follow-up/")
    assert again.status_code == 302
    assert "already done" in text(worker.get(again["Location"]))


def test_marking_done_goes_back_only_to_known_pages(the_line, worker):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    response = worker.post(
        f"/advice/{consultation.pk}/follow-up/",
        {"note": "Done", "from": "https://evil.example/"},
    )
    assert response["Location"] == f"/advice/{consultation.pk}/"


def test_a_follow_up_done_by_someone_else_meanwhile(the_line, worker):
    consultation = call(the_line.worker, follow_up_on=TODAY)
    from mash.contacts import advice

    advice.complete_follow_up(actor=the_line.colleague, consultation=consultation, note="Done")
    response = worker.post(
        f"/advice/{consultation.pk}/follow-up/", {"note": "Me too", "version": "1"}
    )
    assert response.status_code == 302
    assert "already done" in text(worker.get(response["Location"]))


def test_the_follow_ups_list_words_what_is_due(the_line, worker, django_assert_max_num_queries):
    with time_machine.travel(NOW - dt.timedelta(days=5), tick=False):
        overdue = call(the_line.colleague, follow_up_on=TODAY - dt.timedelta(days=2))
    call(the_line.worker, follow_up_on=TODAY)
    call(the_line.worker, follow_up_on=TODAY + dt.timedelta(days=3))
    with django_assert_max_num_queries(16) as few:
        shown = text(worker.get("/advice/follow-ups/"))
    assert "3 due today or overdue" not in shown
    assert "2 due today or overdue" in shown
    assert "OVERDUE Due Monday 9 June 2025, 2 days ago" in shown
    assert "DUE TODAY Due today, Wednesday 11 June 2025" in shown
    assert "Due Saturday 14 June 2025, in 3 days" in shown
    assert shown.index(overdue.reference) < shown.index("DUE TODAY")
    for _ in range(30):
        call(the_line.worker, follow_up_on=TODAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        worker.get("/advice/follow-ups/")


# --- The worker's home page -----------------------------------------------------------------


def test_the_home_page_shows_the_workers_follow_ups_due(
    the_line, worker, django_assert_max_num_queries
):
    with time_machine.travel(NOW - dt.timedelta(days=3), tick=False):
        overdue = call(the_line.worker, follow_up_on=TODAY - dt.timedelta(days=1))
    due = call(the_line.worker, follow_up_on=TODAY, caller_name="Olu Adeyemi")
    later = call(the_line.worker, follow_up_on=TODAY + dt.timedelta(days=1))
    colleagues = call(the_line.colleague, follow_up_on=TODAY)
    with django_assert_max_num_queries(30) as few:
        home = worker.get("/")
    shown = text(home)
    assert 'data-role-panel="advice_line_worker"' in home.content.decode()
    assert "Search people" in shown  # the panel keeps what it had
    assert "Your follow-ups due" in shown
    assert "OVERDUE Due Tuesday 10 June 2025, 1 day ago" in shown
    assert "DUE TODAY Due today, Wednesday 11 June 2025" in shown
    assert overdue.reference in shown
    assert due.reference in shown
    assert later.reference not in shown
    assert colleagues.reference not in shown
    # The whole line's count: the colleague's too.
    assert re.search(r"Follow-ups due on the line 3 ", shown)
    assert f"/advice/{due.pk}/follow-up/?from=home" in home.content.decode()
    for _ in range(20):
        call(the_line.worker, follow_up_on=TODAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        shown = text(worker.get("/"))
    assert "See all follow-ups" in shown


def test_a_worker_with_nothing_due_is_told_so(worker):
    assert "None of your follow-ups is due today or overdue." in text(worker.get("/"))


def test_navigation_has_the_advice_line(worker, the_line, signed_in):
    assert 'href="/advice/"' in worker.get("/").content.decode()
    assert 'href="/advice/"' in signed_in(the_line.manager).get("/").content.decode()


def test_a_draft_left_unfinished_is_still_reached_from_the_call(the_line, worker):
    consultation = call(the_line.worker, outcome=ConsultationOutcome.CONTACT)
    contact = consultation.contact
    assert contact is not None
    assert contact.status == ContactStatus.DRAFT
    shown = text(worker.get(f"/advice/{consultation.pk}/"))
    assert f"{contact.reference} : draft, not yet submitted" in shown
