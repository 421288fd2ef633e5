"""Person search, a person's record and their chronology."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse

from mash.core import clock
from mash.people import selectors
from mash.people.forms import PersonSearchForm
from mash.people.identifiers import format_nhs_number

if TYPE_CHECKING:
    from mash.accounts.models import User


def _user(request: HttpRequest, permission: str) -> User:
    """The signed-in user, if they hold the permission (checked before anything else)."""
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm(permission):
        raise PermissionDenied
    return user


def _read_only(request: HttpRequest) -> HttpResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    return HttpResponseNotAllowed(["GET", "HEAD"])


def enquiry_href(pk: int) -> str:
    return reverse("enquiries:detail", kwargs={"pk": pk})


def contact_href(pk: int) -> str:
    return reverse("contacts:detail", kwargs={"pk": pk})


def _common() -> dict[str, object]:
    return {
        "today": clock.now().astimezone(clock.LONDON).date(),
        "enquiry_href": enquiry_href,
        "contact_href": contact_href,
        "format_nhs_number": format_nhs_number,
    }


@login_required
def search(request: HttpRequest) -> HttpResponse:
    user = _user(request, "people.search")
    if refused := _read_only(request):
        return refused
    form = PersonSearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        results = selectors.search_people(user=user, terms=form.terms())
    return render(
        request,
        "people/search.html",
        {
            **_common(),
            "form": form,
            "results": results,
            "page_has_errors": bool(form.errors),
        },
    )


@login_required
def record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request, "people.view_record")
    if refused := _read_only(request):
        return refused
    found = selectors.person_record(user=user, pk=pk)
    return render(request, "people/record.html", {**_common(), "record": found})


@login_required
def chronology(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request, "people.view_record")
    if refused := _read_only(request):
        return refused
    oldest_first = request.GET.get("order") == "oldest"
    found = selectors.person_chronology(user=user, pk=pk, newest_first=not oldest_first)
    return render(request, "people/chronology.html", {**_common(), "chronology": found})
