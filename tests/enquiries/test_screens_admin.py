"""Wall screens for administrators: /settings/screens/ (list, add, withdraw).

The connect address carries the screen's raw token: it is shown once, in the
response to the form itself, never stored, logged or audited.
"""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from mash.accounts.models import Role
from mash.core import services as core_services
from mash.core.models import AuditEvent
from mash.enquiries import screens
from mash.enquiries.models import BoardScreen

pytestmark = pytest.mark.django_db

LIST = "/settings/screens/"
NEW = "/settings/screens/new/"


def _text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _connect_url(response: Any) -> str:
    match = re.search(r'data-testid="connect-url">([^<]+)<', response.content.decode())
    assert match, "no connect address on the page"
    return unescape(match.group(1))


def _token(url: str) -> str:
    match = re.fullmatch(
        re.escape(settings.MASH_BASE_URL.rstrip("/")) + r"/board/connect/([^/]+)/", url
    )
    assert match, url
    return match.group(1)


@pytest.fixture
def administrator(make: Any) -> Any:
    return make.administrator()


@pytest.fixture
def admin_client(administrator: Any, signed_in: Any) -> Client:
    return signed_in(administrator)


# --- Adding a screen -------------------------------------------------------------------------


def test_adding_a_screen_shows_its_connect_address_once(make, administrator, admin_client):
    police = make.agency(name="Police")
    north = core_services.create_team(actor=None, name="North")
    response = admin_client.post(
        NEW,
        {
            "name": "2nd floor screen",
            "rag": ["amber", "red"],
            "agency": police.pk,
            "team": north.pk,
        },
    )
    assert response.status_code == 200  # the address is in this response, not behind a redirect
    url = _connect_url(response)
    token = _token(url)
    assert len(token) >= 40
    screen = BoardScreen.objects.get()
    assert screen.name == "2nd floor screen"
    assert screen.created_by == administrator
    # The board reads exactly this query (board.Filters.from_query), RAG in the board's order.
    assert screen.filters == f"rag=red,amber&agency={police.pk}&team={north.pk}"
    # Only the token's hash is kept, and the address signs in that screen.
    assert screen.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(list(BoardScreen.objects.values()), default=str)
    assert screens.screen_for_token(token) == screen
    assert resolve(url.removeprefix(settings.MASH_BASE_URL.rstrip("/"))).view_name == (
        "enquiries:board_connect"
    )
    page = _text(response)
    assert "Open this address once on the screen's browser." in page
    assert "It will stay signed in to the board only." in page
    assert (
        "Anyone with this address can see the board: do not email it; type it or use a USB stick."
        in page
    )
    assert "This address will not be shown again." in page
    assert "It shows: Red and Amber only; enquiries asking Police; team North." in page


def test_the_connect_address_page_is_never_stored(admin_client):
    response = admin_client.post(NEW, {"name": "Reception"})
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control
    assert response["Pragma"] == "no-cache"


def test_the_token_is_in_no_audit_event_message_or_later_page(admin_client):
    response = admin_client.post(NEW, {"name": "Reception"})
    token = _token(_connect_url(response))
    event = AuditEvent.objects.get(action="board.screen_created")
    assert event.detail == {"name": "Reception"}
    everything = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert token not in everything
    # No message was queued with it, and no later page shows it.
    for url in (
        LIST,
        NEW,
        "/",
        reverse("enquiries:screen_revoke", args=[BoardScreen.objects.get().pk]),
    ):
        assert token not in admin_client.get(url).content.decode(), url


def test_each_screen_gets_its_own_token(admin_client):
    first = _token(_connect_url(admin_client.post(NEW, {"name": "Reception"})))
    second = _token(_connect_url(admin_client.post(NEW, {"name": "Reception"})))
    assert first != second
    assert screens.screen_for_token(first) != screens.screen_for_token(second)


def test_a_screen_without_filters_shows_every_open_enquiry(admin_client):
    response = admin_client.post(NEW, {"name": "Reception", "rag": [], "agency": "", "team": ""})
    assert BoardScreen.objects.get().filters == ""
    assert "It shows: Every open enquiry." in _text(response)


def test_the_form_offers_active_agencies_and_teams_only(make, admin_client):
    make.agency(name="Police")
    make.agency(name="Old agency", is_active=False)
    core_services.create_team(actor=None, name="North")
    core_services.update_team(
        actor=None, team=core_services.create_team(actor=None, name="Retired team"), is_active=False
    )
    html = admin_client.get(NEW).content.decode()
    for label in (
        "Name of the screen",
        "Red",
        "Amber",
        "Green",
        "Urgent",
        "Every agency",
        "Every team",
    ):
        assert label in html
    assert ">Police</option>" in html
    assert ">North</option>" in html
    assert "Old agency" not in html
    assert "Retired team" not in html


# --- Bad input ---------------------------------------------------------------------------------


