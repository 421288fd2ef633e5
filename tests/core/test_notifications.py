"""Notifications in the app: the header's count, the list, opening one, marking all read.

The notifications here are raised by the real deadline engine: an enquiry rated
through the services, time moved past 75% of the clock (and past the deadline),
and mash.enquiries.deadlines.sweep() run. Rows are inserted directly only to
measure the list's queries at size and to try a hostile link.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mash.accounts.models import Role
from mash.core.models import Notification, NotificationKind
from mash.enquiries import deadlines
from tests import factories
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# A Friday in November (GMT): red is 4 clock hours, so the reminder is due at 13:00.
RATED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
AFTER_REMINDER = RATED + dt.timedelta(hours=3, minutes=1)
AFTER_DEADLINE = RATED + dt.timedelta(hours=4, minutes=1)


@pytest.fixture
def hub(time_machine: Any) -> journey.Hub:
    time_machine.move_to(RATED - dt.timedelta(hours=2), tick=False)
    return journey.small_hub()


def _rate(hub: journey.Hub, time_machine: Any) -> Any:
    time_machine.move_to(RATED - dt.timedelta(hours=1), tick=False)
    consented = journey.consented_enquiry(hub)
    time_machine.move_to(RATED, tick=False)
    from mash.enquiries import services

    return services.rate_enquiry(
        actor=hub.manager,
        enquiry=consented,
        rag="red",
        rationale="Injury to a young child.",
        summary_for_agencies="Bruising to arm; mother and partner at home.",
    )


def _sweep_at(time_machine: Any, moment: dt.datetime) -> deadlines.SweepResult:
    time_machine.move_to(moment, tick=False)
    return deadlines.sweep()


@pytest.fixture
def reminded(hub: journey.Hub, time_machine: Any) -> Any:
    """One red enquiry whose agencies have been reminded at 75% of their time."""
    enquiry = _rate(hub, time_machine)
    result = _sweep_at(time_machine, AFTER_REMINDER)
    assert result.reminders == 4
    return enquiry


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def _header(html: str) -> str:
    match = re.search(r'<div class="mash-account">.*?</div>', html, re.S)
    assert match, "no account area in the header"
    return match.group(0)


# --- The header -------------------------------------------------------------------------------


def test_the_header_shows_notifications_without_a_count_when_nothing_is_unread(hub, signed_in):
    html = signed_in(hub.practitioners["police"]).get("/").content.decode()
    header = _header(html)
    assert 'href="/notifications/"' in header
    assert "Notifications" in _text(header)
    assert "unread" not in header
    assert 'data-testid="unread-count"' not in header


def test_the_header_counts_the_users_unread_notifications_in_words(hub, reminded, signed_in):
    police = hub.practitioners["police"]
    html = signed_in(police).get("/").content.decode()
    assert "Notifications, 1 unread" in _text(_header(html))
    assert police.notifications.filter(read_at__isnull=True).count() == 1


def test_the_header_count_grows_with_each_alert_and_is_only_the_users_own(
    hub, time_machine, signed_in
):
    _rate(hub, time_machine)
    _sweep_at(time_machine, AFTER_DEADLINE)  # overdue at once: no reminder is raised late
    manager = hub.manager
    # The hub manager hears of each of the four overdue requests; the police
    # practitioner (not their agency's lead) hears nothing of overdue requests.
    assert "Notifications, 4 unread" in _text(_header(signed_in(manager).get("/").content.decode()))
    police_header = _header(signed_in(hub.practitioners["police"]).get("/").content.decode())
    assert "unread" not in police_header


def test_the_header_costs_one_query_at_most(hub, reminded, signed_in):
    client = signed_in(hub.practitioners["police"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    counting = [q["sql"] for q in queries.captured_queries if "core_notification" in q["sql"]]
    assert len(counting) == 1


def test_pages_rendered_without_a_request_or_a_user_still_render():
    html = render_to_string("core/error.html", {"heading": "Page not found", "paragraphs": []})
    assert "Page not found" in html
    assert "Notifications" not in html


def test_a_visitor_who_has_not_signed_in_sees_no_notifications_link(client):
    html = client.get(reverse("accounts:sign_in")).content.decode()
    assert "/notifications/" not in html


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_only_the_users_own_notifications(hub, time_machine, signed_in):
    enquiry = _rate(hub, time_machine)
    _sweep_at(time_machine, AFTER_REMINDER)
    _sweep_at(time_machine, AFTER_DEADLINE)
    manager = hub.manager
    html = signed_in(hub.practitioners["police"]).get("/notifications/").content.decode()
    text = _text(html)
    assert f"Reminder: {enquiry.reference} (Red) needs Police's answer" in text
    assert "Health Visiting's answer" not in text
    assert "Education's answer" not in text
    assert "OVERDUE" not in text  # overdue goes to leads and managers
    assert html.count('data-testid="notification"') == 1
    assert "New" in text

    manager_html = signed_in(manager).get("/notifications/").content.decode()
    assert manager_html.count('data-testid="notification"') == 4
    assert "OVERDUE: Police has not answered" in _text(manager_html)
    assert "Reminder:" not in _text(manager_html)


def test_newest_notifications_come_first(hub, time_machine, signed_in):
    lead = factories.practitioner(agency_=hub.police, is_agency_lead=True)
    enquiry = _rate(hub, time_machine)
    _sweep_at(time_machine, AFTER_REMINDER)
    _sweep_at(time_machine, AFTER_DEADLINE)
    html = signed_in(lead).get("/notifications/").content.decode()
    rows = re.findall(r'data-testid="notification"[^>]*>(.*?)</td>', html, re.S)
    texts = [_text(r) for r in rows]
    assert len(texts) == 2
    assert texts[0].startswith(f"New OVERDUE: Police has not answered {enquiry.reference}")
    assert texts[1].startswith(f"New Reminder: {enquiry.reference}")


def test_unread_notifications_are_marked_new_in_words_and_read_ones_are_not(
    hub, reminded, signed_in
):
    police = hub.practitioners["police"]
    client = signed_in(police)
    html = client.get("/notifications/").content.decode()
    assert 'data-unread="true"' in html
    assert ">New<" in html.replace("\n", "").replace("  ", "")
    notification = police.notifications.get()
    client.get(reverse("core:notification_open", args=[notification.pk]))
    html = client.get("/notifications/").content.decode()
    assert 'data-unread="false"' in html
    assert 'data-unread="true"' not in html
    assert "govuk-tag--blue" not in html
    assert "Nothing unread." in _text(html)


def test_an_empty_list_says_so(hub, signed_in):
    html = signed_in(hub.manager).get("/notifications/").content.decode()
    assert "You have no notifications." in html
    assert "Mark all as read" not in html


@pytest.mark.parametrize("role", Role.values)
def test_the_list_opens_for_every_role(role, make, signed_in):
    response = signed_in(make.ROLE_FACTORIES[role]()).get("/notifications/")
    assert response.status_code == 200
    assert "<h1" in response.content.decode()
    assert "Notifications" in response.content.decode()


def test_a_visitor_is_sent_to_sign_in(client):
    for url in (
        "/notifications/",
        "/notifications/1/open/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign_in"))
    assert client.post("/notifications/read-all/").status_code == 302


def _bulk(user: Any, count: int) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                kind=NotificationKind.REMINDER,
                message=f"Reminder number {i}",
                link="/requests/",
                key=f"test:{i}",
                created_at=now + dt.timedelta(minutes=i),
            )
            for i in range(count)
        ]
    )


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_list_costs_the_same_queries_for_10_and_200_notifications(make, signed_in):
    few, many = make.practitioner(), make.practitioner()
    _bulk(few, 10)
    _bulk(many, 200)
    few_client, many_client = signed_in(few), signed_in(many)
    _queries(few_client, "/notifications/")  # warm the session and the hub row
    _queries(many_client, "/notifications/")
    assert _queries(few_client, "/notifications/") == _queries(many_client, "/notifications/")


def test_the_list_is_paginated_by_50_newest_first(make, signed_in):
    user = make.practitioner()
    _bulk(user, 120)
    client = signed_in(user)
    first = client.get("/notifications/").content.decode()
    assert first.count('data-testid="notification"') == 50
    assert "Page 1 of 3" in first
    assert "Reminder number 119" in first
    assert "Reminder number 69" not in first
    last = client.get("/notifications/?page=3").content.decode()
    assert last.count('data-testid="notification"') == 20
    assert "Reminder number 0<" in last
    # Any page number that is not one goes to a real page, never an error.
    assert client.get("/notifications/?page=abc").status_code == 200
    assert client.get("/notifications/?page=999").status_code == 200


def test_a_message_with_markup_is_shown_as_text(make, signed_in):
    user = make.practitioner()
    Notification.objects.create(
        user=user,
        kind=NotificationKind.OVERDUE,
        message="<script>alert(1)</script>",
        link="/requests/",
        key="test:markup",
    )
    html = signed_in(user).get("/notifications/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Opening one, and marking all read --------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_request(hub, reminded, signed_in):
    police = hub.practitioners["police"]
    notification = police.notifications.get()
    request = journey.request_for(reminded, hub.police)
    assert notification.link == reverse("enquiries:request", args=[request.pk])
    client = signed_in(police)
    response = client.get(reverse("core:notification_open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == notification.link
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert client.get(response["Location"]).status_code == 200
    assert "unread" not in _header(client.get("/").content.decode())


def test_a_manager_opening_an_overdue_notification_reaches_the_enquiry(
    hub, time_machine, signed_in
):
    enquiry = _rate(hub, time_machine)
    _sweep_at(time_machine, AFTER_DEADLINE)
    notification = hub.manager.notifications.first()
    assert notification is not None
    client = signed_in(hub.manager)
    response = client.get(reverse("core:notification_open", args=[notification.pk]))
    assert response["Location"] == reverse("enquiries:detail", args=[enquiry.pk])
    assert client.get(response["Location"]).status_code == 200


def test_opening_a_read_notification_again_keeps_when_it_was_first_read(
    hub, reminded, signed_in, time_machine
):
    police = hub.practitioners["police"]
    notification = police.notifications.get()
    client = signed_in(police)
    client.get(reverse("core:notification_open", args=[notification.pk]))
    notification.refresh_from_db()
    first_read = notification.read_at
    time_machine.move_to(AFTER_REMINDER + dt.timedelta(minutes=5), tick=False)
    client = signed_in(police)
    assert client.get(reverse("core:notification_open", args=[notification.pk])).status_code == 302
    notification.refresh_from_db()
    assert notification.read_at == first_read


def test_someone_elses_notification_is_not_found_and_stays_unread(hub, reminded, signed_in):
    theirs = hub.practitioners["health"].notifications.get()
    for user in (hub.practitioners["police"], hub.manager, factories.administrator()):
        response = signed_in(user).get(reverse("core:notification_open", args=[theirs.pk]))
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_unknown_notification_is_not_found(hub, signed_in):
    response = signed_in(hub.manager).get(reverse("core:notification_open", args=[999999]))
    assert response.status_code == 404


def test_a_link_that_leaves_the_site_goes_home_instead(make, signed_in):
    user = make.practitioner()
    for i, link in enumerate(("https://evil.example/", "//evil.example/x", "javascript:alert(1)")):
        notification = Notification.objects.create(
            user=user, kind=NotificationKind.REMINDER, message="x", link=link, key=f"test:{i}"
        )
        response = signed_in(user).get(reverse("core:notification_open", args=[notification.pk]))
        assert response.status_code == 302
        assert response["Location"] == "/"


def test_mark_all_as_read_marks_only_the_users_own(hub, reminded, signed_in):
    police, health = hub.practitioners["police"], hub.practitioners["health"]
    client = signed_in(police)
    html = client.get("/notifications/").content.decode()
    assert "Mark all as read" in html
    response = client.post(reverse("core:notifications_read_all"))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:notifications")
    assert not police.notifications.filter(read_at__isnull=True).exists()
    assert health.notifications.filter(read_at__isnull=True).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "1 notification marked as read." in page
    assert "unread" not in _header(page)


def test_mark_all_as_read_needs_a_post(hub, reminded, signed_in):
    client = signed_in(hub.practitioners["police"])
    assert client.get(reverse("core:notifications_read_all")).status_code == 405
    assert hub.practitioners["police"].notifications.filter(read_at__isnull=True).count() == 1


def test_mark_all_as_read_needs_the_forms_token(hub, reminded):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(hub.practitioners["police"])
    assert client.post(reverse("core:notifications_read_all")).status_code == 403
    assert hub.practitioners["police"].notifications.filter(read_at__isnull=True).count() == 1
