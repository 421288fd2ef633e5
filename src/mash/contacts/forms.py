"""The contact form: one page of plain forms (the contact, then a formset each of children
and adults), kept as raw data so a draft holds exactly what was typed.

The page always binds its forms to a dict of lists (the shape of `request.POST.lists()`
and of `Contact.draft`). Adding, removing and matching blocks rewrite that dict; only
"Submit contact" validates, so a half-typed draft reopens without a wall of errors.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils.datastructures import MultiValueDict

from mash.contacts.models import (
    Channel,
    ReferralSource,
    Relationship,
    ScreeningOutcome,
)
from mash.contacts.services import DUE_DATE_MAX_AHEAD, DUE_DATE_MAX_PAST
from mash.core import clock
from mash.core.forms import MAX_TEXT_LENGTH, GovukDateField
from mash.core.models import LocalAuthority
from mash.people.identifiers import clean_nhs_number, clean_upn
from mash.people.matching import Query
from mash.people.models import Ethnicity, Person, Sex

Data = dict[str, list[str]]

CHILDREN, ADULTS = "children", "adults"
PREFIXES = (CHILDREN, ADULTS)
# Blocks of each kind on one contact. Fifteen children and fifteen adults (each adult with a
# relationship to each child) stay under Django's 1,000 fields a post may carry.
MAX_BLOCKS = 15
MANAGEMENT = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
NEW_PERSON = "new"


class TextField(forms.CharField):
    """Free text: NUL characters (which PostgreSQL refuses) are dropped, not complained about."""

    def __init__(self, *, label: str, max_length: int = MAX_TEXT_LENGTH, **kwargs: Any) -> None:
        messages = {"max_length": f"{label} must be {max_length:,} characters or fewer"}
        messages.update(kwargs.pop("error_messages", {}))
        kwargs.setdefault("required", False)
        super().__init__(label=label, max_length=max_length, error_messages=messages, **kwargs)

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).replace("\x00", "")


class QuietForm(forms.Form):
    """A form that shows what was typed without judging it until `quiet` is turned off."""

    quiet = False

    @property
    def errors(self) -> ErrorDict:
        if self.quiet:
            return ErrorDict()
        return super().errors


# --- The contact -----------------------------------------------------------------------------

TIME_PATTERN = re.compile(r"^(\d{1,2})\s*[:.h]?\s*(\d{2})$")
TIME_MESSAGE = "Time received must be a real time in 24-hour format, like 14:30"
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-]{6,40}$")


def _choices(blank: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", blank), *choices]


class ContactForm(QuietForm):
    # Not "required" here: GovukDateField's own message would say "Enter date received".
    received_date = GovukDateField(label="Date received", required=False)
    received_time = forms.CharField(
        label="Time received",
        help_text="24-hour clock, for example 14:30",
        max_length=10,
        error_messages={
            "required": "Enter the time the contact was received",
            "max_length": TIME_MESSAGE,
        },
    )
    channel = forms.ChoiceField(
        label="How was it received?",
        choices=Channel.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select how the contact was received",
            "invalid_choice": "Select how the contact was received",
        },
    )
    referral_source = forms.ChoiceField(
        label="Referral source",
        help_text="The Children in Need census category",
        choices=_choices("Select a referral source", ReferralSource.choices),
        error_messages={
            "required": "Select the referral source",
            "invalid_choice": "Select the referral source",
        },
    )
    # An incoming transfer: required when the source is 5C or it came from another authority.
    from_local_authority = forms.ChoiceField(
        label="Which local authority sent it?",
        help_text="For a transfer from another local authority (referral source 5C)",
        required=False,
        error_messages={"invalid_choice": "Select the local authority that sent it"},
    )
    referrer_anonymous = forms.BooleanField(
        label="The referrer wants to stay anonymous", required=False
    )
    referrer_name = TextField(label="Referrer's name", max_length=150)
    referrer_role = TextField(label="Referrer's role", max_length=150)
    referrer_organisation = TextField(label="Organisation", max_length=200)
    referrer_phone = TextField(label="Phone number", max_length=40)
    referrer_email = forms.EmailField(
        label="Email address",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )
    concern = TextField(
        label="The concern, in the referrer's words",
        required=True,
        error_messages={"required": "Enter the concern in the referrer's words"},
    )
    family_told = TextField(label="What has the family been told?")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authorities = {
            a.code: a
            for a in LocalAuthority.objects.filter(is_active=True).order_by("name", "code")
        }
        self.fields["from_local_authority"].choices = [  # type: ignore[attr-defined]
            ("", "Not a transfer from another authority"),
            *((code, f"{a.name} ({code})") for code, a in self.authorities.items()),
        ]
        # The error messages say "Concern ..." rather than repeat the whole label.
        self.fields["concern"].error_messages["max_length"] = (
            f"Concern must be {MAX_TEXT_LENGTH:,} characters or fewer"
        )
        self.fields["family_told"].error_messages["max_length"] = (
            f"What the family has been told must be {MAX_TEXT_LENGTH:,} characters or fewer"
        )

    def clean_received_time(self) -> dt.time:
        match = TIME_PATTERN.match(self.cleaned_data["received_time"].strip())
        if match is None:
            raise ValidationError(TIME_MESSAGE)
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ValidationError(TIME_MESSAGE)
        return dt.time(hour, minute)

    def clean_referrer_phone(self) -> str:
        phone = str(self.cleaned_data.get("referrer_phone", "")).strip()
        if phone and not PHONE_PATTERN.match(phone):
            raise ValidationError("Enter a phone number, like 01632 960 001 or +44 7700 900 982")
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, time = cleaned.get("received_date"), cleaned.get("received_time")
        now = clock.now()
        if day is None and not self.has_error("received_date"):
            self.add_error("received_date", "Enter the date the contact was received")
        elif day is not None and day > now.astimezone(clock.LONDON).date():
            self.add_error("received_date", "Date received must be today or in the past")
        elif day is not None and time is not None:
            received = dt.datetime.combine(day, time, tzinfo=clock.LONDON)
            if received > now:
                self.add_error("received_time", "Time received cannot be in the future")
            else:
                cleaned["received_at"] = received
        self._clean_from_local_authority(cleaned)
        anonymous = cleaned.get("referrer_anonymous")
        if not anonymous and "referrer_name" in cleaned and not cleaned["referrer_name"]:
            self.add_error(
                "referrer_name",
                "Enter the referrer's name, or select 'The referrer wants to stay anonymous'",
            )
        return cleaned

    def _clean_from_local_authority(self, cleaned: dict[str, Any]) -> None:
        """The authority that sent an incoming transfer: needed for source 5C or a contact
        from another authority, and only then."""
        if self.has_error("from_local_authority"):
            return
        code = cleaned.get("from_local_authority") or ""
        transfer = (
            cleaned.get("referral_source") == ReferralSource.LA_EXTERNAL
            or cleaned.get("channel") == Channel.OTHER_LA
        )
        cleaned["from_local_authority"] = self.authorities.get(code)
        if transfer and not code:
            self.add_error(
                "from_local_authority",
                "Select the local authority that sent it: a transfer from another authority "
                "(source 5C) must say which",
            )
        elif code and not transfer:
            self.add_error(
                "from_local_authority",
                "Choose a local authority only for a transfer from another authority: select "
                "referral source 5C, or choose 'Not a transfer from another authority'",
            )


# --- Children and adults ---------------------------------------------------------------------


def lenient_date(field: GovukDateField, value: Any) -> dt.date | None:
    try:
        return field.to_python(value)
    except ValidationError:
        return None


def lenient(clean: Any, value: str) -> str:
    try:
        return str(clean(value))
    except ValidationError:
        return ""


class PersonForm(QuietForm):
    role: ClassVar[str]
    noun: ClassVar[str]

    # The person index record chosen from the matches: a person's id, or "new".
    link_to = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)
    # "1" once matches have been asked for, so they are shown again on every visit.
    matched = forms.CharField(required=False, widget=forms.HiddenInput, max_length=1)
    given_name = TextField(label="Given name", max_length=100)
    family_name = TextField(label="Family name", max_length=100)
    date_of_birth = GovukDateField(label="Date of birth", required=False)
    sex = forms.ChoiceField(
        label="Sex",
        choices=Sex.choices,
        initial=Sex.UNKNOWN,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select the person's sex, or 'Not known'"},
    )
    ethnicity = forms.ChoiceField(
        label="Ethnicity",
        choices=Ethnicity.choices,
        initial=Ethnicity.NOBT,
        required=False,
        error_messages={"invalid_choice": "Select an ethnicity from the list"},
    )
    nhs_number = TextField(
        label="NHS number",
        max_length=20,
        help_text="10 numbers, for example 943 476 5919",
        error_messages={"max_length": "NHS number must be 10 numbers, like 943 476 5919"},
    )
    upn = TextField(
        label="Unique pupil number (UPN)",
        max_length=20,
        help_text="13 characters, for example A123456789012",
        error_messages={
            "max_length": "Unique pupil number must be 13 characters, like A123456789012"
        },
    )
    address_line_1 = TextField(label="Address line 1", max_length=200)
    address_line_2 = TextField(label="Address line 2 (optional)", max_length=200)
    town = TextField(label="Town or city", max_length=100)
    postcode = TextField(label="Postcode", max_length=10)

    # Identifying fields: a block with none of these typed is an empty block.
    IDENTIFYING: ClassVar[tuple[str, ...]] = (
        "given_name",
        "family_name",
        "nhs_number",
        "upn",
        "address_line_1",
        "address_line_2",
        "town",
        "postcode",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("child_labels", None)
        super().__init__(*args, **kwargs)
        self.linked_person: Person | None = None
        self.fields["date_of_birth"].max_date = clock.now().astimezone(clock.LONDON).date()  # type: ignore[attr-defined]

    def clean_nhs_number(self) -> str:
        return clean_nhs_number(self.cleaned_data.get("nhs_number", ""))

    def clean_upn(self) -> str:
        return clean_upn(self.cleaned_data.get("upn", ""))

    def clean_sex(self) -> str:
        return self.cleaned_data.get("sex") or Sex.UNKNOWN

    def clean_ethnicity(self) -> str:
        return self.cleaned_data.get("ethnicity") or Ethnicity.NOBT

    def clean_postcode(self) -> str:
        return " ".join(str(self.cleaned_data.get("postcode", "")).upper().split())

    def clean_link_to(self) -> str:
        value = str(self.cleaned_data.get("link_to", "")).strip()
        if value in ("", NEW_PERSON):
            return value
        if value.isascii() and value.isdigit() and len(value) <= 18:
            self.linked_person = Person.objects.filter(pk=int(value)).first()
        if self.linked_person is None:
            raise ValidationError("The record chosen to link no longer exists: find matches again")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            self.linked_person is None
            and "given_name" in cleaned
            and "family_name" in cleaned
            and not (cleaned["given_name"] or cleaned["family_name"])
        ):
            self.add_error("given_name", f"Enter the {self.noun}'s name")
        return cleaned

    def is_blank(self) -> bool:
        """Nothing typed in the block (a block added and left empty is ignored)."""
        values = [self[name].value() for name in self.IDENTIFYING]
        dates = [self[name].value() for name in self.date_fields()]
        return (
            not any(str(v or "").strip() for v in values)
            and not any(any(str(p).strip() for p in (d or ())) for d in dates)
            and not str(self["link_to"].value() or "").strip()
        )

    def date_fields(self) -> list[str]:
        return ["date_of_birth"]

    def label(self, index: int) -> str:
        name = " ".join(
            str(self[n].value() or "").strip() for n in ("given_name", "family_name")
        ).strip()
        return name or f"{self.noun.capitalize()} {index + 1}"

    def match_query(self) -> Query:
        """What was typed, read leniently, for looking up likely matches."""
        field = self.fields["date_of_birth"]
        if not isinstance(field, GovukDateField):  # pragma: no cover - fixed by the class
            raise TypeError(field)
        return Query(
            given_name=str(self["given_name"].value() or "").strip()[:100],
            family_name=str(self["family_name"].value() or "").strip()[:100],
            date_of_birth=lenient_date(field, self["date_of_birth"].value()),
            nhs_number=lenient(clean_nhs_number, str(self["nhs_number"].value() or "")[:20]),
            upn=lenient(clean_upn, str(self["upn"].value() or "")[:20]),
            postcode=str(self["postcode"].value() or "").strip()[:10],
        )

    def can_match(self) -> bool:
        query = self.match_query()
        return bool(query.family_name or query.nhs_number or query.upn or query.date_of_birth)


class ChildForm(PersonForm):
    role = "child"
    noun = "child"

    expected_date_of_birth = GovukDateField(
        label="Due date", required=False, help_text="For an unborn child"
    )
    school = TextField(label="School or nursery", max_length=200)
    gp = TextField(label="GP practice", max_length=200)

    IDENTIFYING = (*PersonForm.IDENTIFYING, "school", "gp")

    field_order = (
        "link_to",
        "matched",
        "given_name",
        "family_name",
        "date_of_birth",
        "expected_date_of_birth",
    )

    def date_fields(self) -> list[str]:
        return ["date_of_birth", "expected_date_of_birth"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        born, due = cleaned.get("date_of_birth"), cleaned.get("expected_date_of_birth")
        today = clock.now().astimezone(clock.LONDON).date()
        if due is not None:
            if due > today + DUE_DATE_MAX_AHEAD:
                self.add_error(
                    "expected_date_of_birth", "Due date must be within 10 months from today"
                )
            elif due < today - DUE_DATE_MAX_PAST:
                self.add_error(
                    "expected_date_of_birth",
                    "Due date is more than a month ago: enter the date of birth instead",
                )
        if born is not None and due is not None:
            self.add_error("expected_date_of_birth", "Give a date of birth or a due date, not both")
        dates_typed = not self.has_error("date_of_birth") and not self.has_error(
            "expected_date_of_birth"
        )
        linked_known = self.linked_person is not None and (
            self.linked_person.date_of_birth or self.linked_person.expected_date_of_birth
        )
        if dates_typed and born is None and due is None and not linked_known:
            self.add_error(
                "date_of_birth",
                "Enter the child's date of birth, or the due date for an unborn child",
            )
        return cleaned


RELATIONSHIP_CHOICES = _choices(
    "Not known", [(v, str(label)) for v, label in Relationship.choices if v != Relationship.NONE]
)


class AdultForm(PersonForm):
    role = "adult"
    noun = "adult"

    def __init__(self, *args: Any, child_labels: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, label in enumerate(child_labels or []):
            self.fields[f"relationship_{index}"] = forms.ChoiceField(
                label=f"Relationship to {label}",
                choices=RELATIONSHIP_CHOICES,
                required=False,
                error_messages={"invalid_choice": "Select a relationship from the list"},
            )

    def relationship_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("relationship_")]


ChildFormSet = forms.formset_factory(
    ChildForm, extra=0, max_num=MAX_BLOCKS, absolute_max=MAX_BLOCKS
)
AdultFormSet = forms.formset_factory(
    AdultForm, extra=0, max_num=MAX_BLOCKS, absolute_max=MAX_BLOCKS
)


# --- The raw data: drafts, adding and removing blocks ----------------------------------------

_BLOCK_KEY = re.compile(r"^(children|adults)-(\d+)-([a-z_0-9]+(?:-(?:day|month|year))?)$")
_RELATIONSHIP = re.compile(r"^relationship_(\d+)$")


def _contact_keys() -> set[str]:
    keys: set[str] = set()
    for name, field in ContactForm.base_fields.items():
        if isinstance(field, GovukDateField):
            keys.update(f"{name}-{part}" for part in ("day", "month", "year"))
        else:
            keys.add(name)
    return keys


CONTACT_KEYS = _contact_keys()


def raw_data(pairs: Iterable[tuple[str, list[str]]]) -> Data:
    """What was typed, as a plain dict of lists: only the form's own keys, NULs removed."""
    data: Data = {}
    for key, values in pairs:
        if key in CONTACT_KEYS or _BLOCK_KEY.match(key) or _management_key(key):
            data[key] = [str(v).replace("\x00", "")[: MAX_TEXT_LENGTH * 2] for v in values][:5]
    return normalise(data)


