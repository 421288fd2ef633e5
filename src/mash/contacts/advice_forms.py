"""The advice line's forms: logging a call, and marking its follow-up done.

The call form reads what was typed leniently for matching the child (QuietForm shows it
without judging it), and strictly when the call is saved; the rules themselves live in
the service (mash.contacts.advice), whose errors the view puts next to these fields.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from mash.accounts.models import AgencyKind
from mash.contacts.advice import PHONE_PATTERN, ConsultationEntry
from mash.contacts.forms import QuietForm, TextField, lenient_date
from mash.contacts.models import Consultation, ConsultationOutcome
from mash.core.forms import MAX_TEXT_LENGTH, GovukDateField
from mash.people.matching import Query
from mash.people.models import Person

# The child's match choice: a person's id, or this for "not in the index".
NOT_IN_INDEX = "none"
CHOSEN_GONE = "The record chosen is no longer in the person index: find matches again"
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})$")


class ConsultationForm(QuietForm):
    caller_name = TextField(
        label="Caller's name",
        max_length=150,
        required=True,
        error_messages={"required": "Enter the caller's name"},
    )
    caller_role = TextField(label="Caller's role (optional)", max_length=150)
    caller_agency = TextField(
        label="Agency",
        max_length=200,
        required=True,
        help_text="The school, practice, team or service the caller works for",
        error_messages={"required": "Enter the agency the caller works for"},
    )
    caller_agency_kind = forms.ChoiceField(
        label="Kind of agency",
        help_text="For the monthly figures",
        choices=[("", "Select the kind of agency"), *AgencyKind.choices],
        error_messages={
            "required": "Select the kind of agency the caller works for",
            "invalid_choice": "Select the kind of agency the caller works for",
        },
    )
    caller_phone = TextField(label="Phone number (optional)", max_length=40)
    caller_email = forms.EmailField(
        label="Email address (optional)",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )
    child_given_name = TextField(label="Given name", max_length=100)
    child_family_name = TextField(label="Family name", max_length=100)
    child_date_of_birth = GovukDateField(label="Date of birth", required=False)
    # The index record chosen from the matches: a person's id, NOT_IN_INDEX, or nothing yet.
    link_to = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        max_length=20,
        error_messages={"max_length": CHOSEN_GONE},
    )
    # "1" once matches have been asked for, so they are shown again.
    matched = forms.CharField(required=False, widget=forms.HiddenInput, max_length=1)
    worry = TextField(
        label="The caller's worry",
        required=True,
        error_messages={"required": "Enter the caller's worry"},
    )
    advice = TextField(
        label="The advice given",
        required=True,
        error_messages={"required": "Enter the advice given"},
    )
    outcome = forms.ChoiceField(
        label="Outcome of the call",
        choices=ConsultationOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the outcome of the call",
            "invalid_choice": "Select the outcome of the call",
        },
    )
    early_help_support = TextField(label="Support offered to start an early help assessment")
    follow_up_on = GovukDateField(label="Follow-up date", required=False)

    MATCH_KEYS = ("child_given_name", "child_family_name", "child_date_of_birth")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.linked_person: Person | None = None
        for name, label in (
            ("worry", "The worry"),
            ("advice", "The advice given"),
            ("early_help_support", "The support offered"),
        ):
            self.fields[name].error_messages["max_length"] = (
                f"{label} must be {MAX_TEXT_LENGTH:,} characters or fewer"
            )
        for name, label in (
            ("child_given_name", "The child's given name"),
            ("child_family_name", "The child's family name"),
        ):
            self.fields[name].error_messages["max_length"] = (
                f"{label} must be 100 characters or fewer"
            )

    def clean_caller_phone(self) -> str:
        phone = str(self.cleaned_data.get("caller_phone", "")).strip()
        if phone and not PHONE_PATTERN.match(phone):
            raise ValidationError("Enter a phone number, like 01632 960 001 or +44 7700 900 982")
        return phone

    def clean_link_to(self) -> str:
        value = str(self.cleaned_data.get("link_to", "")).strip()
        if value in ("", NOT_IN_INDEX):
            return value
        if value.isascii() and value.isdigit() and len(value) <= 18:
            self.linked_person = Person.objects.filter(pk=int(value)).first()
        if self.linked_person is None:
            raise ValidationError(CHOSEN_GONE)
        return value

    # --- Matching ---

    def match_query(self) -> Query:
        """What was typed about the child, read leniently, for looking up likely matches."""
        field = self.fields["child_date_of_birth"]
        if not isinstance(field, GovukDateField):  # pragma: no cover - fixed by the class
            raise TypeError(field)
        return Query(
            given_name=str(self["child_given_name"].value() or "").strip()[:100],
            family_name=str(self["child_family_name"].value() or "").strip()[:100],
            date_of_birth=lenient_date(field, self["child_date_of_birth"].value()),
        )

    def can_match(self) -> bool:
        query = self.match_query()
        return bool(query.family_name or query.date_of_birth)

    def entry(self) -> ConsultationEntry:
        data = self.cleaned_data
        return ConsultationEntry(
            caller_name=data["caller_name"],
            caller_role=data["caller_role"],
            caller_agency=data["caller_agency"],
            caller_agency_kind=data["caller_agency_kind"],
            caller_phone=data["caller_phone"],
            caller_email=data["caller_email"],
            child_given_name=data["child_given_name"],
            child_family_name=data["child_family_name"],
            child_date_of_birth=data["child_date_of_birth"],
            person_id=self.linked_person.pk if self.linked_person is not None else None,
            worry=data["worry"],
            advice=data["advice"],
            outcome=data["outcome"],
            early_help_support=data["early_help_support"],
            follow_up_on=data["follow_up_on"],
        )


# Service error keys that are not the form's own field names.
SERVICE_KEYS = {"person_id": "link_to"}


def map_errors(form: forms.Form, error: ValidationError) -> None:
    """Puts the service's errors next to the fields they are about."""
    for key, messages in error.message_dict.items():
        name = SERVICE_KEYS.get(key, key)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def initial_for(consultation: Consultation) -> dict[str, Any]:
    """A stored call as the form's data, for changing it."""

    def day(name: str, value: dt.date | None) -> dict[str, str]:
        parts = (value.day, value.month, value.year) if value else ("", "", "")
        return {f"{name}-{p}": str(v) for p, v in zip(("day", "month", "year"), parts, strict=True)}

    return {
        "caller_name": consultation.caller_name,
        "caller_role": consultation.caller_role,
        "caller_agency": consultation.caller_agency,
        "caller_agency_kind": consultation.caller_agency_kind,
        "caller_phone": consultation.caller_phone,
        "caller_email": consultation.caller_email,
        "child_given_name": consultation.child_given_name,
        "child_family_name": consultation.child_family_name,
        **day("child_date_of_birth", consultation.child_date_of_birth),
        "link_to": str(consultation.person_id)
        if consultation.person_id
        else (NOT_IN_INDEX if _names_a_child(consultation) else ""),
        "matched": "1" if consultation.person_id else "",
        "worry": consultation.worry,
        "advice": consultation.advice,
        "outcome": consultation.outcome,
        "early_help_support": consultation.early_help_support,
        **day("follow_up_on", consultation.follow_up_on),
    }


def _names_a_child(consultation: Consultation) -> bool:
    return bool(
        consultation.child_given_name
        or consultation.child_family_name
        or consultation.child_date_of_birth
    )


class FollowUpDoneForm(forms.Form):
    note = TextField(
        label="What was done to follow up the call?",
        required=True,
        error_messages={
            "required": "Enter what was done to follow up the call",
            "max_length": f"Note must be {MAX_TEXT_LENGTH:,} characters or fewer",
        },
    )


def parse_month(value: str, latest: dt.date) -> tuple[dt.date | None, str]:
    """A month typed as 2025-06: its first day, or an error to show (never later than latest)."""
    value = value.strip()[:20]
    if not value:
        return latest.replace(day=1), ""
    match = MONTH_PATTERN.match(value)
    if match is None:
        return None, "Month must be a year and month, like 2025-06"
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None, "Month must be a year and month, like 2025-06"
    if year < 2000:
        return None, "Month must be in the year 2000 or later"
    first = dt.date(year, month, 1)
    if first > latest.replace(day=1):
        return None, "Month cannot be in the future"
    return first, ""
