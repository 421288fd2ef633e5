"""POST and GET /api/v1/police-notifications/: every status the API answers, and why."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from django.test import Client

from mash.accounts.models import AgencyKind, Role
from mash.api import services
from mash.api.models import ApiToken
from mash.contacts.models import (
    NotificationAdult,
    NotificationChild,
    PoliceNotification,
    TriageOutcome,
)
from mash.core import clock
from mash.core.models import AuditEvent
from tests.api.conftest import URL, Api, api_for, sample

pytestmark = pytest.mark.django_db


def _json(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = _json(response)
    assert set(body) >= {"detail", "code", "errors"}, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def _counts() -> tuple[int, int, int, int]:
    return (
        PoliceNotification.objects.count(),
        NotificationChild.objects.count(),
        NotificationAdult.objects.count(),
        AuditEvent.objects.filter(action="contacts.police_notification_received").count(),
    )


# --- 201: received -------------------------------------------------------------------------------


def test_a_notification_is_received_into_the_triage_queue(api: Api, force):
    response = api.post(sample())
    assert response.status_code == 201, response.content
    body = _json(response)
    notification = PoliceNotification.objects.get()
    assert response["Location"] == f"http://testserver{URL}{notification.pk}/"
    assert body["id"] == notification.pk
    assert body["reference"] == notification.reference
    assert body["url"] == response["Location"]
    assert body["status"] == "awaiting_triage"
    assert body["outcome"] is None
    assert body["received_via"] == "api"
    assert body["children"] == [sample()["children"][0]]
    assert [a["role"] for a in body["adults"]] == ["victim", "suspect"]
    assert notification.force == force
    assert notification.api_token == api.token
    assert notification.received_via == "api"
    assert notification.received_by is None
    assert notification.dash_risk == "medium"
    assert [c.given_name for c in notification.children.all()] == ["Amelia"]
    assert [a.role for a in notification.adults.order_by("position")] == ["victim", "suspect"]
    event = AuditEvent.objects.get(action="contacts.police_notification_received")
    assert event.actor is None
    assert event.actor_label == "api:Niche RMS"
    assert event.detail["token"] == api.token.pk
    assert event.detail["via"] == "api"
    assert api.key not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_the_time_may_be_given_in_any_offset(api: Api):
    moment = clock.now().replace(microsecond=0) - dt.timedelta(days=2)
    summer = moment.astimezone(dt.timezone(dt.timedelta(hours=1)))
    response = api.post(sample(incident_at=summer.isoformat()))
    assert response.status_code == 201
    assert PoliceNotification.objects.get().incident_at == moment
    # The same instant written in UTC is the same notification.
    again = api.post(sample(incident_at=moment.astimezone(dt.UTC).isoformat()))
    assert again.status_code == 200


def test_only_the_required_fields_are_needed(api: Api):
    data = {
        "occurrence_reference": "NR-1",
        "incident_at": sample()["incident_at"],
        "incident_type": "missing_child",
        "children": [{"given_name": "Tom"}],
    }
    response = api.post(data)
    assert response.status_code == 201, response.content
    body = _json(response)
    assert body["adults"] == []
    assert body["children"] == [
        {
            "given_name": "Tom",
            "family_name": "",
            "date_of_birth": None,
            "seen": None,
            "spoken_to": None,
        }
    ]


def test_null_in_optional_text_counts_as_empty(api: Api):
    response = api.post(sample(location=None, narrative=None))
    assert response.status_code == 201, response.content
    assert PoliceNotification.objects.get().location == ""


def test_the_token_scheme_is_accepted_too(api: Api):
    response = api.client.post(
        URL,
        json.dumps(sample()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {api.key}",
    )
    assert response.status_code == 201


def test_the_same_reference_from_another_force_is_another_notification(api: Api, make):
    other = api_for(make.agency(name="Eastshire Police", kind=AgencyKind.POLICE))
    assert api.post(sample()).status_code == 201
    assert other.post(sample()).status_code == 201
    assert PoliceNotification.objects.count() == 2


# --- 200: sent again ------------------------------------------------------------------------------


def test_sending_the_same_notification_again_creates_nothing(api: Api):
    first = api.post(sample())
    assert first.status_code == 201
    before = _counts()
    for _ in range(3):
        again = api.post(sample())
        assert again.status_code == 200, again.content
        assert _json(again)["id"] == _json(first)["id"]
        assert again["Content-Location"] == first["Location"]
        assert "Location" not in again
    assert _counts() == before == (1, 1, 2, 1)


def test_stray_whitespace_does_not_make_a_replay_a_conflict(api: Api):
    assert api.post(sample()).status_code == 201
    data = sample(occurrence_reference="  NR-2026-000001 ", officer_name="PC Dan Okafor  ")
    assert api.post(data).status_code == 200


# --- 409: the same reference, other content -------------------------------------------------------


def test_the_same_reference_with_other_content_is_a_conflict(api: Api):
    first = _json(api.post(sample()))
    before = _counts()
    response = api.post(sample(narrative="A different account."))
    body = _error(response, 409, "conflict")
    assert "NR-2026-000001 was already received" in body["detail"]
    assert first["reference"] in body["detail"]
    assert "different content" in body["detail"]
    assert body["existing"] == {
        "id": first["id"],
        "reference": first["reference"],
        "url": first["url"],
    }
    assert body["errors"] == {
        "occurrence_reference": [f"Already received ({first['reference']}) with different content"]
    }
    assert _counts() == before
    assert PoliceNotification.objects.get().narrative == sample()["narrative"]


@pytest.mark.parametrize(
    "change",
    [
        {"children": [{**sample()["children"][0], "seen": False}]},
        {"adults": []},
        {"incident_type": "drugs", "dash_risk": ""},
        {"location": "Somewhere else"},
    ],
)
def test_any_change_of_content_is_a_conflict(api: Api, change):
    api.post(sample())
    assert api.post(sample(**change)).status_code == 409


# --- 400: what is wrong, every field at once ------------------------------------------------------


def test_an_empty_object_names_every_required_field(api: Api):
    body = _error(api.post({}), 400, "invalid")
    assert body["errors"] == {
        "occurrence_reference": ["Enter the force's occurrence reference"],
        "incident_at": ["Enter the date and time of the incident"],
        "incident_type": [
            "Give the type of incident: one of domestic_abuse, missing_child, exploitation, "
            "drugs, asb, parent_arrested, other"
        ],
        "children": ["Name at least one child present (a name or a date of birth)"],
    }
    assert body["detail"] == "The request has 4 problems: see errors, by field."
    assert PoliceNotification.objects.count() == 0


def test_every_problem_is_listed_at_once_shape_and_rules(api: Api):
    """A badly formed field and a broken rule elsewhere are both reported."""
    future = (clock.now() + dt.timedelta(days=2)).isoformat()
    data = sample(
        incident_at=future,  # rule: not in the future
        dash_risk="",  # rule: required for domestic abuse
        officer_name="x" * 151,  # rule: too long
        adults=[{"role": "bystander", "given_name": "A"}],  # shape: not a role
        children=[
            {"given_name": "Old", "date_of_birth": "1990-01-01"},  # rule: under 18
            {"given_name": "", "family_name": ""},  # rule: a name or a date of birth
        ],
    )
    body = _error(api.post(data), 400, "invalid")
    assert body["errors"] == {
        "adults.0.role": [
            "The adult's role must be one of: victim, suspect, witness, other",
        ],
        "incident_at": ["The incident cannot be in the future"],
        "dash_risk": ["Enter the DASH risk level for domestic abuse"],
        "officer_name": ["Officer name must be 150 characters or fewer"],
        "children.0.date_of_birth": ["A child must be under 18"],
        "children.1.given_name": ["Enter the child's name or date of birth"],
    }


def test_a_bad_child_is_named_by_its_position(api: Api):
    children = [{"given_name": "Ann"}, {"given_name": "Bo", "date_of_birth": "2-3-2019"}]
    body = _error(api.post(sample(children=children)), 400, "invalid")
    assert body["errors"] == {
        "children.1.date_of_birth": ["Give the date as YYYY-MM-DD, like 2015-06-30"]
    }


def test_a_time_without_its_offset_is_refused(api: Api):
    body = _error(api.post(sample(incident_at="2026-03-14T21:30:00")), 400, "invalid")
    assert body["errors"] == {
        "incident_at": [
            "Give the time's offset from UTC, like 2026-03-14T21:30:00Z or "
            "2026-06-14T21:30:00+01:00"
        ]
    }


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("incident_at", "yesterday", "incident_at"),
        ("incident_at", 1700000000, "incident_at"),
        ("incident_type", "burglary", "incident_type"),
        ("incident_type", 5, "incident_type"),
        ("dash_risk", "severe", "dash_risk"),
        ("occurrence_reference", {"a": 1}, "occurrence_reference"),
        ("occurrence_reference", ["x"], "occurrence_reference"),
        ("occurrence_reference", "", "occurrence_reference"),
        ("occurrence_reference", None, "occurrence_reference"),
        ("occurrence_reference", "R" * 41, "occurrence_reference"),
        ("children", {"given_name": "Amelia"}, "children"),
        ("children", ["Amelia"], "children.0"),
        ("children", [], "children"),
        ("children", [{"given_name": "A"}] * 21, "children"),
        ("children", [{"given_name": "A", "seen": "maybe"}], "children.0.seen"),
        ("children", [{"given_name": "A", "date_of_birth": 20170502}], "children.0.date_of_birth"),
        (
            "children",
            [{"given_name": "A", "seen": False, "spoken_to": True}],
            "children.0.spoken_to",
        ),
        ("adults", "none", "adults"),
        ("adults", [{"given_name": "No role"}], "adults.0.role"),
        ("adults", [{"role": "victim"}], "adults.0.given_name"),
        ("adults", [{"role": "victim", "given_name": "A"}] * 21, "adults"),
        ("location", "L" * 301, "location"),
        ("narrative", "N" * 20_001, "narrative"),
        ("officer_team", ["Team"], "officer_team"),
        ("officer_collar_number", True, "officer_collar_number"),
    ],
)
def test_a_wrong_value_is_refused_with_its_field_named(api: Api, field, value, key):
    body = _error(api.post(sample(**{field: value})), 400, "invalid")
    assert list(body["errors"]) == [key], body
    assert all(isinstance(m, str) and m for m in body["errors"][key])
    assert PoliceNotification.objects.count() == 0


def test_a_dash_risk_is_only_for_domestic_abuse(api: Api):
    body = _error(api.post(sample(incident_type="drugs")), 400, "invalid")
    assert body["errors"] == {"dash_risk": ["A DASH risk level is given only for domestic abuse"]}


def test_unknown_fields_are_refused_not_ignored(api: Api):
    data = sample(officer_rank="Sergeant")
    data["children"][0]["school"] = "Riverside Primary"
    data["adults"][1]["dob"] = "1980-01-01"
    body = _error(api.post(data), 400, "invalid")
    assert body["errors"] == {
        "officer_rank": ["officer_rank is not a field of a police notification: remove it"],
        "children.0.school": ["school is not a field of a child: remove it"],
        "adults.1.dob": ["dob is not a field of an adult: remove it"],
    }
    assert PoliceNotification.objects.count() == 0


@pytest.mark.parametrize("body", ["[]", '"a notification"', "42", "null", "true"])
def test_a_body_that_is_not_an_object_is_refused(api: Api, body):
    response = _error(api.post(body), 400, "invalid")
    assert response["errors"] == {"non_field_errors": ["Must be a JSON object"]}


def test_an_empty_body_is_refused(api: Api):
    body = _error(api.post(""), 400, "invalid")
    assert "occurrence_reference" in body["errors"]


# --- 401: no key, an unknown key, a revoked key ---------------------------------------------------


def _unauthenticated(response: Any, words: str) -> None:
    body = _error(response, 401, "not_authenticated")
    assert words in body["detail"], body
    assert response["WWW-Authenticate"] == 'Bearer realm="Mash API"'


def test_no_key_is_refused(api: Api):
    response = api.client.post(URL, json.dumps(sample()), content_type="application/json")
    _unauthenticated(response, "Send your API key in the Authorization header")
    _unauthenticated(api.client.get(URL), "Send your API key")
    _unauthenticated(api.client.get(f"{URL}1/"), "Send your API key")
    assert PoliceNotification.objects.count() == 0


@pytest.mark.parametrize(
    "key",
    [
        "mash_not-a-real-key",
        "x" * 5000,
        "",
    ],
)
def test_an_unknown_key_is_refused(api: Api, key):
    response = api.client.post(
        URL,
        json.dumps(sample()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 401
    assert PoliceNotification.objects.count() == 0


def test_an_unknown_key_says_so(api: Api):
    _unauthenticated(api.post(sample(), key="mash_nope"), "The API key is not recognised")
    # The key's hash with one character changed is not the key.
    _unauthenticated(api.post(sample(), key=api.key[:-1] + "!"), "not recognised")


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer two words",
        "bearer\tkey with tab",
        "Bearer kéy",
    ],
)
def test_a_malformed_authorization_header_is_refused(api: Api, header):
    response = api.client.post(
        URL, json.dumps(sample()), content_type="application/json", HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 401, response.content
    assert _json(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_is_refused_from_the_next_request(api: Api, make):
    assert api.post(sample()).status_code == 201
    services.revoke_token(actor=make.administrator(), token=api.token)
    _unauthenticated(api.post(sample(occurrence_reference="NR-2")), "This API key was revoked on")
    _unauthenticated(api.get(), "revoked")
    assert PoliceNotification.objects.count() == 1


def test_a_signed_in_person_without_a_key_is_nobody_to_the_api(make, api: Api):
    """Session cookies are not an API credential (and so no CSRF question arises)."""
    for role in Role.values:
        client = Client(enforce_csrf_checks=True)
        client.force_login(make.ROLE_FACTORIES[role]())
        response = client.post(URL, json.dumps(sample()), content_type="application/json")
        assert response.status_code == 401, (role, response.content)
        assert client.get(URL).status_code == 401
    assert PoliceNotification.objects.count() == 0


# --- 403: a key that is not a police force's ------------------------------------------------------


def test_a_key_of_an_agency_that_is_not_police_is_forbidden(make):
    school = api_for(make.agency(name="Riverside Primary", kind=AgencyKind.EDUCATION))
    response = school.post(sample())
    body = _error(response, 403, "permission_denied")
    assert body["detail"] == (
        "This API key belongs to Riverside Primary, which is not a police force: only a "
        "police force's system can send or read police notifications."
    )
    assert _error(school.get(), 403, "permission_denied")
    assert PoliceNotification.objects.count() == 0


def test_a_key_of_a_police_force_no_longer_active_is_forbidden(api: Api, force):
    force.is_active = False
    force.save()
    body = _error(api.post(sample()), 403, "permission_denied")
    assert "no longer an active agency of the hub" in body["detail"]
    assert PoliceNotification.objects.count() == 0


# --- GET: the force's own notifications only ------------------------------------------------------


def test_a_force_reads_its_notification_and_where_triage_has_got_to(api: Api, make):
    created = _json(api.post(sample()))
    response = api.get(created["url"].removeprefix("http://testserver"))
    assert response.status_code == 200
    body = _json(response)
    assert body == created
    assert body["status"] == "awaiting_triage"
    # Triaged in the hub: the outcome shows, and nothing else of the hub's.
    manager = make.hub_manager()
    PoliceNotification.objects.filter(pk=created["id"]).update(
        outcome=TriageOutcome.PROGRESS_CONTACT,
        outcome_reason="Third domestic abuse notification this year: internal reasoning.",
        triaged_at=clock.now(),
        triaged_by=manager,
        quality_note="Narrative thin",
    )
    body = _json(api.get(f"{URL}{created['id']}/"))
    assert body["status"] == "triaged"
    assert body["outcome"] == "progress_contact"
    assert body["triaged_at"]
    text = json.dumps(body)
    for secret in ("internal reasoning", "Narrative thin", manager.full_name, "person", "enquiry"):
        assert secret not in text
    assert set(body) == {
        "id",
        "reference",
        "url",
        "occurrence_reference",
        "incident_at",
        "incident_type",
        "dash_risk",
        "location",
        "narrative",
        "officer_name",
        "officer_collar_number",
        "officer_team",
        "children",
        "adults",
        "received_at",
        "received_via",
        "status",
        "outcome",
        "triaged_at",
    }
    assert set(body["children"][0]) == {
        "given_name",
        "family_name",
        "date_of_birth",
        "seen",
        "spoken_to",
    }


def test_reading_a_notification_is_audited(api: Api):
    created = _json(api.post(sample()))
    api.get(f"{URL}{created['id']}/")
    event = AuditEvent.objects.get(action="contacts.policenotification.viewed")
    assert event.object_id == str(created["id"])
    assert event.actor_label == "api:Niche RMS"
    assert event.detail == {"via": "api", "token": api.token.pk}


def test_another_forces_notification_is_not_found(api: Api, make):
    other = api_for(make.agency(name="Eastshire Police", kind=AgencyKind.POLICE))
    theirs = _json(other.post(sample()))
    body = _error(api.get(f"{URL}{theirs['id']}/"), 404, "not_found")
    assert "Amelia" not in json.dumps(body)
    assert _error(api.get(f"{URL}999999/"), 404, "not_found")
    # Their list does not show ours, nor ours theirs.
    mine = _json(api.post(sample(occurrence_reference="NR-MINE")))
    assert [n["id"] for n in _json(api.get())["results"]] == [mine["id"]]
    assert [n["id"] for n in _json(other.get())["results"]] == [theirs["id"]]
    assert not AuditEvent.objects.filter(action="contacts.policenotification.viewed").exists()


def test_a_key_of_the_same_force_reads_what_another_of_its_keys_sent(api: Api, force):
    second = api_for(force, name="Athena")
    created = _json(api.post(sample()))
    assert second.get(f"{URL}{created['id']}/").status_code == 200


def test_the_list_pages_newest_first(api: Api):
    ids = [_json(api.post(sample(occurrence_reference=f"NR-{n}")))["id"] for n in range(5)]
    first = _json(api.get(f"{URL}?page_size=2"))
    assert [n["id"] for n in first["results"]] == ids[::-1][:2]
    assert set(first["results"][0]) == {
        "id",
        "reference",
        "url",
        "occurrence_reference",
        "incident_at",
        "incident_type",
        "received_at",
        "status",
        "outcome",
        "triaged_at",
    }
    second = _json(api.get(first["next"].removeprefix("http://testserver")))
    assert [n["id"] for n in second["results"]] == ids[::-1][2:4]
    assert first["previous"] is None


@pytest.mark.parametrize(
    "query", ["page_size=0", "page_size=-1", "page_size=abc", "page_size=1000", "cursor=garbage"]
)
def test_odd_paging_never_fails(api: Api, query):
    api.post(sample())
    response = api.get(f"{URL}?{query}")
    assert response.status_code in {200, 404}, response.content
    _json(response)


def test_the_list_costs_the_same_queries_for_3_and_30(api: Api, django_assert_max_num_queries):
    for n in range(3):
        api.post(sample(occurrence_reference=f"NR-{n}"))
    with django_assert_max_num_queries(3):
        assert len(_json(api.get())["results"]) == 3
    for n in range(3, 30):
        api.post(sample(occurrence_reference=f"NR-{n}"))
    with django_assert_max_num_queries(3):
        assert len(_json(api.get())["results"]) == 30


def test_reading_one_costs_a_fixed_number_of_queries(api: Api, django_assert_max_num_queries):
    created = _json(api.post(sample(children=[{"given_name": f"C{n}"} for n in range(10)])))
    with django_assert_max_num_queries(5):
        assert api.get(f"{URL}{created['id']}/").status_code == 200


def test_receiving_costs_a_fixed_number_of_queries(api: Api, django_assert_max_num_queries):
    api.post(sample(occurrence_reference="NR-warm"))
    many = sample(
        children=[{"given_name": f"C{n}"} for n in range(20)],
        adults=[{"role": "witness", "given_name": f"A{n}"} for n in range(20)],
    )
    with django_assert_max_num_queries(12):
        assert api.post(many).status_code == 201
    with django_assert_max_num_queries(6):
        assert api.post(many).status_code == 200


# --- The token's use ------------------------------------------------------------------------------


def test_the_key_is_looked_up_in_one_query_by_its_hash(api: Api, django_assert_num_queries):
    api.post(sample())  # first use: last_used_at written
    with django_assert_num_queries(2):  # the token, then the list
        api.get()
    assert ApiToken.objects.get().key_hash == hashlib.sha256(api.key.encode()).hexdigest()


def test_last_used_is_written_at_most_once_a_minute(api: Api, time_machine):
    start = clock.now()
    time_machine.move_to(start, tick=False)
    assert ApiToken.objects.get().last_used_at is None
    api.get()
    assert ApiToken.objects.get().last_used_at == start
    time_machine.move_to(start + dt.timedelta(seconds=59), tick=False)
    api.get()
    assert ApiToken.objects.get().last_used_at == start
    time_machine.move_to(start + dt.timedelta(seconds=61), tick=False)
    api.get()
    assert ApiToken.objects.get().last_used_at == start + dt.timedelta(seconds=61)


# --- Methods and formats --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_other_methods_are_refused_with_json(api: Api, method):
    for url in (URL, f"{URL}1/"):
        response = getattr(api.client, method)(
            url, "{}", content_type="application/json", **api.headers()
        )
        body = _error(response, 405, "method_not_allowed")
        assert method.upper() in body["detail"]
        assert "GET" in response["Allow"]


def test_post_to_one_notification_is_refused(api: Api):
    created = _json(api.post(sample()))
    response = api.post(sample(), url=f"{URL}{created['id']}/")
    _error(response, 405, "method_not_allowed")


def test_json_is_answered_whatever_the_client_accepts(api: Api):
    response = api.post(sample(), HTTP_ACCEPT="text/html")
    assert response.status_code == 201
    _json(response)
    response = api.get(HTTP_ACCEPT="application/xml")
    assert response.status_code == 200
    _json(response)


def test_a_bad_cursor_says_so(api: Api):
    body = _error(api.get(f"{URL}?cursor=garbage"), 404, "not_found")
    assert body["detail"] == "Invalid cursor"
