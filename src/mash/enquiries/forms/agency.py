"""Forms for an agency practitioner's answer to an information request."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from mash.core.forms import MAX_TEXT_LENGTH
from mash.enquiries.models import RiskIndicator, Sensitivity
from mash.enquiries.services import ItemEntry

SUMMARY_LENGTH = 500  # AnswerItem.summary
REFERENCE_LENGTH = 100  # AnswerItem.source_reference
# Items in one submission; a practitioner with more sends them in a few goes.
MAX_ITEMS = 20
ITEMS_PREFIX = "items"

SENSITIVITY_HINTS = {
    Sensitivity.SHAREABLE: (
        "The family may be told this, for example in the hub's letter to the person who "
        "raised the concern."
    ),
    Sensitivity.PROFESSIONALS: (
        "Shared with the professionals who act next, never with the family."
    ),
    Sensitivity.MASH_ONLY: (
        "Used inside the hub to make the decision, never disclosed outside it: for example "
        "police intelligence or confidential health detail."
    ),
}


class HeldForm(forms.Form):
    """Whether the agency holds anything: the first question of an answer."""

    held = forms.ChoiceField(
        label="Does your agency hold information about these children or adults?",
        choices=[("items", "Yes, record what is held"), ("nothing", "No, nothing held")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select whether your agency holds information about these people",
            "invalid_choice": "Select whether your agency holds information about these people",
        },
    )


class ItemForm(forms.Form):
    """One thing the agency holds."""

    summary = forms.CharField(
        label="Summary",
        max_length=SUMMARY_LENGTH,
        help_text="One line the hub can read at a glance",
        error_messages={
            "required": "Enter a summary of what your agency holds",
            "max_length": f"Summary must be {SUMMARY_LENGTH} characters or fewer",
        },
    )
    detail = forms.CharField(
        label="Detail (optional)",
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea,
        error_messages={
            "max_length": f"Detail must be {MAX_TEXT_LENGTH:,} characters or fewer",
        },
    )
    risk_indicators = forms.MultipleChoiceField(
        label="Risk indicators (optional)",
        required=False,
        choices=RiskIndicator.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply",
        error_messages={"invalid_choice": "Select risk indicators from the list"},
    )
    source_reference = forms.CharField(
        label="Reference in your system (optional)",
        required=False,
        max_length=REFERENCE_LENGTH,
        help_text="So the hub can ask about this record later",
        error_messages={
            "max_length": f"Reference must be {REFERENCE_LENGTH} characters or fewer",
        },
    )
    sensitivity = forms.ChoiceField(
        label="Who may this be shared with?",
        choices=Sensitivity.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select who this information may be shared with",
            "invalid_choice": "Select who this information may be shared with",
        },
    )

    def entry(self) -> ItemEntry:
        data = self.cleaned_data
        return ItemEntry(
            summary=data["summary"],
            detail=data.get("detail", ""),
            risk_indicators=list(data.get("risk_indicators", [])),
            source_reference=data.get("source_reference", ""),
            sensitivity=data["sensitivity"],
        )


class BaseItemFormSet(forms.BaseFormSet):
    """The items of one submission. Every item may be left blank (an extra "another item"
    the practitioner did not need); at least one must be filled in."""

    default_error_messages = {
        "missing_management_form": "The form was incomplete: reload the page and try again",
        "too_many_forms": f"Record {MAX_ITEMS} items or fewer at a time",
    }

    def clean(self) -> None:
        if any(self.errors) or any(f.cleaned_data for f in self.forms):
            return
        if self.forms:
            self.forms[0].add_error("summary", "Enter a summary of what your agency holds")
        else:
            raise forms.ValidationError("Record at least one item")

    def has_typing(self) -> bool:
        """Whether anything was typed into any item."""
        return any(f.has_changed() for f in self.forms)

    def entries(self) -> list[ItemEntry]:
        """The filled-in items (blank ones are left out)."""
        return [f.entry() for f in self.forms if f.cleaned_data]


ItemFormSet = forms.formset_factory(
    ItemForm,
    formset=BaseItemFormSet,
    extra=0,
    min_num=0,
    max_num=MAX_ITEMS,
    absolute_max=MAX_ITEMS,
    validate_max=True,
)


def _count(data: QueryDict) -> int:
    try:
        count = int(data.get(f"{ITEMS_PREFIX}-TOTAL_FORMS", "1"))
    except ValueError:
        count = 1
    return max(1, min(count, MAX_ITEMS))


def typed_items(data: QueryDict, *, skip: int | None = None) -> list[dict[str, Any]]:
    """What was typed into each item, exactly as typed and unvalidated, to show again."""
    typed: list[dict[str, Any]] = []
    for i in range(_count(data)):
        if i == skip:
            continue
        key = f"{ITEMS_PREFIX}-{i}-"
        typed.append(
            {
                "summary": data.get(key + "summary", ""),
                "detail": data.get(key + "detail", ""),
                "risk_indicators": data.getlist(key + "risk_indicators"),
                "source_reference": data.get(key + "source_reference", ""),
                "sensitivity": data.get(key + "sensitivity", ""),
            }
        )
    return typed or [{}]


def item_formset(
    data: QueryDict | None = None, *, typed: list[dict[str, Any]] | None = None
) -> BaseItemFormSet:
    """A bound formset for a submission, or an unbound one showing `typed` (no errors yet)."""
    if data is not None:
        return ItemFormSet(data, prefix=ITEMS_PREFIX)  # type: ignore[return-value]
    return ItemFormSet(prefix=ITEMS_PREFIX, initial=(typed or [{}])[:MAX_ITEMS])  # type: ignore[return-value]
