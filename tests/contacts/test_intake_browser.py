"""Intake and quality pages in real Chromium: the DASH reveal, blocks, the chart, no CSP errors."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from mash.contacts import quality
from mash.contacts.models import PoliceNotification
from mash.core import clock
from tests import factories
from tests.contacts import test_intake_support as support

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_researcher_enters_a_notification_with_two_children(page, sign_in):
    force = support.force(name="Riverton Police")
    researcher = factories.police_researcher(agency_=force)
    sign_in(page, researcher)
    page.goto("/police/new/")
    expect(page.get_by_label("Police force")).to_have_value(str(force.pk))
    page.get_by_label("Occurrence reference").fill("RVP/555/26")
    when = clock.localtime(clock.now() - dt.timedelta(hours=3))
    page.locator("#id_incident_date").get_by_label("Day").fill(str(when.day))
    page.locator("#id_incident_date").get_by_label("Month").fill(str(when.month))
    page.locator("#id_incident_date").get_by_label("Year").fill(str(when.year))
    page.get_by_label("Time of the incident").fill(when.strftime("%H:%M"))

    # The DASH level appears only under domestic abuse.
    expect(page.get_by_label("High")).to_be_hidden()
    page.get_by_label("Domestic abuse").check()
    expect(page.get_by_label("High")).to_be_visible()
    page.get_by_label("High").check()

    page.locator("#id_children-0-given_name").fill("Amelia")
    page.locator("#id_children-0-family_name").fill("Hart")
    page.get_by_role("button", name="Add another child").click()
    # What was typed survives adding a block, and the new block has the focus.
    expect(page.locator("#id_children-0-given_name")).to_have_value("Amelia")
    expect(page.locator("#id_children-1-given_name")).to_be_focused()
    expect(page.get_by_label("High")).to_be_checked()
    page.locator("#id_children-1-given_name").fill("Leo")
    page.locator("#id_adults-0-given_name").fill("Dawn")
    page.locator("#id_adults-0-role").select_option("victim")
    page.get_by_label("The officer's narrative").fill("Verbal argument; children present.")
    page.get_by_role("button", name="Add to the triage queue").click()
    expect(page.get_by_text("received and added to the triage queue")).to_be_visible()
    notification = PoliceNotification.objects.get()
    assert notification.dash_risk == "high"
    assert [c.given_name for c in notification.children.all()] == ["Amelia", "Leo"]


def test_errors_link_to_their_fields(page, sign_in):
    support.force(name="Riverton Police")
    sign_in(page, factories.hub_manager())
    page.goto("/police/new/")
    page.get_by_role("button", name="Add to the triage queue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Select the police force that sent the notification").click()
    expect(page.locator("#id_force")).to_be_focused()


def test_the_quality_chart_draws_under_the_csp(page, sign_in):
    force = support.force(name="Riverton Police")
    researcher = factories.police_researcher(agency_=force)
    now = clock.now()
    for days, team, poor in ((40, "Response", True), (35, "Response", False), (1, "CID", True)):
        made = support.notification(
            actor=researcher,
            force_=force,
            received_at=now - dt.timedelta(days=days),
            officer_team=team,
        )
        if poor:
            quality.mark_quality(actor=researcher, notification=made, issue="other", note="Thin")
    sign_in(page, factories.analyst())
    page.goto("/police/quality/")
    expect(page.locator("#quality-table")).to_be_visible()
    page.wait_for_function("() => window.Chart && window.Chart.getChart('quality-chart')")
    datasets = page.evaluate(
        "() => window.Chart.getChart('quality-chart').data.datasets.map(d => d.label)"
    )
    assert datasets == ["All teams", "CID", "Response"]
    box = page.locator("#quality-chart").bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 100
