"""Administrators: the hub's teams (an enquiry is allocated to one; a wall screen can show one)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from mash.accounts.models import User
from mash.core import services
from mash.core.models import Team


class TeamForm(forms.Form):
    name = forms.CharField(
        label="Team name",
        max_length=services.TEAM_NAME_MAX,
        help_text="For example, Assessment team 1",
        error_messages={
            "required": "Enter the team's name",
            "max_length": f"Team name must be {services.TEAM_NAME_MAX} characters or fewer",
        },
    )


def _administrator(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("core.manage_teams"):
        raise PermissionDenied
    return user


def _save(form: TeamForm, write: Callable[[str], Team]) -> Team | None:
    """Runs the service; its errors go next to the field."""
    try:
        return write(form.cleaned_data["name"])
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
        return None


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    _administrator(request)  # before the method, so nobody else learns even that
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    teams = list(Team.objects.order_by("-is_active", "name"))
    return render(request, "core/teams.html", {"teams": teams})


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _administrator(request)
    team = get_object_or_404(Team, pk=pk) if pk is not None else None
    form = TeamForm(request.POST or None, initial={"name": team.name} if team else None)
    if request.method == "POST" and form.is_valid():
        if team is None:
            saved = _save(form, lambda name: services.create_team(actor=actor, name=name))
            verb = "added"
        else:
            saved = _save(
                form, lambda name: services.update_team(actor=actor, team=team, name=name)
            )
            verb = "saved"
        if saved is not None:
            messages.success(request, f"{saved.name} {verb}.")
            return redirect("core:team_list")
    return render(
        request,
        "core/teams_form.html",
        {"form": form, "team": team, "page_has_errors": bool(form.errors)},
    )


@login_required
@require_POST
def team_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _administrator(request)
    team = get_object_or_404(Team, pk=pk)
    active = request.POST.get("active") == "true"
    team = services.update_team(actor=actor, team=team, is_active=active)
    if active:
        messages.success(request, f"{team.name} reactivated.")
    else:
        messages.success(
            request,
            f"{team.name} deactivated. Enquiries already allocated to it keep it; "
            "it is no longer offered for new ones.",
        )
    return redirect("core:team_list")


urlpatterns = [
    path("settings/teams/", team_list, name="team_list"),
    path("settings/teams/new/", team_edit, name="team_create"),
    path("settings/teams/<int:pk>/", team_edit, name="team_edit"),
    path("settings/teams/<int:pk>/active/", team_set_active, name="team_set_active"),
]
