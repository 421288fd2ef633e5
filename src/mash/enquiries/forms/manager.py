"""Forms for the hub's enquiry pages: consent, overrides, rating, decisions.

The forms check what a person can fix at once (missing, too long, not a
choice, in the future) with plain-English messages; the services remain the
authority and their ValidationErrors are mapped back onto these fields.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from mash.accounts.models import Agency
from mash.core import clock
from mash.core.forms import MAX_TEXT_LENGTH, GovukDateField
from mash.core.models import Team
from mash.enquiries.models import (
    ConsentStatus,
    Decision,
    Outcome,
    OverrideGround,
    PrimaryNeed,
    Rag,
    Theme,
)

TEXTAREA = forms.Textarea(attrs={"rows": 5})


def text_field(
    label: str,
    *,
    missing: str | None,
    max_length: int = MAX_TEXT_LENGTH,
    help_text: str = "",
    textarea: bool = True,
) -> forms.CharField:
    """A free-text field with its own messages; missing=None makes it optional."""
    return forms.CharField(
        label=label,
        required=missing is not None,
        max_length=max_length,
        help_text=help_text,
        widget=TEXTAREA if textarea else forms.TextInput,
        error_messages={
            "required": missing or "",
            "max_length": f"{label} must be {max_length:,} characters or fewer",
        },
    )


def choice_error(message: str) -> dict[str, str]:
    return {"required": message, "invalid_choice": message, "invalid_list": message}


def service_errors(form: forms.Form, error: ValidationError, renames: dict[str, str]) -> None:
    """Puts a service's ValidationError next to the form's fields (or at the top)."""
    by_field = getattr(error, "error_dict", None)
    if by_field is None:
        form.add_error(None, error.messages)
        return
    for name, errors in by_field.items():
        target = renames.get(name, name)
        messages = [m for e in errors for m in e.messages]
        if target in form.fields:
            form.add_error(target, messages)
        else:
            form.add_error(None, messages)


TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(am|pm)?\s*$", re.IGNORECASE)


class ConsentForm(forms.Form):
    status = forms.ChoiceField(
        label="Has the family agreed to information being shared?",
        choices=ConsentStatus.choices,
        widget=forms.RadioSelect,
        error_messages=choice_error("Select whether consent was given, refused or not sought"),
    )
    given_by = forms.CharField(
        label="Who gave or refused consent",
        required=False,
        max_length=200,
        help_text="Name and relationship to the child, for example Dawn Hart (mother)",
        error_messages={
            "max_length": "Who gave or refused consent must be 200 characters or fewer"
        },
    )
    decided_on = GovukDateField(
        label="Date consent was given or refused",
        required=False,
        help_text="For example, 27 3 2025",
    )
    decided_time = forms.CharField(
        label="Time",
        required=False,
        max_length=10,
        help_text="Use the 24-hour clock, for example 14:30",
        error_messages={"max_length": "Enter the time in the 24-hour clock, like 14:30"},
    )
    notes = text_field("Notes", missing=None)

    def clean_decided_time(self) -> dt.time | None:
        raw = str(self.cleaned_data.get("decided_time") or "").strip()
        if not raw:
            return None
        match = TIME.match(raw)
        if not match:
            raise ValidationError("Enter the time in the 24-hour clock, like 14:30")
        hour, minute, half = int(match[1]), int(match[2]), (match[3] or "").lower()
        if half:
            if not 1 <= hour <= 12:
                raise ValidationError("Enter a real time, like 14:30 or 2:30pm")
            hour = hour % 12 + (12 if half == "pm" else 0)
        if hour > 23 or minute > 59:
            raise ValidationError("Enter a real time, like 14:30")
        return dt.time(hour, minute)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, time = cleaned.get("decided_on"), cleaned.get("decided_time")
        status = cleaned.get("status")
        told = status in (ConsentStatus.GIVEN, ConsentStatus.REFUSED)
        if (
            told
            and not str(cleaned.get("given_by") or "").strip()
            and "given_by" not in self.errors
        ):
            self.add_error("given_by", "Enter who gave or refused consent")
        if day is None and "decided_on" not in self.errors and (told or time is not None):
            self.add_error("decided_on", "Enter the date consent was given or refused")
        if day is not None and time is None and "decided_time" not in self.errors:
            self.add_error("decided_time", "Enter the time consent was given or refused")
        cleaned["decided_at"] = None
        if day is not None and time is not None:
            moment = dt.datetime.combine(day, time, tzinfo=clock.LONDON)
            if moment > clock.now():
                self.add_error(
                    "decided_on", "When consent was given or refused must be in the past"
                )
            else:
                cleaned["decided_at"] = moment
        return cleaned


class OverrideForm(forms.Form):
    grounds = forms.MultipleChoiceField(
        label="Grounds for sharing without consent",
        choices=OverrideGround.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply",
        error_messages=choice_error("Select the grounds for overriding consent"),
    )
    other_ground = forms.CharField(
        label="Other grounds",
        required=False,
        max_length=500,
        error_messages={"max_length": "Other grounds must be 500 characters or fewer"},
    )
    justification = text_field(
        "Justification",
        missing="Enter the justification for the override",
        help_text="Why the child-protection concern outweighs the family's consent",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        grounds = cleaned.get("grounds") or []
        other = str(cleaned.get("other_ground") or "").strip()
        if OverrideGround.OTHER in grounds and not other and "other_ground" not in self.errors:
            self.add_error("other_ground", "Enter the other grounds")
        if OverrideGround.OTHER not in grounds:
            cleaned["other_ground"] = ""
        return cleaned


class OverrideDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Do you authorise checks without consent?",
        choices=[("authorise", "Yes, authorise the override"), ("decline", "No, decline it")],
        widget=forms.RadioSelect,
        error_messages=choice_error("Select whether you authorise or decline the override"),
    )
    reason = text_field("Why you are declining", missing=None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("decision") == "decline"
            and not str(cleaned.get("reason") or "").strip()
            and "reason" not in self.errors
        ):
            self.add_error("reason", "Enter why the override is declined")
        return cleaned


class RatingForm(forms.Form):
    """A hub manager's rating (first) or re-rating of an enquiry."""

    rag = forms.ChoiceField(
        label="RAG rating",
        choices=Rag.choices,
        widget=forms.RadioSelect,
        error_messages=choice_error("Select a RAG rating"),
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={"invalid": "The page was out of date: reload it and try again"},
    )

    def __init__(
        self,
        *args: Any,
        first: bool,
        agencies: list[Agency] | None = None,
        current_team_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.first = first
        self.agencies = agencies or []
        # Active teams, and the enquiry's own team even if it has since been deactivated.
        teams = Team.objects.filter(is_active=True)
        if current_team_id is not None:
            teams = Team.objects.filter(Q(is_active=True) | Q(pk=current_team_id))
        self.fields["team"] = forms.ModelChoiceField(
            label="Team (optional)",
            queryset=teams.order_by("name"),
            required=False,
            empty_label="No team yet",
            help_text="The team in the hub that works on this enquiry",
            error_messages={"invalid_choice": "Select a team from the list"},
        )
        if first:
            self.fields["rationale"] = text_field(
                "Rationale for the rating", missing="Enter the rationale for the rating"
            )
            self.fields["summary_for_agencies"] = text_field(
                "Summary for agencies",
                missing="Enter what the agencies need to know to search their records",
                help_text="What every agency needs to search its records. Agencies see this "
                "and the names and details of the children and adults, nothing else.",
            )
            self.fields["not_required"] = forms.MultipleChoiceField(
                label="Agencies not required on this enquiry",
                required=False,
                choices=[(str(a.pk), a.name) for a in self.agencies],
                widget=forms.CheckboxSelectMultiple,
                help_text="Leave all unticked to ask every agency",
                error_messages=choice_error("Select agencies from the list"),
            )
            for agency in self.agencies:
                self.fields[self.reason_name(agency.pk)] = text_field(
                    f"Why {agency.name} is not required", missing=None, textarea=False
                )
        else:
            self.fields["rationale"] = text_field(
                "Reason for re-rating", missing="Enter the reason for re-rating"
            )

    @staticmethod
    def reason_name(agency_id: int) -> str:
        return f"not_required_reason_{agency_id}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = {int(pk) for pk in cleaned.get("not_required") or []}
        reasons: dict[int, str] = {}
        for agency in self.agencies:
            name = self.reason_name(agency.pk)
            reason = str(cleaned.get(name) or "")
            if agency.pk in chosen:
                if not reason.strip() and name not in self.errors:
                    self.add_error(name, f"Enter why {agency.name} is not required")
                reasons[agency.pk] = reason
        cleaned["not_required_reasons"] = reasons
        return cleaned

    def renames(self) -> dict[str, str]:
        """The service's names for errors -> this form's fields."""
        return {f"not_required_{a.pk}": self.reason_name(a.pk) for a in self.agencies}


class ProposeRatingForm(forms.Form):
    """A co-ordinator's suggested rating, for a hub manager to confirm."""

    rag = forms.ChoiceField(
        label="Suggested RAG rating",
        choices=Rag.choices,
        widget=forms.RadioSelect,
        error_messages=choice_error("Select a RAG rating"),
    )
    reason = text_field("Why you suggest this rating", missing="Enter why you suggest this rating")


class NotRequiredForm(forms.Form):
    reason = text_field(
        "Why this agency is not required", missing="Enter why this agency is not required"
    )


def _agency_field() -> forms.ModelChoiceField[Agency]:
    return forms.ModelChoiceField(
        label="Lead professional's agency",
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="Select the agency",
        error_messages=choice_error("Select the lead professional's agency"),
    )


class DecisionForm(forms.Form):
    """The decision for one child; `pending` asks why the manager decides before every answer."""

    outcome = forms.ChoiceField(
        label="Decision",
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages=choice_error("Select the decision"),
    )
    lead_professional_agency = _agency_field()
    primary_need = forms.ChoiceField(
        label="Primary need",
        choices=[("", "Select the primary need"), *PrimaryNeed.choices],
        help_text="The Children in Need census code",
        error_messages=choice_error("Select the primary need"),
    )
    themes = forms.MultipleChoiceField(
        label="Themes",
        choices=Theme.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply",
        error_messages=choice_error("Select themes from the list"),
    )
    rationale = text_field("Rationale", missing="Enter the reasoning for the decision")
    next_team = forms.CharField(
        label="Team that acts next",
        max_length=200,
        help_text="For example, Assessment team north",
        error_messages={
            "required": "Enter the team that acts next",
            "max_length": "Team that acts next must be 200 characters or fewer",
        },
    )
    referrer_feedback = text_field(
        "Feedback for the referrer",
        missing=None,
        help_text="What the referrer is told. It goes in the referrer's letter.",
    )

    def __init__(
        self, *args: Any, pending: bool = False, unasked: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pending = pending or unasked
        if unasked:
            self.fields["pending_reason"] = text_field(
                "Why are you deciding before any agency has been asked?",
                missing="No agency has been asked yet: enter why you are deciding without checks",
            )
        elif pending:
            self.fields["pending_reason"] = text_field(
                "Why are you deciding before every agency has answered?",
                missing="Some agencies have not answered: enter why you are deciding now",
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("outcome") == Outcome.EARLY_HELP:
            if cleaned.get("lead_professional_agency") is None and (
                "lead_professional_agency" not in self.errors
            ):
                self.add_error("lead_professional_agency", "Select the lead professional's agency")
        else:
            cleaned["lead_professional_agency"] = None
        return cleaned


class AmendDecisionForm(DecisionForm):
    reason = text_field("Reason for the amendment", missing="Enter the reason for the amendment")

    @classmethod
    def initial_for(cls, decision: Decision) -> dict[str, Any]:
        return {
            "outcome": decision.outcome,
            "lead_professional_agency": decision.lead_professional_agency_id,
            "primary_need": decision.primary_need,
            "themes": [t.theme for t in decision.themes.all()],
            "rationale": decision.rationale,
            "next_team": decision.next_team,
            "referrer_feedback": decision.referrer_feedback,
        }

    def changes(self, decision: Decision) -> dict[str, Any]:
        """Only what differs from the decision as it stands (themes included when changed)."""
        data = self.cleaned_data
        changed: dict[str, Any] = {}
        for name in ("outcome", "primary_need", "rationale", "next_team", "referrer_feedback"):
            value = data[name].strip() if isinstance(data[name], str) else data[name]
            if value != getattr(decision, name):
                changed[name] = value
        lead = data.get("lead_professional_agency")
        if (lead.pk if lead else None) != decision.lead_professional_agency_id:
            changed["lead_professional_agency"] = lead
        themes = sorted(set(data.get("themes") or []))
        if themes != sorted(t.theme for t in decision.themes.all()):
            changed["themes"] = themes
        return changed
