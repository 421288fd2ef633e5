"""Triage pages (/police/): who may reach them, plain forms and htmx answers, errors in
plain English next to the field, hostile input, conflicts, and bounded queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.accounts.models import Role
from mash.contacts import triage
from mash.contacts.models import PoliceNotification, TriageOutcome
from mash.core import clock
from mash.core.forms import MAX_TEXT_LENGTH
from mash.core.models import AuditEvent
from tests import factories
from tests.contacts import test_triage_support as support
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
REASON = "Argument overheard by a neighbour; children asleep; no injuries."
TRIAGERS = (Role.HUB_MANAGER, Role.POLICE_RESEARCHER)


def _urls(n: PoliceNotification) -> list[tuple[str, str]]:
    child = n.children.get()
    return [
        ("get", "/police/"),
        ("get", "/police/triaged/"),
        ("get", f"/police/{n.pk}/"),
        ("post", f"/police/{n.pk}/outcome/"),
        ("post", f"/police/{n.pk}/children/{child.pk}/match/"),
        ("post", f"/police/{n.pk}/quality-mark/"),
    ]


@pytest.mark.parametrize("role", [r for r in Role.values if r not in TRIAGERS])
def test_every_other_role_is_refused(role, signed_in):
    n = support.notification()
    client = signed_in(factories.ROLE_FACTORIES[role]())
    for method, url in _urls(n):
        data = {
            "outcome": "record_only",
            "reason": REASON,
            "person": "none",
            "quality-issue": "other",
        }
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 403, url
        assert REASON not in response.content.decode()
    n.refresh_from_db()
    assert (n.outcome, n.quality_issue) == ("", "")


def test_signed_out_people_are_sent_to_sign_in(client):
    n = support.notification()
    for method, url in _urls(n):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize("role", TRIAGERS)
def test_the_queue_for_researchers_and_managers(role, signed_in):
    support.person()
    older = support.notification(dash_risk="high", received_at=clock.now() - dt.timedelta(hours=2))
    newer = support.notification(
        incident_type="missing_child", children=[support.child("Noah", "Hart", None)]
    )
    response = signed_in(factories.ROLE_FACTORIES[role]()).get("/police/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(older.reference) < html.index(newer.reference)
    assert "Domestic abuse · DASH high" in html
    assert "High risk (DASH)" in html
    assert "Northshire Police · " + older.occurrence_reference in html
    assert "waiting 2 h" in html
    assert "Amelia Hart, age 7" in html or "Amelia Hart, age" in html
    assert "Noah Hart, age not known" in html
    assert "Keyboard shortcuts" in html
    assert "js/triage.js" in html
    assert 'href="/police/triaged/"' in html
    assert f'hx-get="/police/{older.pk}/"' in html
    assert f'href="/police/{older.pk}/"' in html  # works without JavaScript too
    # The other ways in and the figures are one step away.
    for link in ("/police/new/", "/police/upload/", "/police/today/", "/police/quality/"):
        assert f'href="{link}"' in html, link


def test_the_queue_page_takes_the_same_queries_for_10_and_500(signed_in):
    researcher = factories.police_researcher()
    client = signed_in(researcher)
    for _ in range(10):
        support.notification()
    client.get("/police/")  # the first view matches them

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/police/").status_code == 200
        return len(queries)

    small = counted()
    for i in range(490):
        support.notification(children=[support.child(f"Kid{i}", "Lane")])
    client.get("/police/")
    assert counted() == small


def test_the_detail_page_and_its_htmx_panel(signed_in):
    support.person()
    researcher = factories.police_researcher()
    n = support.notification()
    client = signed_in(researcher)
    page = client.get(f"/police/{n.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html
    assert f"{n.reference}: Domestic abuse, DASH medium risk" in html
    assert "Score 65" in html
    assert "Police notifications, last 12 months" in html
    assert f'action="/police/{n.pk}/outcome/"' in html
    assert "hx-post" not in html  # a plain form without JavaScript
    assert "HX-Request" in page["Vary"]
    panel = client.get(f"/police/{n.pk}/", **HX)
    body = panel.content.decode()
    assert "<html" not in body
    assert f'hx-post="/police/{n.pk}/outcome/"' in body
    assert 'id="triage-status" hx-swap-oob="innerHTML"' in body
    assert "Key 1" in body
    assert (
        AuditEvent.objects.filter(
            action="contacts.policenotification.viewed", actor=researcher, object_id=str(n.pk)
        ).count()
        == 2
    )


def test_a_missing_notification_is_not_found(signed_in):
    client = signed_in(factories.police_researcher())
    assert client.get("/police/424242/").status_code == 404
    assert client.post("/police/424242/outcome/", {"outcome": "record_only"}).status_code == 404


def test_the_wrong_method_is_refused(signed_in):
    n = support.notification()
    client = signed_in(factories.police_researcher())
    assert client.get(f"/police/{n.pk}/outcome/").status_code == 405
    assert client.post("/police/").status_code == 405
    assert client.post(f"/police/{n.pk}/").status_code == 405


def test_recording_without_javascript_goes_to_the_next(signed_in):
    researcher = factories.police_researcher()
    first = support.notification(received_at=clock.now() - dt.timedelta(hours=2))
    second = support.notification()
    client = signed_in(researcher)
    data = {"outcome": "record_only", "reason": REASON, "version": str(first.version)}
    response = client.post(f"/police/{first.pk}/outcome/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/police/{second.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert f"Recorded: {first.reference} record only. Next: {second.reference}." in page
    first.refresh_from_db()
    assert (first.outcome, first.outcome_reason) == (TriageOutcome.RECORD_ONLY, REASON)
    response = client.post(f"/police/{second.pk}/outcome/", data | {"version": "1"})
    assert response["Location"] == "/police/"
    assert "No more notifications waiting" in client.get("/police/").content.decode()


def test_recording_with_htmx_loads_the_next_and_the_queue(signed_in):
    researcher = factories.police_researcher()
    first = support.notification(received_at=clock.now() - dt.timedelta(hours=2))
    second = support.notification()
    client = signed_in(researcher)
    response = client.post(
        f"/police/{first.pk}/outcome/",
        {
            "outcome": "share_universal",
            "shared_with": ["school", "gp"],
            "reason": REASON,
            "shared_with_detail": "Riverside Primary; Mill Lane Surgery",
        },
        **HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-notification="{second.pk}"' in body
    assert 'id="triage-queue" class="mash-triage-queue" hx-swap-oob="true"' in body
    assert f'data-pk="{first.pk}"' not in body
    assert f"Recorded: {first.reference} shared with school, gp. Next: {second.reference}." in body
    first.refresh_from_db()
    assert first.shared_with == ["school", "gp"]
    # The last one: the panel says the queue is empty.
    response = client.post(
        f"/police/{second.pk}/outcome/", {"outcome": "record_only", "reason": REASON}, **HX
    )
    body = response.content.decode()
    assert "No notifications are waiting" in body
    assert "No more notifications waiting." in body


def test_progressing_opens_the_prefilled_contact_form(signed_in):
    support.person()
    researcher = factories.police_researcher()
    n = support.notification()
    client = signed_in(researcher)
    response = client.post(
        f"/police/{n.pk}/outcome/", {"outcome": "progress_contact", "reason": REASON}, **HX
    )
    n.refresh_from_db()
    assert n.contact is not None
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/contacts/{n.contact_id}/edit/"
    form = client.get(response["HX-Redirect"]).content.decode()
    assert 'value="Amelia"' in form
    assert re.search(r'<option value="6" selected', form)
    assert "Officers attended a verbal argument" in form
    # Without JavaScript: a redirect to the same form.
    other = support.notification()
    response = client.post(
        f"/police/{other.pk}/outcome/", {"outcome": "progress_contact", "reason": REASON}
    )
    other.refresh_from_db()
    assert response["Location"] == f"/contacts/{other.contact_id}/edit/"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": REASON}, "outcome", "Select an outcome"),
        ({"outcome": "record_only"}, "reason", "Enter the reason for the outcome"),
        ({"outcome": "record_only", "reason": "   "}, "reason", "Enter the reason"),
        ({"outcome": "shred", "reason": REASON}, "outcome", "Select an outcome from the list"),
        (
            {"outcome": "record_only", "reason": "x" * (MAX_TEXT_LENGTH + 1)},
            "reason",
            "The reason must be 20,000 characters or fewer",
        ),
        (
            {"outcome": "share_universal", "reason": REASON},
            "shared_with",
            "Select who the notification is shared with",
        ),
        (
            {"outcome": "share_universal", "reason": REASON, "shared_with": ["school"]},
            "shared_with_detail",
            "Enter which school, health visiting team or practice it is shared with",
        ),
        (
            {
                "outcome": "share_universal",
                "reason": REASON,
                "shared_with": ["nasa"],
                "shared_with_detail": "x",
            },
            "shared_with",
            "Select services from the list",
        ),
        (
            {
                "outcome": "share_universal",
                "reason": REASON,
                "shared_with": ["school"],
                "shared_with_detail": "y" * 301,
            },
            "shared_with_detail",
            "This must be 300 characters or fewer",
        ),
        (
            {"outcome": "add_to_enquiry", "reason": REASON},
            "outcome",
            "None of the children has an open enquiry: choose another outcome",
        ),
        (
            {"outcome": "add_to_enquiry", "reason": REASON, "enquiry": "1"},
            "outcome",
            "None of the children has an open enquiry",
        ),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_errors_are_shown_next_to_the_field_and_keep_what_was_typed(
    data, field, message, htmx, signed_in
):
    n = support.notification()
    client = signed_in(factories.police_researcher())
    response = client.post(f"/police/{n.pk}/outcome/", data, **(HX if htmx else {}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert message in html
    assert f'id="{field}-error"' in html or f'id="id_{field}-error"' in html
    if data.get("reason", "").strip() and len(data["reason"]) < 1000:
        assert data["reason"] in html  # what was typed is kept
    if not htmx:
        assert "<title>Error: " in html
    n.refresh_from_db()
    assert n.outcome == ""


def test_an_enquiry_that_is_not_the_childrens_is_refused(signed_in):
    hub = journey.small_hub()
    mine = journey.open_enquiry(hub)
    theirs = journey.open_enquiry(hub, people=[journey.child("Zed", "Quill")])
    n = support.notification()
    client = signed_in(factories.police_researcher())
    data = {"outcome": "add_to_enquiry", "reason": REASON, "enquiry": str(theirs.pk)}
    html = client.post(f"/police/{n.pk}/outcome/", data).content.decode()
    assert "Choose one of the children&#39;s open enquiries" in html
    n.refresh_from_db()
    assert n.enquiry is None
    data["enquiry"] = str(mine.pk)
    assert client.post(f"/police/{n.pk}/outcome/", data).status_code == 302
    n.refresh_from_db()
    assert n.enquiry == mine


def test_the_added_notification_shows_on_the_enquiry(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    n = support.notification(narrative="Mother said the partner <b>threw</b> a cup.")
    triage.match_children(n)
    triage.record_outcome(
        actor=factories.police_researcher(),
        notification=n,
        outcome=TriageOutcome.ADD_TO_ENQUIRY,
        reason="Adds to the picture for the open enquiry.",
        enquiry=enquiry,
    )
    for user in (hub.manager, hub.coordinator):
        html = signed_in(user).get(f"/enquiries/{enquiry.pk}/").content.decode()
        assert "Police notifications added as information" in html
        assert f"{n.reference}: Domestic abuse" in html
        assert "Mother said the partner &lt;b&gt;threw&lt;/b&gt; a cup." in html
        assert "Adds to the picture for the open enquiry." in html
    other = journey.open_enquiry(hub, people=[journey.child("Zed", "Quill")])
    html = signed_in(hub.manager).get(f"/enquiries/{other.pk}/").content.decode()
    assert "Police notifications added as information" not in html


def test_hostile_input_is_stored_and_shown_as_text(signed_in):
    n = support.notification()
    client = signed_in(factories.police_researcher())
    hostile = '<script>alert("x")</script>\x00\'; DROP TABLE contacts;--'
    data = {"outcome": "record_only", "reason": hostile, "version": "9" * 40}
    assert client.post(f"/police/{n.pk}/outcome/", data).status_code == 302
    n.refresh_from_db()
    assert n.outcome_reason == hostile.replace("\x00", "")
    html = client.get(f"/police/{n.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_a_notification_already_triaged_shows_its_outcome_and_refuses_another(signed_in):
    first, second = factories.police_researcher(), factories.police_researcher()
    n = support.notification()
    seen = n.version
    triage.record_outcome(
        actor=first, notification=n, outcome="record_only", reason=REASON, expected_version=seen
    )
    client = signed_in(second)
    html = client.get(f"/police/{n.pk}/").content.decode()
    assert "data-outcome-form" not in html
    assert "Record only (no further action)" in html
    assert first.full_name in html
    for extra in ({}, HX):
        response = client.post(
            f"/police/{n.pk}/outcome/",
            {"outcome": "progress_contact", "reason": "Mine", "version": str(seen)},
            **extra,
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "was triaged by someone else while you were looking at it" in body
        assert "Your outcome has not been recorded" in body
        assert 'data-testid="conflict"' in body
    n.refresh_from_db()
    assert (n.outcome, n.contact) == ("record_only", None)


def test_a_stale_page_keeps_what_was_typed_at_the_new_version(signed_in):
    researcher = factories.police_researcher()
    n = support.notification()
    client = signed_in(researcher)
    data = {"outcome": "record_only", "reason": "Typed before the change", "version": "1"}
    client.post(f"/police/{n.pk}/quality-mark/", {"quality-issue": "no_narrative", "version": "1"})
    html = client.post(f"/police/{n.pk}/outcome/", data).content.decode()
    assert "changed by someone else" in html
    assert "Typed before the change" in html
    assert '<input type="hidden" name="version" value="2">' in html
    n.refresh_from_db()
    assert n.outcome == ""


def test_changing_the_match(signed_in):
    support.person()
    other = support.person("Amelia", "Hartt")
    researcher = factories.police_researcher()
    n = support.notification()
    client = signed_in(researcher)
    client.get(f"/police/{n.pk}/")
    n.refresh_from_db()
    child = n.children.get()
    url = f"/police/{n.pk}/children/{child.pk}/match/"
    field = f"child-{child.pk}-person"
    response = client.post(url, {field: str(other.pk), "version": str(n.version)}, **HX)
    body = response.content.decode()
    assert "Match saved: Amelia Hart is Amelia Hartt in the index." in body
    child.refresh_from_db()
    assert child.person == other
    response = client.post(url, {field: "none", "version": str(n.version + 1)})
    assert response["Location"] == f"/police/{n.pk}/"
    child.refresh_from_db()
    assert child.person is None
    # Not a candidate, nonsense, missing: refused in plain English.
    stranger = support.person("Zed", "Quill", dt.date(2011, 1, 1))
    for value in (str(stranger.pk), "1; DROP TABLE", "9" * 30, ""):
        html = client.post(url, {field: value}).content.decode()
        assert "No match in the index&#39;" in html
        assert "There is a problem" in html
    child.refresh_from_db()
    assert child.person is None


def test_a_child_of_another_notification_is_not_found(signed_in):
    n, other = support.notification(), support.notification()
    child = other.children.get()
    response = signed_in(factories.police_researcher()).post(
        f"/police/{n.pk}/children/{child.pk}/match/", {f"child-{child.pk}-person": "none"}
    )
    assert response.status_code == 404


def test_marking_the_quality(signed_in):
    researcher = factories.police_researcher()
    n = support.notification()
    client = signed_in(researcher)
    url = f"/police/{n.pk}/quality-mark/"
    html = client.post(url, {"quality-issue": "other", "version": "1"}).content.decode()
    assert "Enter a note saying what the notification is missing" in html
    html = client.post(url, {"quality-issue": "bogus"}).content.decode()
    assert "Choose what the notification is missing from the list" in html
    html = client.post(url, {"quality-note": "n" * 2001}).content.decode()
    assert "The note must be 2,000 characters or fewer" in html
    response = client.post(
        url, {"quality-issue": "no_account_of_child", "quality-note": "Ask about the child."}, **HX
    )
    body = response.content.decode()
    assert f"Quality mark saved for {n.reference}: No account of the child." in body
    assert 'hx-swap-oob="true"' in body  # the queue shows the flag
    n.refresh_from_db()
    assert (n.quality_issue, n.quality_note) == ("no_account_of_child", "Ask about the child.")
    assert "Quality: No account of the child" in client.get("/police/").content.decode()


def test_the_recently_triaged_page(signed_in):
    researcher = factories.police_researcher()
    n = support.notification()
    waiting = support.notification()
    triage.record_outcome(actor=researcher, notification=n, outcome="record_only", reason="ok")
    html = signed_in(researcher).get("/police/triaged/").content.decode()
    assert n.reference in html
    assert waiting.reference not in html
    assert "Record only (no further action)" in html


def test_the_researchers_home_page_panel(signed_in):
    researcher = factories.police_researcher()
    client = signed_in(researcher)
    html = client.get("/").content.decode()
    assert 'data-role-panel="police_researcher"' in html
    assert "Nothing is waiting." in html
    old = support.notification(received_at=clock.now() - dt.timedelta(hours=3))
    support.notification()
    html = client.get("/").content.decode()
    assert "Notifications waiting" in html
    assert f"{old.reference}, received" in html
    assert "3 h" in html
    assert 'href="/police/"' in html
