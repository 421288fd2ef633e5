"""Triage with the keyboard only: how long 60 police notifications take to screen, and how
many full page loads that costs (goal: none).

Used by bench/notifications.py against a server it runs:
  seed_notifications(n, force)   n untriaged notifications through receive_notification
                                 (Django set up on the server's database)
  triage_figures(base_url, email, password)
                                 drives Chromium (Playwright, /usr/bin/chromium, headless)
                                 as a police researcher who presses only keys: j and Enter
                                 to open the oldest, then for each notification 1 (record
                                 only), a reason and Ctrl+Enter; the next opens by itself.
Returns {"triage_60_seconds": ..., "full_page_loads_per_notification": ...}: the time from
the first key to the 60th outcome announced, and the page loads after the queue's own
first load divided by 60.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import time
from typing import Any

SCREENED = 60
CHROMIUM = os.environ.get("MASH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TIMEOUT_MS = 30_000
GIVEN = ["Amelia", "Noah", "Olivia", "Leo", "Isla", "Oscar", "Ava", "Arthur", "Mia", "Harry"]
FAMILY = ["Hart", "Shaw", "Begum", "Kowalski", "Okafor", "Reid", "Patel", "Evans", "Nash"]
# Checked on every animation frame (expect() polls at 100 ms and more, which would add
# up to a second to each notification measured).
OPENED = "() => document.activeElement && document.activeElement.id === 'triage-heading'"
RECORDED = """ref => {
  const said = document.querySelector('[data-testid=announcement]');
  const active = document.activeElement;
  return said && said.textContent.includes('Recorded: ' + ref + ' ')
    && active && active.id === 'triage-heading';
}"""
TYPES = ["domestic_abuse"] * 6 + ["missing_child", "drugs", "asb", "parent_arrested", "other"]


def seed_notifications(n: int, force: Any) -> None:
    """n notifications from `force`, waiting to be triaged, received as by hand."""
    from mash.contacts import police
    from mash.contacts.models import ReceivedVia
    from mash.core import clock

    chance = random.Random(n)
    now = clock.now()
    stamp = now.strftime("%Y%m%d%H%M%S")
    today = clock.localtime(now).date()
    for i in range(n):
        kind = chance.choice(TYPES)
        family = chance.choice(FAMILY)
        children = [
            police.ChildEntry(
                given_name=chance.choice(GIVEN),
                family_name=family,
                date_of_birth=today - dt.timedelta(days=30 + chance.randrange(17 * 365)),
                seen=True,
                spoken_to=chance.random() < 0.5,
            )
            for _ in range(1 + chance.randrange(3))
        ]
        entry = police.NotificationEntry(
            occurrence_reference=f"BENCH-{stamp}-{i:05d}",
            incident_at=now - dt.timedelta(hours=1 + chance.randrange(72)),
            incident_type=kind,
            dash_risk=chance.choice(["standard", "medium", "high"])
            if kind == "domestic_abuse"
            else "",
            location=f"{1 + chance.randrange(200)} Mill Lane, Northbridge",
            children=children,
            adults=[
                police.AdultEntry(role="suspect", given_name="Dean", family_name=family),
                police.AdultEntry(role="victim", given_name="Dawn", family_name=family),
            ],
            narrative="Officers attended after a neighbour heard shouting. "
            "The children were present in the house; no injuries seen.",
            officer_name="PC Jo Brook",
            officer_collar_number=str(1000 + i),
            officer_team="Northbridge response team",
        )
        police.receive_notification(actor=None, force=force, entry=entry, via=ReceivedVia.MANUAL)


def _chromium() -> str:
    found = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not found:
        raise SystemExit(f"No Chromium at {CHROMIUM}: apt-get install chromium")
    return found


def triage_figures(base_url: str, email: str, password: str) -> dict[str, str]:
    """Screens 60 notifications with the keyboard alone; the time and the page loads."""
    from playwright.sync_api import sync_playwright

    base = base_url.rstrip("/")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto("/sign-in/")
        page.locator("#id_username").fill(email)
        page.locator("#id_password").fill(password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/sign-in/" not in url)
        if "two-factor" in page.url:
            raise SystemExit(f"{email} is asked for a second factor: use a researcher without one")
        page.goto("/police/")
        page.wait_for_selector("[data-triage-ready]", state="attached")
        waiting = int(page.get_by_test_id("waiting-count").inner_text())
        if waiting < SCREENED:
            raise SystemExit(f"Only {waiting} notifications are waiting; {SCREENED} are needed")

        loads: list[str] = []
        page.on("load", lambda pg: loads.append(pg.url))
        panel = page.locator("#triage-panel section[data-notification]")
        started = time.perf_counter()
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_function(OPENED, polling="raf")
        for i in range(SCREENED):
            reference = panel.get_attribute("data-reference") or ""
            page.keyboard.press("1")
            page.keyboard.type(f"Bench {i}: no further action.")
            page.keyboard.press("Control+Enter")
            page.wait_for_function(RECORDED, arg=reference, polling="raf")
        elapsed = time.perf_counter() - started
        context.close()
        browser.close()
    return {
        "triage_60_seconds": f"{elapsed:.1f}",
        "full_page_loads_per_notification": f"{len(loads) / SCREENED:.2f}",
    }
