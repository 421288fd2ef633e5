"""The board's pages: wall screens signed in by a token, and the hub managers' board.

A screen connects once with its token and then sees the board alone: initials and
ages, never a name, an address or a date of birth. A revoked screen gets nothing.
The screen's cookie opens no other page; the board opens for no session but a hub
manager's. Every page view is audited, polling at most once a minute, and the data
the screen polls costs the same few queries however many enquiries are open.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from mash.accounts.models import Role
from mash.contacts.models import ContactPerson
from mash.core import clock
from mash.core.models import AuditEvent, Hub, Team
from mash.enquiries import screens, services
from mash.enquiries.models import OPEN_STATUSES, BoardScreen, Enquiry
from mash.enquiries.views.board import REFUSED, left_words
from tests import factories
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

SIGN_IN = "/sign-in/"
WALL, DATA = "/board/", "/board/data/"
MANAGERS, MANAGERS_DATA = "/enquiries/board/", "/enquiries/board/data/"
# 10:00 on a Friday in November (GMT): clocks count in clock hours by default.
MORNING = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _screen(filters: str = "", name: str = "2nd floor screen") -> tuple[BoardScreen, str]:
    return screens.create_screen(actor=factories.administrator(), name=name, filters=filters)


def _wall(raw: str) -> Client:
    """A wall screen's browser, connected through its link."""
    client = Client()
    response = client.get(f"/board/connect/{raw}/")
    assert response.status_code == 302
    return client


def _rows(html: str) -> list[str]:
    return re.findall(r'data-testid="board-row" data-id="\d+" data-ref="([^"]+)"', html)


def _json(response: Any) -> Any:
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


@pytest.fixture
def hub() -> journey.Hub:
    return journey.small_hub()


# Connecting a screen.


def test_connect_keeps_the_token_in_a_strict_cookie_and_shows_the_screens_slice(hub):
    enquiry = journey.rated_enquiry(hub, rag="red")
    journey.rated_enquiry(hub, rag="green")
    screen, raw = _screen(filters="rag=red")
    client = Client()
    response = client.get(f"/board/connect/{raw}/")
    assert response.status_code == 302
    assert response["Location"] == "/board/?rag=red"
    assert response["Cache-Control"] == "no-store"
    cookie = response.cookies[screens.COOKIE]
    assert cookie.value == raw
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/board/"
    assert cookie["max-age"] == screens.COOKIE_SECONDS
    assert not cookie["secure"]  # plain http here; over https it is Secure (below)
    assert raw not in response.content.decode()
    assert AuditEvent.objects.filter(action="board.connected", object_id=str(screen.pk)).count()

    board = client.get(response["Location"])
    assert board.status_code == 200
    assert _rows(board.content.decode()) == [enquiry.reference]
    # Each time the board page loads, the screen's cookie runs for another year.
    renewed = board.cookies[screens.COOKIE]
    assert renewed.value == raw
    assert renewed["max-age"] == screens.COOKIE_SECONDS
    assert renewed["samesite"] == "Strict"
    assert renewed["httponly"] is True
    # No session, no CSRF cookie: the board needs no sign-in and starts none.
    assert settings.SESSION_COOKIE_NAME not in board.cookies
    assert settings.CSRF_COOKIE_NAME not in board.cookies
    assert not Session.objects.exists()


def test_over_https_the_cookie_is_secure(hub):
    _, raw = _screen()
    response = Client().get(f"/board/connect/{raw}/", secure=True)
    assert response.cookies[screens.COOKIE]["secure"] is True


@pytest.mark.parametrize("token", ["not-a-token", "x" * 300, "%00", "' OR 1=1 --"])
def test_an_unknown_token_gets_a_clear_403_and_nothing_else(hub, token):
    journey.rated_enquiry(hub)
    _screen()
    response = Client().get(f"/board/connect/{token}/")
    assert response.status_code in (403, 404)
    assert screens.COOKIE not in response.cookies
    if response.status_code == 403:
        html = response.content.decode()
        assert REFUSED in html
        assert "E-0" not in html
        assert token not in html


