"""Marking a police notification that says too little: the service's rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mash.contacts import quality
from mash.contacts.models import PoliceNotification, QualityIssue
from mash.core.concurrency import Conflict
from mash.core.models import AuditEvent
from tests import factories
from tests.contacts import test_intake_support as support

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher() -> factories.User:
    return factories.police_researcher()


@pytest.fixture
def notification(researcher: factories.User) -> PoliceNotification:
    assert researcher.agency is not None
    return support.notification(actor=researcher, force_=researcher.agency)


def test_marks_with_issue_note_time_and_marker(researcher, notification) -> None:
    marked = quality.mark_quality(
        actor=researcher,
        notification=notification,
        issue=QualityIssue.NO_ACCOUNT_OF_CHILD,
        note="  Nothing about how the children were.  ",
        expected_version=notification.version,
    )
    marked.refresh_from_db()
    assert marked.quality_issue == "no_account_of_child"
    assert marked.quality_note == "Nothing about how the children were."
    assert marked.quality_marked_by == researcher
    assert marked.quality_marked_at is not None
    assert marked.version == notification.version + 1
    event = AuditEvent.objects.get(action="contacts.police_notification_quality_marked")
    assert event.object_id == str(notification.pk)
    assert event.detail["issue"] == "no_account_of_child"
    assert event.actor == researcher


def test_note_optional_except_for_other(researcher, notification) -> None:
    quality.mark_quality(actor=researcher, notification=notification, issue="no_narrative", note="")
    with pytest.raises(ValidationError) as excinfo:
        quality.mark_quality(actor=researcher, notification=notification, issue="other", note=" ")
    assert "note" in excinfo.value.message_dict
    marked = quality.mark_quality(
        actor=researcher, notification=notification, issue="other", note="Wrong address given"
    )
    assert marked.quality_issue == "other"


def test_clearing_the_mark(researcher, notification) -> None:
    quality.mark_quality(
        actor=researcher, notification=notification, issue="no_narrative", note="Empty"
    )
    cleared = quality.mark_quality(actor=researcher, notification=notification, issue="", note="x")
    cleared.refresh_from_db()
    assert cleared.quality_issue == ""
    assert cleared.quality_note == ""
    assert AuditEvent.objects.filter(
        action="contacts.police_notification_quality_marked", detail__cleared=True
    ).exists()


@pytest.mark.parametrize(
    ("issue", "note", "field"),
    [
        ("poor", "", "issue"),
        ("NO_NARRATIVE", "", "issue"),
        ("no_narrative", "x" * 2_001, "note"),
        ("other", "", "note"),
    ],
)
def test_bad_input_refused_and_nothing_changed(researcher, notification, issue, note, field):
    with pytest.raises(ValidationError) as excinfo:
        quality.mark_quality(actor=researcher, notification=notification, issue=issue, note=note)
    assert field in excinfo.value.message_dict
    notification.refresh_from_db()
    assert notification.quality_issue == ""
    assert notification.version == 1
    assert not AuditEvent.objects.filter(
        action="contacts.police_notification_quality_marked"
    ).exists()


def test_note_of_exactly_the_limit_is_accepted(researcher, notification) -> None:
    marked = quality.mark_quality(
        actor=researcher, notification=notification, issue="other", note="y" * 2_000
    )
    assert len(marked.quality_note) == 2_000


def test_hub_manager_may_mark(notification) -> None:
    manager = factories.hub_manager()
    marked = quality.mark_quality(
        actor=manager, notification=notification, issue="child_not_identified", note=""
    )
    assert marked.quality_marked_by == manager


@pytest.mark.parametrize(
    "make_user",
    [
        factories.coordinator,
        factories.practitioner,
        factories.advice_line_worker,
        factories.analyst,
        factories.administrator,
    ],
)
def test_other_roles_refused(notification, make_user) -> None:
    with pytest.raises(PermissionDenied):
        quality.mark_quality(
            actor=make_user(), notification=notification, issue="no_narrative", note=""
        )
    notification.refresh_from_db()
    assert notification.quality_issue == ""


def test_stale_version_is_a_conflict(researcher, notification) -> None:
    seen = notification.version
    quality.mark_quality(
        actor=researcher,
        notification=notification,
        issue="no_narrative",
        note="",
        expected_version=seen,
    )
    with pytest.raises(Conflict):
        quality.mark_quality(
            actor=factories.hub_manager(),
            notification=notification,
            issue="other",
            note="Something else",
            expected_version=seen,
        )
    notification.refresh_from_db()
    assert notification.quality_issue == "no_narrative"
