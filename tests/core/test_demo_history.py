"""`mash demo`'s two years of history and today's open work: real use, through the services."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from mash.accounts.models import Role, User
from mash.contacts.models import Contact, ContactPerson, ContactStatus, PersonRole, ReferralSource
from mash.contacts.models import ScreeningOutcome as Screening
from mash.core import clock, demo, demo_history
from mash.core.models import AuditEvent, Hub
from mash.enquiries.models import (
    OPEN_STATUSES,
    REFERRAL_OUTCOMES,
    AgencyRequest,
    AnswerItem,
    Consent,
    ConsentOverride,
    ConsentStatus,
    Decision,
    DecisionAmendment,
    Enquiry,
    EnquiryStatus,
    Outcome,
    OverrideStatus,
    Rag,
    Rating,
    RequestStatus,
    Sensitivity,
)
from mash.people.models import Person

PEOPLE, CONTACTS, OPEN = 300, 60, 12


def _run(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """One small demo hub with history, seeded once for TestTheDemoHub and rolled back after
    it (each test's own changes roll back to a savepoint inside it, as usual)."""
    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
        try:
            output = _run(people=PEOPLE, contacts=CONTACTS, open_enquiries=OPEN)
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def hub(seeded, db):
    return seeded


def _open_enquiries() -> list[Any]:
    now = timezone.now()
    return list(
        Enquiry.objects.filter(status__in=OPEN_STATUSES).annotate(
            pending=Count(
                "requests", filter=Q(requests__status=RequestStatus.PENDING), distinct=True
            ),
            overdue=Count(
                "requests",
                filter=Q(requests__status=RequestStatus.PENDING, requests__deadline_at__lte=now),
                distinct=True,
            ),
            decided=Count("decisions", distinct=True),
        )
    )


class TestTheDemoHub:
    # -- two years of history ----------------------------------------------------------------

    def test_about_the_asked_number_of_contacts_over_two_years(self, hub):
        contacts = Contact.objects.exclude(status=ContactStatus.DRAFT)
        history = contacts.filter(received_at__lt=timezone.now() - dt.timedelta(days=5))
        assert CONTACTS * 0.9 <= history.count() <= CONTACTS
        oldest = history.order_by("received_at").values_list("received_at", flat=True)[0]
        assert oldest is not None
        assert oldest < timezone.now() - dt.timedelta(days=365)
        assert oldest > timezone.now() - dt.timedelta(days=demo_history.HISTORY_DAYS + 1)
        assert "contacts over two years" in hub

    def test_some_contacts_are_screened_out_and_the_rest_progressed(self, hub):
        outcomes = Counter(
            Contact.objects.filter(status=ContactStatus.SCREENED).values_list(
                "screening_outcome", flat=True
            )
        )
        screened = sum(outcomes.values())
        out = screened - outcomes[Screening.PROGRESS]
        assert 0.2 * screened <= out <= 0.65 * screened
        assert outcomes[Screening.SIGNPOSTED] or outcomes[Screening.ADVICE]
        assert all(
            c.signposted_to for c in Contact.objects.filter(screening_outcome=Screening.SIGNPOSTED)
        )
        assert not Contact.objects.filter(status=ContactStatus.SCREENED, screening_reason="")

    def test_referrals_come_from_many_sources_and_channels(self, hub):
        sources = Counter(Contact.objects.values_list("referral_source", flat=True))
        assert len(sources) >= 6
        assert sources[ReferralSource.POLICE]
        assert sources[ReferralSource.SCHOOLS]
        assert len(set(Contact.objects.values_list("channel", flat=True))) >= 4

    def test_schools_refer_school_age_children_and_health_visitors_the_under_fives(self, hub):
        sources = (ReferralSource.SCHOOLS, ReferralSource.HEALTH_VISITOR)
        links = ContactPerson.objects.filter(
            contact__referral_source__in=sources, role=PersonRole.CHILD, position=0
        ).select_related("contact", "person")
        assert links.exists()
        for link in links:
            received = link.contact.received_at
            assert received is not None
            age = link.person.age_on(received.astimezone(clock.LONDON).date())
            assert age is not None
            if link.contact.referral_source == ReferralSource.SCHOOLS:
                assert age >= 4
            else:
                assert age <= 4

    def test_children_come_from_the_index_with_their_match(self, hub):
        links = ContactPerson.objects.filter(
            role=PersonRole.CHILD, expected_date_of_birth__isnull=True
        )
        assert links.exists()
        for link in links:
            assert link.match_score
            assert link.match_reasons
        # The people on a contact are the people of the index: no child was made up for it.
        born = Person.objects.filter(contact_links__in=links).distinct()
        assert all(p.household_id is not None for p in born)

    def test_every_closed_enquiry_has_a_decision_for_every_child(self, hub):
        closed = Enquiry.objects.filter(status=EnquiryStatus.CLOSED).prefetch_related(
            "decisions", "contact__people"
        )
        assert closed.count() >= CONTACTS * 0.3
        for enquiry in closed:
            children = {p.person_id for p in enquiry.contact.people.all() if p.role == "child"}
            assert {d.child_id for d in enquiry.decisions.all()} == children
            assert enquiry.closed_at is not None

    def test_every_outcome_appears(self, hub):
        assert set(Decision.objects.values_list("outcome", flat=True)) == set(Outcome.values)
        early_help = Decision.objects.filter(outcome=Outcome.EARLY_HELP)
        assert not early_help.filter(lead_professional_agency__isnull=True).exists()
        for decision in Decision.objects.all():
            assert decision.rationale
            assert decision.next_team
            assert decision.referrer_feedback
        assert Decision.objects.filter(themes__isnull=False).exists()

    def test_every_rating_is_used(self, hub):
        rags = Counter(Enquiry.objects.exclude(rag="").values_list("rag", flat=True))
        assert set(rags) == set(Rag.values)
        assert rags[Rag.URGENT] < rags[Rag.AMBER]

    def test_every_sensitivity_appears_and_mash_only_items_exist(self, hub):
        sensitivities = Counter(AnswerItem.objects.values_list("sensitivity", flat=True))
        assert set(sensitivities) == set(Sensitivity.values)
        assert sensitivities[Sensitivity.MASH_ONLY] >= 1
        # Every item carries its agency for the sensitivity rule.
        assert not AnswerItem.objects.exclude(agency_id=F("request__agency_id")).exists()

    def test_agencies_answer_mostly_on_time_some_late_some_with_nothing(self, hub):
        answered = AgencyRequest.objects.filter(
            status__in=(RequestStatus.ANSWERED, RequestStatus.NOTHING_HELD)
        )
        on_time = answered.filter(answered_at__lte=F("deadline_at")).count()
        assert on_time >= 0.7 * answered.count()
        assert on_time < answered.count()  # some are late
        assert answered.filter(status=RequestStatus.NOTHING_HELD).exists()
        assert (
            AgencyRequest.objects.filter(status=RequestStatus.NOT_REQUIRED)
            .exclude(not_required_reason="")
            .exists()
        )
        # Some agencies added to their answer later.
        assert AuditEvent.objects.filter(action="enquiries.answer_added_to").exists()

    def test_a_re_referral(self, hub):
        referrals: dict[int, list[Decision]] = defaultdict(list)
        for decision in Decision.objects.filter(outcome__in=REFERRAL_OUTCOMES).select_related(
            "enquiry__contact"
        ):
            referrals[decision.child_id].append(decision)
        pairs = [
            (first, second)
            for decisions in referrals.values()
            for first in decisions
            for second in decisions
            if first.enquiry_id != second.enquiry_id
            and first.decided_at
            < (second.enquiry.contact.received_at or second.decided_at)
            < first.decided_at + dt.timedelta(days=365)
        ]
        assert pairs, "some child should be referred twice within 12 months"

    def test_an_amendment_and_a_decision_made_with_agencies_still_to_answer(self, hub):
        amendment = DecisionAmendment.objects.select_related("decision", "amended_by").first()
        assert amendment is not None
        assert amendment.reason
        assert amendment.changes
        assert amendment.amended_at > amendment.decision.decided_at
        assert Role.HUB_MANAGER in amendment.amended_by.roles
        early = Decision.objects.exclude(pending_reason="")
        assert early.exists()

    def test_overrides_are_proposed_by_co_ordinators_and_authorised_by_managers(self, hub):
        authorised = ConsentOverride.objects.filter(status=OverrideStatus.AUTHORISED)
        assert authorised.exists()
        for override in authorised.select_related("proposed_by", "decided_by"):
            assert override.grounds
            assert override.justification
            assert override.decided_by is not None
            assert Role.HUB_MANAGER in override.decided_by.roles
        assert any(
            Role.REFERRAL_COORDINATOR in o.proposed_by.roles
            and Role.HUB_MANAGER not in o.proposed_by.roles
            for o in authorised
        )

    def test_no_agency_is_asked_without_consent_or_an_authorised_override(self, hub):
        asked = Enquiry.objects.filter(requests__isnull=False).distinct()
        assert asked.exists()
        for enquiry in asked:
            first_request = enquiry.requests.order_by("requested_at")[0]
            consented = Consent.objects.filter(
                enquiry=enquiry,
                status=ConsentStatus.GIVEN,
                recorded_at__lte=first_request.requested_at,
            ).exists()
            overridden = ConsentOverride.objects.filter(
                enquiry=enquiry,
                status=OverrideStatus.AUTHORISED,
                decided_at__lte=first_request.requested_at,
            ).exists()
            assert consented or overridden, enquiry

    def test_the_right_people_did_each_thing(self, hub):
        for rating in Rating.objects.select_related("rated_by"):
            assert Role.HUB_MANAGER in rating.rated_by.roles
        for decision in Decision.objects.select_related("decided_by"):
            assert Role.HUB_MANAGER in decision.decided_by.roles
        answers = AgencyRequest.objects.exclude(answered_by=None).select_related("answered_by")
        assert answers.exists()
        for request in answers:
            practitioner = request.answered_by
            assert practitioner is not None
            assert practitioner.agency_id == request.agency_id
            assert Role.AGENCY_PRACTITIONER in practitioner.roles
        for contact in Contact.objects.exclude(submitted_by=None).select_related("submitted_by"):
            submitter = contact.submitted_by
            assert submitter is not None
            assert submitter.roles & {Role.REFERRAL_COORDINATOR, Role.HUB_MANAGER}

    def test_nothing_is_dated_in_the_future(self, hub):
        now = timezone.now()
        dated: dict[type[Any], tuple[str, ...]] = {
            Contact: ("received_at", "created_at", "submitted_at", "screened_at"),
            Enquiry: ("opened_at", "rated_at", "closed_at"),
            Consent: ("recorded_at", "decided_on"),
            ConsentOverride: ("proposed_at", "decided_at"),
            Rating: ("rated_at",),
            AgencyRequest: ("requested_at", "clock_started_at", "answered_at"),
            AnswerItem: ("created_at",),
            Decision: ("decided_at",),
            DecisionAmendment: ("amended_at",),
            AuditEvent: ("occurred_at",),
            Person: ("created_at",),
            User: ("date_joined",),
        }
        for model, fields in dated.items():
            for name in fields:
                assert not model.objects.filter(**{f"{name}__gt": now}).exists(), (model, name)

    def test_people_are_not_named_before_they_were_in_the_index(self, hub):
        # (People new to the index are added as the contact is submitted.)
        late = ContactPerson.objects.filter(person__created_at__gt=F("contact__submitted_at"))
        assert not late.exists()
        born_later = ContactPerson.objects.filter(
            person__date_of_birth__gt=F("contact__received_at__date")
        )
        assert not born_later.exclude(expected_date_of_birth__isnull=False).exists()

    def test_each_step_was_audited_as_the_user_who_took_it(self, hub):
        expected = {
            "contacts.contact_submitted": Contact.objects.exclude(submitted_at=None).count(),
            "enquiries.enquiry_rated": Enquiry.objects.exclude(rated_at=None).count(),
            "enquiries.request_answered": AgencyRequest.objects.exclude(answered_at=None).count(),
            "enquiries.decision_recorded": Decision.objects.count(),
        }
        demo_users = set(User.objects.values_list("pk", flat=True))
        for action, count in expected.items():
            events = AuditEvent.objects.filter(action=action)
            assert count > 0
            assert events.count() == count, action
            assert not events.filter(actor=None).exists()
            assert not events.filter(actor_label="system").exists()
            assert set(events.values_list("actor_id", flat=True)) <= demo_users
            assert events.values("actor_id").distinct().count() >= 2  # more than one person

    def test_the_history_is_spread_over_working_hours(self, hub):
        screened = [
            moment.astimezone(clock.LONDON)
            for moment in Contact.objects.filter(
                received_at__lt=timezone.now() - dt.timedelta(days=5)
            )
            .exclude(screened_at=None)
            .values_list("screened_at", flat=True)
            if moment is not None
        ]
        in_office = [t for t in screened if t.weekday() < 5 and 8 <= t.hour < 19]
        assert len(in_office) >= 0.9 * len(screened)

    # -- today's open work -------------------------------------------------------------------

    def test_about_the_asked_number_of_open_enquiries(self, hub):
        assert len(_open_enquiries()) == OPEN
        assert f"{OPEN} open enquiries" in hub

    def test_every_state_is_there(self, hub):
        enquiries = _open_enquiries()
        statuses = Counter(e.status for e in enquiries)
        assert statuses[EnquiryStatus.AWAITING_CONSENT] >= 1
        assert statuses[EnquiryStatus.AWAITING_RATING] >= 1
        checks = [e for e in enquiries if e.status == EnquiryStatus.CHECKS]
        assert any(e.pending for e in checks)
        assert any(e.overdue for e in checks)
        assert any(e.pending and not e.overdue for e in checks)  # time still left
        assert any(not e.pending and not e.decided for e in checks)  # waiting for a decision
        assert any(e.decided for e in checks)  # one child decided, another not yet
        assert any(e.rag == Rag.URGENT for e in checks)
        rating = [e for e in enquiries if e.status == EnquiryStatus.AWAITING_RATING]
        assert any(e.proposed_rag for e in rating)
        assert ConsentOverride.objects.filter(
            status=OverrideStatus.PROPOSED, enquiry__in=[e.pk for e in enquiries]
        ).exists()

    def test_clocks_are_live_on_first_run(self, hub):
        now = timezone.now()
        hub_settings = Hub.load()
        pending = AgencyRequest.objects.filter(
            status=RequestStatus.PENDING, enquiry__status=EnquiryStatus.CHECKS
        )
        left = [
            clock.time_left(r.deadline_at, r.duration, hub_settings.calendar(), now)
            for r in pending
        ]
        assert any(t.overdue for t in left)
        assert any(
            not t.overdue and t.remaining < dt.timedelta(hours=24) for t in left
        )  # hours left
        assert all(r.requested_at > now - dt.timedelta(days=4) for r in pending)

    def test_contacts_wait_for_screening(self, hub):
        assert Contact.objects.filter(status=ContactStatus.AWAITING_SCREENING).exists()

    # The front door: police notifications and advice-line calls, through the services.

    def test_notifications_arrive_from_the_forces_system_and_most_are_triaged(self, hub):
        from mash.contacts.models import PoliceNotification, ReceivedVia

        notifications = PoliceNotification.objects.all()
        assert notifications.count() > 200
        assert set(notifications.values_list("received_via", flat=True)) == {ReceivedVia.API}
        waiting = notifications.filter(outcome="")
        assert 10 <= waiting.count() <= 40  # this morning's queue
        triaged = notifications.exclude(outcome="")
        assert set(triaged.values_list("outcome", flat=True)) >= {
            "record_only",
            "share_universal",
        }
        assert not triaged.filter(triaged_by__isnull=True).exists()
        assert not triaged.filter(triaged_at__lt=F("received_at")).exists()
        received = AuditEvent.objects.filter(action="contacts.police_notification_received")
        assert received.count() == notifications.count()

    def test_children_are_matched_and_some_notifications_marked_poor(self, hub):
        from mash.contacts.models import NotificationChild, PoliceNotification

        children = NotificationChild.objects.all()
        assert children.filter(person__isnull=False).count() > children.count() / 2
        poor = PoliceNotification.objects.exclude(quality_issue="")
        assert poor.exists()
        assert not poor.filter(quality_marked_by__isnull=True).exists()

    def test_no_notification_or_call_is_dated_in_the_future(self, hub):
        from mash.contacts.models import Consultation, PoliceNotification

        now = timezone.now()
        assert not PoliceNotification.objects.filter(received_at__gt=now).exists()
        assert not PoliceNotification.objects.filter(incident_at__gt=F("received_at")).exists()
        assert not Consultation.objects.filter(called_at__gt=now).exists()

    def test_the_advice_line_logs_calls_and_has_follow_ups_due(self, hub):
        from mash.contacts.models import Consultation

        calls = Consultation.objects.all()
        assert calls.count() > 50
        assert set(calls.values_list("outcome", flat=True)) >= {"advice_only", "early_help"}
        assert not calls.exclude(created_by__role_grants__role=Role.ADVICE_LINE_WORKER).exists()
        assert calls.filter(follow_up_done_at__isnull=False).exists()
        today = clock.localtime(timezone.now()).date()
        assert calls.filter(follow_up_on__lte=today, follow_up_done_at__isnull=True).exists()
        logged = AuditEvent.objects.filter(action="contacts.consultation_logged")
        assert logged.count() == calls.count()


@pytest.mark.django_db
def test_one_seed_gives_one_history():
    def fingerprint() -> list[tuple]:
        return list(
            Contact.objects.order_by("received_at", "concern").values_list(
                "received_at", "concern", "screening_outcome", "enquiry__rag"
            )
        ) + sorted(Decision.objects.values_list("outcome", "rationale"))

    now = timezone.now()
    prints = []
    for _ in range(2):
        with transaction.atomic():
            demo.seed(people=60, contacts=12, open_enquiries=0, log=lambda _: None)
            prints.append(fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1]
    assert prints[0]
    assert all(row[0] < now for row in prints[0] if len(row) == 4)


@pytest.mark.django_db
def test_the_options_size_the_history():
    output = _run(people=40, contacts=0, open_enquiries=3)
    assert Enquiry.objects.filter(status__in=OPEN_STATUSES).count() == 3
    assert not Decision.objects.exclude(enquiry__status__in=OPEN_STATUSES).exists()
    assert "3 open enquiries" in output
