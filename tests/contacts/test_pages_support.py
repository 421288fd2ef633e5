"""Helpers for the contact page tests: a valid post, and reading what a page shows.

(Named test_pages_* to sit with the page tests; it holds no tests itself.)
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from mash.core import clock

# A moment in British Summer Time, so London and UTC differ by an hour.
NOW = dt.datetime(2025, 6, 11, 9, 30, tzinfo=dt.UTC)  # 10:30 in London
TODAY = dt.date(2025, 6, 11)


def date_parts(name: str, day: dt.date | tuple[str, str, str] | None) -> dict[str, str]:
    if day is None:
        parts = ("", "", "")
    elif isinstance(day, dt.date):
        parts = (str(day.day), str(day.month), str(day.year))
    else:
        parts = day
    return {f"{name}-day": parts[0], f"{name}-month": parts[1], f"{name}-year": parts[2]}


def child_fields(index: int = 0, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "given_name": "Amelia",
        "family_name": "Hart",
        "date_of_birth": dt.date(2018, 5, 4),
        "expected_date_of_birth": None,
        "sex": "F",
        "ethnicity": "WBRI",
        "nhs_number": "943 476 5919",
        "upn": "",
        "address_line_1": "12 Mill Lane",
        "address_line_2": "",
        "town": "Riverton",
        "postcode": "rv1 2ab",
        "school": "Riverside Primary",
        "gp": "Mill Lane Surgery",
    }
    fields.update(overrides)
    return _block("children", index, fields)


def adult_fields(index: int = 0, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "given_name": "Dawn",
        "family_name": "Hart",
        "date_of_birth": dt.date(1990, 2, 3),
        "sex": "F",
        "ethnicity": "WBRI",
        "nhs_number": "",
        "upn": "",
        "address_line_1": "12 Mill Lane",
        "address_line_2": "",
        "town": "Riverton",
        "postcode": "RV1 2AB",
        "relationship_0": "parent",
    }
    fields.update(overrides)
    return _block("adults", index, fields)


def _block(prefix: str, index: int, fields: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in fields.items():
        key = f"{prefix}-{index}-{name}"
        if name in ("date_of_birth", "expected_date_of_birth"):
            data.update(date_parts(key, value))
        else:
            data[key] = value
    return data


def valid_post(children: Any = 1, adults: Any = 1, **overrides: Any) -> dict[str, Any]:
    """Everything a co-ordinator types for a valid contact (then "Submit contact")."""
    received = (clock.now() - dt.timedelta(hours=1)).astimezone(clock.LONDON)
    data: dict[str, Any] = {
        "action": "submit",
        **date_parts("received_date", received.date()),
        "received_time": received.strftime("%H:%M"),
        "channel": "phone",
        "referral_source": "2A",
        "referrer_name": "Sam Teacher",
        "referrer_role": "Designated safeguarding lead",
        "referrer_organisation": "Riverside Primary",
        "referrer_phone": "01632 960 001",
        "referrer_email": "sam.teacher@riverside.example",
        "concern": "Amelia came to school with bruising on her arm and said she was scared.",
        "family_told": "Mother has been told the school is contacting the hub.",
        "children-TOTAL_FORMS": str(children),
        "adults-TOTAL_FORMS": str(adults),
    }
    if children:
        data.update(child_fields(0))
    if adults:
        data.update(adult_fields(0))
    data.update(overrides)
    return data


def text(content: bytes | str) -> str:
    """The page's visible text, tags removed and whitespace squeezed."""
    raw = content.decode() if isinstance(content, bytes) else content
    main = re.search(r"<main.*?</main>", raw, re.S)
    body = main.group(0) if main else raw
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(body)).strip()


def error_for(content: bytes, field_id: str) -> str:
    """The error message shown next to a field (GOV.UK puts it in <id>-error)."""
    raw = content.decode()
    match = re.search(
        rf'<p id="{re.escape(field_id)}-error" class="govuk-error-message">(.*?)</p>', raw, re.S
    )
    if match is None:
        return ""
    message = re.sub(r"<span class=\"govuk-visually-hidden\">Error:</span>", "", match.group(1))
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", message))).strip()


def summary_links(content: bytes) -> dict[str, str]:
    """The error summary: message -> the field it links to."""
    raw = content.decode()
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', raw, re.S)
    if summary is None:
        return {}
    return {
        html.unescape(m.group(2)).strip(): m.group(1)
        for m in re.finditer(r'<a href="#([^"]+)">(.*?)</a>', summary.group(0), re.S)
    }


def value_of(content: bytes, name: str) -> str | None:
    """The value an input shows (None if no such input)."""
    raw = content.decode()
    for tag in re.finditer(r"<input\b[^>]*>", raw):
        attrs = tag.group(0)
        if re.search(rf'\bname="{re.escape(name)}"', attrs) and 'type="radio"' not in attrs:
            value = re.search(r'\bvalue="([^"]*)"', attrs)
            return html.unescape(value.group(1)) if value else ""
    return None


def checked(content: bytes, name: str) -> list[str]:
    """Values of the radios or checkboxes named `name` that are checked."""
    raw = content.decode()
    values = []
    for tag in re.finditer(r"<input\b[^>]*>", raw):
        attrs = tag.group(0)
        if re.search(rf'\bname="{re.escape(name)}"', attrs) and re.search(r"\bchecked\b", attrs):
            value = re.search(r'\bvalue="([^"]*)"', attrs)
            values.append(html.unescape(value.group(1)) if value else "")
    return values


def selected(content: bytes, name: str) -> str | None:
    raw = content.decode()
    select = re.search(rf'<select\b[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', raw, re.S)
    if select is None:
        return None
    option = re.search(r'<option value="([^"]*)"\s+selected', select.group(1))
    return html.unescape(option.group(1)) if option else ""


def textarea(content: bytes, name: str) -> str | None:
    raw = content.decode()
    area = re.search(rf'<textarea\b[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', raw, re.S)
    return html.unescape(area.group(1)).strip("\n") if area else None
