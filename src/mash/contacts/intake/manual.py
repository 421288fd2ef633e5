"""Police notifications typed by hand: the form, its blocks of children and adults, its errors.

The form builds a `police.NotificationEntry` and shows `police.check`'s errors next to the
inputs they are about, so what a researcher types meets the API's and the CSV's rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from mash.accounts.models import Agency, AgencyKind
from mash.contacts import police
from mash.contacts.forms import TIME_PATTERN, QuietForm, TextField
from mash.contacts.models import (
    AdultRole,
    DashRisk,
    IncidentType,
)
from mash.core import clock
from mash.core.forms import MAX_TEXT_LENGTH, GovukDateField

if TYPE_CHECKING:
    from mash.accounts.models import User

Data = dict[str, list[str]]

CHILDREN, ADULTS = "children", "adults"
PREFIXES = (CHILDREN, ADULTS)
MANAGEMENT = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
MAX_BLOCKS = {CHILDREN: police.MAX_CHILDREN, ADULTS: police.MAX_ADULTS}
YES, NO, NOT_KNOWN = "yes", "no", "not_known"
YES_NO_CHOICES = [(YES, "Yes"), (NO, "No"), (NOT_KNOWN, "Not known")]
INCIDENT_TIME_MESSAGE = "Time of the incident must be a real time in 24-hour format, like 21:45"


def police_forces() -> list[Agency]:
    """The forces a notification can come from: the hub's active police agencies."""
    return list(Agency.objects.filter(kind=AgencyKind.POLICE, is_active=True).order_by("name"))


def default_force(user: User, forces: list[Agency]) -> Agency | None:
    """The user's own agency when it is one of the forces (a police researcher's usually is)."""
    return next((f for f in forces if f.pk == user.agency_id), None)


def parse_time(value: str) -> dt.time | None:
    """A 24-hour time like 21:45 (or 21.45, 2145, and 21:45:00 from a spreadsheet)."""
    value = value.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}:\d{2}", value):
        value = value[: value.rindex(":")]
    match = TIME_PATTERN.match(value)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def _yes_no(value: str) -> bool | None:
    return {YES: True, NO: False}.get(value)


# --- The form ------------------------------------------------------------------------------


