"""/api/docs/ in real Chromium: Swagger UI draws the API under the site's strict CSP.

The `page` fixture fails the test on any console error, and Chromium reports
every Content-Security-Policy violation (an inline script or style, a file from
another origin, eval) as one.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_render_without_a_csp_violation(page: Any):
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    response = page.goto("/api/docs/")
    assert response.status == 200
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Mash API")
    expect(page.get_by_text("Sending again is safe").first).to_be_visible()
    send = page.locator("#operations-Police_notifications-send_police_notification")
    expect(send).to_be_visible()
    send.locator(".opblock-summary").click()
    expect(send.get_by_text("NR-2026-004512").first).to_be_visible()
    expect(send.get_by_text("409").first).to_be_visible()
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.get_by_text("apiKey  (http, Bearer)")).to_be_visible()
    assert violations == []