def _management_key(key: str) -> bool:
    return any(key == f"{prefix}-{name}" for prefix in PREFIXES for name in MANAGEMENT)


def block_count(data: Data, prefix: str) -> int:
    value = (data.get(f"{prefix}-TOTAL_FORMS") or [""])[-1]
    count = int(value[:6]) if value.isascii() and value.isdigit() else 0
    return max(1 if prefix == CHILDREN else 0, min(count, MAX_BLOCKS))


def normalise(data: Data) -> Data:
    """Sets the formsets' management data to what the blocks are (never trusting the post)."""
    for prefix in PREFIXES:
        count = block_count(data, prefix)
        data[f"{prefix}-TOTAL_FORMS"] = [str(count)]
        data[f"{prefix}-INITIAL_FORMS"] = ["0"]
        data[f"{prefix}-MIN_NUM_FORMS"] = ["0"]
        data[f"{prefix}-MAX_NUM_FORMS"] = [str(MAX_BLOCKS)]
    return data


def from_draft(draft: Any) -> Data:
    """A stored draft back as form data (tolerating anything an older version stored)."""
    if not isinstance(draft, dict):
        return normalise({})
    pairs = [
        (str(k), [str(v) for v in (values if isinstance(values, list) else [values])])
        for k, values in draft.items()
    ]
    return raw_data(pairs)


