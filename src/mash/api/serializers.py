"""What the API reads and writes: a police notification as the force's system sends it,
and as the API answers (what was sent, the hub's reference and where triage has got to).

Serializers only check the shape (types, formats, unknown fields); the rules are
`mash.contacts.police.check`, shared with the CSV upload and the form, so every
route says the same thing about the same mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.fields import SkipField, get_error_detail
from rest_framework.settings import api_settings

from mash.contacts.models import (
    AdultRole,
    DashRisk,
    IncidentType,
    NotificationAdult,
    NotificationChild,
    PoliceNotification,
)
from mash.contacts.police import MAX_ADULTS, MAX_CHILDREN, AdultEntry, ChildEntry, NotificationEntry
from mash.core import clock

MAX_UNKNOWN_NAME = 60


def _choices_in_words(choices: Any) -> str:
    return ", ".join(value for value, _ in choices)


class Text(serializers.CharField):
    """Text, optional unless said otherwise (null counts as empty). Refuses what no
    database can store: NUL characters and half a surrogate pair."""

    def __init__(self, *, required: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        if required:
            kwargs["required"] = True
        else:
            kwargs.setdefault("default", "")
        messages = kwargs.setdefault("error_messages", {})
        messages.setdefault("invalid", "Must be a string")
        messages.setdefault("null", messages.get("required", "Must be a string, not null"))
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None and not self.required:
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise serializers.ValidationError(
                "Contains characters that are not valid text (an unpaired surrogate)"
            ) from error
        return value


class RequiredText(Text):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=True, **kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time that says its offset: a naive time is ambiguous at the
    clock changes, so it is refused, not guessed."""

    default_error_messages = {
        "invalid": (
            "Give the date and time in ISO 8601 with its offset, like 2026-03-14T21:30:00Z "
            "or 2026-06-14T21:30:00+01:00"
        ),
        "naive": (
            "Give the time's offset from UTC, like 2026-03-14T21:30:00Z or "
            "2026-06-14T21:30:00+01:00"
        ),
        "required": "Enter the date and time of the incident",
        "null": "Enter the date and time of the incident",
        "date": "Give a date and a time, not a date alone",
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class DateField(serializers.DateField):
    default_error_messages = {
        "invalid": "Give the date as YYYY-MM-DD, like 2015-06-30",
        "datetime": "Give a date alone (YYYY-MM-DD), not a date and time",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("default", None)
        super().__init__(**kwargs)


class Flag(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true, false or null (not known)"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, default=None, **kwargs)


def _choice(choices: Any, what: str, **kwargs: Any) -> serializers.ChoiceField:
    words = _choices_in_words(choices)
    return serializers.ChoiceField(
        choices=choices,
        error_messages={
            "invalid_choice": f"{what} must be one of: {words}",
            "required": f"Give {what.lower()}: one of {words}",
            "null": f"Give {what.lower()}: one of {words}",
        },
        **kwargs,
    )


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a misspelt field is a mistake, not something to
    ignore), and keeps the values that were valid, so the caller can go on to check them."""

    default_error_messages = {"invalid": "Must be a JSON object"}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        self.partial_values: dict[str, Any] = {}
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [self.error_messages["invalid"]]},
                code="invalid",
            )
        errors: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for field in self._writable_fields:
            try:
                value = field.run_validation(field.get_value(data))
            except serializers.ValidationError as exc:
                errors[field.field_name] = exc.detail
            except DjangoValidationError as exc:
                errors[field.field_name] = get_error_detail(exc)
            except SkipField:
                pass
            else:
                values[field.field_name] = value  # (no field here has another source)
        known = set(self.fields)
        for name in data:
            if name not in known:
                shown = str(name)[:MAX_UNKNOWN_NAME]
                errors[shown] = [f"{shown} is not a field of {self.Meta.what}: remove it"]
        self.partial_values = values
        if errors:
            raise serializers.ValidationError(errors)
        return values

    class Meta:
        what = "this object"


class ChildInput(StrictSerializer):
    given_name = Text(help_text="As the officer recorded it. A name or a date of birth is needed.")
    family_name = Text()
    date_of_birth = DateField(help_text="YYYY-MM-DD; null if not known. Under 18.")
    seen = Flag(help_text="Whether the officer saw the child; null if not recorded.")
    spoken_to = Flag(help_text="Whether the officer spoke to the child; null if not recorded.")

    class Meta:
        what = "a child"


class AdultInput(StrictSerializer):
    role = _choice(AdultRole.choices, "The adult's role")
    given_name = Text()
    family_name = Text(help_text="A given or a family name is needed.")
    date_of_birth = DateField(help_text="YYYY-MM-DD; null if not known.")

    class Meta:
        what = "an adult"


class NotificationInput(StrictSerializer):
    """A police notification as the force's system sends it."""

    occurrence_reference = RequiredText(
        help_text=(
            "The force's own reference for the occurrence, at most 40 characters. Unique per "
            "force: sending it again with the same content returns the first (200); with "
            "different content it is refused (409)."
        ),
        error_messages={"required": "Enter the force's occurrence reference"},
    )
    incident_at = AwareDateTimeField(
        help_text="When the incident happened, ISO 8601 with its offset from UTC."
    )
    incident_type = _choice(IncidentType.choices, "The type of incident")
    dash_risk = _choice(
        DashRisk.choices,
        "The DASH risk level",
        allow_blank=True,
        default="",
        help_text="For domestic abuse only, and then required.",
    )
    location = Text(help_text="Where it happened, at most 300 characters.")
    children = ChildInput(
        many=True,
        max_length=MAX_CHILDREN,
        allow_empty=True,
        help_text=f"The children present: at least one, at most {MAX_CHILDREN}.",
        error_messages={
            "required": "Name at least one child present (a name or a date of birth)",
            "not_a_list": "Give the children as a list of objects",
            "max_length": f"A notification can name at most {MAX_CHILDREN} children",
        },
    )
    adults = AdultInput(
        many=True,
        max_length=MAX_ADULTS,
        required=False,
        help_text=f"The adults involved and their roles, at most {MAX_ADULTS}.",
        error_messages={
            "not_a_list": "Give the adults as a list of objects",
            "max_length": f"A notification can name at most {MAX_ADULTS} adults",
        },
    )
    narrative = Text(help_text="The officer's account, as written.")
    officer_name = Text(help_text="At most 150 characters.")
    officer_collar_number = Text(help_text="At most 20 characters.")
    officer_team = Text(
        help_text="The officer's team or unit, at most 100 characters: the hub's quality "
        "report counts notifications by team."
    )

    class Meta:
        what = "a police notification"


def entry_from(values: Mapping[str, Any]) -> NotificationEntry:
    """The service's NotificationEntry from validated values (placeholders for missing ones,
    used only to find the problems of the fields that were valid)."""
    return NotificationEntry(
        occurrence_reference=values.get("occurrence_reference", "x"),
        incident_at=values.get("incident_at") or clock.now(),
        incident_type=values.get("incident_type", IncidentType.OTHER),
        dash_risk=values.get("dash_risk", ""),
        location=values.get("location", ""),
        narrative=values.get("narrative", ""),
        officer_name=values.get("officer_name", ""),
        officer_collar_number=values.get("officer_collar_number", ""),
        officer_team=values.get("officer_team", ""),
        children=[ChildEntry(**c) for c in values.get("children", [{"given_name": "x"}])],
        adults=[AdultEntry(**a) for a in values.get("adults", [])],
    )


# --- Answers -----------------------------------------------------------------------------------


class ChildOutput(serializers.Serializer):
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    seen = serializers.BooleanField(allow_null=True)
    spoken_to = serializers.BooleanField(allow_null=True)


class AdultOutput(serializers.Serializer):
    role = serializers.ChoiceField(choices=AdultRole.choices)
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)


STATUSES = [
    ("awaiting_triage", "Awaiting triage by the hub"),
    ("triaged", "Triaged: the hub has recorded an outcome"),
]


class NotificationSummary(serializers.Serializer):
    """A notification in a list: its references and where triage has got to."""

    id = serializers.IntegerField(help_text="The hub's id for it.")
    reference = serializers.CharField(help_text="The hub's reference: PN-000042.")
    url = serializers.URLField(help_text="Where to read it.")
    occurrence_reference = serializers.CharField()
    incident_at = serializers.DateTimeField(help_text="In UTC.")
    incident_type = serializers.ChoiceField(choices=IncidentType.choices)
    received_at = serializers.DateTimeField(help_text="When the hub received it, in UTC.")
    status = serializers.ChoiceField(
        choices=STATUSES,
        help_text="awaiting_triage until a researcher has screened it, then triaged.",
    )
    outcome = serializers.ChoiceField(
        choices=PoliceNotification._meta.get_field("outcome").choices,
        allow_null=True,
        help_text=(
            "The triage outcome once triaged (null before): record_only, share_universal, "
            "progress_contact or add_to_enquiry. What the hub did beyond that is not shared."
        ),
    )
    triaged_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was triaged, in UTC."
    )


