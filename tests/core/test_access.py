"""Who reaches which page: every URL for every role, and the navigation that goes with it.

The walk below covers every URL pattern the project has, so a page added later
is checked without anyone remembering to add it here: for an administrator,
anything not on the short allowlist (their own account, the hub's settings,
the audit log) must answer 403 or 404. Administrators never see case data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from mash.accounts.models import Role
from mash.core import navigation
from mash.people.selectors import person_index_size

pytestmark = pytest.mark.django_db

CONVERTER_VALUES = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": "0" * 32}
CONVERTER_VALUES["uuid"] = "00000000-0000-0000-0000-000000000001"


@dataclass(frozen=True)
class Route:
    url: str
    name: str  # namespaced, e.g. "core:audit_log"; "" for an unnamed pattern


def _fill_route(route: str) -> str:
    def value(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        return CONVERTER_VALUES[converter]

    return re.sub(r"<(?:(\w+):)?\w+>", value, route)


def _fill_regex(regex: str) -> str:
    def value(match: re.Match[str]) -> str:
        body = match.group(1)
        if re.fullmatch(r"[\w|]+", body):
            return body.split("|")[0]  # a choice of words: take the first
        return "x"

    filled = re.sub(r"\(\?P<\w+>((?:[^()]|\([^()]*\))*)\)", value, regex)
    return filled.replace("^", "").replace("$", "")


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry.pattern, RoutePattern):
            part = _fill_route(str(entry.pattern))
        else:
            assert isinstance(entry.pattern, RegexPattern)
            part = _fill_regex(str(entry.pattern))
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + part, ns)
        else:
            assert isinstance(entry, URLPattern)
            yield Route("/" + prefix + part, f"{namespace}{entry.name}" if entry.name else "")


ROUTES = list(_walk(get_resolver().url_patterns))

# What an administrator may reach: their own account and sign-in pages, the hub's
# settings and people, the audit log, and Django's admin (which sends anyone who is
# not platform staff to its own sign-in). Nothing else, and no case data ever.
ADMINISTRATOR_ALLOWED = {
    "core:home",
    "core:accessibility",
    "core:audit_log",
    "core:hub_settings",
    "core:clock_settings",
    "accounts:sign_in",
    "accounts:sign_out",
    "accounts:signed_out",
    "accounts:two_factor_verify",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:account",
    "accounts:password_change",
    "accounts:two_factor_setup",
    "accounts:recovery_codes",
    "accounts:recovery_codes_regenerate",
    "accounts:agency_list",
    "accounts:agency_create",
    "accounts:agency_edit",
    "accounts:user_list",
    "accounts:user_create",
    "accounts:user_edit",
    "accounts:user_set_active",
    "accounts:user_reset_two_factor",
    "accounts:user_unlock",
    # Everyone's own notifications.
    "core:notifications",
    "core:notification_open",
    "core:notifications_read_all",
    # The hub's teams and wall screens.
    "core:team_list",
    "core:team_create",
    "core:team_edit",
    "core:team_set_active",
    "enquiries:screen_list",
    "enquiries:screen_create",
    "enquiries:screen_revoke",
    # API keys for agencies' systems, and the API's public description (no data in it).
    "api_tokens:list",
    "api_tokens:create",
    "api_tokens:revoke",
    "api:schema",
    "api:docs",
    # The API answers 401 to anyone without a key, signed in or not: no session reaches it
    # (tests/api/test_notifications.py checks every role).
    "api:police_notifications",
    "api:police_notification",
    "enquiries:screen_paging",
    # The postcode-to-ward lookup for the hotspots report: postcodes and wards, no case data.
    "reporting:wards",
}
ADMIN_SITE_PREFIX = "/django-admin/"


def _allowed_for_administrator(route: Route) -> bool:
    return route.name in ADMINISTRATOR_ALLOWED or route.url.startswith(ADMIN_SITE_PREFIX)


def test_the_walk_finds_every_kind_of_page():
    urls = {r.url for r in ROUTES}
    names = {r.name for r in ROUTES}
    assert "/audit/" in urls
    assert "/settings/users/1/active/" in urls
    assert "/password-reset/x/x/" in urls
    # A regex pattern, filled with a real app label.
    assert any(re.fullmatch(r"/django-admin/\w+/", url) for url in urls)
    assert "core:hub_settings" in names
    assert len(ROUTES) > 50


def test_every_url_built_by_the_walk_resolves_to_its_own_pattern():
    for route in ROUTES:
        match = resolve(route.url)
        if route.name:
            assert match.view_name == route.name, route


def test_the_allowlist_names_only_pages_that_exist():
    names = {r.name for r in ROUTES}
    assert names >= ADMINISTRATOR_ALLOWED, ADMINISTRATOR_ALLOWED - names


ROLES = [*Role.values, "anonymous"]


def _signed_in_client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_no_page_fails_for_any_role(role, make, caplog):
    """GET and an empty POST to every URL: never a server error, whoever asks."""
    caplog.set_level(logging.ERROR, logger="django.request")  # 403s and 404s are expected
    user = None if role == "anonymous" else make.ROLE_FACTORIES[role]()
    client = _signed_in_client(user)
    failures = []
    for route in ROUTES:
        # Django's admin answers a POST from anyone who is not platform staff as it
        # answers a GET (its sign-in page), so one request each is enough there.
        methods = ("get",) if route.url.startswith(ADMIN_SITE_PREFIX) else ("get", "post")
        for method in methods:
            response = getattr(client, method)(route.url)
            if response.status_code >= 500:
                failures.append((method, route.url, response.status_code))
            if user is not None and "_auth_user_id" not in client.session:
                client = _signed_in_client(user)  # that was the sign-out page
    assert failures == []


def _reached_by_administrator(client: Client, routes: list[Route]) -> list[tuple[str, int]]:
    """Pages outside the allowlist that answer an administrator with anything but 403/404."""
    reached = []
    for route in routes:
        if _allowed_for_administrator(route):
            continue
        for method in ("get", "post"):
            status = getattr(client, method)(route.url).status_code
            if status not in {403, 404}:
                reached.append((f"{method.upper()} {route.url}", status))
    return reached


def test_an_administrator_reaches_nothing_outside_the_allowlist(make, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    client = _signed_in_client(make.administrator())
    assert _reached_by_administrator(client, ROUTES) == []


def test_the_walk_would_catch_a_case_page_open_to_administrators(make, settings, caplog):
    """The check above, run over the test URLs: it flags the unguarded case page only."""
    caplog.set_level(logging.ERROR, logger="django.request")
    settings.ROOT_URLCONF = "tests.core.error_urls"
    routes = list(_walk(get_resolver().url_patterns))
    assert {"/test-cases/guarded/", "/test-cases/unguarded/"} <= {r.url for r in routes}
    client = _signed_in_client(make.administrator())
    reached = _reached_by_administrator(client, routes)
    assert ("GET /test-cases/unguarded/", 200) in reached
    assert not [r for r in reached if "/test-cases/guarded/" in r[0]]
    assert not [r for r in reached if "/test-errors/refuses/" in r[0]]


def test_an_administrator_is_refused_by_the_admin_site_and_sent_to_its_sign_in(make, signed_in):
    client = signed_in(make.administrator())
    response = client.get("/django-admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/django-admin/login/")


def test_an_administrator_holds_no_case_data_permission(make):
    administrator = make.administrator()
    assert not administrator.has_perm("people.view_person_index")
    assert not administrator.has_perm("people.add_person")
    assert person_index_size(user=administrator) is None


def test_an_analyst_holds_no_case_data_permission(make):
    analyst = make.analyst()
    assert not analyst.has_perm("people.view_person_index")
    assert person_index_size(user=analyst) is None


@pytest.mark.parametrize(
    "role", [Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR, Role.AGENCY_PRACTITIONER]
)
def test_case_workers_may_use_the_person_index(role, make):
    assert person_index_size(user=make.ROLE_FACTORIES[role]()) == 0


SETTINGS_PAGES = [
    "/settings/agencies/",
    "/settings/agencies/new/",
    "/settings/users/",
    "/settings/users/new/",
    "/settings/hub/",
]


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_settings_pages_are_refused_to_everyone_but_administrators(role, make):
    user = make.ROLE_FACTORIES[role]()
    client = Client()
    client.force_login(user)
    for url in [
        *SETTINGS_PAGES,
        f"/settings/agencies/{user.agency_id}/",
        f"/settings/users/{user.pk}/",
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Taken over"}).status_code == 403, url
    for url in (
        f"/settings/users/{user.pk}/active/",
        f"/settings/users/{user.pk}/two-factor/reset/",
    ):
        assert client.post(url).status_code == 403, url
    user.refresh_from_db()
    assert user.is_active


def test_settings_pages_open_for_an_administrator(make, signed_in):
    client = signed_in(make.administrator())
    for url in SETTINGS_PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "role",
    [Role.REFERRAL_COORDINATOR, Role.AGENCY_PRACTITIONER, Role.ADVICE_LINE_WORKER, Role.ANALYST],
)
def test_audit_log_is_refused_to_case_workers_and_analysts(role, make, signed_in):
    response = signed_in(make.ROLE_FACTORIES[role]()).get("/audit/")
    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


def test_a_user_with_no_role_reaches_only_their_own_pages(make, signed_in):
    client = signed_in(make.user())
    assert client.get("/").status_code == 200
    assert client.get("/account/").status_code == 200
    for url in [*SETTINGS_PAGES, "/audit/"]:
        assert client.get(url).status_code == 403, url


# --- Navigation -------------------------------------------------------------------------------

NAV_LINKS = {
    "Home": "/",
    "Contacts": "/contacts/",
    "Enquiries": "/enquiries/",
    "Board": "/enquiries/board/",
    "Requests": "/requests/",
    "Police notifications": "/police/",
    "Advice line": "/advice/",
    "People": "/people/",
    "Reports": "/reports/",
    "Agencies": "/settings/agencies/",
    "Users": "/settings/users/",
    "Hub settings": "/settings/hub/",
    "API keys": "/settings/api-tokens/",
    "Audit log": "/audit/",
}
EXPECTED_NAV = {
    Role.HUB_MANAGER: [
        "Home",
        "Contacts",
        "Enquiries",
        "Board",
        "Police notifications",
        "Advice line",
        "People",
        "Reports",
        "Audit log",
    ],
    Role.REFERRAL_COORDINATOR: ["Home", "Contacts", "Enquiries", "People"],
    Role.AGENCY_PRACTITIONER: ["Home", "Requests"],
    Role.POLICE_RESEARCHER: ["Home", "Police notifications", "People"],
    Role.ADVICE_LINE_WORKER: ["Home", "Advice line", "People"],
    Role.ANALYST: ["Home", "Reports"],
    Role.ADMINISTRATOR: ["Home", "Agencies", "Users", "Hub settings", "API keys", "Audit log"],
}


def _navigation_html(html: str) -> str:
    match = re.search(
        r'<nav aria-label="Menu" class="govuk-service-navigation__wrapper">.*?</nav>', html, re.S
    )
    assert match, "no service navigation on the page"
    return match.group(0)


@pytest.mark.parametrize("role", Role.values)
def test_navigation_shows_only_what_the_role_may_use(role, make, signed_in):
    html = signed_in(make.ROLE_FACTORIES[role]()).get("/").content.decode()
    nav = _navigation_html(html)
    shown = re.findall(r'<a class="govuk-service-navigation__link" href="([^"]*)"', nav)
    assert shown == [NAV_LINKS[text] for text in EXPECTED_NAV[role]]
    for text in EXPECTED_NAV[role]:
        assert text in nav


@pytest.mark.parametrize("role", Role.values)
def test_every_link_in_the_navigation_opens(role, make, signed_in):
    user = make.ROLE_FACTORIES[role]()
    client = signed_in(user)
    request = RequestFactory().get("/")
    request.user = user
    for item in navigation.items_for(request):
        assert client.get(item["href"]).status_code == 200, item


def test_navigation_marks_the_current_page(make, signed_in):
    html = signed_in(make.administrator()).get("/settings/users/").content.decode()
    nav = _navigation_html(html)
    current = re.findall(r'govuk-service-navigation__item--active">\s*<a[^>]*href="([^"]*)"', nav)
    assert current == ["/settings/users/"]


def test_navigation_is_empty_for_a_visitor_who_has_not_signed_in():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert navigation.items_for(request) == []
    html = Client().get(reverse("accounts:sign_in")).content.decode()
    assert "govuk-service-navigation__list" not in html
    assert 'href="/audit/"' not in html
