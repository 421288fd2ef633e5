"""The board in real Chromium: live updates, countdowns, overdue first, connection loss, paging.

A wall screen connects through its link and is then left alone: the board must
change by itself (no reload) when an agency answers at another desk, its
countdowns must move, an overdue enquiry must be first and say OVERDUE, and a
lost connection must say so and recover by itself. Production polls every 10
seconds; the tests that do not measure that use ?poll=1 (honoured only with
MASH_BOARD_FAST_POLL, a test setting).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from mash.core import clock
from mash.core.models import Hub
from mash.enquiries import screens
from mash.enquiries.models import Enquiry
from tests import factories
from tests.enquiries import journey
from tests.enquiries.test_board_pages import _more_enquiries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARKER = "window.__boardMarker"


def _connect(pg: Any, filters: str = "", query: str = "") -> None:
    """Connects the page as a wall screen, as an administrator's link would."""
    _, raw = screens.create_screen(
        actor=factories.administrator(), name="2nd floor screen", filters=filters
    )
    pg.goto(f"/board/connect/{raw}/")
    assert re.search(r"/board/(\?.*)?$", pg.url), pg.url
    if query:
        pg.goto(f"/board/?{query}")
    expect(pg.get_by_test_id("board")).to_have_attribute("data-live", "1")


def _row(pg: Any, enquiry: Enquiry) -> Any:
    return pg.locator(f'[data-testid="board-row"][data-ref="{enquiry.reference}"]')


def _agency_cell(pg: Any, enquiry: Enquiry, agency_name: str) -> Any:
    titles = pg.locator("thead th").evaluate_all(
        "cells => cells.map(c => (c.querySelector('abbr') || {}).title || '')"
    )
    return _row(pg, enquiry).locator("th, td").nth(titles.index(agency_name))


@pytest.fixture
def fast(settings: Any) -> str:
    settings.MASH_BOARD_FAST_POLL = True
    return "poll=1"


def test_a_cell_turns_from_pending_to_answered_without_a_reload(page, new_page, sign_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, rag="red")
    _connect(page)  # the real 10-second poll
    cell = _agency_cell(page, enquiry, "Police")
    expect(cell).to_have_text("… Pending")
    page.evaluate(f"{MARKER} = 'still here'")

    # The police practitioner answers at their own desk, through the request page.
    desk = new_page()
    sign_in(desk, hub.practitioners["police"])
    desk.goto("/requests/")
    desk.get_by_role("link", name=enquiry.reference).click()
    desk.get_by_label("Yes, record what is held").check()
    item = desk.get_by_test_id("item-0")
    item.get_by_label("Summary", exact=True).fill("Police attended the address in March.")
    item.get_by_label("Violence or threats", exact=True).check()
    item.get_by_label("Professionals only", exact=True).check()
    desk.get_by_role("button", name="Send answer").click()
    expect(desk.locator("main")).to_contain_text("Your answer has been sent to the hub")

    expect(cell).to_have_text("✓ Answered", timeout=15_000)
    assert page.evaluate(MARKER) == "still here"  # the same page: no reload, no navigation
    expect(_agency_cell(page, enquiry, "Education")).to_have_text("… Pending")


def test_countdowns_move_and_overdue_rows_come_first(page):
    hub = journey.small_hub()
    now = clock.now()
    with clock.at(now - dt.timedelta(hours=5)):
        overdue = journey.rated_enquiry(hub, rag="red")  # 4 clock hours: an hour late
    fresh = journey.rated_enquiry(hub, rag="urgent")
    with clock.at(now - dt.timedelta(hours=4) + dt.timedelta(seconds=4)):
        soon = journey.rated_enquiry(hub, rag="red")  # runs out 4 seconds from now
    _connect(page)
    page.evaluate(f"{MARKER} = 'still here'")

    rows = page.get_by_test_id("board-row")
    expect(rows.first).to_have_attribute("data-ref", overdue.reference)
    expect(rows.first.get_by_test_id("time-left")).to_contain_text("OVERDUE")
    expect(rows.first).to_have_class(re.compile(r"mash-board__row--overdue"))
    expect(page.get_by_test_id("board-counts")).to_contain_text("1 OVERDUE")
    fresh_time = _row(page, fresh).get_by_test_id("time-left")
    expect(fresh_time).to_contain_text(re.compile(r"^\d+h \d\dm \d\ds left$"))
    expect(_row(page, fresh)).not_to_have_class(re.compile(r"mash-board__row--overdue"))

    # The countdown moves, in the browser, between polls.
    first = fresh_time.inner_text()
    page.wait_for_timeout(2_200)
    assert fresh_time.inner_text() != first

    # A clock that runs out turns its row OVERDUE by itself, before the next poll.
    expect(_row(page, soon).get_by_test_id("time-left")).to_contain_text("OVERDUE", timeout=6_000)
    expect(_row(page, soon)).to_have_class(re.compile(r"mash-board__row--overdue"))
    assert page.evaluate(MARKER) == "still here"


