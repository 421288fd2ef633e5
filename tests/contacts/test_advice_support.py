"""Builders for the advice-line tests: calls, a child in the index, a valid post.

(Named test_advice_* to sit with the advice tests; it holds no tests itself.)
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from typing import Any

from mash.accounts.models import AgencyKind, User
from mash.contacts import advice
from mash.contacts.models import Consultation, ConsultationOutcome
from mash.core import clock
from mash.people import services as people_services
from mash.people.models import Person
from tests import factories

# A Wednesday morning in British Summer Time, so London and UTC differ by an hour.
NOW = dt.datetime(2025, 6, 11, 9, 30, tzinfo=dt.UTC)  # 10:30 in London
TODAY = dt.date(2025, 6, 11)


@dataclass
class Line:
    """The advice line: two workers, a hub manager, and someone in every other role."""

    worker: User
    colleague: User
    manager: User


def line() -> Line:
    return Line(
        worker=factories.advice_line_worker(full_name="Asha Worker"),
        colleague=factories.advice_line_worker(full_name="Ben Colleague"),
        manager=factories.hub_manager(full_name="Maya Manager"),
    )


def entry(**overrides: Any) -> advice.ConsultationEntry:
    fields: dict[str, Any] = {
        "caller_name": "Priya Shah",
        "caller_role": "Designated safeguarding lead",
        "caller_agency": "Riverside Primary",
        "caller_agency_kind": AgencyKind.EDUCATION,
        "caller_phone": "01632 960 001",
        "caller_email": "priya.shah@riverside.example",
        "worry": "Amelia has come to school hungry most days this term.",
        "advice": "Talk to her mother about the school's breakfast club; note what she says.",
        "outcome": ConsultationOutcome.ADVICE_ONLY,
    }
    fields.update(overrides)
    return advice.ConsultationEntry(**fields)


def call(actor: User, *, at: dt.datetime | None = None, **overrides: Any) -> Consultation:
    if at is None:
        return advice.log_consultation(actor=actor, entry=entry(**overrides))
    with clock.at(at):
        return advice.log_consultation(actor=actor, entry=entry(**overrides))


def indexed_child(
    given: str = "Amelia",
    family: str = "Hart",
    born: dt.date = dt.date(2018, 5, 4),
    postcode: str = "RV1 2AB",
    nhs_number: str = "9434765919",
) -> Person:
    household = people_services.new_household(line_1="12 Mill Lane", postcode=postcode)
    return people_services.add_person(
        actor=None,
        member=people_services.NewPerson(
            given_name=given,
            family_name=family,
            sex="F",
            ethnicity="WBRI",
            date_of_birth=born,
            nhs_number=nhs_number,
        ),
        household=household,
    )


def date_parts(name: str, day: dt.date | tuple[str, str, str] | None) -> dict[str, str]:
    if day is None:
        parts = ("", "", "")
    elif isinstance(day, dt.date):
        parts = (str(day.day), str(day.month), str(day.year))
    else:
        parts = day
    return {f"{name}-day": parts[0], f"{name}-month": parts[1], f"{name}-year": parts[2]}


def valid_post(**overrides: Any) -> dict[str, Any]:
    """The call form as a browser posts it: no child named, advice only, no follow-up."""
    data: dict[str, Any] = {
        "caller_name": "Priya Shah",
        "caller_role": "Designated safeguarding lead",
        "caller_agency": "Riverside Primary",
        "caller_agency_kind": AgencyKind.EDUCATION,
        "caller_phone": "01632 960 001",
        "caller_email": "priya.shah@riverside.example",
        "child_given_name": "",
        "child_family_name": "",
        "link_to": "",
        "matched": "",
        "worry": "Amelia has come to school hungry most days this term.",
        "advice": "Talk to her mother about the school's breakfast club.",
        "outcome": ConsultationOutcome.ADVICE_ONLY,
        "early_help_support": "",
        "version": "",
        "action": "save",
    }
    dates = {
        "child_date_of_birth": overrides.pop("child_date_of_birth", None),
        "follow_up_on": overrides.pop("follow_up_on", None),
    }
    for name, day in dates.items():
        data.update(date_parts(name, day))
    data.update(overrides)
    return data


def text(response: Any) -> str:
    """The page's visible words, tags removed and spaces squeezed."""
    body = response.content.decode()
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def error_for(response: Any, field_id: str) -> str:
    match = re.search(
        rf'<p id="{re.escape(field_id)}-error" class="govuk-error-message">(.*?)</p>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no error shown for {field_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()).replace(
        "Error: ", ""
    )


def summary_links(response: Any) -> list[str]:
    body = response.content.decode()
    summary = re.search(r'class="govuk-error-summary".*?</ul>', body, re.S)
    assert summary, "no error summary"
    return re.findall(r'<a href="([^"]+)"', summary.group(0))