class NotificationOutput(NotificationSummary):
    """A notification: what the force sent, the hub's reference, and where triage has got to.

    Nothing else from the hub: no person-index matches, contacts or enquiries.
    """

    dash_risk = serializers.CharField()
    location = serializers.CharField()
    narrative = serializers.CharField()
    officer_name = serializers.CharField()
    officer_collar_number = serializers.CharField()
    officer_team = serializers.CharField()
    children = ChildOutput(many=True)
    adults = AdultOutput(many=True)
    received_via = serializers.ChoiceField(
        choices=PoliceNotification._meta.get_field("received_via").choices,
        help_text="api, csv (uploaded by a researcher) or manual (typed in by one).",
    )


# --- The answers, written out ------------------------------------------------------------------
# The classes above document the answers in the schema; these functions write them, a
# few times faster than DRF's serializers, and from what was just sent when a notification
# is created (no reading back). tests/api/test_schema.py checks that the two agree.


def moment(value: dt.datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC: 2026-03-14T21:30:00Z."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def as_summary(notification: PoliceNotification, url: str) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "reference": notification.reference,
        "url": url,
        "occurrence_reference": notification.occurrence_reference,
        "incident_at": moment(notification.incident_at),
        "incident_type": notification.incident_type,
        "received_at": moment(notification.received_at),
        "status": "triaged" if notification.outcome else "awaiting_triage",
        "outcome": notification.outcome or None,
        "triaged_at": moment(notification.triaged_at),
    }


def as_detail(
    notification: PoliceNotification,
    url: str,
    children: Iterable[ChildEntry | NotificationChild],
    adults: Iterable[AdultEntry | NotificationAdult],
) -> dict[str, Any]:
    return {
        **as_summary(notification, url),
        "dash_risk": notification.dash_risk,
        "location": notification.location,
        "narrative": notification.narrative,
        "officer_name": notification.officer_name,
        "officer_collar_number": notification.officer_collar_number,
        "officer_team": notification.officer_team,
        "children": [
            {
                "given_name": c.given_name,
                "family_name": c.family_name,
                "date_of_birth": _day(c.date_of_birth),
                "seen": c.seen,
                "spoken_to": c.spoken_to,
            }
            for c in children
        ],
        "adults": [
            {
                "role": a.role,
                "given_name": a.given_name,
                "family_name": a.family_name,
                "date_of_birth": _day(a.date_of_birth),
            }
            for a in adults
        ],
        "received_via": notification.received_via,
    }
