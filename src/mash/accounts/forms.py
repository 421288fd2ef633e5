from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from mash.accounts.models import Agency, AgencyKind, Role, User
from mash.core.forms import GovukDateField

EMAIL_MAX = 254


class SignInForm(AuthenticationForm):
    """Email and password. Says nothing about whether an address is known."""

    username = forms.EmailField(
        label="Email address",
        max_length=EMAIL_MAX,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.org",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput,
        error_messages={
            "required": "Enter your password",
            "max_length": "Password must be 4096 characters or fewer",
        },
    )

    error_messages = {
        "invalid_login": "The email address or password is not right. Check them and try again.",
        "inactive": "The email address or password is not right. Check them and try again.",
    }

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes",
        error_messages={"required": "Enter the code", "max_length": "The code is too long"},
    )

    def clean_token(self) -> str:
        return "".join(str(self.cleaned_data["token"]).split()).replace("-", "")


class EmailPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email address",
        max_length=EMAIL_MAX,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.org",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )

    def get_users(self, email: str) -> Any:
        # Django skips users without a usable password (meant for accounts
        # that sign in elsewhere). Here it means an invited user who has not
        # yet set one: once the invitation expires, this page is their way in.
        folded = unicodedata.normalize("NFKC", email).casefold()
        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True)
            if unicodedata.normalize("NFKC", user.email).casefold() == folded
        )


