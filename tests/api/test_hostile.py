"""The API under wrong, oversized and hostile input: always a JSON answer, never a 500
(and when something does break, a JSON 500 with nothing of the code in it)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from mash.contacts import police
from mash.contacts.models import PoliceNotification
from tests.api.conftest import URL, Api, sample

pytestmark = pytest.mark.django_db


def _json(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json"), (
        response.status_code,
        response["Content-Type"],
        response.content[:300],
    )
    body = json.loads(response.content)
    assert set(body) >= {"detail", "code", "errors"} or response.status_code < 400, body
    return body


# --- 413: too large -------------------------------------------------------------------------------


def test_a_body_over_256_kb_is_refused_before_it_is_read(api: Api):
    data = sample(narrative="N" * (256 * 1024))
    response = api.post(data)
    assert response.status_code == 413
    body = _json(response)
    assert body["code"] == "payload_too_large"
    assert "larger than the API accepts (256 KB)" in body["detail"]
    assert PoliceNotification.objects.count() == 0


def test_a_body_just_under_the_limit_is_read(api: Api):
    # Read, then refused for what it says (a narrative over 20,000 characters), not its size.
    response = api.post(sample(narrative="N" * (250 * 1024)))
    assert response.status_code == 400
    assert list(_json(response)["errors"]) == ["narrative"]


def test_a_body_larger_than_it_claims_is_read_only_as_far_as_it_claims(api: Api):
    body = json.dumps(sample()).encode()
    response = api.client.post(
        URL,
        body + b" " * 10 + b"x" * 1000,
        content_type="application/json",
        CONTENT_LENGTH=str(len(body)),
        **api.headers(),
    )
    assert response.status_code == 201


def test_the_limit_is_a_setting(api: Api, settings):
    settings.MASH_API_MAX_BODY_BYTES = 100
    response = api.post(sample())
    assert response.status_code == 413
    assert "larger than the API accepts (100 bytes)" in _json(response)["detail"]


def test_a_large_body_without_a_key_is_refused_as_unauthenticated(api: Api):
    response = api.client.post(
        URL, json.dumps(sample(narrative="N" * 300_000)), content_type="application/json"
    )
    assert response.status_code == 401


# --- 415: not JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "text/html",
        "application/jsonp",
        "",
    ],
)
def test_a_body_that_is_not_sent_as_json_is_refused(api: Api, content_type):
    response = api.post(json.dumps(sample()), content_type=content_type)
    assert response.status_code == 415, response.content
    body = _json(response)
    assert body["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in body["detail"]
    assert PoliceNotification.objects.count() == 0


def test_a_form_post_is_refused(api: Api):
    response = api.client.post(URL, {"occurrence_reference": "NR-1"}, **api.headers())
    assert response.status_code == 415
    assert _json(response)["code"] == "unsupported_media_type"


def test_json_with_a_charset_is_json(api: Api):
    response = api.post(sample(), content_type="application/json; charset=utf-8")
    assert response.status_code == 201


# --- 400: not JSON at all -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"occurrence_reference": "NR-1",}',
        b"{'occurrence_reference': 'NR-1'}",
        b'{"incident_type": NaN}',
        b'{"incident_type": Infinity}',
        b"\xff\xfe{}",
        b'{"narrative": "\xc3\x28"}',
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b"\x00",
    ],
)
def test_malformed_json_is_a_400_that_says_so(api: Api, body):
    response = api.post(body)
    assert response.status_code == 400, response.content[:300]
    answer = _json(response)
    assert answer["code"] == "invalid"
    assert answer["errors"]["non_field_errors"] == [answer["detail"]]
    assert PoliceNotification.objects.count() == 0


# --- Hostile strings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("narrative", "before\u0000after"),
        ("occurrence_reference", "NR\u00001"),
        ("narrative", "half a pair \ud800 here"),
        ("location", "\udfff"),
    ],
)
def test_characters_no_database_can_store_are_refused(api: Api, field, value):
    response = api.post(sample(**{field: value}))
    assert response.status_code == 400, response.content
    assert list(_json(response)["errors"]) == [field]
    assert PoliceNotification.objects.count() == 0


def test_a_nul_in_a_childs_name_is_refused_by_its_path(api: Api):
    response = api.post(sample(children=[{"given_name": "Am\u0000elia"}]))
    assert response.status_code == 400
    assert list(_json(response)["errors"]) == ["children.0.given_name"]


@pytest.mark.parametrize(
    "field", ["occurrence_reference", "location", "officer_name", "officer_team", "narrative"]
)
def test_a_100k_character_field_is_refused_not_stored(api: Api, field):
    response = api.post(sample(**{field: "A" * 100_000}))
    assert response.status_code == 400
    errors = _json(response)["errors"]
    assert list(errors) == [field]
    assert "characters or fewer" in errors[field][0]


def test_a_100k_character_name_is_refused(api: Api):
    response = api.post(sample(children=[{"given_name": "A" * 100_000}]))
    assert response.status_code == 400
    assert _json(response)["errors"] == {
        "children.0.given_name": ["Names must be 100 characters or fewer"]
    }


def test_markup_is_stored_as_text_and_answered_as_json(api: Api):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = api.post(
        sample(narrative=script, children=[{"given_name": script[:100], "family_name": "Jones"}])
    )
    assert response.status_code == 201
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/json"
    notification = PoliceNotification.objects.get()
    assert notification.narrative == script
    assert json.loads(response.content)["narrative"] == script


def test_names_in_any_script_are_kept_exactly(api: Api):
    children = [{"given_name": "Zoë", "family_name": "Ó Súilleabháin"}, {"given_name": "李"}]
    response = api.post(sample(children=children, narrative="Siân said “no” — 🙂"))
    assert response.status_code == 201
    body = json.loads(response.content)
    assert [c["given_name"] for c in body["children"]] == ["Zoë", "李"]
    assert body["narrative"] == "Siân said “no” — 🙂"
    assert api.post(sample(children=children, narrative="Siân said “no” — 🙂")).status_code == 200


def test_many_unknown_fields_with_long_names_give_a_bounded_answer(api: Api):
    data = sample(**{f"{'k' * 1000}{n}": n for n in range(200)})
    response = api.post(data)
    assert response.status_code == 400
    errors = _json(response)["errors"]
    assert len(errors) <= 100
    assert all(len(key) <= 60 for key in errors)
    assert len(response.content) < 50_000


def test_control_characters_and_whitespace_are_kept_inert(api: Api):
    response = api.post(sample(narrative="line 1\r\nline 2\ttabbed\u202eevil\u200b"))
    assert response.status_code == 201
    assert PoliceNotification.objects.get().narrative == "line 1\r\nline 2\ttabbed\u202eevil\u200b"


# --- Never a traceback ----------------------------------------------------------------------------


def test_an_unexpected_error_is_a_json_500_with_nothing_of_the_code(api: Api, monkeypatch, caplog):
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("secret internals /work/main/src/mash")

    monkeypatch.setattr(police, "receive_notification", broken)
    response = api.post(sample())
    assert response.status_code == 500
    body = _json(response)
    assert body["code"] == "server_error"
    assert "Something went wrong on our side" in body["detail"]
    text = response.content.decode()
    for leak in ("Traceback", "RuntimeError", "secret internals", "/work/", "<html"):
        assert leak not in text
    assert "RuntimeError" in caplog.text  # logged for the operator


@pytest.mark.parametrize(
    "url",
    [
        "/api/",
        "/api/v1/",
        "/api/v2/police-notifications/",
        "/api/v1/police-notifications/abc/",
        "/api/v1/police-notifications/1/extra/",
        "/api/v1/police-notifications",  # no slash: never an HTML redirect page
    ],
)
def test_an_unknown_api_address_is_a_json_404(api: Api, url):
    for response in (api.get(url), api.post(sample(), url=url)):
        assert response.status_code in {404, 301}, (url, response.status_code)
        if response.status_code == 404:
            assert _json(response)["code"] == "not_found"


def test_a_host_not_allowed_is_a_json_400(api: Api):
    response = api.get(HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert _json(response)["code"] == "invalid"


def test_a_csrf_check_is_not_what_refuses_a_signed_in_browser(make, api: Api):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(make.hub_manager())
    response = client.post(
        URL, json.dumps(sample()), content_type="application/json", **api.headers()
    )
    assert response.status_code == 201  # the key, not the session, is what counts