def test_a_revoked_token_cannot_connect(hub):
    journey.rated_enquiry(hub)
    screen, raw = _screen()
    screens.revoke_screen(actor=factories.administrator(), screen=screen)
    response = Client().get(f"/board/connect/{raw}/")
    assert response.status_code == 403
    html = response.content.decode()
    assert REFUSED in html
    assert "E-0" not in html
    assert raw not in html
    assert screens.COOKIE not in response.cookies


def test_the_token_is_never_logged(hub, caplog):
    screen, raw = _screen()
    screens.revoke_screen(actor=factories.administrator(), screen=screen)
    with caplog.at_level(logging.DEBUG):
        Client().get(f"/board/connect/{raw}/")
        Client().get("/board/connect/some-unknown-token-5521/")
    assert raw not in caplog.text
    assert "some-unknown-token-5521" not in caplog.text
    assert not AuditEvent.objects.filter(detail__icontains=raw).exists()


def test_connect_and_the_board_answer_only_get(hub, caplog):
    _, raw = _screen()
    client = _wall(raw)
    with caplog.at_level(logging.DEBUG):
        assert Client().post(f"/board/connect/{raw}/").status_code == 405
    assert "Method Not Allowed (POST): /board/connect/…/" in caplog.text
    assert raw not in caplog.text
    assert client.post(WALL).status_code == 405
    assert client.post(DATA).status_code == 405


# A revoked screen gets nothing from the next request on.


def test_a_revoked_screen_gets_nothing_from_the_next_request(hub):
    journey.rated_enquiry(hub)
    screen, raw = _screen()
    client = _wall(raw)
    assert _rows(client.get(WALL).content.decode())
    assert _json(client.get(DATA))["rows"]

    screens.revoke_screen(actor=factories.administrator(), screen=screen)
    page = client.get(WALL)
    assert page.status_code == 403
    html = page.content.decode()
    assert REFUSED in html
    assert not _rows(html)
    assert "E-0" not in html
    assert "data-count" not in html  # no counts either
    data = client.get(DATA)
    assert data.status_code == 403
    assert data["Cache-Control"] == "no-store"
    assert _json(data) == {"error": REFUSED}


# The screen's cookie is for the board alone.


@pytest.mark.parametrize(
    "url", ["/", "/enquiries/", "/requests/", "/people/", "/contacts/", MANAGERS, "/audit/"]
)
def test_the_screen_cookie_opens_no_other_page(hub, url):
    _, raw = _screen()
    client = _wall(raw)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)


def test_the_screen_cookie_opens_no_enquiry_or_managers_data(hub):
    enquiry = journey.rated_enquiry(hub)
    _, raw = _screen()
    client = _wall(raw)
    assert client.get(f"/enquiries/{enquiry.pk}/")["Location"].startswith(SIGN_IN)
    response = client.get(MANAGERS_DATA)
    assert response.status_code == 403
    assert "rows" not in _json(response)


def test_the_wall_board_opens_for_no_one_without_a_screen(hub):
    journey.rated_enquiry(hub)
    for client in (Client(), Client(HTTP_COOKIE=f"{screens.COOKIE}=made-up")):
        page = client.get(WALL)
        assert page.status_code == 403
        assert REFUSED in page.content.decode()
        assert not _rows(page.content.decode())
        data = client.get(DATA)
        assert data.status_code == 403
        assert _json(data) == {"error": REFUSED}


@pytest.mark.parametrize("role", Role.values)
def test_a_session_opens_the_wall_board_for_no_one_but_sends_managers_to_theirs(
    hub, role, make, signed_in
):
    journey.rated_enquiry(hub)
    client = signed_in(make.ROLE_FACTORIES[role]())
    page = client.get(WALL + "?rag=red")
    if role == Role.HUB_MANAGER:
        assert page.status_code == 302
        assert page["Location"] == MANAGERS + "?rag=red"
    else:
        assert page.status_code == 403
        assert REFUSED in page.content.decode()
    # The screens' data is for screens only.
    assert client.get(DATA).status_code == 403


