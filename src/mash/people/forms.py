"""The person search form: what a co-ordinator types, checked before anything is looked up."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from mash.core import clock
from mash.core.forms import GovukDateField
from mash.people.identifiers import clean_nhs_number, clean_upn
from mash.people.selectors import SearchTerms

NAME_MAX_LENGTH = 200
# Letters in any alphabet, and what joins the parts of a name.
NAME_PUNCTUATION = frozenset(" -'\u2019.,")  # \u2019: the typographer's apostrophe
EMPTY_SEARCH = "Enter a name, date of birth, NHS number or unique pupil number to search"
EARLIEST_YEAR = 1900


class PersonSearchForm(forms.Form):
    name = forms.CharField(
        label="Name",
        required=False,
        max_length=NAME_MAX_LENGTH,
        help_text=(
            "Full name or family name, for example Sam Jones or JONES, Sam. "
            "Misspellings and short forms (Bob for Robert) are found too."
        ),
        error_messages={"max_length": f"Name must be {NAME_MAX_LENGTH} characters or fewer"},
    )
    date_of_birth = GovukDateField(
        label="Date of birth",
        required=False,
        help_text="For example, 27 3 2015. A date with the day and month swapped is found too.",
    )
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=20,
        help_text="10 numbers, for example 943 476 5919",
        error_messages={"max_length": "NHS number must be 10 numbers, like 943 476 5919"},
    )
    upn = forms.CharField(
        label="Unique pupil number",
        required=False,
        max_length=20,
        help_text="13 characters, for example A123456789012",
        error_messages={
            "max_length": "Unique pupil number must be 13 characters, like A123456789012"
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["date_of_birth"]
        if isinstance(field, GovukDateField):
            field.max_date = clock.now().astimezone(clock.LONDON).date()

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data.get("name", "")).split())
        if not name:
            return ""
        if any(not (ch.isalpha() or ch in NAME_PUNCTUATION) for ch in name):
            raise ValidationError(
                "Name must only include letters, spaces, hyphens, apostrophes and full stops"
            )
        if not any(ch.isalpha() for ch in name):
            raise ValidationError("Name must include at least one letter")
        return name

    def clean_date_of_birth(self) -> Any:
        born = self.cleaned_data.get("date_of_birth")
        if born is not None and born.year < EARLIEST_YEAR:
            raise ValidationError(f"Date of birth must be after {EARLIEST_YEAR}")
        return born

    def clean_nhs_number(self) -> str:
        return clean_nhs_number(str(self.cleaned_data.get("nhs_number", "")))

    def clean_upn(self) -> str:
        return clean_upn(str(self.cleaned_data.get("upn", "")))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not any(
            cleaned.get(name) for name in ("name", "date_of_birth", "nhs_number", "upn")
        ):
            self.add_error("name", EMPTY_SEARCH)
        return cleaned

    def terms(self) -> SearchTerms:
        data = self.cleaned_data
        return SearchTerms(
            name=data.get("name", ""),
            date_of_birth=data.get("date_of_birth"),
            nhs_number=data.get("nhs_number", ""),
            upn=data.get("upn", ""),
        )