def add_block(data: Data, prefix: str) -> int | None:
    """Adds an empty block; its index, or None at the limit."""
    count = block_count(data, prefix)
    if count >= MAX_BLOCKS:
        return None
    data[f"{prefix}-TOTAL_FORMS"] = [str(count + 1)]
    data[f"{prefix}-{count}-sex"] = [Sex.UNKNOWN]
    data[f"{prefix}-{count}-ethnicity"] = [Ethnicity.NOBT]
    return count


def remove_block(data: Data, prefix: str, index: int) -> None:
    """Removes one block, moving the later ones up (and the adults' relationships with them)."""
    count = block_count(data, prefix)
    if not 0 <= index < count or (prefix == CHILDREN and count == 1):
        return
    moved: Data = {}
    for key in list(data):
        match = _BLOCK_KEY.match(key)
        if match is None:
            continue
        block_prefix, position, name = match.group(1), int(match.group(2)), match.group(3)
        values = data.pop(key)
        if block_prefix == prefix and position == index:
            continue
        if block_prefix == prefix and position > index:
            position -= 1
        if prefix == CHILDREN and block_prefix == ADULTS:
            relationship = _RELATIONSHIP.match(name)
            if relationship is not None:
                child = int(relationship.group(1))
                if child == index:
                    continue
                if child > index:
                    name = f"relationship_{child - 1}"
        moved[f"{block_prefix}-{position}-{name}"] = values
    data.update(moved)
    data[f"{prefix}-TOTAL_FORMS"] = [str(count - 1)]