# The wall page.


def test_the_wall_shows_initials_and_ages_and_no_navigation_or_links(hub, time_machine):
    time_machine.move_to(MORNING, tick=False)
    enquiry = journey.rated_enquiry(
        hub,
        people=[
            journey.child("Amelia", "Hart", born=dt.date(2019, 3, 1)),
            journey.child("Milo", "Hart", born=dt.date(2022, 6, 1)),
            journey.adult("Dawn", "Hart"),
        ],
    )
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        nothing_held=True,
    )
    _, raw = _screen()
    response = _wall(raw).get(WALL)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "A.H. 7y, M.H. 4y" in html
    for word in ("Amelia", "Milo", "Dawn", "Hart", "2019-03-01", "01/03/2019", "Riverside"):
        assert word not in html
    assert "<a " not in html  # no links anywhere
    assert "govuk-service-navigation" not in html
    assert "govuk-header" not in html
    assert "govuk-footer" not in html
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in html
    assert "/static/js/board.js" in html
    assert "style=" not in html
    assert "onclick" not in html
    # The counts, the RAG word, the time left, and each agency's symbol AND word.
    assert re.search(r'data-count="red">1<', html)
    assert ">Red<" in html
    assert "4h 00m 00s" in html
    assert '<b aria-hidden="true">○</b> Nothing held' in html
    assert '<b aria-hidden="true">…</b> Pending' in html
    assert '<abbr title="Police">' in html
    # What the script needs is in data-* attributes.
    row = re.search(r"<tr [^>]*data-testid=\"board-row\"[^>]*>", html)
    assert row
    assert f'data-deadline="{int((MORNING + dt.timedelta(hours=4)).timestamp() * 1000)}"' in row[0]
    assert 'data-left="14400"' in row[0]
    assert f'data-now="{int(MORNING.timestamp() * 1000)}"' in html


def test_overdue_rows_come_first_and_say_overdue(hub, time_machine):
    time_machine.move_to(MORNING - dt.timedelta(hours=6), tick=False)
    late = journey.rated_enquiry(hub, rag="green")
    time_machine.move_to(MORNING - dt.timedelta(hours=5), tick=False)
    overdue = journey.rated_enquiry(hub, rag="red")  # 4 clock hours: an hour late
    time_machine.move_to(MORNING, tick=False)
    fresh = journey.rated_enquiry(hub, rag="urgent")
    _, raw = _screen()
    client = _wall(raw)
    html = client.get(WALL).content.decode()
    assert _rows(html) == [overdue.reference, fresh.reference, late.reference]
    start = html.rfind("<tr ", 0, html.index(overdue.reference))
    first = html[start : html.rfind("<tr ", 0, html.index(fresh.reference))]
    assert "mash-board__row--overdue" in first
    assert "OVERDUE" in first
    assert "by 1h 00m 00s" in first
    assert '<b aria-hidden="true">!</b> OVERDUE' in first
    assert re.search(r'data-count="overdue">1<', html)
    data = _json(client.get(DATA))
    assert [r["ref"] for r in data["rows"]] == _rows(html)
    assert data["rows"][0]["overdue"] is True
    assert data["counts"]["overdue"] == 1


def test_time_left_words():
    assert left_words(3 * 3600 + 5 * 60 + 9) == ("3h 05m 09s", "left")
    assert left_words(65) == ("1m 05s", "left")
    assert left_words(2 * 86400 + 3600 + 60) == ("2d 1h 01m", "left")
    assert left_words(0) == ("OVERDUE", "by 0m 00s")
    assert left_words(-3900) == ("OVERDUE", "by 1h 05m 00s")


def test_working_time_that_is_paused_says_so(hub, time_machine):
    Hub.objects.filter(pk=Hub.load().pk).update(amber_amount=8, amber_unit="working_hours")
    # 18:00 on a Friday: the hub is closed until Monday 09:00.
    time_machine.move_to(dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC), tick=False)
    journey.rated_enquiry(hub, rag="amber")
    _, raw = _screen()
    client = _wall(raw)
    html = client.get(WALL).content.decode()
    assert "8h 00m 00s" in html
    assert "paused until the hub opens" in html
    row = _json(client.get(DATA))["rows"][0]
    assert (row["left"], row["working"], row["paused"]) == (8 * 3600, True, True)


