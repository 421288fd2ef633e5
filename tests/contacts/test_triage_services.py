"""Triage services: matching a notification's children, linking one by hand, outcomes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Role
from mash.contacts import triage
from mash.contacts.forms import from_draft
from mash.contacts.models import (
    Channel,
    ContactStatus,
    PoliceNotification,
    ReferralSource,
    TriageOutcome,
)
from mash.core.concurrency import Conflict
from mash.core.forms import MAX_TEXT_LENGTH
from mash.core.models import AuditEvent
from mash.enquiries.models import Enquiry
from tests import factories
from tests.contacts import test_triage_support as support
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

REASON = "Verbal argument only; children asleep upstairs and not spoken to."


def _events(action: str, n: PoliceNotification) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, object_id=str(n.pk)).order_by("occurred_at")
    )


def _record(actor, n: PoliceNotification, outcome: str = TriageOutcome.RECORD_ONLY, **kw):
    kw.setdefault("reason", REASON)
    return triage.record_outcome(actor=actor, notification=n, outcome=outcome, **kw)


# --- Matching --------------------------------------------------------------------------------


def test_a_child_with_the_same_names_and_date_of_birth_is_linked():
    amelia = support.person()
    support.person("Amelia", "Hart", dt.date(2016, 1, 2))  # a namesake, born another day
    n = support.notification()
    triage.match_children(n)
    child = n.children.get()
    assert child.person == amelia
    assert child.match_score == 65
    assert "Same date of birth" in child.match_reasons
    n.refresh_from_db()
    assert n.matched_at is not None
    event = _events("contacts.police_children_matched", n)[0]
    assert event.detail["linked"] == [{"child": 0, "person": amelia.pk, "score": 65}]


def test_a_known_variant_of_the_given_name_is_confident_enough():
    robert = support.person("Robert", "Hart")
    n = support.notification(children=[support.child("Bob", "Hart")])
    triage.match_children(n)
    assert n.children.get().person == robert  # 16 + 20 + 25 = 61


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        (support.child("Amellia", "Hart"), "a given name that is only similar"),
        (support.child("Amelia", "Hart", dt.date(2018, 4, 5)), "day and month swapped"),
        (support.child("Amelia", "Hart", None), "no date of birth"),
        (support.child("", "", support.BORN), "no name"),
    ],
)
def test_a_weaker_match_is_left_for_the_researcher(typed, why):
    support.person()
    n = support.notification(children=[typed])
    triage.match_children(n)
    child = n.children.get()
    assert child.person is None, why
    n.refresh_from_db()
    assert n.matched_at is not None


def test_two_records_that_fit_equally_well_are_left_for_the_researcher():
    support.person()
    support.person()  # a duplicate record in the index
    n = support.notification()
    triage.match_children(n)
    assert n.children.get().person is None


def test_matching_runs_once_and_keeps_a_researchers_choice():
    support.person()
    n = support.notification()
    triage.match_children(n)
    researcher = factories.police_researcher()
    n.refresh_from_db()
    triage.link_child(actor=researcher, notification=n, child=n.children.get(), person=None)
    triage.match_children(n)
    assert n.children.get().person is None
    assert len(_events("contacts.police_children_matched", n)) == 1


def _matched_with_queries(count: int, start: int) -> int:
    born = [dt.date(2015, 1, 1) + dt.timedelta(days=start + i) for i in range(count)]
    for i, day in enumerate(born):
        support.person(f"Child{start + i}", "Stone", day)
    ids = [
        support.notification(children=[support.child(f"Child{start + i}", "Stone", day)]).pk
        for i, day in enumerate(born)
    ]
    with CaptureQueriesContext(connection) as queries:
        assert len(triage.match_unmatched(ids)) == count
    assert (
        PoliceNotification.objects.filter(pk__in=ids, children__person__isnull=False).count()
        == count
    )
    return len(queries)


def test_matching_many_notifications_takes_a_fixed_number_of_queries():
    assert _matched_with_queries(3, 0) == _matched_with_queries(60, 100) <= 10


# --- Linking by hand -------------------------------------------------------------------------


def test_a_researcher_links_another_candidate_or_no_match():
    support.person()
    other = support.person("Amelia", "Hartt")
    n = support.notification()
    triage.match_children(n)
    n.refresh_from_db()
    researcher = factories.police_researcher()
    child = triage.link_child(
        actor=researcher,
        notification=n,
        child=n.children.get(),
        person=other,
        expected_version=n.version,
    )
    assert child.person == other
    assert child.match_reasons[0] == triage.CHOSEN_REASON
    n.refresh_from_db()
    assert n.version == 2
    child = triage.link_child(
        actor=researcher, notification=n, child=child, person=None, expected_version=n.version
    )
    assert (child.person, child.match_score) == (None, None)
    assert child.match_reasons == [triage.NO_MATCH_REASON]
    assert len(_events("contacts.police_child_linked", n)) == 2


def test_a_person_who_is_not_a_candidate_cannot_be_linked():
    stranger = support.person("Zed", "Quill", dt.date(2010, 3, 3))
    n = support.notification()
    with pytest.raises(ValidationError) as error:
        triage.link_child(
            actor=factories.police_researcher(),
            notification=n,
            child=n.children.get(),
            person=stranger,
        )
    assert "person" in error.value.message_dict
    assert n.children.get().person is None


def test_linking_on_a_stale_page_or_after_triage_conflicts():
    support.person()
    n = support.notification()
    researcher = factories.police_researcher()
    with pytest.raises(Conflict):
        triage.link_child(
            actor=researcher,
            notification=n,
            child=n.children.get(),
            person=None,
            expected_version=n.version + 1,
        )
    _record(researcher, n)
    with pytest.raises(Conflict):
        triage.link_child(actor=researcher, notification=n, child=n.children.get(), person=None)


# --- Outcomes --------------------------------------------------------------------------------


def test_record_only():
    researcher = factories.police_researcher()
    n = support.notification()
    done = _record(researcher, n, expected_version=n.version)
    done.refresh_from_db()
    assert done.outcome == TriageOutcome.RECORD_ONLY
    assert done.outcome_reason == REASON
    assert done.triaged_by == researcher
    assert done.triaged_at is not None
    assert done.version == 2
    (event,) = _events("contacts.police_notification_triaged", n)
    assert event.actor == researcher
    assert event.detail == {"outcome": "record_only"}


def test_sharing_records_who_it_was_shared_with():
    researcher = factories.police_researcher()
    n = support.notification()
    done = _record(
        researcher,
        n,
        TriageOutcome.SHARE_UNIVERSAL,
        shared_with=["school", "health_visitor", "school"],
        shared_with_detail="  Riverside Primary; North health visiting team ",
    )
    done.refresh_from_db()
    assert done.shared_with == ["school", "health_visitor"]
    assert done.shared_with_detail == "Riverside Primary; North health visiting team"
    (event,) = _events("contacts.police_notification_triaged", n)
    assert event.detail["shared_with"] == ["School", "Health visitor"]
    assert event.detail["shared_with_detail"] == "Riverside Primary; North health visiting team"


@pytest.mark.parametrize(
    ("shared_with", "detail", "field"),
    [
        ([], "Riverside Primary", "shared_with"),
        (["school", "police"], "Riverside Primary", "shared_with"),
        (["school"], "", "shared_with_detail"),
        (["school"], "   ", "shared_with_detail"),
        (["school"], "x" * 301, "shared_with_detail"),
    ],
)
def test_sharing_needs_services_from_the_list_and_which_ones(shared_with, detail, field):
    n = support.notification()
    with pytest.raises(ValidationError) as error:
        _record(
            factories.police_researcher(),
            n,
            TriageOutcome.SHARE_UNIVERSAL,
            shared_with=shared_with,
            shared_with_detail=detail,
        )
    assert field in error.value.message_dict
    n.refresh_from_db()
    assert n.outcome == ""


def test_other_outcomes_do_not_keep_sharing_details():
    n = support.notification()
    done = _record(
        factories.police_researcher(), n, shared_with=["school"], shared_with_detail="Riverside"
    )
    done.refresh_from_db()
    assert (done.shared_with, done.shared_with_detail) == ([], "")


def test_progressing_drafts_a_contact_filled_in_from_the_notification():
    amelia = support.person()
    researcher = factories.police_researcher()
    n = support.notification(
        children=[support.child(), support.child("Noah", "Hart", dt.date(2020, 2, 2))],
        adults=[support.adult("suspect", "Dean"), support.adult("victim", "Dawn")],
    )
    triage.match_children(n)
    done = _record(researcher, n, TriageOutcome.PROGRESS_CONTACT, reason="Third call-out.")
    done.refresh_from_db()
    contact = done.contact
    assert contact is not None
    assert contact.status == ContactStatus.DRAFT
    assert contact.created_by == researcher
    data = from_draft(contact.draft)
    assert data["channel"] == [Channel.POLICE_NOTIFICATION]
    assert data["referral_source"] == [ReferralSource.POLICE]
    received = n.received_at.astimezone(triage.clock.LONDON)
    assert data["received_date-day"] == [str(received.day)]
    assert data["received_time"] == [received.strftime("%H:%M")]
    assert data["children-0-given_name"] == ["Amelia"]
    assert data["children-0-link_to"] == [str(amelia.pk)]
    assert data["children-1-given_name"] == ["Noah"]
    assert "children-1-link_to" not in data
    assert data["adults-0-given_name"] == ["Dean"]
    assert data["adults-0-relationship_0"] == ["alleged_harm"]
    assert "adults-1-relationship_0" not in data  # the victim's relationship is not known
    assert data["referrer_name"] == ["PC Jo Brook"]
    assert data["referrer_organisation"] == ["Northshire Police"]
    assert "collar number 4512" in data["referrer_role"][0]
    concern = data["concern"][0]
    assert "Officers attended a verbal argument" in concern
    assert "Domestic abuse (DASH risk: medium)" in concern
    assert n.occurrence_reference in concern
    (event,) = _events("contacts.police_notification_triaged", n)
    assert event.detail["contact"] == contact.reference


def test_adding_to_a_childs_open_enquiry():
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    other = journey.open_enquiry(hub, people=[journey.child("Zed", "Quill")])
    n = support.notification()
    triage.match_children(n)
    researcher = factories.police_researcher()
    with pytest.raises(ValidationError) as error:
        _record(researcher, n, TriageOutcome.ADD_TO_ENQUIRY, enquiry=other)
    assert error.value.message_dict["enquiry"] == ["Choose one of the children's open enquiries"]
    with pytest.raises(ValidationError) as error:
        _record(researcher, n, TriageOutcome.ADD_TO_ENQUIRY)
    assert "enquiry" in error.value.message_dict
    done = _record(researcher, n, TriageOutcome.ADD_TO_ENQUIRY, enquiry=Enquiry(pk=enquiry.pk))
    done.refresh_from_db()
    assert done.enquiry == enquiry
    assert list(enquiry.police_notifications.all()) == [done]
    (event,) = _events("contacts.police_notification_triaged", n)
    assert event.detail["enquiry"] == enquiry.reference


def test_adding_to_an_enquiry_needs_a_child_with_one():
    n = support.notification()
    with pytest.raises(ValidationError) as error:
        _record(factories.police_researcher(), n, TriageOutcome.ADD_TO_ENQUIRY)
    assert "no" in error.value.message_dict["outcome"][0].lower()


@pytest.mark.parametrize(
    ("outcome", "reason", "field"),
    [
        ("record_only", "", "reason"),
        ("record_only", "  \n ", "reason"),
        ("record_only", "x" * (MAX_TEXT_LENGTH + 1), "reason"),
        ("", REASON, "outcome"),
        ("delete_everything", REASON, "outcome"),
    ],
)
def test_every_outcome_needs_a_reason_and_a_real_outcome(outcome, reason, field):
    n = support.notification()
    with pytest.raises(ValidationError) as error:
        triage.record_outcome(
            actor=factories.police_researcher(), notification=n, outcome=outcome, reason=reason
        )
    assert field in error.value.message_dict
    n.refresh_from_db()
    assert n.outcome == ""
    assert _events("contacts.police_notification_triaged", n) == []


def test_a_reason_with_hostile_characters_is_kept_as_text():
    n = support.notification()
    done = _record(factories.police_researcher(), n, reason="<script>alert(1)</script>\x00 ok")
    done.refresh_from_db()
    assert done.outcome_reason == "<script>alert(1)</script> ok"


def test_the_second_researcher_is_told_and_nothing_is_overwritten():
    first, second = factories.police_researcher(), factories.police_researcher()
    n = support.notification()
    seen = n.version
    _record(first, n, expected_version=seen)
    with pytest.raises(Conflict) as conflict:
        _record(
            second,
            n,
            TriageOutcome.PROGRESS_CONTACT,
            reason="I would progress it",
            expected_version=seen,
        )
    assert "triaged by someone else" in conflict.value.message
    n.refresh_from_db()
    assert (n.outcome, n.triaged_by, n.contact) == ("record_only", first, None)
    assert len(_events("contacts.police_notification_triaged", n)) == 1


def test_a_change_since_the_page_was_shown_conflicts():
    n = support.notification()
    with pytest.raises(Conflict) as conflict:
        _record(factories.police_researcher(), n, expected_version=n.version + 1)
    assert "changed by someone else" in conflict.value.message
    n.refresh_from_db()
    assert n.outcome == ""


@pytest.mark.parametrize("role", Role.values)
def test_only_hub_managers_and_police_researchers_triage(role):
    user = factories.ROLE_FACTORIES[role]()
    n = support.notification()
    allowed = role in (Role.HUB_MANAGER, Role.POLICE_RESEARCHER)
    if allowed:
        _record(user, n)
        n.refresh_from_db()
        assert n.outcome == TriageOutcome.RECORD_ONLY
        return
    with pytest.raises(PermissionDenied):
        _record(user, n)
    with pytest.raises(PermissionDenied):
        triage.link_child(actor=user, notification=n, child=n.children.get(), person=None)
    n.refresh_from_db()
    assert n.outcome == ""


def test_a_hub_manager_may_progress_too():
    manager = factories.hub_manager()
    n = support.notification()
    done = _record(manager, n, TriageOutcome.PROGRESS_CONTACT)
    done.refresh_from_db()
    assert done.contact is not None
    assert done.contact.created_by == manager