@pytest.fixture
def lenient_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page of its own that allows the failed fetches this test causes on purpose,
    but still fails on any script error."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    yield pg
    context.close()
    assert not errors, errors


def test_a_lost_connection_says_so_and_recovers_by_itself(lenient_page, fast):
    pg = lenient_page
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    _connect(pg, query=fast)
    pg.evaluate(f"{MARKER} = 'still here'")
    banner = pg.get_by_test_id("board-connection")
    expect(banner).to_be_hidden()
    # Wait for one good poll, so "last updated" is the poll's time.
    with pg.expect_response(re.compile(r"/board/data/")):
        pass
    updated = clock.localtime(clock.now()).strftime("%H:%M")

    pg.route(re.compile(r"/board/data/"), lambda route: route.abort())
    expect(banner).to_be_visible(timeout=5_000)
    expect(banner).to_have_text(re.compile(r"^Connection lost, last updated \d\d:\d\d$"))
    shown = banner.inner_text().rsplit(" ", 1)[1]
    later = clock.localtime(clock.now()).strftime("%H:%M")
    assert shown in {updated, later}
    # The board stays on screen, its countdowns still running.
    expect(_row(pg, enquiry)).to_be_visible()

    pg.unroute(re.compile(r"/board/data/"))
    expect(banner).to_be_hidden(timeout=5_000)
    assert pg.evaluate(MARKER) == "still here"


def test_a_revoked_screen_empties_itself(lenient_page, fast):
    pg = lenient_page
    hub = journey.small_hub()
    journey.rated_enquiry(hub)
    _, raw = screens.create_screen(actor=factories.administrator(), name="Lobby")
    pg.goto(f"/board/connect/{raw}/")
    pg.goto(f"/board/?{fast}")
    expect(pg.get_by_test_id("board-row")).to_have_count(1)
    screen = screens.screen_for_token(raw)
    assert screen is not None
    screens.revoke_screen(actor=factories.administrator(), screen=screen)
    expect(pg.get_by_test_id("board-stopped")).to_contain_text(
        "This board link is not valid", timeout=5_000
    )
    expect(pg.get_by_test_id("board-row")).to_have_count(0)
    expect(pg.get_by_test_id("board-counts")).to_be_hidden()


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_a_full_hd_or_4k_wall_shows_a_page_of_12_to_15_rows_and_turns_it(
    browser, live_server, size
):
    hub = journey.small_hub()
    journey.rated_enquiry(hub)
    _more_enquiries(hub, 20)
    Hub.objects.filter(pk=Hub.load().pk).update(board_page_seconds=2)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": size[0], "height": size[1]}
    )
    try:
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _connect(pg)
        rows = pg.locator('[data-testid="board-row"]:visible')
        per_page = rows.count()
        assert 12 <= per_page <= 15, per_page
        page_label = pg.get_by_test_id("board-page")
        expect(page_label).to_have_text("page 1 of 2")
        first_page = rows.evaluate_all("rows => rows.map(r => r.dataset.ref)")
        # Every row on the page is wholly on the screen.
        bottom = rows.last.evaluate("r => r.getBoundingClientRect().bottom")
        assert bottom <= size[1]
        # The type scales with the screen: twice the pixels on 4K.
        font = pg.locator("body").evaluate("b => parseFloat(getComputedStyle(b).fontSize)")
        assert font == pytest.approx(min(0.026 * size[1], 0.0145 * size[0]), rel=0.02)

        expect(page_label).to_have_text("page 2 of 2", timeout=5_000)
        second_page = rows.evaluate_all("rows => rows.map(r => r.dataset.ref)")
        assert len(second_page) == 20 - per_page
        assert not set(first_page) & set(second_page)
        expect(page_label).to_have_text("page 1 of 2", timeout=5_000)
        assert not errors, errors
    finally:
        context.close()


def test_the_managers_board_has_names_and_links_and_updates_itself(page, sign_in, fast):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    sign_in(page, hub.manager)
    page.goto(f"/enquiries/board/?{fast}")
    expect(page.get_by_test_id("board")).to_have_attribute("data-live", "1")
    page.evaluate(f"{MARKER} = 'still here'")
    row = _row(page, enquiry)
    expect(row).to_contain_text("Amelia Hart")
    second = journey.rated_enquiry(hub, rag="amber", people=[journey.child("Ruby", "Stone")])
    expect(_row(page, second)).to_contain_text("Ruby Stone", timeout=5_000)
    # Rows the script built have the same links as the server's.
    _row(page, second).get_by_role("link", name=second.reference).click()
    expect(page).to_have_url(re.compile(rf"/enquiries/{second.pk}/$"))