def test_an_empty_board_says_so(hub):
    _, raw = _screen()
    html = _wall(raw).get(WALL).content.decode()
    assert "No open enquiries" in html
    assert not _rows(html)


def test_the_poll_interval_is_ten_seconds_unless_a_test_asks(hub, settings):
    _, raw = _screen()
    client = _wall(raw)
    assert 'data-poll="10"' in client.get(WALL + "?poll=1").content.decode()
    settings.MASH_BOARD_FAST_POLL = True
    html = client.get(WALL + "?poll=1&rag=red").content.decode()
    assert 'data-poll="1"' in html
    assert 'data-url="/board/data/?rag=red"' in html  # the page's filters, not its poll


# Filters in the URL.


def test_filters_by_rag_agency_and_team(hub):
    red = journey.rated_enquiry(hub, rag="red")
    amber = journey.rated_enquiry(hub, rag="amber")
    green = journey.rated_enquiry(hub, rag="green")
    services.mark_not_required(
        actor=hub.manager,
        request=journey.request_for(green, hub.police),
        reason="No police involvement.",
    )
    team = Team.objects.create(name="Assessment team")
    Enquiry.objects.filter(pk=amber.pk).update(team=team)
    _, raw = _screen()
    client = _wall(raw)

    def shown(query: str) -> list[str]:
        html_refs = _rows(client.get(f"{WALL}?{query}").content.decode())
        data_refs = [r["ref"] for r in _json(client.get(f"{DATA}?{query}"))["rows"]]
        assert html_refs == data_refs
        return sorted(html_refs)

    def refs(*enquiries: Enquiry) -> list[str]:
        return sorted(e.reference for e in enquiries)

    assert shown("") == refs(red, amber, green)
    assert shown("rag=red") == refs(red)
    assert shown("rag=red,amber") == refs(red, amber)
    assert shown(f"agency={hub.police.pk}") == refs(red, amber)
    assert shown(f"team={team.pk}") == refs(amber)
    assert shown(f"rag=green&agency={hub.education.pk}") == refs(green)
    # Unreadable filters are ignored, and never echoed.
    assert shown("rag=<script>&agency=abc&team=99999999999999") == refs(red, amber, green)
    html = client.get(f"{WALL}?rag=%3Cscript%3Ealert(1)%3C/script%3E").content.decode()
    assert "<script>alert" not in html
    # The page names the slice it shows.
    assert "Red, amber" in client.get(f"{WALL}?rag=red,amber").content.decode()
    assert "Assessment team" in client.get(f"{WALL}?team={team.pk}").content.decode()


def test_a_screen_connects_to_its_own_slice(hub):
    red = journey.rated_enquiry(hub, rag="red")
    journey.rated_enquiry(hub, rag="green")
    _, raw = _screen(filters=f"rag=red&agency={hub.police.pk}")
    client = Client()
    board = client.get(f"/board/connect/{raw}/", follow=True)
    assert _rows(board.content.decode()) == [red.reference]


# Audit.


def test_page_views_are_audited_and_polling_at_most_once_a_minute(hub, time_machine):
    time_machine.move_to(MORNING, tick=False)
    journey.rated_enquiry(hub)
    screen, raw = _screen()
    client = _wall(raw)

    def events(action: str) -> int:
        return AuditEvent.objects.filter(action=action, object_id=str(screen.pk)).count()

    client.get(WALL)
    client.get(WALL)
    assert events("board.viewed") == 2
    event = AuditEvent.objects.filter(action="board.viewed").latest("pk")
    assert event.actor is None
    assert event.actor_label == "board screen: 2nd floor screen"
    for _ in range(5):
        client.get(DATA)
    assert events("board.polled") == 0  # the page view a moment ago covers it
    time_machine.move_to(MORNING + dt.timedelta(seconds=61), tick=False)
    for _ in range(5):
        client.get(DATA)
    assert events("board.polled") == 1
    time_machine.move_to(MORNING + dt.timedelta(seconds=125), tick=False)
    client.get(DATA)
    assert events("board.polled") == 2
    screen.refresh_from_db()
    assert screen.last_seen_at == MORNING + dt.timedelta(seconds=125)


