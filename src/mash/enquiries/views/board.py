"""The board (see enquiries/urls.py): wall screens and the hub managers' own board.

A wall screen is signed in by the token in its connect URL, kept in a cookie
that only the /board/ pages read: it opens no other page, and those pages set
no session and need no sign-in. Each page view is audited, and the screen's
polling at most once a minute (screens.seen). A wall screen sees initials and
ages only; hub managers' board adds names and links to each enquiry.

Every board is built by enquiries.board (a fixed number of queries); the rows
are rendered by a lean template with each row's agency cells joined here, so
a thousand enquiries with sixteen agencies render quickly, and refreshed by
frontend/js/board.js from the data views.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import escape
from markupsafe import Markup

from mash.core import audit
from mash.core.gunicorn_logging import redact
from mash.enquiries import board, screens
from mash.enquiries.models import BoardScreen, Rag

log = logging.getLogger("django.request")

if TYPE_CHECKING:
    from mash.accounts.models import User

View = Callable[..., HttpResponse]

REFUSED = (
    "This board link is not valid: it may have been withdrawn. Ask an administrator for a new one."
)
SIGNED_OUT = "You have been signed out. Sign in again to see the board."
# How often the page asks for fresh data. Tests may ask for faster polling with
# ?poll=<seconds>, honoured only with DEBUG or MASH_BOARD_FAST_POLL on.
POLL_SECONDS = 10
RAG_WORDS = {**dict(Rag.choices), "": "Not rated"}
COUNTS = (
    ("urgent", "Urgent"),
    ("red", "Red"),
    ("amber", "Amber"),
    ("green", "Green"),
    ("unrated", "Not rated"),
    ("overdue", "OVERDUE"),
)
# Each agency cell as HTML, made once: a symbol AND a word, never colour alone.
CELL_HTML = {
    code: (
        f'<td class="k-{code}"><span class="mash-vh">{escape(word)}</span></td>'
        if not symbol
        else f'<td class="k-{code}"><b aria-hidden="true">{escape(symbol)}</b> {escape(word)}</td>'
    )
    for code, symbol, word in board.CELL.values()
}
CELL_WORDS = json.dumps({code: [symbol, word] for code, symbol, word in board.CELL.values()})


def left_words(seconds: int) -> tuple[str, str]:
    """The countdown's figure and the word under it: ("3h 05m 12s", "left") or
    ("OVERDUE", "by 1h 05m 12s"). board.js formats it the same way every second."""
    s = abs(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours}h {minutes:02d}m"
    elif hours:
        text = f"{hours}h {minutes:02d}m {secs:02d}s"
    else:
        text = f"{minutes}m {secs:02d}s"
    return ("OVERDUE", f"by {text}") if seconds <= 0 else (text, "left")


def _time_left(row: board.Row) -> tuple[str, str]:
    if row.remaining_seconds is None:
        return row.status_word, ""
    figure, note = left_words(row.remaining_seconds)
    if row.remaining_seconds > 0 and row.working_time:
        note = "paused until the hub opens" if row.paused else "working time left"
    return figure, note


def _children(row: board.Row, with_names: bool) -> str:
    return ", ".join(
        f"{c.name or c.initials} {c.age}" if with_names else f"{c.initials} {c.age}"
        for c in row.children
    )


def _rows(data: board.Board, with_names: bool) -> list[dict[str, Any]]:
    """What the template needs per row, with the agency cells already joined."""
    cells = CELL_HTML
    out = []
    for r in data.rows:
        figure, note = _time_left(r)
        out.append(
            {
                "r": r,
                "children": _children(r, with_names),
                "rag": RAG_WORDS.get(r.rag, r.rag),
                "figure": figure,
                "note": note,
                "deadline": int(r.deadline.timestamp() * 1000) if r.deadline else "",
                "left": "" if r.remaining_seconds is None else r.remaining_seconds,
                "cells": Markup("".join([cells[code] for code, _, _ in r.cells])),  # noqa: S704 (built above from escaped words)
            }
        )
    return out


def _poll_seconds(request: HttpRequest) -> int:
    asked = request.GET.get("poll", "")
    if (settings.DEBUG or getattr(settings, "MASH_BOARD_FAST_POLL", False)) and asked.isdigit():
        return min(max(int(asked), 1), POLL_SECONDS)
    return POLL_SECONDS


def _filters_text(data: board.Board, filters: board.Filters) -> str:
    """The slice this board shows, in words ("Red, amber · Police · Assessment team")."""
    parts = []
    if filters.rags:
        parts.append(", ".join(RAG_WORDS[r] for r in filters.rags).capitalize())
    if filters.agency_id is not None:
        names = {pk: name for pk, _, name in data.agencies}
        parts.append(names.get(filters.agency_id, "an agency no longer active"))
    if filters.team_id is not None:
        parts.append(dict(data.teams).get(filters.team_id, "a team no longer active"))
    return " · ".join(parts)


def _context(request: HttpRequest, *, with_names: bool, data_url: str) -> dict[str, Any]:
    filters = board.Filters.from_query(request.GET)
    data = board.build(filters=filters, with_names=with_names)
    query = request.GET.copy()
    query.pop("poll", None)
    return {
        "board": data,
        "rows": _rows(data, with_names),
        "counts": [(key, word, data.counts.get(key, 0)) for key, word in COUNTS],
        "now_ms": int(data.now.timestamp() * 1000),
        "data_url": data_url + (f"?{query.urlencode()}" if query else ""),
        "poll_seconds": _poll_seconds(request),
        "cell_words": CELL_WORDS,
        "rag_words": json.dumps(RAG_WORDS),
        "filters_text": _filters_text(data, filters),
        "with_names": with_names,
    }


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _json(payload: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(payload, separators=(",", ":")),
        content_type="application/json",
        status=status,
    )
    if status >= 400:
        # The refusal is the answer, not a fault: a revoked screen must not fill the log.
        response._has_been_logged = True  # type: ignore[attr-defined]
    return _no_store(response)


def _refused(request: HttpRequest) -> HttpResponse:
    """The one answer for a missing, unknown or withdrawn screen: no rows, no counts."""
    response = render(request, "enquiries/board/refused.html", {"message": REFUSED}, status=403)
    # Django would log the path, and a connect URL's path is the token itself.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return _no_store(response)


def _get_only(view: View) -> View:
    """Refuses any method but GET, once the view's own access check has passed: those
    with no access are told so (403) whatever the method."""

    @wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return view(request, *args, **kwargs)

    return inner


def _method_refused(request: HttpRequest) -> HttpResponse | None:
    if request.method not in ("GET", "HEAD"):
        response = HttpResponseNotAllowed(["GET", "HEAD"])
        # Logged here, with the token blanked out: Django would log the path as it is.
        log.warning("Method Not Allowed (%s): %s", request.method, redact(request.path))
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    return None


def _screen(request: HttpRequest) -> BoardScreen | None:
    return screens.screen_for_token(request.COOKIES.get(screens.COOKIE))


# Wall screens.


def connect(request: HttpRequest, token: str) -> HttpResponse:
    """Opened once on the screen: keeps the token in a cookie and shows the board."""
    screen = screens.screen_for_token(token)
    if screen is None:
        return _refused(request)
    if refused := _method_refused(request):
        return refused
    audit.record(
        action="board.connected",
        actor=None,
        actor_label=f"board screen: {screen.name}"[:254],
        obj=screen,
    )
    target = reverse("enquiries:board") + (f"?{screen.filters}" if screen.filters else "")
    return _no_store(_keep_signed_in(request, HttpResponseRedirect(target), token))


def _keep_signed_in(request: HttpRequest, response: HttpResponse, token: str) -> HttpResponse:
    """Sets the screen's cookie for another year: a screen in use never has to reconnect."""
    response.set_cookie(
        screens.COOKIE,
        token,
        max_age=screens.COOKIE_SECONDS,
        path=reverse("enquiries:board"),
        secure=request.is_secure(),
        httponly=True,
        samesite="Strict",
    )
    return response


