"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server.

pytest-django's `live_server` fixture makes every test that uses it (through
`page` or `new_page`) transactional: the server thread and the test share
committed rows, and the tables are flushed afterwards. The server runs in a
thread of this process, so the `settings` fixture reaches it too.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Collection, Iterator
from typing import Any

import pytest

from tests import factories

CHROMIUM = os.environ.get("MASH_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# in the same test (setting up data) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _chromium() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


_FAILED_LOAD = re.compile(
    r"^Failed to load resource: the server responded with a status of (\d{3})"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "page_status(*codes): the pages themselves may answer with these HTTP error "
        "statuses (a lockout's 429) without failing the test; a sub-resource may not",
    )


def _watch(pg: Any, errors: list[str], allowed_statuses: Collection[int] = ()) -> None:
    """Collects what the browser reports as an error: script exceptions, failed
    loads (a missing stylesheet is a 404 in the console) and Content-Security-
    Policy violations, which Chromium logs as console errors."""

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        failed = _FAILED_LOAD.match(message.text)
        if (
            failed
            and int(failed.group(1)) in allowed_statuses
            and message.location["url"] == pg.url
        ):
            return
        errors.append(f"{pg.url}: {message.text} ({message.location['url']})")

    pg.on("pageerror", lambda exc: errors.append(f"{pg.url}: {exc}"))
    pg.on("console", on_console)


def _allowed_statuses(request: pytest.FixtureRequest) -> set[int]:
    return {code for m in request.node.iter_markers("page_status") for code in m.args}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        if os.environ.get("MASH_REQUIRE_BROWSER"):
            pytest.fail(f"MASH_REQUIRE_BROWSER is set but no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}: browser tests skipped (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    _watch(pg, errors, _allowed_statuses(request))
    yield pg
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


@pytest.fixture
def new_page(
    browser: Any, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Any]]:
    """Opens further independent browser contexts (a second person at another desk).

    Like `page`, fails the test if any of them reports an error.
    """
    contexts: list[Any] = []
    errors: list[str] = []

    def make() -> Any:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        pg = context.new_page()
        _watch(pg, errors, _allowed_statuses(request))
        return pg

    yield make
    for c in contexts:
        c.close()
    assert not errors, f"the browser reported errors: {errors}"


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """Signs in through the real form: sign_in(page, user_or_email, password=PASSWORD)."""

    def fill(pg: Any, who: Any, password: str = factories.PASSWORD) -> None:
        email = who if isinstance(who, str) else who.email
        if not pg.locator("#id_username").count():  # not on the form already
            pg.goto("/sign-in/")
        pg.locator("#id_username").fill(email)
        pg.locator("#id_password").fill(password)
        pg.get_by_role("button", name="Sign in").click()

    return fill