# Queries.


def _more_enquiries(hub: journey.Hub, total: int) -> None:
    """Copies of the rated enquiries already there, cheaply, until there are `total`."""
    from mash.contacts.models import Contact
    from mash.enquiries.models import AgencyRequest

    template = Enquiry.objects.order_by("pk").first()
    assert template is not None
    contact = Contact.objects.get(pk=template.contact_id)
    people = list(ContactPerson.objects.filter(contact=contact))
    requests = list(AgencyRequest.objects.filter(enquiry=template))
    while Enquiry.objects.count() < total:
        contact.pk = None
        contact.save(force_insert=True)
        for p in people:
            p.pk, p.contact_id = None, contact.pk
        ContactPerson.objects.bulk_create(people)
        copy = Enquiry.objects.get(pk=template.pk)
        copy.pk, copy.contact_id = None, contact.pk
        copy.save(force_insert=True)
        for r in requests:
            r.pk, r.enquiry_id = None, copy.pk
        AgencyRequest.objects.bulk_create(requests)


def test_the_data_costs_the_same_few_queries_for_10_and_100_enquiries(
    hub, time_machine, django_assert_max_num_queries
):
    time_machine.move_to(MORNING, tick=False)
    journey.rated_enquiry(hub)
    _, raw = _screen()
    client = _wall(raw)
    counted = []
    for total in (10, 100):
        _more_enquiries(hub, total)
        # A minute on: this poll is audited too (the most it ever costs).
        time_machine.shift(dt.timedelta(seconds=61))
        with django_assert_max_num_queries(10) as queries:
            data = _json(client.get(DATA))
        assert len(data["rows"]) == total
        counted.append(len(queries.captured_queries))
    assert counted[0] == counted[1]


def test_the_wall_page_costs_the_same_queries_for_10_and_100_enquiries(
    hub, django_assert_max_num_queries
):
    journey.rated_enquiry(hub)
    _, raw = _screen()
    client = _wall(raw)
    counted = []
    for total in (10, 100):
        _more_enquiries(hub, total)
        with django_assert_max_num_queries(12) as queries:
            assert len(_rows(client.get(WALL).content.decode())) == total
        counted.append(len(queries.captured_queries))
    assert counted[0] == counted[1]


# The hub managers' board.


@pytest.mark.parametrize("role", Role.values)
def test_the_managers_board_is_for_hub_managers_only(hub, role, make, signed_in):
    enquiry = journey.rated_enquiry(hub)
    client = signed_in(make.ROLE_FACTORIES[role]())
    page = client.get(MANAGERS)
    data = client.get(MANAGERS_DATA)
    if role == Role.HUB_MANAGER:
        assert page.status_code == 200
        html = page.content.decode()
        assert "Amelia Hart 8y" in html or "Amelia Hart 7y" in html
        assert f'href="/enquiries/{enquiry.pk}/"' in html
        assert "govuk-service-navigation" in html
        assert data.status_code == 200
        row = _json(data)["rows"][0]
        assert row["children"][0][2] == "Amelia Hart"
    else:
        assert page.status_code == 403
        assert data.status_code == 403
        assert "rows" not in _json(data)
    assert client.post(MANAGERS).status_code in (403, 405)


def test_the_managers_board_needs_sign_in(hub):
    page = Client().get(MANAGERS)
    assert page.status_code == 302
    assert page["Location"].startswith(SIGN_IN)
    data = Client().get(MANAGERS_DATA)
    assert data.status_code == 403
    assert "signed out" in _json(data)["error"]


def test_the_managers_board_is_current_in_the_navigation(hub, signed_in):
    html = signed_in(hub.manager).get(MANAGERS).content.decode()
    current = re.findall(r'govuk-service-navigation__item--active">\s*<a[^>]*href="([^"]*)"', html)
    assert current == [MANAGERS]