def _refused(response: Any, message: str) -> None:
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert message in unescape(html)
    assert "<title>Error:" in html
    assert 'data-testid="connect-url"' not in html
    assert not BoardScreen.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for the screen, like 2nd floor screen"),
        ("    ", "Enter a name for the screen, like 2nd floor screen"),
        ("x" * 81, "The name must be 80 characters or fewer"),
    ],
)
def test_a_bad_name_is_refused(admin_client, name, message):
    _refused(admin_client.post(NEW, {"name": name}), message)


def test_a_name_of_80_characters_is_accepted(admin_client):
    admin_client.post(NEW, {"name": "x" * 80})
    assert BoardScreen.objects.get().name == "x" * 80


@pytest.mark.parametrize("value", ["999999", "abc", "1; DROP TABLE", "<script>"])
def test_an_unknown_agency_is_refused(admin_client, value):
    response = admin_client.post(NEW, {"name": "Reception", "agency": value})
    _refused(response, "Select an agency from the list")
    assert 'value="Reception"' in response.content.decode()  # what was typed is kept


@pytest.mark.parametrize("value", ["999999", "abc", "-1"])
def test_an_unknown_team_is_refused(admin_client, value):
    _refused(
        admin_client.post(NEW, {"name": "Reception", "team": value}), "Select a team from the list"
    )


def test_an_inactive_agency_or_team_is_refused(make, admin_client):
    old = make.agency(name="Old agency", is_active=False)
    retired = core_services.create_team(actor=None, name="Retired team")
    core_services.update_team(actor=None, team=retired, is_active=False)
    _refused(
        admin_client.post(NEW, {"name": "R", "agency": old.pk}), "Select an agency from the list"
    )
    _refused(
        admin_client.post(NEW, {"name": "R", "team": retired.pk}), "Select a team from the list"
    )


def test_an_unknown_rag_is_refused(admin_client):
    _refused(
        admin_client.post(NEW, {"name": "Reception", "rag": ["red", "purple"]}),
        "Select RAG ratings from the list",
    )


def test_markup_in_a_name_is_shown_as_text(admin_client):
    name = "<script>alert(1)</script>"
    created = admin_client.post(NEW, {"name": name}).content.decode()
    listed = admin_client.get(LIST).content.decode()
    for html in (created, listed):
        assert name not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- The list ----------------------------------------------------------------------------------


def test_the_list_says_what_each_screen_shows_and_when_it_was_seen(
    make, administrator, admin_client
):
    police = make.agency(name="Police")
    north = core_services.create_team(actor=None, name="North")
    screens.create_screen(actor=administrator, name="Reception", filters="")
    screens.create_screen(
        actor=administrator, name="Team room", filters=f"rag=urgent,red&team={north.pk}"
    )
    seen, _ = screens.create_screen(
        actor=administrator, name="Police desk", filters=f"agency={police.pk}"
    )
    screens.seen(seen, page=True)
    page = _text(admin_client.get(LIST))
    assert "Reception Every open enquiry" in page
    assert "Team room Urgent and Red only; team North" in page
    assert "Police desk Enquiries asking Police" in page
    assert "Not connected yet" in page
    assert administrator.full_name in page
    assert page.count("Active") >= 3


def test_a_screen_whose_agency_or_team_has_gone_still_lists(administrator, admin_client):
    screens.create_screen(actor=administrator, name="Odd", filters="agency=999999&team=888888")
    page = _text(admin_client.get(LIST))
    assert "Enquiries asking an agency no longer listed; team a team no longer listed" in page


def test_the_list_costs_the_same_queries_for_3_and_30_screens(make, administrator, admin_client):
    police = make.agency(name="Police")
    north = core_services.create_team(actor=None, name="North")

    def add(count: int) -> None:
        for i in range(count):
            screen, _ = screens.create_screen(
                actor=administrator,
                name=f"Screen {i}",
                filters=f"rag=red&agency={police.pk}&team={north.pk}",
            )
            if i % 2:
                screens.revoke_screen(actor=make.administrator(), screen=screen)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(LIST).status_code == 200
        return len(captured.captured_queries)

    add(3)
    queries()  # warm the session
    few = queries()
    add(27)
    many = queries()
    assert few == many
    # Every second screen of each batch was withdrawn: 1 of 3, then 13 of 27.
    assert _text(admin_client.get(LIST)).count("Withdrawn") == 14


# --- Withdrawing a screen ----------------------------------------------------------------------


def test_withdrawing_asks_first_then_stops_the_screen_at_once(administrator, admin_client):
    screen, token = screens.create_screen(actor=administrator, name="Reception")
    revoke = reverse("enquiries:screen_revoke", args=[screen.pk])
    confirm = admin_client.get(revoke)
    assert confirm.status_code == 200
    assert "Withdraw Reception" in _text(confirm)
    screen.refresh_from_db()
    assert screen.is_active  # a GET changes nothing
    response = admin_client.post(revoke)
    assert response.status_code == 302
    assert response["Location"] == LIST
    screen.refresh_from_db()
    assert screen.revoked_by == administrator
    assert screen.revoked_at is not None
    assert screens.screen_for_token(token) is None
    event = AuditEvent.objects.get(action="board.screen_revoked")
    assert event.actor == administrator
    assert event.object_id == str(screen.pk)
    assert token not in json.dumps(event.detail)
    page = _text(admin_client.get(LIST))
    assert "Reception is withdrawn: it can no longer show the board." in page
    assert "Withdrawn" in page