class NewPasswordForm(SetPasswordForm):
    error_messages = {"password_mismatch": "The two passwords do not match"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = (
            "At least 12 characters. Not a common password, not all numbers, "
            "and not like your name or email address."
        )
        self.fields["new_password1"].error_messages["required"] = "Enter a new password"
        self.fields["new_password2"].label = "Confirm new password"
        self.fields["new_password2"].help_text = ""
        self.fields["new_password2"].error_messages["required"] = "Confirm your new password"
        for name in ("new_password1", "new_password2"):
            self.fields[name].max_length = 4096  # type: ignore[attr-defined]
            self.fields[name].validators.append(_max_password_length)


def _max_password_length(value: str) -> None:
    if len(value) > 4096:
        raise ValidationError("Password must be 4096 characters or fewer")


AGENCY_NAME_TAKEN = "An agency with this name already exists"


class AgencyForm(forms.ModelForm):
    protocol_signed_on = GovukDateField(
        label="Date the information-sharing protocol was signed",
        required=False,
        help_text="For example, 27 3 2024",
    )
    co_located = forms.TypedChoiceField(
        label="Where does the agency work?",
        choices=[("True", "Co-located in the hub's office"), ("False", "Virtually")],
        coerce=lambda v: v == "True",
        widget=forms.RadioSelect,
        error_messages={"required": "Select where the agency works"},
    )

    class Meta:
        model = Agency
        fields = (
            "name",
            "short_name",
            "kind",
            "protocol_signed_on",
            "co_located",
            "shared_inbox",
            "is_active",
        )
        labels = {
            "name": "Agency name",
            "short_name": "Name on the wall board (optional)",
            "kind": "Kind of agency",
            "shared_inbox": "Shared inbox (optional)",
            "is_active": "The agency is an active member of the hub",
        }
        help_texts = {
            "short_name": "Up to 12 characters, for example HV. Left empty, the board "
            "uses the first 12 characters of the agency's name.",
            "shared_inbox": "Reminders of requests falling due are also emailed here",
        }
        error_messages = {
            "name": {
                "required": "Enter the agency's name",
                "unique": AGENCY_NAME_TAKEN,
                "max_length": "Agency name must be 120 characters or fewer",
            },
            "short_name": {
                "max_length": "Name on the wall board must be 12 characters or fewer",
            },
            "kind": {"required": "Select the kind of agency"},
            "shared_inbox": {
                "invalid": "Enter the shared inbox in the correct format, like mash@example.org",
                "max_length": "Shared inbox must be 254 characters or fewer",
            },
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Select the kind of agency"), *AgencyKind.choices]  # type: ignore[attr-defined]
        # A protocol "signed on" a day still to come is a typing slip.
        self.fields["protocol_signed_on"].max_date = timezone.localdate()  # type: ignore[attr-defined]
        if self.instance.pk:
            self.initial["co_located"] = str(self.instance.co_located)

    def clean_name(self) -> str:
        # "Police" and "police" would be two entries in every list of agencies.
        name = str(self.cleaned_data["name"]).strip()
        clash = Agency.objects.filter(name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(AGENCY_NAME_TAKEN)
        return name

    def clean_short_name(self) -> str:
        # Two columns with one heading would make the board ambiguous.
        short = " ".join(str(self.cleaned_data.get("short_name") or "").split())
        if short:
            clash = Agency.objects.filter(short_name__iexact=short)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            taken = clash.values_list("name", flat=True).first()
            if taken is not None:
                raise ValidationError(f"{taken} is already called {short} on the wall board")
        return short


class UserForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={
            "required": "Enter the person's full name",
            "max_length": "Full name must be 150 characters or fewer",
        },
    )
    email = forms.EmailField(
        label="Email address",
        max_length=EMAIL_MAX,
        error_messages={
            "required": "Enter the person's work email address",
            "invalid": "Enter an email address in the correct format, like name@example.org",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )
    job_title = forms.CharField(
        label="Job title (optional)",
        max_length=150,
        required=False,
        error_messages={"max_length": "Job title must be 150 characters or fewer"},
    )
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=40,
        required=False,
        error_messages={"max_length": "Phone must be 40 characters or fewer"},
    )
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.none(),
        empty_label="Select an agency",
        error_messages={
            "required": "Select the person's agency",
            "invalid_choice": "Select an agency from the list",
        },
    )
    is_agency_lead = forms.BooleanField(
        label="This person is their agency's lead",
        required=False,
        help_text="They are told when their agency's requests are overdue",
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply",
        error_messages={
            "required": "Select at least one role",
            "invalid_choice": "Select roles from the list",
        },
    )

    def __init__(
        self, *args: Any, instance: User | None = None, actor: User | None = None, **kwargs: Any
    ) -> None:
        self.instance = instance
        self.actor = actor
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "full_name": instance.full_name,
                    "email": instance.email,
                    "job_title": instance.job_title,
                    "phone": instance.phone,
                    "agency": instance.agency_id,
                    "roles": sorted(instance.roles),
                    "is_agency_lead": instance.is_agency_lead,
                },
            )
        super().__init__(*args, **kwargs)
        agencies = Agency.objects.filter(is_active=True)
        if instance is not None and instance.agency_id is not None:
            # Keep a user's current agency selectable even after it was deactivated.
            agencies = Agency.objects.filter(Q(is_active=True) | Q(pk=instance.agency_id))
        self.fields["agency"].queryset = agencies.order_by("name")  # type: ignore[attr-defined]

    def clean_roles(self) -> list[str]:
        roles = list(self.cleaned_data["roles"])
        editing_self = (
            self.instance is not None
            and self.actor is not None
            and (self.instance.pk == self.actor.pk)
        )
        if editing_self and set(roles) != set(self.instance.roles):  # type: ignore[union-attr]
            raise ValidationError(
                "You cannot change your own roles. Ask another administrator to do it."
            )
        return roles

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        roles = cleaned.get("roles")
        if cleaned.get("is_agency_lead") and roles is not None and not _may_lead(roles):
            self.add_error("is_agency_lead", LEAD_NEEDS_PRACTITIONER)
        return cleaned

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        clash = User.objects.filter(email__iexact=email)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("Someone already signs in with this email address")
        return email


LEAD_NEEDS_PRACTITIONER = (
    "An agency's lead must also be an agency practitioner, to open the overdue requests "
    "they are told about"
)


def _may_lead(roles: list[str] | set[str] | tuple[str, ...]) -> bool:
    return Role.AGENCY_PRACTITIONER in roles


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput,
        max_length=4096,
        error_messages={"required": "Enter your current password"},
    )
    field_order = ["old_password", "new_password1", "new_password2"]

    def clean_old_password(self) -> str:
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise ValidationError("Your current password is not right")
        return str(value)
