"""Administrators: the wall screens allowed to show the board.

Creating a screen shows its connect address once, in the response to the form
itself (never in a redirect, a message, a log or the audit trail), marked
not to be stored. Revoking a screen stops it at its next request.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from mash.accounts.models import Agency, User
from mash.core.models import Team
from mash.enquiries import screens
from mash.enquiries.board import Filters
from mash.enquiries.models import BoardScreen, Rag

NAME_MAX = 80


class ScreenForm(forms.Form):
    name = forms.CharField(
        label="Name of the screen",
        max_length=NAME_MAX,
        help_text="Where it is, so you can find it again, for example 2nd floor screen",
        error_messages={
            "required": "Enter a name for the screen, like 2nd floor screen",
            "max_length": f"The name must be {NAME_MAX} characters or fewer",
        },
    )
    rag = forms.MultipleChoiceField(
        label="Show only these RAG ratings (optional)",
        choices=Rag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to show every open enquiry",
        error_messages={"invalid_choice": "Select RAG ratings from the list"},
    )
    agency = forms.ModelChoiceField(
        label="Show only enquiries that ask this agency (optional)",
        queryset=Agency.objects.none(),
        required=False,
        empty_label="Every agency",
        error_messages={"invalid_choice": "Select an agency from the list"},
    )
    team = forms.ModelChoiceField(
        label="Show only this team's enquiries (optional)",
        queryset=Team.objects.none(),
        required=False,
        empty_label="Every team",
        error_messages={"invalid_choice": "Select a team from the list"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.filter(is_active=True).order_by("name")  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.filter(is_active=True).order_by("name")  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        return " ".join(str(self.cleaned_data["name"]).split())

    def query(self) -> str:
        """The board's URL query for these filters, e.g. "rag=red,amber&agency=3&team=2"."""
        data = self.cleaned_data
        parts = []
        chosen = [r for r in Rag.values if r in set(data.get("rag") or [])]
        if chosen:
            parts.append("rag=" + ",".join(chosen))
        if data.get("agency") is not None:
            parts.append(f"agency={data['agency'].pk}")
        if data.get("team") is not None:
            parts.append(f"team={data['team'].pk}")
        return "&".join(parts)


class PagingForm(forms.Form):
    seconds = forms.IntegerField(
        label="Turn the page every (seconds)",
        min_value=screens.PAGE_SECONDS_MIN,
        max_value=screens.PAGE_SECONDS_MAX,
        help_text="When more enquiries are open than fit on a screen, the board shows them "
        "page by page",
        error_messages={
            "required": "Enter how many seconds each page shows for",
            "invalid": "Enter a whole number of seconds, like 20",
            "min_value": f"Enter a whole number of seconds from {screens.PAGE_SECONDS_MIN} "
            f"to {screens.PAGE_SECONDS_MAX}",
            "max_value": f"Enter a whole number of seconds from {screens.PAGE_SECONDS_MIN} "
            f"to {screens.PAGE_SECONDS_MAX}",
        },
    )


def _administrator(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("enquiries.manage_board_screens"):
        raise PermissionDenied
    return user


def filters_in_words(query: str, agencies: dict[int, str], teams: dict[int, str]) -> str:
    """What a screen shows, in words: "Red and Amber; asking Police; team North"."""
    filters = Filters.from_query(QueryDict(query))
    words = []
    if filters.rags:
        labels = [str(Rag(r).label) for r in filters.rags]
        joined = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        words.append(f"{joined} only")
    if filters.agency_id is not None:
        name = agencies.get(filters.agency_id, "an agency no longer listed")
        words.append(f"enquiries asking {name}")
    if filters.team_id is not None:
        name = teams.get(filters.team_id, "a team no longer listed")
        words.append(f"team {name}")
    if not words:
        return "Every open enquiry"
    text = "; ".join(words)
    return text[0].upper() + text[1:]


@login_required
def screen_list(request: HttpRequest) -> HttpResponse:
    _administrator(request)  # before the method, so nobody else learns even that
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    rows = list(
        BoardScreen.objects.select_related("created_by", "revoked_by").order_by(
            "revoked_at", "name", "pk"
        )
    )
    agencies = dict(Agency.objects.values_list("pk", "name"))
    teams = dict(Team.objects.values_list("pk", "name"))
    listed: list[dict[str, Any]] = [
        {"screen": screen, "filters": filters_in_words(screen.filters, agencies, teams)}
        for screen in rows
    ]
    # Active screens first (a null revoked_at sorts first on SQLite, last on PostgreSQL).
    listed.sort(key=lambda row: row["screen"].revoked_at is not None)
    return render(
        request,
        "enquiries/screens/list.html",
        {"screens": listed, "page_seconds": request.hub.board_page_seconds},  # type: ignore[attr-defined]
    )


@login_required
@require_http_methods(["GET", "POST"])
def screen_paging(request: HttpRequest) -> HttpResponse:
    actor = _administrator(request)
    hub = request.hub  # type: ignore[attr-defined]
    form = PagingForm(request.POST or None, initial={"seconds": hub.board_page_seconds})
    if request.method == "POST" and form.is_valid():
        try:
            screens.set_page_seconds(actor=actor, seconds=form.cleaned_data["seconds"])
        except ValidationError as error:
            for problem in error.message_dict.get("seconds", []):
                form.add_error("seconds", problem)
        else:
            messages.success(
                request,
                f"Boards turn their page every {form.cleaned_data['seconds']} seconds.",
            )
            return redirect("enquiries:screen_list")
    return render(
        request,
        "enquiries/screens/paging.html",
        {"form": form, "page_has_errors": bool(form.errors)},
    )


def connect_url(raw_token: str) -> str:
    """The address a screen opens once to sign in to the board."""
    try:
        route = reverse("enquiries:board_connect", args=[raw_token])
    except NoReverseMatch:
        route = f"/board/connect/{raw_token}/"
    return f"{settings.MASH_BASE_URL.rstrip('/')}{route}"


@login_required
@require_http_methods(["GET", "POST"])
def screen_create(request: HttpRequest) -> HttpResponse:
    actor = _administrator(request)
    form = ScreenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            screen, raw_token = screens.create_screen(
                actor=actor, name=form.cleaned_data["name"], filters=form.query()
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            agencies = {a.pk: a.name for a in [form.cleaned_data["agency"]] if a is not None}
            teams = {t.pk: t.name for t in [form.cleaned_data["team"]] if t is not None}
            response = render(
                request,
                "enquiries/screens/created.html",
                {
                    "screen": screen,
                    "connect_url": connect_url(raw_token),
                    "filters": filters_in_words(screen.filters, agencies, teams),
                },
            )
            # The address is a password: no browser or proxy may keep this page.
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
            response["Pragma"] = "no-cache"
            return response
    return render(
        request,
        "enquiries/screens/form.html",
        {"form": form, "page_has_errors": bool(form.errors)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def screen_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _administrator(request)
    screen = get_object_or_404(BoardScreen, pk=pk)
    if request.method == "POST":
        was_active = screen.is_active
        screens.revoke_screen(actor=actor, screen=screen)
        if was_active:
            messages.success(
                request, f"{screen.name} is withdrawn: it can no longer show the board."
            )
        return redirect("enquiries:screen_list")
    return render(request, "enquiries/screens/revoke.html", {"screen": screen})


urlpatterns = [
    path("settings/screens/", screen_list, name="screen_list"),
    path("settings/screens/new/", screen_create, name="screen_create"),
    path("settings/screens/paging/", screen_paging, name="screen_paging"),
    path("settings/screens/<int:pk>/revoke/", screen_revoke, name="screen_revoke"),
]
