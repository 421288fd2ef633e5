"""The performance dashboard in real Chromium: every chart drawn under our CSP, tables beneath."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.reporting import dashboard_data as data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUERY = "from-day=3&from-month=2&from-year=2025&to-day=2&to-month=3&to-year=2025"


def test_every_chart_is_drawn_with_its_table_beneath(page, sign_in, tmp_path):
    hub = data.build()
    sign_in(page, hub.manager)
    page.goto("/reports/")
    page.get_by_role("link", name="Performance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Performance")
    page.get_by_role("group", name="From").get_by_label("Day").fill("3")
    page.get_by_role("group", name="From").get_by_label("Month").fill("2")
    page.get_by_role("group", name="From").get_by_label("Year").fill("2025")
    page.get_by_role("group", name="To").get_by_label("Day").fill("2")
    page.get_by_role("group", name="To").get_by_label("Month").fill("3")
    page.get_by_role("group", name="To").get_by_label("Year").fill("2025")
    page.get_by_role("button", name="Show figures").click()
    expect(page.get_by_test_id("period")).to_contain_text("3 February 2025 to 2 March 2025")
    canvases = page.locator("canvas[data-chart]")
    count = canvases.count()
    assert count >= 14
    # Chart.js has drawn on every canvas (it registers each chart by its canvas).
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".filter((c) => window.Chart.getChart(c)).length"
    )
    assert drawn == count
    # Each chart has a table beneath it with the same figures, and a CSV link.
    source = page.locator('[data-table="contacts-by-channel"]')
    expect(source.locator("table")).to_contain_text("Phone")
    chart_data = page.evaluate(
        "() => window.Chart.getChart(document.querySelector("
        "'canvas[data-chart=\"chart-contacts-by-channel-data\"]')).data.datasets[0].data"
    )
    assert chart_data == [5, 1, 1, 0, 0, 1, 0]
    expect(source.get_by_role("link", name="Download this table as CSV")).to_have_attribute(
        "href", "/reports/performance/contacts-by-channel.csv?from=2025-02-03&to=2025-03-02"
    )
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)


def test_wrong_dates_are_shown_next_to_the_fields(page, sign_in):
    hub = data.build()
    sign_in(page, hub.manager)
    page.goto(
        "/reports/performance/?from-day=31&from-month=2&from-year=2025&to-day=&to-month=&to-year="
    )
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("From must be a real date")
    expect(summary).to_contain_text("Enter the date the period ends")
    expect(page.locator("canvas")).to_have_count(0)