class NotificationForm(QuietForm):
    force = forms.ChoiceField(
        label="Police force",
        error_messages={
            "required": "Select the police force that sent the notification",
            "invalid_choice": "Select the police force from the list",
        },
    )
    occurrence_reference = TextField(
        label="Occurrence reference",
        max_length=40,
        required=True,
        help_text="The force's own reference for the incident",
        error_messages={"required": "Enter the force's occurrence reference"},
    )
    incident_date = GovukDateField(label="Date of the incident", required=False)
    incident_time = forms.CharField(
        label="Time of the incident",
        help_text="24-hour clock, for example 21:45",
        max_length=10,
        error_messages={
            "required": "Enter the time of the incident",
            "max_length": INCIDENT_TIME_MESSAGE,
        },
    )
    incident_type = forms.ChoiceField(
        label="Type of incident",
        choices=IncidentType.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the type of incident",
            "invalid_choice": "Select the type of incident from the list",
        },
    )
    dash_risk = forms.ChoiceField(
        label="DASH risk level",
        choices=DashRisk.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select standard, medium or high"},
    )
    location = TextField(label="Location", max_length=300)
    narrative = TextField(label="The officer's narrative")
    officer_name = TextField(label="Officer's name", max_length=150)
    officer_collar_number = TextField(label="Collar number", max_length=20)
    officer_team = TextField(label="Team", max_length=100)

    def __init__(self, *args: Any, forces: list[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forces = {str(f.pk): f for f in forces}
        self.fields["force"].choices = [  # type: ignore[attr-defined]
            ("", "Select a force"),
            *((str(f.pk), f.name) for f in forces),
        ]
        self.fields["narrative"].error_messages["max_length"] = (
            f"The narrative must be {MAX_TEXT_LENGTH:,} characters or fewer"
        )

    def clean_incident_time(self) -> dt.time:
        parsed = parse_time(self.cleaned_data["incident_time"])
        if parsed is None:
            raise ValidationError(INCIDENT_TIME_MESSAGE)
        return parsed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, time = cleaned.get("incident_date"), cleaned.get("incident_time")
        if day is None and not self.has_error("incident_date"):
            self.add_error("incident_date", "Enter the date of the incident")
        elif day is not None and time is not None:
            cleaned["incident_at"] = dt.datetime.combine(day, time, tzinfo=clock.LONDON)
        cleaned["force_agency"] = self.forces.get(cleaned.get("force") or "")
        # DASH risk applies to domestic abuse only; the radios are revealed under that
        # choice, so a level left checked under another type was hidden and is ignored.
        if cleaned.get("incident_type") != IncidentType.DOMESTIC_ABUSE:
            cleaned["dash_risk"] = ""
        return cleaned


class ChildForm(QuietForm):
    noun = "child"
    given_name = TextField(label="Given name", max_length=100)
    family_name = TextField(label="Family name", max_length=100)
    date_of_birth = GovukDateField(label="Date of birth", required=False)
    seen = forms.ChoiceField(
        label="Did the officer see the child?",
        choices=YES_NO_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select yes, no or not known"},
    )
    spoken_to = forms.ChoiceField(
        label="Did the officer speak to the child?",
        choices=YES_NO_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select yes, no or not known"},
    )

    def is_blank(self) -> bool:
        typed = [self[n].value() for n in ("given_name", "family_name")]
        born = self["date_of_birth"].value() or ()
        answers = [self[n].value() for n in ("seen", "spoken_to")]
        return (
            not any(str(v or "").strip() for v in typed)
            and not any(str(p).strip() for p in born)
            and all(a in (None, "", NOT_KNOWN) for a in answers)
        )

    def entry(self) -> police.ChildEntry:
        data = self.cleaned_data
        return police.ChildEntry(
            given_name=data.get("given_name", ""),
            family_name=data.get("family_name", ""),
            date_of_birth=data.get("date_of_birth"),
            seen=_yes_no(data.get("seen", "")),
            spoken_to=_yes_no(data.get("spoken_to", "")),
        )


class AdultForm(QuietForm):
    noun = "adult"
    given_name = TextField(label="Given name", max_length=100)
    family_name = TextField(label="Family name", max_length=100)
    role = forms.ChoiceField(
        label="Their part in the incident",
        choices=[("", "Select a role"), *AdultRole.choices],
        required=False,
        error_messages={"invalid_choice": "Select victim, suspect, witness or other"},
    )

    def is_blank(self) -> bool:
        values = [self[n].value() for n in ("given_name", "family_name", "role")]
        return not any(str(v or "").strip() for v in values)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.has_error("role") and not cleaned.get("role"):
            self.add_error("role", "Select the adult's part in the incident")
        return cleaned

    def entry(self) -> police.AdultEntry:
        data = self.cleaned_data
        return police.AdultEntry(
            role=data.get("role", ""),
            given_name=data.get("given_name", ""),
            family_name=data.get("family_name", ""),
        )


ChildFormSet = forms.formset_factory(
    ChildForm, extra=0, max_num=police.MAX_CHILDREN, absolute_max=police.MAX_CHILDREN
)
AdultFormSet = forms.formset_factory(
    AdultForm, extra=0, max_num=police.MAX_ADULTS, absolute_max=police.MAX_ADULTS
)

_BLOCK_KEY = re.compile(r"^(children|adults)-(\d{1,2})-([a-z_]+(?:-(?:day|month|year))?)$")


def _form_keys() -> set[str]:
    keys: set[str] = set()
    for name, form_field in NotificationForm.base_fields.items():
        if isinstance(form_field, GovukDateField):
            keys.update(f"{name}-{part}" for part in ("day", "month", "year"))
        else:
            keys.add(name)
    return keys


FORM_KEYS = _form_keys()


def raw_data(pairs: Iterable[tuple[str, list[str]]]) -> Data:
    """What was typed, as a dict of lists: only the form's own keys, NULs removed."""
    data: Data = {}
    for key, values in pairs:
        if key in FORM_KEYS or _BLOCK_KEY.match(key):
            data[key] = [str(v).replace("\x00", "")[: MAX_TEXT_LENGTH * 2] for v in values][:5]
        elif any(key == f"{prefix}-TOTAL_FORMS" for prefix in PREFIXES):
            data[key] = [str(v)[:6] for v in values][:1]
    return normalise(data)


def block_count(data: Data, prefix: str) -> int:
    value = (data.get(f"{prefix}-TOTAL_FORMS") or [""])[-1]
    count = int(value[:6]) if value.isascii() and value.isdigit() else 0
    return max(1 if prefix == CHILDREN else 0, min(count, MAX_BLOCKS[prefix]))


def normalise(data: Data) -> Data:
    """The formsets' management data set from the blocks (never trusting the post)."""
    for prefix in PREFIXES:
        data[f"{prefix}-TOTAL_FORMS"] = [str(block_count(data, prefix))]
        data[f"{prefix}-INITIAL_FORMS"] = ["0"]
        data[f"{prefix}-MIN_NUM_FORMS"] = ["0"]
        data[f"{prefix}-MAX_NUM_FORMS"] = [str(MAX_BLOCKS[prefix])]
    return data


def initial_data(force: Agency | None) -> Data:
    """A new notification: the user's force chosen, one child and one adult block."""
    data: Data = {"children-TOTAL_FORMS": ["1"], "adults-TOTAL_FORMS": ["1"]}
    if force is not None:
        data["force"] = [str(force.pk)]
    return normalise(data)


def add_block(data: Data, prefix: str) -> int | None:
    """Adds an empty block; its index, or None at the limit."""
    count = block_count(data, prefix)
    if count >= MAX_BLOCKS[prefix]:
        return None
    data[f"{prefix}-TOTAL_FORMS"] = [str(count + 1)]
    return count


def remove_block(data: Data, prefix: str, index: int) -> None:
    """Removes one block and moves the later ones up, keeping what was typed in them."""
    count = block_count(data, prefix)
    if not 0 <= index < count or (prefix == CHILDREN and count == 1):
        return
    moved: Data = {}
    for key in list(data):
        match = _BLOCK_KEY.match(key)
        if match is None or match.group(1) != prefix:
            continue
        position, name = int(match.group(2)), match.group(3)
        values = data.pop(key)
        if position == index:
            continue
        moved[f"{prefix}-{position - 1 if position > index else position}-{name}"] = values
    data.update(moved)
    data[f"{prefix}-TOTAL_FORMS"] = [str(count - 1)]


@dataclass
class Bound:
    """The page's forms bound to what was typed."""

    form: NotificationForm
    children: Any
    adults: Any

    @property
    def all_forms(self) -> list[QuietForm]:
        return [self.form, *self.children.forms, *self.adults.forms]


def bind(data: Data, *, forces: list[Agency], quiet: bool) -> Bound:
    values = MultiValueDict(data)
    bound = Bound(
        NotificationForm(values, forces=forces),
        ChildFormSet(values, prefix=CHILDREN),
        AdultFormSet(values, prefix=ADULTS),
    )
    for form in bound.all_forms:
        form.quiet = quiet
    return bound


@dataclass
class Validated:
    """The outcome of checking the form: an entry to receive, or errors shown on the forms."""

    entry: police.NotificationEntry | None
    force: Agency | None


def validate(bound: Bound) -> Validated:
    """Checks every field at once, the form's own rules and then `police.check`'s.

    The service's errors (`children.0.date_of_birth`...) land on the input they are about;
    a field that already has an error keeps only its first.
    """
    form = bound.form
    form.quiet = False
    form.is_valid()
    children = [f for f in bound.children.forms if not f.is_blank()]
    adults = [f for f in bound.adults.forms if not f.is_blank()]
    for block in [*bound.children.forms, *bound.adults.forms]:
        block.quiet = block not in children and block not in adults
        if not block.quiet:
            block.is_valid()
    cleaned = form.cleaned_data
    incident_at = cleaned.get("incident_at")
    entry = police.NotificationEntry(
        occurrence_reference=cleaned.get("occurrence_reference", ""),
        incident_at=incident_at or clock.now(),
        incident_type=cleaned.get("incident_type", ""),
        dash_risk=cleaned.get("dash_risk", ""),
        location=cleaned.get("location", ""),
        narrative=cleaned.get("narrative", ""),
        officer_name=cleaned.get("officer_name", ""),
        officer_collar_number=cleaned.get("officer_collar_number", ""),
        officer_team=cleaned.get("officer_team", ""),
        children=[f.entry() for f in children],
        adults=[f.entry() for f in adults],
    )
    force = cleaned.get("force_agency")
    problems = police.check(entry, force=force)
    if incident_at is None:
        problems.pop("incident_at", None)
    apply_errors(problems, bound, children, adults)
    valid = all(not f.errors for f in [form, *children, *adults])
    return Validated(entry if valid else None, force)


def _incident_field(form: NotificationForm) -> str:
    day = form.cleaned_data.get("incident_date")
    today = clock.localtime(clock.now()).date()
    return "incident_time" if day is not None and day == today else "incident_date"


def apply_errors(
    problems: dict[str, list[str]],
    bound: Bound,
    children: list[ChildForm] | None = None,
    adults: list[AdultForm] | None = None,
) -> None:
    """Puts the service's errors next to the inputs they are about."""
    form = bound.form
    children = children if children is not None else list(bound.children.forms)
    adults = adults if adults is not None else list(bound.adults.forms)
    for key, messages in problems.items():
        target: forms.Form = form
        name: str | None = key
        parts = key.split(".")
        if key == "incident_at":
            name = _incident_field(form)
        elif key == "children":
            target, name = (children or bound.children.forms)[0], "given_name"
        elif key == "adults":
            target, name = form, None
        elif len(parts) == 3 and parts[0] in PREFIXES and parts[1].isdigit():
            blocks: list[Any] = children if parts[0] == CHILDREN else adults
            index = int(parts[1])
            if index >= len(blocks) or parts[2] not in blocks[index].fields:
                target, name = form, None
            else:
                target, name = blocks[index], parts[2]
        elif key not in form.fields:
            name = None
        if target.quiet:  # type: ignore[attr-defined]
            target.quiet = False  # type: ignore[attr-defined]
            target.is_valid()
        if name is not None and target.has_error(name):
            continue
        for message in messages[:1]:
            target.add_error(name, message)
