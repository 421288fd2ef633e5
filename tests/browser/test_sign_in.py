"""Signing in and out through the real pages, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from mash.accounts.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

NAVIGATION = {
    Role.ADMINISTRATOR: {"Agencies": True, "Users": True, "Hub settings": True, "Audit log": True},
    Role.HUB_MANAGER: {"Agencies": False, "Users": False, "Hub settings": False, "Audit log": True},
}
NEITHER = {"Agencies": False, "Users": False, "Hub settings": False, "Audit log": False}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_signs_in_to_its_own_home_page_and_navigation(page, make, sign_in, role):
    user = make.user(role)
    sign_in(page, user)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_have_text(user.full_name)
    expect(page.locator(f'[data-role-panel="{role}"]')).to_be_visible()
    expect(page.locator("[data-role-panel]")).to_have_count(1)

    menu = page.get_by_role("navigation", name="Menu")
    expect(menu.get_by_role("link", name="Home")).to_be_visible()
    for text, shown in NAVIGATION.get(role, NEITHER).items():
        expect(menu.get_by_role("link", name=text, exact=True)).to_have_count(1 if shown else 0)


def test_sign_out_from_the_header_ends_the_session(page, make, sign_in):
    sign_in(page, make.coordinator())
    expect(page.locator("[data-role-panel]")).to_have_count(1)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/signed-out/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    expect(page.locator("#id_username")).to_be_visible()


def test_a_wrong_password_says_so_without_saying_which_part_was_wrong(page, make, sign_in):
    user = make.analyst()
    not_right = "The email address or password is not right. Check them and try again."
    for email in (user.email, "nobody-here@hub.example"):
        sign_in(page, email, "not-the-password")
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("There is a problem")
        expect(summary).to_contain_text(not_right)
        expect(page).to_have_title(re.compile(r"^Error: Sign in"))
        # What was typed is kept, except the password.
        expect(page.locator("#id_username")).to_have_value(email)
        expect(page.locator("#id_password")).to_have_value("")

    sign_in(page, user)
    expect(page.locator('[data-role-panel="analyst"]')).to_be_visible()


def test_empty_sign_in_shows_the_error_summary_and_moves_focus_to_it(page):
    page.goto("/sign-in/")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    # GOV.UK Frontend's JavaScript (loaded as a module under our CSP) focuses
    # the summary so a screen reader announces it.
    expect(summary).to_be_focused()
    links = summary.locator("a")
    expect(links).to_have_text(["Enter your email address", "Enter your password"])
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [
        "#id_username",
        "#id_password",
    ]
    # Each message also sits next to its field.
    expect(page.locator("#id_username-error")).to_be_visible()
    expect(page.locator("#id_password-error")).to_be_visible()

    # Following a link in the summary puts the cursor in the field.
    links.first.click()
    expect(page.locator("#id_username")).to_be_focused()
