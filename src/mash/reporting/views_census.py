"""/reports/census/: the Children in Need census for a year: counts, problems, the XML.

Hub managers only (`reporting.statutory_returns`): the problems name children, so that the
manager can put their records right. The page checks the whole year before it offers the
file; the download streams the XML as it is made (census.stream_census), and the file can
also be prepared in the background on the exports page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_safe

from mash.accounts.models import User
from mash.core import audit
from mash.core.models import Hub
from mash.reporting import census
from mash.reporting.models import ExportKind


class CensusYearForm(forms.Form):
    year = forms.IntegerField(
        label="Census year",
        help_text="The year of the census's 31 March. For example, 2026 covers 1 April 2025 "
        "to 31 March 2026.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latest = census.latest_year()

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        if year < census.FIRST_YEAR:
            raise ValidationError(f"Census year must be {census.FIRST_YEAR} or later")
        if year > self.latest:
            raise ValidationError(f"Census year must be {self.latest} or earlier")
        return year

    def full_clean(self) -> None:
        super().full_clean()
        # Django's own wording ("Enter a whole number.") is replaced by the house's.
        if "year" in self.errors and not any(
            str(e).startswith("Census year") for e in self.errors["year"]
        ):
            self.errors["year"] = self.error_class(["Enter the census year as 4 digits, like 2026"])


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("reporting.statutory_returns"):
        raise PermissionDenied
    return user


def _hub_managers_only(view: Callable[[HttpRequest], HttpResponseBase]) -> Any:
    """Signed in, then the permission (403), and only then the method (405)."""

    @login_required
    @functools.wraps(view)
    def guarded(request: HttpRequest) -> HttpResponseBase:
        _user(request)
        return view(request)

    return guarded


def _background_available() -> bool:
    from mash.reporting import exports

    return ExportKind.CIN_CENSUS in exports.EXPORTERS


@_hub_managers_only
@require_safe
def census_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    data = request.GET if "year" in request.GET else {"year": census.default_year()}
    form = CensusYearForm(data)
    result = None
    if form.is_valid():
        year = form.cleaned_data["year"]
        result = census.preview(year, hub=Hub.load())
        audit.record(
            action="reporting.cin_census_checked",
            actor=user,
            detail={
                "year": year,
                "children": result.children,
                "errors": result.findings.count(census.Severity.ERROR),
            },
        )
    response = render(
        request,
        "reporting/census.html",
        {
            "form": form,
            "result": result,
            "census_year": census.CensusYear(form.cleaned_data["year"]) if result else None,
            "Severity": census.Severity,
            "rules": census.RULES,
            "notes": census.NOTES,
            "background": _background_available(),
            "page_has_errors": bool(form.errors),
        },
    )
    add_never_cache_headers(response)
    return response


@_hub_managers_only
@require_safe
def census_download(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    form = CensusYearForm(request.GET)
    if not form.is_valid():
        return redirect(reverse("reporting:census"))
    year: int = form.cleaned_data["year"]
    hub = Hub.load()
    result = census.preview(year, hub=hub)
    if not result.ok:
        messages.error(
            request, "The census file cannot be made until the problems below are put right."
        )
        return redirect(f"{reverse('reporting:census')}?year={year}")
    audit.record(
        action="reporting.cin_census_downloaded",
        actor=user,
        detail={"year": year, "children": result.children, "referrals": result.referrals},
    )
    response = StreamingHttpResponse(
        census.stream_census(year, hub=hub), content_type="application/xml; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="cin-census-{year}-{hub.la_code or "la"}.xml"'
    )
    add_never_cache_headers(response)
    return response


@_hub_managers_only
@require_http_methods(["POST"])
def census_prepare(request: HttpRequest) -> HttpResponse:
    """Queues the file on the exports page (the worker makes it), for a large year."""
    user = _user(request)
    form = CensusYearForm(request.POST)
    if not form.is_valid() or not _background_available():
        return redirect(reverse("reporting:census"))
    from mash.reporting import exports

    year = form.cleaned_data["year"]
    try:
        exports.request_export(actor=user, kind=ExportKind.CIN_CENSUS, parameters={"year": year})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{reverse('reporting:census')}?year={year}")
    messages.success(
        request, "The census file is being prepared. It will appear below when it is ready."
    )
    return redirect("reporting:exports")


urlpatterns: list[URLPattern] = [
    path("census/", census_page, name="census"),
    path("census/download/", census_download, name="census_download"),
    path("census/prepare/", census_prepare, name="census_prepare"),
]
