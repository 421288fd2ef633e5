"""Form pieces shared by every app: the GOV.UK date input, text limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

# Free text anywhere in the hub is capped; a referrer's account rarely runs
# past a few pages and the cap stops a pasted file from filling the database.
MAX_TEXT_LENGTH = 20_000


class GovukDateWidget(forms.Widget):
    """Three boxes (day, month, year) named <name>-day, <name>-month, <name>-year."""

    template_name = ""  # rendered by the govukDateInput macro, never by Django

    def value_from_datadict(self, data: Any, files: Any, name: str) -> tuple[str, str, str]:
        return (
            str(data.get(f"{name}-day", "")).strip(),
            str(data.get(f"{name}-month", "")).strip(),
            str(data.get(f"{name}-year", "")).strip(),
        )

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return not any(f"{name}-{part}" in data for part in ("day", "month", "year"))

    def parts(self, value: Any) -> tuple[str, str, str]:
        if isinstance(value, dt.date):
            return (str(value.day), str(value.month), str(value.year))
        if isinstance(value, tuple | list) and len(value) == 3:
            return (str(value[0])[:10], str(value[1])[:10], str(value[2])[:10])
        return ("", "", "")


class GovukDateField(forms.Field):
    """A date typed as day, month and year, with the GOV.UK pattern's error messages."""

    widget = GovukDateWidget

    def __init__(self, *, max_date: dt.date | None = None, **kwargs: Any) -> None:
        self.max_date = max_date
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        if not value or not any(value):
            return None
        day, month, year = value
        label = str(self.label or "Date")
        missing = [
            name for name, part in (("day", day), ("month", month), ("year", year)) if not part
        ]
        if missing:
            raise ValidationError(f"{label} must include a {' and a '.join(missing)}")
        if not all(part.isascii() and part.isdigit() for part in (day, month, year)):
            raise ValidationError(f"{label} must be a real date, written in numbers")
        if len(year) != 4:
            raise ValidationError(f"{label} year must include 4 numbers")
        try:
            return dt.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):  # OverflowError: a day like 99999999999999999999
            raise ValidationError(f"{label} must be a real date") from None

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise ValidationError(f"Enter {str(self.label or 'the date').lower()}")
        if value is not None and self.max_date is not None and value > self.max_date:
            raise ValidationError(f"{self.label} must be today or in the past")


