"""Error pages: GOV.UK-styled, the right status, and the 500 page needs nothing that may be down."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from mash.core import views
from tests.factories import PASSWORD

ERROR_URLS = "tests.core.error_urls"


def _styled(html: str) -> None:
    assert 'class="govuk-template"' in html
    assert "govuk-heading-l" in html
    assert "/static/css/app.css" in html
    assert "Traceback" not in html


@pytest.mark.django_db
def test_a_missing_page_is_a_styled_404(make, signed_in, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    response = signed_in(make.coordinator()).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    _styled(html)
    assert "<title>Page not found" in html
    assert "If you typed the web address, check it is correct." in html
    assert 'href="/"' in html


@pytest.mark.django_db
def test_a_missing_page_is_a_404_for_a_visitor_too(client, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    _styled(response.content.decode())


@pytest.mark.django_db
def test_a_missing_record_is_a_styled_404(make, signed_in, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    response = signed_in(make.administrator()).get("/settings/users/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_permission_denied_is_a_styled_403(make, signed_in, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    response = signed_in(make.analyst()).get(reverse("core:hub_settings"))
    assert response.status_code == 403
    html = response.content.decode()
    _styled(html)
    assert "You do not have access to this page" in html
    assert "ask your hub manager or an administrator" in html


@pytest.mark.django_db
def test_a_view_raising_permission_denied_is_a_styled_403(settings, make, signed_in, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    settings.ROOT_URLCONF = ERROR_URLS
    response = signed_in(make.hub_manager()).get("/test-errors/refuses/")
    assert response.status_code == 403
    html = response.content.decode()
    _styled(html)
    assert "You do not have access to this page" in html


@pytest.mark.django_db
def test_a_suspicious_request_is_a_styled_400(settings, caplog):
    caplog.set_level(logging.CRITICAL, logger="django.security")
    settings.ROOT_URLCONF = ERROR_URLS
    response = Client().get("/test-errors/suspicious/")
    assert response.status_code == 400
    html = response.content.decode()
    _styled(html)
    assert "Sorry, the service could not understand that request" in html


@pytest.mark.django_db
def test_an_unknown_host_is_a_styled_400(caplog):
    caplog.set_level(logging.CRITICAL, logger="django.security")
    response = Client(HTTP_HOST="attacker.example").get("/")
    assert response.status_code == 400
    _styled(response.content.decode())


def test_the_500_page_renders_with_no_request_and_no_database():
    # No django_db mark: any database query here would fail the test.
    response = views.server_error(None)  # type: ignore[arg-type]
    assert response.status_code == 500
    html = response.content.decode()
    _styled(html)
    assert "Sorry, there is a problem with the service" in html
    assert "<title>Sorry, there is a problem with the service \N{EN DASH} Mash</title>" in html


def test_the_500_page_renders_for_a_bare_request():
    response = views.server_error(RequestFactory().get("/anything/"))
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()


def test_a_view_that_fails_gives_the_styled_500_page(settings, caplog):
    # No django_db mark: an anonymous request that fails must not need the database
    # to say so.
    settings.ROOT_URLCONF = ERROR_URLS
    response = Client(raise_request_exception=False).get("/test-errors/fails/")
    assert response.status_code == 500
    html = response.content.decode()
    _styled(html)
    assert "Sorry, there is a problem with the service" in html
    assert "this view always fails" not in html
    assert any("this view always fails" in str(r.exc_info) for r in caplog.records if r.exc_info)


@pytest.mark.django_db
def test_a_view_that_fails_for_a_signed_in_user_gives_the_styled_500_page(
    settings, make, signed_in
):
    settings.ROOT_URLCONF = ERROR_URLS
    client = signed_in(make.hub_manager(), Client(raise_request_exception=False))
    response = client.get("/test-errors/fails/")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_a_friendly_403(make):
    user = make.coordinator()
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("accounts:sign_in"), {"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 403
    html = response.content.decode()
    _styled(html)
    assert "Your form could not be sent" in html
    assert "Go back, reload the page, and try again." in html
    assert "CSRF" not in html
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_signed_in_form_sent_without_its_csrf_token_changes_nothing(make):
    from mash.core.models import Hub

    client = Client(enforce_csrf_checks=True)
    client.force_login(make.administrator())
    response = client.post(reverse("core:hub_settings"), {"name": "Forged", "la_code": "210"})
    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
    assert Hub.load().name != "Forged"


@pytest.mark.django_db
def test_the_same_form_with_its_token_is_accepted(make):
    user = make.coordinator()
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("accounts:sign_in"))
    token = page.cookies["mash_csrftoken"].value
    response = client.post(
        reverse("accounts:sign_in"),
        {"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
