"""Forms for the responsible local authority and transfers (views/transfer.py)."""

from __future__ import annotations

from typing import Any

from django import forms

from mash.core.forms import MAX_TEXT_LENGTH
from mash.core.models import LocalAuthority
from mash.enquiries.forms.manager import choice_error, text_field
from mash.enquiries.transfer import REASON_MAX_LENGTH

OWN = "own"


class VersionField(forms.IntegerField):
    def __init__(self) -> None:
        super().__init__(
            widget=forms.HiddenInput,
            required=False,
            min_value=0,
            max_value=2**31 - 1,
            error_messages={
                "invalid": "The page was out of date: reload it and try again",
                "min_value": "The page was out of date: reload it and try again",
                "max_value": "The page was out of date: reload it and try again",
            },
        )


class ResponsibleLaForm(forms.Form):
    local_authority = forms.ChoiceField(
        label="Which local authority is responsible for the children?",
        error_messages=choice_error("Select the responsible local authority"),
    )
    reason = text_field(
        "Why is this authority responsible?",
        missing="Enter why this authority is responsible",
        max_length=REASON_MAX_LENGTH,
        help_text="For example: the family moved to Camden in March; the children live there.",
    )
    version = VersionField()

    def __init__(self, *args: Any, own_name: str, own_code: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The hub's own authority is offered once, as "the hub's own".
        self.authorities = {
            a.code: a
            for a in LocalAuthority.objects.filter(is_active=True)
            .exclude(code=own_code)
            .order_by("name", "code")
        }
        field = self.fields["local_authority"]
        field.choices = [  # type: ignore[attr-defined]
            ("", "Select a local authority"),
            (OWN, f"{own_name} (the hub's own)"),
            *((code, f"{a.name} ({a.code})") for code, a in self.authorities.items()),
        ]
        self.fields["reason"].error_messages["max_length"] = (
            f"The reason must be {REASON_MAX_LENGTH} characters or fewer"
        )

    def chosen(self) -> LocalAuthority | None:
        """The authority chosen; None for the hub's own."""
        value = self.cleaned_data["local_authority"]
        return None if value == OWN else self.authorities[value]


class TransferForm(forms.Form):
    recipient = forms.CharField(
        label="Who is it going to?",
        help_text="The team or person at the other authority, for example: Camden MASH",
        max_length=200,
        error_messages={
            "required": "Enter the team or person the enquiry is going to",
            "max_length": "The team or person must be 200 characters or fewer",
        },
    )
    recipient_email = forms.EmailField(
        label="Their email address (optional)",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "The email address must be 254 characters or fewer",
        },
    )
    reason = text_field(
        "Why is the enquiry being transferred?",
        missing="Enter why the enquiry is being transferred",
        max_length=MAX_TEXT_LENGTH,
    )
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["max_length"] = (
            f"The reason must be {MAX_TEXT_LENGTH:,} characters or fewer"
        )