def wall(request: HttpRequest) -> HttpResponse:
    """The wall board for a connected screen; hub managers are sent to their own board."""
    screen = _screen(request)
    if screen is None:
        user = request.user
        if request.method in ("GET", "HEAD") and user.has_perm("enquiries.view_board"):
            query = request.GET.urlencode()
            return HttpResponseRedirect(
                reverse("enquiries:manager_board") + (f"?{query}" if query else "")
            )
        return _refused(request)
    if refused := _method_refused(request):
        return refused
    screens.seen(screen, page=True)
    context = _context(request, with_names=False, data_url=reverse("enquiries:board_data"))
    context["hub_name"] = request.hub.name  # type: ignore[attr-defined]
    response = render(request, "enquiries/board/wall.html", context)
    return _no_store(_keep_signed_in(request, response, request.COOKIES[screens.COOKIE]))


def wall_data(request: HttpRequest) -> HttpResponse:
    """What the wall screen polls. Lean: the board's own queries, one dump."""
    screen = _screen(request)
    if screen is None:
        return _json({"error": REFUSED}, status=403)
    if refused := _method_refused(request):
        return refused
    screens.seen(screen, page=False)
    return _json(board.as_data(board.build(filters=board.Filters.from_query(request.GET))))


# The hub managers' board: the same, with names and links, in the normal page.