def test_withdrawing_twice_is_audited_once(administrator, admin_client):
    screen, _ = screens.create_screen(actor=administrator, name="Reception")
    revoke = reverse("enquiries:screen_revoke", args=[screen.pk])
    admin_client.post(revoke)
    admin_client.post(revoke)
    assert AuditEvent.objects.filter(action="board.screen_revoked").count() == 1
    assert "This screen was withdrawn on" in _text(admin_client.get(revoke))


def test_withdrawing_an_unknown_screen_is_not_found(admin_client):
    assert admin_client.get("/settings/screens/999999/revoke/").status_code == 404
    assert admin_client.post("/settings/screens/999999/revoke/").status_code == 404


# --- Who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_screens_are_refused_to_everyone_but_administrators(role, make, administrator, signed_in):
    screen, token = screens.create_screen(actor=administrator, name="Reception")
    client = signed_in(make.ROLE_FACTORIES[role]())
    revoke = reverse("enquiries:screen_revoke", args=[screen.pk])
    for url in (LIST, NEW, revoke):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Taken over"}).status_code == 403, url
    assert BoardScreen.objects.count() == 1
    assert screens.screen_for_token(token) == screen


def test_screens_are_refused_to_a_user_with_no_role(make, administrator, signed_in):
    client = signed_in(make.user())
    assert client.get(LIST).status_code == 403
    assert client.post(NEW, {"name": "Taken over"}).status_code == 403


def test_a_visitor_is_sent_to_sign_in(administrator, client):
    screen, token = screens.create_screen(actor=administrator, name="Reception")
    revoke = reverse("enquiries:screen_revoke", args=[screen.pk])
    for url in (LIST, NEW, revoke):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("accounts:sign_in"))
    assert screens.screen_for_token(token) == screen
    assert BoardScreen.objects.count() == 1


def test_screens_open_for_an_administrator_and_are_linked_from_their_pages(
    administrator, admin_client
):
    screen, _ = screens.create_screen(actor=administrator, name="Reception")
    for url in (LIST, NEW, reverse("enquiries:screen_revoke", args=[screen.pk])):
        assert admin_client.get(url).status_code == 200, url
    assert f'href="{LIST}"' in admin_client.get("/settings/hub/").content.decode()
    home = admin_client.get("/").content.decode()
    assert f'href="{LIST}">Wall screens</a>' in home


def test_the_list_needs_a_get(admin_client):
    assert admin_client.post(LIST).status_code == 405


# --- How often boards turn their page ---------------------------------------------------------

PAGING = "/settings/screens/paging/"


def test_an_administrator_sets_how_often_boards_turn_their_page(make, signed_in):
    from mash.core.models import Hub

    admin = make.administrator()
    client = signed_in(admin)
    assert "turns its page every 20 seconds" in _text(client.get(LIST))
    page = client.get(PAGING).content.decode()
    assert 'value="20"' in page
    response = client.post(PAGING, {"seconds": "45"})
    assert response.status_code == 302
    assert Hub.objects.get(pk=1).board_page_seconds == 45
    event = AuditEvent.objects.get(action="board.page_seconds_changed")
    assert event.actor == admin
    assert event.detail == {"changed": {"board_page_seconds": [20, 45]}}
    assert "turns its page every 45 seconds" in _text(client.get(LIST))
    # Every board is told at its next update.
    from mash.enquiries import board

    assert board.as_data(board.build())["page_seconds"] == 45


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter how many seconds each page shows for"),
        ("ten", "Enter a whole number of seconds, like 20"),
        ("4", "Enter a whole number of seconds from 5 to 600"),
        ("601", "Enter a whole number of seconds from 5 to 600"),
        ("99999999999999999999", "Enter a whole number of seconds from 5 to 600"),
        ("<script>alert(1)</script>", "Enter a whole number of seconds, like 20"),
    ],
)
def test_a_wrong_page_time_is_refused_and_kept(make, signed_in, value, message):
    from mash.core.models import Hub

    client = signed_in(make.administrator())
    response = client.post(PAGING, {"seconds": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert message in unescape(html)
    assert "<script>alert(1)</script>" not in html
    assert Hub.objects.get(pk=1).board_page_seconds == 20
    assert not AuditEvent.objects.filter(action="board.page_seconds_changed").exists()


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_only_administrators_set_the_page_time(make, signed_in, role):
    from mash.core.models import Hub

    user = make.ROLE_FACTORIES[role]()
    client = signed_in(user)
    assert client.get(PAGING).status_code == 403
    assert client.post(PAGING, {"seconds": "30"}).status_code == 403
    with pytest.raises(PermissionDenied):
        screens.set_page_seconds(actor=user, seconds=30)
    assert Hub.objects.get(pk=1).board_page_seconds == 20