class AuditSearchForm(forms.Form):
    actor = forms.CharField(
        label="User's email address",
        required=False,
        max_length=254,
        help_text="All or part of it",
        error_messages={"max_length": "User's email address must be 254 characters or fewer"},
    )
    agency: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any agency"
    )
    action = forms.ChoiceField(label="Action", required=False)
    object_type = forms.CharField(
        label="Object type",
        required=False,
        max_length=64,
        help_text="For example accounts.user",
        error_messages={"max_length": "Object type must be 64 characters or fewer"},
    )
    object_id = forms.CharField(
        label="Object ID",
        required=False,
        max_length=64,
        error_messages={"max_length": "Object ID must be 64 characters or fewer"},
    )
    date_from = GovukDateField(label="From", required=False)
    date_to = GovukDateField(label="To", required=False)

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        from mash.accounts.models import Agency

        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["action"].choices = [("", "Any action")] + [(a, a) for a in sorted(actions)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The 'to' date must be the same as or after the 'from' date")
        return cleaned

    def filters(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    def filter_summary(self) -> dict[str, str]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: str(v) for k, v in self.filters().items()}


LA_CODE_MESSAGE = "Local authority code must be 3 numbers, for example 204"
POSTCODE_AREAS_LENGTH_MESSAGE = "Postcode areas must be 500 characters or fewer"


class HubSettingsForm(forms.ModelForm):
    class Meta:
        from mash.core.models import Hub

        model = Hub
        fields = ("name", "local_authority_name", "la_code", "postcode_areas")
        labels = {
            "name": "Hub name",
            "local_authority_name": "Local authority",
            "la_code": "Local authority code",
            "postcode_areas": "Postcode areas the hub covers",
        }
        help_texts = {
            "postcode_areas": (
                "Postcode areas (like NM) or districts (like NM1 or NX12), separated by spaces "
                "or commas. A child living elsewhere is flagged for the hub to check which "
                "authority is responsible. Leave blank to flag no one."
            ),
        }
        error_messages = {
            "name": {
                "required": "Enter the hub's name",
                "max_length": "Hub name must be 120 characters or fewer",
            },
            "local_authority_name": {
                "max_length": "Local authority must be 120 characters or fewer",
            },
            "la_code": {"max_length": LA_CODE_MESSAGE},
            "postcode_areas": {"max_length": POSTCODE_AREAS_LENGTH_MESSAGE},
        }

    def clean_postcode_areas(self) -> str:
        from mash.core.local_authorities import parse_areas

        areas, wrong = parse_areas(str(self.cleaned_data.get("postcode_areas", "")))
        if wrong:
            shown = ", ".join(w[:20] for w in wrong[:5])
            raise ValidationError(
                "Postcode areas must be areas like NM or districts like NM1, separated by "
                f"spaces or commas. Not an area or district: {shown}"
            )
        return " ".join(areas)

    def clean_la_code(self) -> str:
        code = str(self.cleaned_data.get("la_code", "")).strip()
        # isascii: str.isdigit() also accepts digits such as "٢١٠" and "²".
        if code and not (len(code) == 3 and code.isascii() and code.isdigit()):
            raise ValidationError(LA_CODE_MESSAGE)
        return code


RAG_LEVELS = (("urgent", "Urgent"), ("red", "Red"), ("amber", "Amber"), ("green", "Green"))
WEEKDAYS = (
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
)
MAX_DURATION = 500


class ClockSettingsForm(forms.Form):
    """How long agencies have per RAG rating, and when working time counts."""

    working_weekdays = forms.MultipleChoiceField(
        label="Working days",
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select at least one working day",
            "invalid_choice": "Select working days from the list",
        },
    )
    opens_at = forms.TimeField(
        label="Working time starts",
        input_formats=["%H:%M"],
        help_text="For example, 09:00",
        error_messages={
            "required": "Enter when working time starts",
            "invalid": "Enter a time like 09:00",
        },
    )
    closes_at = forms.TimeField(
        label="Working time ends",
        input_formats=["%H:%M"],
        help_text="For example, 17:00",
        error_messages={
            "required": "Enter when working time ends",
            "invalid": "Enter a time like 17:00",
        },
    )
    skip_bank_holidays = forms.BooleanField(
        label="England and Wales bank holidays are not working days",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from mash.core.clock import DurationUnit

        super().__init__(*args, **kwargs)
        for rag, label in RAG_LEVELS:
            self.fields[f"{rag}_amount"] = forms.IntegerField(
                label=f"{label}: how long agencies have",
                min_value=1,
                max_value=MAX_DURATION,
                error_messages={
                    "required": f"Enter how long agencies have for {label.lower()}",
                    "invalid": f"{label} must be a whole number, like 4",
                    "min_value": f"{label} must be at least 1",
                    "max_value": f"{label} must be {MAX_DURATION} or fewer",
                },
            )
            self.fields[f"{rag}_unit"] = forms.ChoiceField(
                label=f"{label}: counted in",
                choices=DurationUnit.choices,
                error_messages={
                    "required": f"Select how {label.lower()} is counted",
                    "invalid_choice": f"Select how {label.lower()} is counted",
                },
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and opens >= closes:
            self.add_error("closes_at", "Working time must end after it starts")
        return cleaned


class ClosureDayForm(forms.Form):
    day = GovukDateField(label="Date the hub is closed")
    description = forms.CharField(
        label="Why (optional)",
        required=False,
        max_length=200,
        error_messages={"max_length": "Why must be 200 characters or fewer"},
    )