def _managers_only(view: View) -> View:
    @wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("enquiries.view_board"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return inner


def _filter_items(data: board.Board, chosen: board.Filters) -> dict[str, Any]:
    """The managers' filter form (a GET form: the filters stay in the URL), and the
    same filters as a query a wall screen can be given."""
    rag = ",".join(chosen.rags)
    rags = [("", "Any RAG"), ("urgent,red", "Urgent and red")] + [
        (value, str(label)) for value, label in Rag.choices
    ]
    if rag and rag not in dict(rags):
        rags.append((rag, ", ".join(RAG_WORDS[r] for r in chosen.rags)))
    query = []
    if rag:
        query.append(f"rag={rag}")
    if chosen.agency_id is not None:
        query.append(f"agency={chosen.agency_id}")
    if chosen.team_id is not None:
        query.append(f"team={chosen.team_id}")
    return {
        "rag_items": [{"value": v, "text": t, "selected": v == rag} for v, t in rags],
        "agency_items": [{"value": "", "text": "Any agency"}]
        + [
            {"value": pk, "text": name, "selected": pk == chosen.agency_id}
            for pk, _, name in data.agencies
        ],
        "team_items": [{"value": "", "text": "Any team"}]
        + [
            {"value": pk, "text": name, "selected": pk == chosen.team_id} for pk, name in data.teams
        ],
        "screen_filters": "&".join(query),
    }


@login_required
@_managers_only
@_get_only
def manager_board(request: HttpRequest) -> HttpResponse:
    user = cast("User", request.user)
    audit.record(action="board.viewed", actor=user, detail={"query": request.GET.urlencode()[:200]})
    context = _context(request, with_names=True, data_url=reverse("enquiries:manager_board_data"))
    context["detail_url"] = reverse("enquiries:detail", args=[0]).removesuffix("0/")
    context["sign_in_url"] = (
        reverse(settings.LOGIN_URL) + "?next=" + reverse("enquiries:manager_board")
    )
    context.update(_filter_items(context["board"], board.Filters.from_query(request.GET)))
    return _no_store(render(request, "enquiries/board/manager.html", context))


def manager_board_data(request: HttpRequest) -> HttpResponse:
    """What the managers' board polls. A poll is not activity: it does not push back
    the idle sign-out, so a board left open still signs its manager out on time."""
    user = request.user
    if not user.is_authenticated:
        return _json({"error": SIGNED_OUT}, status=403)
    if not user.has_perm("enquiries.view_board"):
        return _json({"error": "You do not have access to the board."}, status=403)
    if refused := _method_refused(request):
        return refused
    session = getattr(request, "session", None)
    if session is not None:
        session.save = lambda must_create=False: None
    data = board.build(filters=board.Filters.from_query(request.GET), with_names=True)
    return _json(board.as_data(data))


urlpatterns = [
    path("board/", wall, name="board"),
    path("board/data/", wall_data, name="board_data"),
    path("board/connect/<str:token>/", connect, name="board_connect"),
    path("enquiries/board/", manager_board, name="manager_board"),
    path("enquiries/board/data/", manager_board_data, name="manager_board_data"),
]