def bind(data: Data, *, quiet: bool) -> tuple[ContactForm, Any, Any]:
    """The page's forms bound to the data; quiet ones show values without errors."""
    values = MultiValueDict(data)
    contact_form = ContactForm(values)
    children = ChildFormSet(values, prefix=CHILDREN)
    labels = [form.label(i) for i, form in enumerate(children.forms)]
    adults = AdultFormSet(values, prefix=ADULTS, form_kwargs={"child_labels": labels})
    for form in [contact_form, *children.forms, *adults.forms]:
        form.quiet = quiet
    return contact_form, children, adults


def initial_data() -> Data:
    """A new contact: received now, one child block and one adult block."""
    now = clock.now().astimezone(clock.LONDON)
    return normalise(
        {
            "received_date-day": [str(now.day)],
            "received_date-month": [str(now.month)],
            "received_date-year": [str(now.year)],
            "received_time": [now.strftime("%H:%M")],
            "children-TOTAL_FORMS": ["1"],
            "children-0-sex": [Sex.UNKNOWN],
            "children-0-ethnicity": [Ethnicity.NOBT],
            "adults-TOTAL_FORMS": ["1"],
            "adults-0-sex": [Sex.UNKNOWN],
            "adults-0-ethnicity": [Ethnicity.NOBT],
        }
    )


