"""A police force with an API key, and a client that calls the API with it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from mash.accounts.models import Agency, AgencyKind
from mash.api import services
from mash.api.models import ApiToken
from mash.core import clock
from tests import factories

URL = "/api/v1/police-notifications/"
# One moment for every sample, so the same sample sent twice is the same notification.
INCIDENT = (clock.now() - dt.timedelta(days=1)).replace(microsecond=0)


def sample(**overrides: Any) -> dict[str, Any]:
    """A valid notification as a force's system would send it."""
    data: dict[str, Any] = {
        "occurrence_reference": "NR-2026-000001",
        "incident_at": INCIDENT.isoformat(),
        "incident_type": "domestic_abuse",
        "dash_risk": "medium",
        "location": "12 Acacia Avenue, Riverside",
        "children": [
            {
                "given_name": "Amelia",
                "family_name": "Jones",
                "date_of_birth": "2017-05-02",
                "seen": True,
                "spoken_to": False,
            }
        ],
        "adults": [
            {"role": "victim", "given_name": "Sarah", "family_name": "Jones"},
            {"role": "suspect", "given_name": "Mark", "family_name": "Jones"},
        ],
        "narrative": "Neighbours heard shouting. Amelia was in her bedroom.",
        "officer_name": "PC Dan Okafor",
        "officer_collar_number": "4471",
        "officer_team": "Response Team B",
    }
    data.update(overrides)
    return data


@dataclass
class Api:
    """Calls the API with one key, as the force's system would."""

    key: str
    token: ApiToken
    client: Client

    def headers(self, key: str | None = None, scheme: str = "Bearer") -> dict[str, Any]:
        return {"HTTP_AUTHORIZATION": f"{scheme} {key or self.key}"}

    def post(self, data: Any, *, key: str | None = None, url: str = URL, **extra: Any) -> Any:
        body = data if isinstance(data, str | bytes) else json.dumps(data)
        extra.setdefault("content_type", "application/json")
        return self.client.post(url, body, **self.headers(key), **extra)

    def get(self, url: str = URL, *, key: str | None = None, **extra: Any) -> Any:
        return self.client.get(url, **self.headers(key), **extra)


def issue(agency: Agency, name: str = "Niche RMS") -> tuple[ApiToken, str]:
    return services.issue_token(actor=factories.administrator(), agency=agency, name=name)


def api_for(agency: Agency, name: str = "Niche RMS") -> Api:
    token, key = issue(agency, name)
    return Api(key=key, token=token, client=Client(raise_request_exception=False))


@pytest.fixture
def force(make: Any) -> Agency:
    return make.agency(name="Riverside Police", kind=AgencyKind.POLICE)


@pytest.fixture
def api(force: Agency) -> Api:
    return api_for(force)
