"""The OpenAPI schema (/api/schema/) and its interactive docs (/api/docs/).

Both describe the API, not anyone's data, so anyone may read them. The docs page
is Swagger UI from the drf-spectacular-sidecar package: our own static files,
its start-up script from a URL, so the site's strict CSP holds there too.
"""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema() -> dict:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_valid_and_generated_without_warnings():
    out, err = StringIO(), StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)
    document = yaml.safe_load(out.getvalue())
    assert document["openapi"].startswith("3.")
    assert err.getvalue() == ""


def test_the_schema_describes_the_notifications_endpoints(schema):
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/police-notifications/",
        "/api/v1/police-notifications/{id}/",
    }
    send = paths["/api/v1/police-notifications/"]["post"]
    assert set(send["responses"]) == {"200", "201", "400", "401", "403", "409", "413", "415"}
    assert send["security"] == [{"apiKey": []}]
    assert send["requestBody"]["content"]["application/json"]["examples"]
    read = paths["/api/v1/police-notifications/{id}/"]["get"]
    assert set(read["responses"]) == {"200", "401", "403", "404"}
    scheme = schema["components"]["securitySchemes"]["apiKey"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert "Sending again is safe" in schema["info"]["description"]
    sent = schema["components"]["schemas"]["NotificationInputRequest"]
    assert set(sent["required"]) == {
        "occurrence_reference",
        "incident_at",
        "incident_type",
        "children",
    }
    assert schema["components"]["schemas"]["Conflict"]["properties"]["existing"]


def test_the_schema_is_yaml_by_default_and_open_to_anyone():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "Mash API"


def test_a_bad_key_does_not_keep_anyone_from_the_docs():
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": "Bearer nonsense"}
    assert Client().get("/api/schema/", **headers).status_code == 200
    assert Client().get("/api/docs/", **headers).status_code == 200


def test_the_docs_page_has_no_inline_script_or_style_and_no_other_origin():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert len(scripts) == 3
    for attributes, body in scripts:
        assert 'src="' in attributes
        assert not body.strip()
    assert "<style" not in html
    assert " style=" not in html
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', html)).replace(
        "://testserver", ""
    )
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert "/api/docs/?script=" in sources
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_the_docs_start_up_script_points_at_the_schema():
    response = Client().get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert '"/api/schema/"' in response.content.decode()
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_swagger_ui_files_come_with_the_package():
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}"), name


def test_the_answers_have_exactly_the_fields_the_schema_documents(schema, force):
    """The answers are written by hand (mash.api.serializers.as_detail, for speed): they
    must say what the schema says, no more and no less."""
    from tests.api.conftest import api_for, sample

    api = api_for(force)
    components = schema["components"]["schemas"]
    detail = set(components["NotificationOutput"]["properties"])
    created = json.loads(api.post(sample()).content)
    assert set(created) == detail
    assert set(json.loads(api.post(sample()).content)) == detail  # the replay's answer
    assert set(json.loads(api.get(created["url"]).content)) == detail
    child = set(components["ChildOutput"]["properties"])
    adult = set(components["AdultOutput"]["properties"])
    assert set(created["children"][0]) == child
    assert set(created["adults"][0]) == adult
    listed = json.loads(api.get().content)
    assert set(listed) == set(components["PaginatedNotificationSummaryList"]["properties"])
    assert set(listed["results"][0]) == set(components["NotificationSummary"]["properties"])
    assert created["incident_at"].endswith("Z")
    assert created["received_at"].endswith("Z")
