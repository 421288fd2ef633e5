"""Administrators: the API keys issued to agencies' systems (/settings/api-tokens/).

Issuing a key shows it once, in the response to the form itself (never in a
redirect, a message, a log or the audit trail), marked not to be stored.
Revoking one refuses its next request.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from mash.accounts.models import Agency, AgencyKind, User
from mash.api import selectors, services
from mash.api.models import ApiToken

app_name = "api_tokens"


class TokenForm(forms.Form):
    agency = forms.ModelChoiceField(
        label="Agency",
        queryset=Agency.objects.none(),
        empty_label="Select the agency",
        help_text="The key acts for this agency. Police notifications can be sent only with "
        "a police force's key.",
        error_messages={
            "required": "Select the agency whose system will use the key",
            "invalid_choice": "Select an agency from the list",
        },
    )
    name = forms.CharField(
        label="Name of the system",
        max_length=services.NAME_MAX,
        help_text="So you can tell keys apart, for example Niche RMS",
        error_messages={
            "required": "Enter the name of the system that will use the key, like Niche RMS",
            "max_length": f"The name must be {services.NAME_MAX} characters or fewer",
        },
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["agency"].queryset = Agency.objects.filter(is_active=True).order_by("name")  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        return " ".join(str(self.cleaned_data["name"]).split())


def _administrator(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("api.manage_tokens"):
        raise PermissionDenied
    return user


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)  # before the method, so nobody else learns even that
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    rows = list(selectors.tokens(user=user))
    # Live keys first (a null revoked_at sorts first on SQLite, last on PostgreSQL).
    rows.sort(key=lambda token: token.revoked_at is not None)
    return render(
        request,
        "api/tokens/list.html",
        {"tokens": rows, "police": AgencyKind.POLICE, "docs_url": reverse("api:docs")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    actor = _administrator(request)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = services.issue_token(
                actor=actor, agency=form.cleaned_data["agency"], name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            response = render(
                request,
                "api/tokens/created.html",
                {
                    "token": token,
                    "key": key,
                    "police": token.agency.kind == AgencyKind.POLICE,
                    "docs_url": request.build_absolute_uri(reverse("api:docs")),
                },
            )
            # The key is a password: no browser or proxy may keep this page.
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
            response["Pragma"] = "no-cache"
            return response
    return render(
        request, "api/tokens/form.html", {"form": form, "page_has_errors": bool(form.errors)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _administrator(request)
    token = get_object_or_404(ApiToken.objects.select_related("agency", "revoked_by"), pk=pk)
    if request.method == "POST":
        was_active = token.is_active
        services.revoke_token(actor=actor, token=token)
        if was_active:
            messages.success(
                request,
                f"{token.name} ({token.agency.name}) is revoked: its key is refused from now on.",
            )
        return redirect("api_tokens:list")
    return render(request, "api/tokens/revoke.html", {"token": token})


urlpatterns = [
    path("settings/api-tokens/", token_list, name="list"),
    path("settings/api-tokens/new/", token_create, name="create"),
    path("settings/api-tokens/<int:pk>/revoke/", token_revoke, name="revoke"),
]
