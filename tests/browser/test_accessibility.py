"""Accessibility basics checked in the browser, plus the page frame under our CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from mash.accounts.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

# Every visible form control, and how a screen reader would name it: its own
# <label>, and for a set of radios or checkboxes and the parts of a date, also
# the legend of the fieldset that groups them (the question they answer).
UNLABELLED_CONTROLS = """
() => {
  const visible = (el) => {
    const box = el.closest('.govuk-radios__item, .govuk-checkboxes__item') || el;
    return box.getClientRects().length > 0 && getComputedStyle(box).visibility !== 'hidden';
  };
  const text = (el) => (el ? el.textContent.trim() : '');
  const problems = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const name = el.id || el.name;
    const labels = Array.from(el.labels || []).filter((l) => text(l));
    if (!labels.length) problems.push(`${name}: no label`);
    // A lone checkbox ("Active") is answered by its own label; a set of
    // radios or checkboxes, or the three boxes of a date, need the question.
    const sameName = el.form ? el.form.querySelectorAll(`[name="${el.name}"]`).length : 1;
    const grouped = el.type === 'radio'
      || (el.type === 'checkbox' && sameName > 1)
      || el.classList.contains('govuk-date-input__input');
    if (grouped) {
      const fieldset = el.closest('fieldset');
      if (!fieldset || !text(fieldset.querySelector(':scope > legend'))) {
        problems.push(`${name}: no fieldset legend`);
      }
    }
  }
  return problems;
}
"""

COUNT_CONTROLS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter((el) => el.type !== 'hidden').length
"""


def _assert_every_control_labelled(page, expected_at_least: int) -> None:
    assert page.evaluate(COUNT_CONTROLS) >= expected_at_least
    assert page.evaluate(UNLABELLED_CONTROLS) == [], page.url


def test_sign_in_page_controls_are_labelled_even_with_errors(page):
    page.goto("/sign-in/")
    _assert_every_control_labelled(page, 2)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _assert_every_control_labelled(page, 2)
    # The password input component's own button, made by GOV.UK Frontend's JS.
    expect(page.get_by_role("button", name="Show password")).to_be_visible()


def test_account_and_administrator_forms_are_labelled(page, make, sign_in):
    admin = make.administrator()
    sign_in(page, admin)
    expect(page.locator('[data-role-panel="administrator"]')).to_be_visible()

    page.goto("/account/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    _assert_every_control_labelled(page, 0)

    page.goto("/account/password/")
    _assert_every_control_labelled(page, 3)

    page.goto("/settings/users/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a user")
    _assert_every_control_labelled(page, 5 + len(Role))
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    _assert_every_control_labelled(page, 5 + len(Role))

    page.goto("/settings/agencies/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add an agency")
    _assert_every_control_labelled(page, 7)
    page.get_by_role("group", name="Date the information-sharing protocol was signed").get_by_label(
        "Day"
    ).fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2025")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    _assert_every_control_labelled(page, 7)
    # A date's error leads to its first box, not to the wrapper around the three.
    summary.get_by_role("link", name=re.compile("must be a real date")).click()
    expect(page.get_by_label("Day")).to_be_focused()

    page.goto("/audit/")
    _assert_every_control_labelled(page, 6)


@pytest.mark.parametrize("path", ["/sign-in/", "/accessibility/"])
def test_skip_link_is_the_first_thing_to_tab_to(page, path):
    page.goto(path)
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to main content")
    expect(focused).to_have_attribute("href", "#main-content")
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()


def test_skip_link_comes_first_for_a_signed_in_user_too(page, make, sign_in):
    sign_in(page, make.administrator())
    expect(page.locator("[data-role-panel]")).to_have_count(1)
    page.goto("/")  # a fresh load: focus starts at the top of the document
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")


def test_a_csp_violation_is_a_console_error_so_would_fail_a_browser_test(browser, live_server):
    """`page` and `new_page` fail a test on any console error; this shows that an
    inline script, refused by our Content-Security-Policy, is one."""
    context = browser.new_context(base_url=live_server.url)
    try:
        pg = context.new_page()
        seen: list[str] = []
        pg.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
        pg.goto("/sign-in/")
        pg.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
        )
        assert pg.evaluate("() => window.inlineRan") is None
        assert any("Content Security Policy" in text for text in seen), seen
    finally:
        context.close()