def test_the_managers_board_filters_and_offers_them_to_screens(hub, signed_in):
    red = journey.rated_enquiry(hub, rag="red")
    journey.rated_enquiry(hub, rag="green")
    client = signed_in(hub.manager)
    html = client.get(f"{MANAGERS}?rag=red&agency={hub.police.pk}").content.decode()
    assert _rows(html) == [red.reference]
    assert f"rag=red&amp;agency={hub.police.pk}" in html  # to give a wall screen
    assert AuditEvent.objects.filter(action="board.viewed", actor=hub.manager).exists()


def test_polling_the_managers_board_does_not_keep_the_session_alive(hub, signed_in, time_machine):
    time_machine.move_to(MORNING, tick=False)
    client = signed_in(hub.manager)
    client.get(MANAGERS)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    expires = Session.objects.get(session_key=key).expire_date
    time_machine.move_to(MORNING + dt.timedelta(minutes=10), tick=False)
    assert client.get(MANAGERS_DATA).status_code == 200
    assert Session.objects.get(session_key=key).expire_date == expires
    # Idle for the whole idle time, polling all along: signed out, and told so.
    time_machine.move_to(
        MORNING + dt.timedelta(minutes=settings.MASH_SESSION_IDLE_MINUTES, seconds=1), tick=False
    )
    gone = client.get(MANAGERS_DATA)
    assert gone.status_code == 403
    assert "signed out" in _json(gone)["error"]


# Privacy, with the demo hub's data.


def _whole_word(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text, re.IGNORECASE) is not None


def _date_forms(day: dt.date) -> list[str]:
    return [
        f"{day:%d/%m/%Y}",
        f"{day.day}/{day.month}/{day.year}",
        day.isoformat(),
        f"{day.day} {day:%B %Y}",
        f"{day:%d} {day:%B %Y}",
    ]


def test_privacy_the_screen_shows_no_surname_date_of_birth_or_address():
    from mash.core import demo

    demo.seed(people=300, contacts=60, open_enquiries=12, log=lambda s: None)
    open_contacts = Enquiry.objects.filter(status__in=OPEN_STATUSES).values("contact_id")
    people = list(
        ContactPerson.objects.filter(contact_id__in=open_contacts).select_related(
            "person__household__address"
        )
    )
    assert len(people) >= 12
    _, raw = _screen(name="Privacy screen")
    client = _wall(raw)
    html = client.get(WALL).content.decode()
    data = client.get(DATA).content.decode()
    assert len(_rows(html)) >= 12
    assert len(json.loads(data)["rows"]) == len(_rows(html))

    # The words the board itself uses (its labels, agencies and hub), from an empty slice:
    # a family name that is also one of those words proves nothing either way.
    empty = client.get(f"{WALL}?team=999999").content.decode()
    surnames = {p.family_name for p in people} | {p.person.family_name for p in people}
    checked = {name for name in surnames if name.strip() and not _whole_word(name, empty)}
    assert len(checked) >= len(surnames) - 3  # the board's own words rarely collide
    for text in (html, data):
        for name in checked:
            assert not _whole_word(name, text), f"family name {name!r} on the board"
        for p in people:
            for born in {d for d in (p.date_of_birth, p.person.date_of_birth) if d}:
                for form in _date_forms(born):
                    assert form not in text, f"date of birth {form} on the board"
            lines = {p.address_line_1, p.address_line_2, p.postcode}
            household = p.person.household
            if household is not None:
                address = household.address
                lines |= {address.line_1, address.line_2, address.postcode}
            for line in lines - {""}:
                assert line.lower() not in text.lower(), f"address {line!r} on the board"


def test_times_are_london_time(hub, time_machine):
    # 12:30 UTC in July is 13:30 in London.
    time_machine.move_to(dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC), tick=False)
    _, raw = _screen()
    assert ">13:30</time>" in _wall(raw).get(WALL).content.decode()
    assert clock.now().hour == 12
