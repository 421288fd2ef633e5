"""The deadline engine with time frozen: reminders at 75%, escalation at the deadline.

Every enquiry here is built through the services (tests/enquiries/journey.py),
the sweep is the real one, and queued tasks (emails, scheduled sweeps) are run
by django-tasks' own database worker, as `mash worker` runs them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db.models.signals import post_save
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from mash.accounts import services as account_services
from mash.accounts.models import Agency, User
from mash.core import clock
from mash.core.models import AuditEvent, Hub, Notification
from mash.enquiries import board, deadlines, services
from mash.enquiries.models import (
    AgencyRequest,
    AlertKind,
    Enquiry,
    EnquiryStatus,
    Outcome,
    RequestAlert,
    RequestStatus,
)
from tests import factories
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

UTC = dt.UTC
LONDON = clock.LONDON
# A Friday in November (GMT, so London time is UTC): red is 4 clock hours.
RATED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
REMINDER = RATED + dt.timedelta(hours=3)
DEADLINE = RATED + dt.timedelta(hours=4)
SEND_EMAIL = "mash.enquiries.deadlines.send_email"
SWEEP_NOW = "mash.enquiries.deadlines.sweep_now"
POLICE_INBOX = "mash-checks@police.example"
HEALTH_INBOX = "safeguarding@health.example"
INBOXES = sorted([POLICE_INBOX, HEALTH_INBOX])
# Django's database worker checks its connection between tasks (close_old_connections),
# which would close the connection a plain test holds open inside its transaction: the
# tests that run the worker commit for real instead.
runs_the_worker = pytest.mark.django_db(transaction=True)


@dataclass
class World:
    """A small hub with shared inboxes, a police lead, and people who must hear nothing."""

    hub: journey.Hub
    police_lead: User
    police_second: User
    police_inactive: User
    other_manager: User
    inactive_manager: User

    @property
    def police_team(self) -> set[int]:
        return {self.hub.practitioners["police"].pk, self.police_lead.pk, self.police_second.pk}

    @property
    def managers(self) -> set[int]:
        return {self.hub.manager.pk, self.other_manager.pk}


def build_world() -> World:
    hub = journey.small_hub()
    hub.police = account_services.update_agency(
        actor=None, agency=hub.police, shared_inbox=POLICE_INBOX
    )
    hub.health = account_services.update_agency(
        actor=None, agency=hub.health, shared_inbox=HEALTH_INBOX
    )
    lead = factories.practitioner(agency_=hub.police)
    User.objects.filter(pk=lead.pk).update(is_agency_lead=True)
    inactive = factories.practitioner(agency_=hub.police)
    account_services.set_user_active(actor=None, user=inactive, active=False)
    inactive_manager = factories.hub_manager(agency_=hub.social_care)
    account_services.set_user_active(actor=None, user=inactive_manager, active=False)
    return World(
        hub=hub,
        police_lead=User.objects.get(pk=lead.pk),
        police_second=factories.practitioner(agency_=hub.police),
        police_inactive=inactive,
        other_manager=factories.hub_manager(agency_=hub.social_care),
        inactive_manager=inactive_manager,
    )


@pytest.fixture
def world(time_machine: Any) -> World:
    time_machine.move_to(RATED - dt.timedelta(hours=2), tick=False)
    return build_world()


def go(time_machine: Any, moment: dt.datetime) -> None:
    time_machine.move_to(moment, tick=False)


def rate(world: World, time_machine: Any, rag: str = "red", at: dt.datetime = RATED) -> Enquiry:
    go(time_machine, at - dt.timedelta(hours=1))
    enquiry = journey.consented_enquiry(world.hub)
    go(time_machine, at)
    services.rate_enquiry(
        actor=world.hub.manager,
        enquiry=enquiry,
        rag=rag,
        rationale="Injury to a young child.",
        summary_for_agencies="Bruising to arm; mother and partner at home.",
    )
    return Enquiry.objects.get(pk=enquiry.pk)


def notified(kind: str | None = None) -> dict[int, list[str]]:
    """Who holds which notifications (by user id), optionally of one kind."""
    found: dict[int, list[str]] = {}
    rows = Notification.objects.order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    for user_id, message in rows.values_list("user_id", "message"):
        found.setdefault(user_id, []).append(message)
    return found


def run_tasks() -> None:
    """What `mash worker` does with the queue: run every task that is due, then stop."""
    call_command(
        "db_worker", queue_name="*", batch=True, reload=False, startup_delay=False, verbosity=0
    )


def emails_queued() -> list[dict[str, Any]]:
    return [
        row["kwargs"]
        for row in DBTaskResult.objects.filter(task_path=SEND_EMAIL)
        .order_by("enqueued_at")
        .values_list("args_kwargs", flat=True)
    ]


def answer(world: World, enquiry: Enquiry, key: str) -> AgencyRequest:
    agency: Agency = getattr(world.hub, key)
    return services.answer_request(
        actor=world.hub.practitioners[key],
        request=journey.request_for(enquiry, agency),
        nothing_held=True,
    )


def set_clock(rag: str, amount: int, unit: str) -> None:
    hub = Hub.load()
    setattr(hub, f"{rag}_amount", amount)
    setattr(hub, f"{rag}_unit", unit)
    hub.save()


# When the reminder is due: 75% of the time, counted the way the clock counts.


def test_red_four_clock_hours_reminds_three_hours_after_rating(world, time_machine):
    enquiry = rate(world, time_machine, "red")
    for request in enquiry.requests.all():
        assert request.clock_started_at == RATED
        assert request.deadline_at == DEADLINE
        assert request.reminder_at == REMINDER


def test_amber_one_working_day_set_friday_1630_reminds_monday_1430(world, time_machine):
    # 75% of 8 working hours is 6 h: 30 minutes on Friday, then 5 h 30 from 09:00 Monday.
    set_clock("amber", 1, clock.DurationUnit.WORKING_DAYS)
    friday = dt.datetime(2026, 11, 20, 16, 30, tzinfo=LONDON)
    enquiry = rate(world, time_machine, "amber", at=friday)
    request = journey.request_for(enquiry, world.hub.police)
    assert request.deadline_at == dt.datetime(2026, 11, 23, 16, 30, tzinfo=LONDON)
    assert request.reminder_at == dt.datetime(2026, 11, 23, 14, 30, tzinfo=LONDON)


def test_working_hours_reminder_skips_the_bank_holiday(world, time_machine):
    # Thursday 24 December 15:00, 8 working hours: 2 h on Thursday, then Tuesday 29th
    # (Christmas Day, Boxing Day's substitute and the weekend are not working days).
    set_clock("amber", 8, clock.DurationUnit.WORKING_HOURS)
    enquiry = rate(world, time_machine, "amber", at=dt.datetime(2026, 12, 24, 15, 0, tzinfo=UTC))
    request = journey.request_for(enquiry, world.hub.police)
    assert request.reminder_at == dt.datetime(2026, 12, 29, 13, 0, tzinfo=UTC)
    assert request.deadline_at == dt.datetime(2026, 12, 29, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rated", "reminder_local"),
    [
        # Clocks go back at 02:00 BST on 25 October 2026: 00:00 BST + 3 elapsed hours is
        # 02:00 GMT, although the wall clock has moved only two hours.
        (dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC), "2026-10-25 02:00 GMT"),
        # Clocks go forward at 01:00 GMT on 29 March 2026: 00:00 GMT + 3 h is 04:00 BST.
        (dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC), "2026-03-29 04:00 BST"),
    ],
    ids=["october", "march"],
)
def test_clock_hours_reminder_counts_real_hours_across_the_clock_change(
    world, time_machine, rated, reminder_local
):
    enquiry = rate(world, time_machine, "red", at=rated)
    request = journey.request_for(enquiry, world.hub.police)
    reminder = request.reminder_at
    assert reminder is not None
    assert reminder - rated == dt.timedelta(hours=3)
    assert request.deadline_at - rated == dt.timedelta(hours=4)
    assert reminder.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") == reminder_local
    go(time_machine, reminder - dt.timedelta(seconds=1))
    assert deadlines.sweep().reminders == 0
    go(time_machine, reminder)
    assert deadlines.sweep().reminders == 4


# The sweep: reminders to the agency, escalation to its lead and the managers.


def test_at_74_percent_nothing_is_raised(world, time_machine):
    rate(world, time_machine)
    go(time_machine, RATED + dt.timedelta(hours=4) * 0.74)
    result = deadlines.sweep()
    assert (result.reminders, result.overdue) == (0, 0)
    assert not RequestAlert.objects.exists()
    assert not Notification.objects.exists()
    assert emails_queued() == []


def test_at_75_percent_each_pending_request_reminds_its_own_agencys_active_practitioners(
    world, time_machine
):
    enquiry = rate(world, time_machine)
    answer(world, enquiry, "education")  # answered: no reminder for it
    go(time_machine, REMINDER)
    result = deadlines.sweep()
    assert (result.reminders, result.overdue) == (3, 0)
    reminders = notified("reminder")
    hub = world.hub
    assert set(reminders) == world.police_team | {
        hub.practitioners["health"].pk,
        hub.practitioners["social_care"].pk,
    }
    assert world.police_inactive.pk not in reminders
    assert hub.practitioners["education"].pk not in reminders
    assert not world.managers & set(reminders)
    police_message = reminders[hub.practitioners["police"].pk]
    assert police_message == [
        f"Reminder: {enquiry.reference} (Red) needs Police's answer by 14:00 on 20 November."
    ]
    # Each practitioner's notification links to their own agency's request.
    link = Notification.objects.get(user=hub.practitioners["police"]).link
    assert link == reverse("enquiries:request", args=[journey.request_for(enquiry, hub.police).pk])
    assert set(
        RequestAlert.objects.values_list("request__agency__name", "kind", "clock_started_at")
    ) == {
        (name, AlertKind.REMINDER, RATED)
        for name in ("Police", "Health Visiting", "Children's Social Care")
    }


@runs_the_worker
def test_the_reminder_emails_each_agencys_shared_inbox_exactly_once(world, time_machine):
    enquiry = rate(world, time_machine)
    go(time_machine, REMINDER)
    deadlines.sweep()
    assert mail.outbox == []  # queued in the sweep's transaction, sent by the worker
    assert sorted(e["to"] for e in emails_queued()) == INBOXES
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == INBOXES
    police = next(m for m in mail.outbox if m.to == [POLICE_INBOX])
    request = journey.request_for(enquiry, world.hub.police)
    assert police.subject == (
        f"Reminder: MASH enquiry {enquiry.reference} needs your answer by 14:00 on 20 November"
    )
    assert f"{settings.MASH_BASE_URL}{reverse('enquiries:request', args=[request.pk])}\n" in (
        police.body
    )
    # Nothing about the child is put in an email.
    assert "Amelia" not in police.body
    assert "Hart" not in police.body
    deadlines.sweep()
    run_tasks()
    assert len(mail.outbox) == 2
    assert DBTaskResult.objects.filter(task_path=SEND_EMAIL, status="SUCCESSFUL").count() == 2


@runs_the_worker
def test_no_email_when_the_agency_has_no_shared_inbox(world, time_machine):
    for agency in Agency.objects.all():
        account_services.update_agency(actor=None, agency=agency, shared_inbox="")
    rate(world, time_machine)
    go(time_machine, REMINDER)
    assert deadlines.sweep().reminders == 4
    run_tasks()
    assert emails_queued() == []
    assert mail.outbox == []
    assert world.hub.practitioners["police"].pk in notified("reminder")


@runs_the_worker
def test_at_the_deadline_the_agency_lead_and_every_active_hub_manager_are_told(world, time_machine):
    enquiry = rate(world, time_machine)
    for key in ("health", "education", "social_care"):
        answer(world, enquiry, key)
    go(time_machine, DEADLINE - dt.timedelta(seconds=1))
    early = deadlines.sweep()
    assert (early.reminders, early.overdue) == (1, 0)
    go(time_machine, DEADLINE)
    result = deadlines.sweep()
    assert (result.reminders, result.overdue) == (0, 1)
    overdue = notified("overdue")
    assert set(overdue) == {world.police_lead.pk, *world.managers}
    assert overdue[world.hub.manager.pk] == [
        f"OVERDUE: Police has not answered {enquiry.reference} (Red); it was due at "
        "14:00 on 20 November."
    ]
    assert Notification.objects.get(user=world.hub.manager, kind="overdue").link == reverse(
        "enquiries:detail", args=[enquiry.pk]
    )
    police = journey.request_for(enquiry, world.hub.police)
    assert Notification.objects.get(user=world.police_lead, kind="overdue").link == reverse(
        "enquiries:request", args=[police.pk]
    )
    run_tasks()
    # Escalation is in the app; the police inbox had its reminder only.
    assert [(m.to, m.subject.split(":")[0]) for m in mail.outbox] == [([POLICE_INBOX], "Reminder")]


def test_the_board_marks_an_overdue_request_overdue(world, time_machine):
    enquiry = rate(world, time_machine)
    answer(world, enquiry, "health")
    go(time_machine, DEADLINE)
    deadlines.sweep()
    data = board.as_data(board.build())
    row = next(r for r in data["rows"] if r["id"] == enquiry.pk)
    assert row["overdue"] is True
    names = [name for _, _, name in data["agencies"]]
    assert row["cells"][names.index("Police")] == "overdue"
    assert row["cells"][names.index("Health Visiting")] == "nothing_held"
    assert data["counts"]["overdue"] == 1
    built = board.build().rows[0]
    assert built.cells[names.index("Police")] == ("overdue", "!", "OVERDUE")


# Idempotent: a second sweep, or a restarted worker, sends nothing again.


def test_sweeping_twice_raises_nothing_new(world, time_machine):
    rate(world, time_machine)
    go(time_machine, REMINDER)
    assert deadlines.sweep().reminders == 4
    before = (Notification.objects.count(), len(emails_queued()), AuditEvent.objects.count())
    again = deadlines.sweep()
    assert (again.reminders, again.overdue) == (0, 0)
    assert (Notification.objects.count(), len(emails_queued()), AuditEvent.objects.count()) == (
        before
    )
    go(time_machine, DEADLINE)
    assert deadlines.sweep().overdue == 4
    assert deadlines.sweep().overdue == 0
    assert RequestAlert.objects.count() == 8


@runs_the_worker
def test_a_restarted_worker_sends_nothing_already_sent(world, time_machine):
    rate(world, time_machine)
    go(time_machine, REMINDER)
    first = io.StringIO()
    call_command("worker", once=True, stdout=first)
    assert first.getvalue().strip() == "reminders=4 overdue=0"
    sent = len(mail.outbox)
    assert sent == 2
    notifications = Notification.objects.count()
    go(time_machine, REMINDER + dt.timedelta(minutes=5))
    again = io.StringIO()
    call_command("worker", once=True, stdout=again)  # a fresh run: nothing in memory
    assert again.getvalue().strip() == "reminders=0 overdue=0"
    assert len(mail.outbox) == sent
    assert Notification.objects.count() == notifications


@runs_the_worker
def test_a_worker_that_was_down_escalates_without_a_late_reminder(world, time_machine):
    # Down from before the reminder until after the deadline: the agency is told it is
    # overdue, not reminded that an answer is due at a time already past.
    rate(world, time_machine)
    go(time_machine, DEADLINE + dt.timedelta(hours=1))
    out = io.StringIO()
    call_command("worker", once=True, stdout=out)
    assert out.getvalue().strip() == "reminders=0 overdue=4"
    assert notified("reminder") == {}
    assert mail.outbox == []


# What cancels: answering, re-rating (a new clock), not required, closing.


@runs_the_worker
def test_answering_before_75_percent_means_no_reminder_ever(world, time_machine):
    enquiry = rate(world, time_machine)
    go(time_machine, REMINDER - dt.timedelta(minutes=1))
    answer(world, enquiry, "police")
    for moment in (REMINDER, DEADLINE, DEADLINE + dt.timedelta(days=2)):
        go(time_machine, moment)
        deadlines.sweep()
    run_tasks()
    police = journey.request_for(enquiry, world.hub.police)
    assert not RequestAlert.objects.filter(request=police).exists()
    assert not world.police_team & set(notified())
    assert POLICE_INBOX not in [m.to[0] for m in mail.outbox]
    assert HEALTH_INBOX in [m.to[0] for m in mail.outbox]  # health did not answer


def test_answering_after_the_reminder_means_no_overdue(world, time_machine):
    enquiry = rate(world, time_machine)
    go(time_machine, REMINDER)
    deadlines.sweep()
    go(time_machine, DEADLINE - dt.timedelta(minutes=1))
    answer(world, enquiry, "police")
    go(time_machine, DEADLINE)
    assert deadlines.sweep().overdue == 3
    police = journey.request_for(enquiry, world.hub.police)
    assert list(RequestAlert.objects.filter(request=police).values_list("kind", flat=True)) == [
        AlertKind.REMINDER
    ]
    assert world.police_lead.pk not in notified("overdue")


def test_re_rating_before_the_reminder_means_the_old_clock_never_fires(world, time_machine):
    set_clock("green", 48, clock.DurationUnit.CLOCK_HOURS)
    enquiry = rate(world, time_machine, "red")
    rerated = RATED + dt.timedelta(hours=2)
    go(time_machine, rerated)
    services.rate_enquiry(
        actor=world.hub.manager, enquiry=enquiry, rag="green", rationale="Mother is protective."
    )
    for moment in (REMINDER, DEADLINE, DEADLINE + dt.timedelta(hours=30)):
        go(time_machine, moment)
        result = deadlines.sweep()
        assert (result.reminders, result.overdue) == (0, 0)
    assert not Notification.objects.exists()
    # The new clock: 48 hours from the re-rating, reminded at 36 hours.
    go(time_machine, rerated + dt.timedelta(hours=36))
    assert deadlines.sweep().reminders == 4
    go(time_machine, rerated + dt.timedelta(hours=48))
    assert deadlines.sweep().overdue == 4
    assert set(RequestAlert.objects.values_list("clock_started_at", flat=True)) == {rerated}


@runs_the_worker
def test_re_rating_after_a_reminder_reminds_again_because_the_new_clock_names_a_new_deadline(
    world, time_machine
):
    # The first reminder told the agency "answer by 14:00"; after re-rating to amber the
    # deadline is tomorrow, so at 75% of the new clock the agency is reminded of the new
    # time. Nothing of the old clock (its 14:00 escalation) is ever raised.
    enquiry = rate(world, time_machine, "red")
    go(time_machine, REMINDER)
    assert deadlines.sweep().reminders == 4
    rerated = REMINDER + dt.timedelta(minutes=30)
    go(time_machine, rerated)
    services.rate_enquiry(
        actor=world.hub.manager, enquiry=enquiry, rag="amber", rationale="Seen by a GP: minor."
    )
    police = journey.request_for(enquiry, world.hub.police)
    assert police.reminder_at == rerated + dt.timedelta(hours=18)  # amber: 24 clock hours
    go(time_machine, DEADLINE)
    assert (deadlines.sweep().overdue, notified("overdue")) == (0, {})
    go(time_machine, police.reminder_at - dt.timedelta(seconds=1))
    assert deadlines.sweep().reminders == 0
    go(time_machine, police.reminder_at)
    assert deadlines.sweep().reminders == 4
    messages = notified("reminder")[world.hub.practitioners["police"].pk]
    assert len(messages) == 2
    assert messages[1].endswith("by 13:30 on 21 November.")
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(INBOXES * 2)
    go(time_machine, police.deadline_at)
    assert deadlines.sweep().overdue == 4
    assert RequestAlert.objects.filter(request=police).count() == 3


def test_a_request_not_required_raises_nothing(world, time_machine):
    go(time_machine, RATED - dt.timedelta(hours=1))
    enquiry = journey.consented_enquiry(world.hub)
    go(time_machine, RATED)
    services.rate_enquiry(
        actor=world.hub.manager,
        enquiry=enquiry,
        rag="red",
        rationale="Injury to a young child.",
        summary_for_agencies="Bruising to arm.",
        not_required={world.hub.education.pk: "The child is not of school age."},
    )
    go(time_machine, RATED + dt.timedelta(minutes=5))
    services.mark_not_required(
        actor=world.hub.manager,
        request=journey.request_for(enquiry, world.hub.police),
        reason="Police already attended and shared everything.",
    )
    go(time_machine, REMINDER)
    assert deadlines.sweep().reminders == 2
    go(time_machine, DEADLINE)
    assert deadlines.sweep().overdue == 2
    alerted = set(RequestAlert.objects.values_list("request__agency__name", flat=True))
    assert alerted == {"Health Visiting", "Children's Social Care"}
    assert not world.police_team & set(notified())


@runs_the_worker
def test_a_closed_enquiry_raises_nothing(world, time_machine):
    enquiry = rate(world, time_machine)
    go(time_machine, RATED + dt.timedelta(hours=1))
    for child in services.children_of(enquiry):
        services.decide(
            actor=world.hub.manager,
            enquiry=enquiry,
            child=child,
            outcome=Outcome.NFA,
            primary_need="N9",
            rationale="The school's account is explained and the family is supported.",
            next_team="None",
            pending_reason="The information already held is enough.",
        )
    assert Enquiry.objects.get(pk=enquiry.pk).status == EnquiryStatus.CLOSED
    for moment in (REMINDER, DEADLINE, DEADLINE + dt.timedelta(days=1)):
        go(time_machine, moment)
        run_tasks()
        result = deadlines.sweep()
        assert (result.reminders, result.overdue) == (0, 0)
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_closed_enquiry_with_a_request_left_pending_raises_nothing(world, time_machine):
    # Closing turns pending requests into "not required"; the sweep also refuses any
    # request of a closed enquiry, in case one is ever left pending.
    enquiry = rate(world, time_machine)
    Enquiry.objects.filter(pk=enquiry.pk).update(status=EnquiryStatus.CLOSED)
    assert enquiry.requests.filter(status=RequestStatus.PENDING).count() == 4
    go(time_machine, DEADLINE)
    result = deadlines.sweep()
    assert (result.reminders, result.overdue) == (0, 0)


@contextmanager
def when_first_raised(action: str, then: Callable[[], Any]) -> Iterator[None]:
    """Runs `then` just after the sweep raises its first alert of this kind (mid-sweep)."""
    done: list[bool] = []

    def receiver(sender: Any, instance: AuditEvent, created: bool, **kw: Any) -> None:
        if instance.action == action and not done:
            done.append(True)
            then()

    post_save.connect(receiver, sender=AuditEvent)
    try:
        yield
    finally:
        post_save.disconnect(receiver, sender=AuditEvent)
    assert done, f"no {action} was raised"


def test_an_answer_recorded_while_the_sweep_runs_cancels_its_reminder(world, time_machine):
    # The sweep lists what is due, then raises alerts one by one; an agency that answers
    # in between must not be reminded about a request it has just answered.
    first = rate(world, time_machine)
    second = rate(world, time_machine)
    go(time_machine, REMINDER)
    with when_first_raised("enquiries.request_reminder", lambda: answer(world, second, "police")):
        result = deadlines.sweep()
    assert result.reminders == 7
    police = journey.request_for(second, world.hub.police)
    assert police.status == RequestStatus.NOTHING_HELD
    assert not RequestAlert.objects.filter(request=police).exists()
    assert RequestAlert.objects.filter(request__enquiry=first).count() == 4
    # The first enquiry's two inboxes, and health's for the second: not police's.
    assert sorted(e["to"] for e in emails_queued()) == sorted([*INBOXES, HEALTH_INBOX])


def test_a_re_rating_while_the_sweep_runs_cancels_the_old_clocks_alert(world, time_machine):
    first = rate(world, time_machine)
    second = rate(world, time_machine)
    go(time_machine, DEADLINE)

    def re_rate() -> None:
        services.rate_enquiry(
            actor=world.hub.manager, enquiry=second, rag="amber", rationale="Seen by a GP."
        )

    with when_first_raised("enquiries.request_overdue", re_rate):
        result = deadlines.sweep()
    assert result.overdue == 4
    assert RequestAlert.objects.filter(request__enquiry=first).count() == 4
    assert not RequestAlert.objects.filter(request__enquiry=second).exists()
    messages = set(Notification.objects.values_list("message", flat=True))
    assert len(messages) == 4
    assert all(first.reference in m and second.reference not in m for m in messages)
    assert journey.request_for(second, world.hub.police).deadline_at == DEADLINE + dt.timedelta(
        hours=24  # amber: 24 clock hours from the re-rating
    )


# Scheduled sweeps: rating asks the worker to sweep at the reminder and the deadline.


def test_rating_schedules_sweeps_at_the_reminder_and_the_deadline(world, time_machine):
    rate(world, time_machine)
    scheduled = DBTaskResult.objects.filter(task_path=SWEEP_NOW)
    assert sorted(scheduled.values_list("run_after", flat=True)) == [REMINDER, DEADLINE]
    assert set(scheduled.values_list("status", flat=True)) == {"READY"}


@runs_the_worker
def test_a_scheduled_sweep_waits_for_its_moment_then_raises_the_alert(world, time_machine):
    enquiry = rate(world, time_machine)
    go(time_machine, REMINDER - dt.timedelta(seconds=1))
    run_tasks()
    assert set(
        DBTaskResult.objects.filter(task_path=SWEEP_NOW).values_list("status", flat=True)
    ) == {"READY"}
    assert not RequestAlert.objects.exists()
    go(time_machine, REMINDER)
    run_tasks()  # the worker alone: nobody calls sweep() here
    statuses = dict(
        DBTaskResult.objects.filter(task_path=SWEEP_NOW).values_list("run_after", "status")
    )
    assert statuses == {REMINDER: "SUCCESSFUL", DEADLINE: "READY"}
    assert RequestAlert.objects.filter(kind=AlertKind.REMINDER).count() == 4
    # The reminder's email was queued by that sweep; the next batch sends it.
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == INBOXES
    go(time_machine, DEADLINE)
    run_tasks()
    assert RequestAlert.objects.filter(kind=AlertKind.OVERDUE).count() == 4
    assert enquiry.requests.filter(alerts__kind=AlertKind.OVERDUE).count() == 4


def test_re_rating_schedules_sweeps_for_the_new_clock(world, time_machine):
    enquiry = rate(world, time_machine, "red")
    rerated = RATED + dt.timedelta(hours=1)
    go(time_machine, rerated)
    services.rate_enquiry(
        actor=world.hub.manager, enquiry=enquiry, rag="amber", rationale="Seen by a GP: minor."
    )
    moments = sorted(
        DBTaskResult.objects.filter(task_path=SWEEP_NOW).values_list("run_after", flat=True)
    )
    assert moments == [
        REMINDER,
        DEADLINE,
        rerated + dt.timedelta(hours=18),
        rerated + dt.timedelta(hours=24),
    ]


# Audit: every raised alert is on the record, raised by the system.


def test_each_alert_raised_is_audited_once_as_the_system(world, time_machine):
    enquiry = rate(world, time_machine)
    answer(world, enquiry, "education")
    go(time_machine, REMINDER)
    deadlines.sweep()
    deadlines.sweep()
    go(time_machine, DEADLINE)
    deadlines.sweep()
    deadlines.sweep()
    events = AuditEvent.objects.filter(action__startswith="enquiries.request_").exclude(
        action="enquiries.request_answered"
    )
    pending = {
        str(r.pk) for r in enquiry.requests.filter(status=RequestStatus.PENDING).order_by("pk")
    }
    for action, moment in (
        ("enquiries.request_reminder", REMINDER),
        ("enquiries.request_overdue", DEADLINE),
    ):
        raised = events.filter(action=action)
        assert sorted(raised.values_list("object_id", flat=True)) == sorted(pending)
        assert {(e.actor_id, e.actor_label, e.occurred_at) for e in raised} == {
            (None, "system", moment)
        }
        assert {e.object_type for e in raised} == {"enquiries.agencyrequest"}
    police = journey.request_for(enquiry, world.hub.police)
    overdue = events.get(action="enquiries.request_overdue", object_id=str(police.pk))
    assert overdue.detail == {
        "enquiry": enquiry.pk,
        "agency": world.hub.police.pk,
        "notified": 3,  # the police lead and the two active hub managers
    }


@pytest.mark.django_db(transaction=True)
def test_a_failed_email_is_tried_again_later(settings, time_machine, caplog):
    import datetime as dt

    from django.core import mail
    from django.core.management import call_command

    from mash.enquiries.deadlines import send_email

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    send_email.enqueue(to="inbox@agency.example", subject="s", body="b")
    call_command(
        "db_worker", queue_name="*", batch=True, reload=False, startup_delay=False, verbosity=0
    )
    assert "trying again later" in caplog.text
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.move_to(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=6))
    call_command(
        "db_worker", queue_name="*", batch=True, reload=False, startup_delay=False, verbosity=0
    )
    assert [m.to for m in mail.outbox] == [["inbox@agency.example"]]
