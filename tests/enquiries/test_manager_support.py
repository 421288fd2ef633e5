"""Builders shared by the hub's enquiry page tests (test_manager_*.py); no tests here."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from django.urls import reverse

from mash.enquiries import services
from mash.enquiries.models import Enquiry, Outcome, Sensitivity
from mash.people.models import Person
from tests.enquiries import journey

XSS = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"
TOO_LONG = "x" * 20_001
SIGN_IN_URL = reverse("accounts:sign_in")


def url(name: str, *args: Any) -> str:
    return reverse(f"enquiries:{name}", args=args)


def text(response: Any) -> str:
    """The page's main content as plain text, entities decoded, spaces collapsed."""
    html = response.content.decode()
    start, end = html.find("<main"), html.find("</main>")
    body = html[start:end] if start >= 0 else html
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def problem(response: Any) -> str:
    """A re-shown form with errors: the GOV.UK error summary and 'Error:' in the title."""
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert "There is a problem" in html
    assert "<title>Error: " in html
    assert XSS not in html
    return text(response)


def first_child(enquiry: Enquiry) -> Person:
    return services.children_of(enquiry)[0]


def answer_all(hub: journey.Hub, enquiry: Enquiry) -> None:
    """Every agency answers: police with a MASH-only item, the rest nothing held."""
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[
            services.ItemEntry(
                summary="Partner known for violence",
                detail="Intelligence report 2291 names the partner.",
                sensitivity=Sensitivity.MASH_ONLY,
            )
        ],
    )
    for key in ("health", "education", "social_care"):
        services.answer_request(
            actor=hub.practitioners[key],
            request=journey.request_for(enquiry, getattr(hub, key)),
            nothing_held=True,
        )


def decision_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "outcome": Outcome.SECTION_17,
        "primary_need": "N1",
        "themes": ["domestic_abuse", "neglect"],
        "rationale": "Bruising and police intelligence: a child and family assessment is needed.",
        "next_team": "Assessment team north",
        "referrer_feedback": "Thank you: the assessment team will contact the family.",
        "lead_professional_agency": "",
    }
    data.update(overrides)
    return data


def decide(hub: journey.Hub, enquiry: Enquiry, child: Person | None = None, **kw: Any) -> Any:
    fields: dict[str, Any] = {
        "outcome": Outcome.SECTION_17,
        "primary_need": "N1",
        "rationale": "Assessment needed.",
        "next_team": "Assessment team",
        "pending_reason": "Deciding now.",
    }
    fields.update(kw)
    return services.decide(
        actor=hub.manager, enquiry=enquiry, child=child or first_child(enquiry), **fields
    )