@dataclass(frozen=True)
class PrefillPerson:
    """A person to put on a new contact: as another record named them, perhaps linked."""

    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None
    person_id: int | None = None  # an existing person index record to link
    # For an adult: (index of the child, Relationship value) pairs.
    relationships: tuple[tuple[int, str], ...] = ()


def prefilled_data(
    *,
    received_at: dt.datetime,
    channel: str,
    referral_source: str,
    concern: str,
    children: list[PrefillPerson],
    adults: list[PrefillPerson] | None = None,
    referrer: dict[str, str] | None = None,
) -> Data:
    """A contact form's data filled in from a police notification or an advice-line call.

    Saved as a draft, it opens in the contact form for the user to check and finish;
    nothing is submitted for them.
    """
    when = received_at.astimezone(clock.LONDON)
    data: Data = {
        "received_date-day": [str(when.day)],
        "received_date-month": [str(when.month)],
        "received_date-year": [str(when.year)],
        "received_time": [when.strftime("%H:%M")],
        "channel": [channel],
        "referral_source": [referral_source],
        "concern": [concern[:MAX_TEXT_LENGTH]],
        "children-TOTAL_FORMS": [str(max(1, min(len(children), MAX_BLOCKS)))],
        "adults-TOTAL_FORMS": [str(min(len(adults or []), MAX_BLOCKS))],
    }
    for key, value in (referrer or {}).items():
        if f"referrer_{key}" in CONTACT_KEYS:
            data[f"referrer_{key}"] = [value]
    blocks = ((CHILDREN, children[:MAX_BLOCKS]), (ADULTS, (adults or [])[:MAX_BLOCKS]))
    for prefix, people in blocks:
        for i, person in enumerate(people):
            block = f"{prefix}-{i}"
            data[f"{block}-given_name"] = [person.given_name]
            data[f"{block}-family_name"] = [person.family_name]
            data[f"{block}-sex"] = [Sex.UNKNOWN]
            data[f"{block}-ethnicity"] = [Ethnicity.NOBT]
            if person.date_of_birth is not None:
                data[f"{block}-date_of_birth-day"] = [str(person.date_of_birth.day)]
                data[f"{block}-date_of_birth-month"] = [str(person.date_of_birth.month)]
                data[f"{block}-date_of_birth-year"] = [str(person.date_of_birth.year)]
            # Offer the matches at once; a known link is chosen already.
            data[f"{block}-matched"] = ["1"]
            if person.person_id is not None:
                data[f"{block}-link_to"] = [str(person.person_id)]
            for child_index, relationship in person.relationships:
                if prefix == ADULTS and 0 <= child_index < len(children):
                    data[f"{block}-relationship_{child_index}"] = [relationship]
    if not children:
        data["children-0-sex"], data["children-0-ethnicity"] = [Sex.UNKNOWN], [Ethnicity.NOBT]
    return normalise(data)


# --- Screening -------------------------------------------------------------------------------


class ScreeningForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Screening decision",
        choices=ScreeningOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a screening decision",
            "invalid_choice": "Select a screening decision",
        },
    )
    signposted_to = TextField(label="Signposted to whom?", max_length=200)
    reason = TextField(
        label="Reason for the decision",
        required=True,
        error_messages={"required": "Enter the reason for the screening decision"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["max_length"] = (
            f"Reason must be {MAX_TEXT_LENGTH:,} characters or fewer"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("outcome") == ScreeningOutcome.SIGNPOSTED and not cleaned.get(
            "signposted_to"
        ):
            self.add_error("signposted_to", "Enter who the family was signposted to")
        return cleaned
