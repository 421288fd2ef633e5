"""/reports/annex-a/: Ofsted's Annex A lists 1 to 3 for a date range, prepared in the background."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from mash.accounts.models import User
from mash.core import clock
from mash.core.forms import GovukDateField
from mash.reporting import annex_a, exports
from mash.reporting.models import ExportKind

FORMATS = (
    (ExportKind.ANNEX_A_XLSX, "Excel workbook (XLSX), with a sheet for each list"),
    (ExportKind.ANNEX_A_CSV, "CSV files, one for each list, in a zip file"),
)


class AnnexAForm(forms.Form):
    start = GovukDateField(label="First day", help_text="For example, 1 4 2026")
    end = GovukDateField(
        label="Last day", help_text="Usually today: Ofsted asks for the lists up to the inspection"
    )
    file_format = forms.ChoiceField(
        label="File",
        choices=FORMATS,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the kind of file",
            "invalid_choice": "Choose the kind of file",
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "start" in cleaned and "end" in cleaned:
            try:
                cleaned["period"] = annex_a.check_period(cleaned["start"], cleaned["end"])
            except ValidationError as error:
                _add_errors(self, error)
        return cleaned


def _default_period() -> dict[str, dt.date]:
    """Ofsted's usual six months, up to today."""
    today = clock.localtime(clock.now()).date()
    year, month = divmod(today.year * 12 + today.month - 1 - 6, 12)
    month += 1
    day = min(today.day, calendar.monthrange(year, month)[1])
    return {"start": dt.date(year, month, day) + dt.timedelta(days=1), "end": today}


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's errors next to their fields (or above the form when they have none)."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
    else:
        for problem in error.messages:
            form.add_error(None, problem)


@login_required
def annex_a_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("reporting.statutory_returns"):
        raise PermissionDenied  # before the method: nobody else learns even that
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    if request.method == "POST":
        form = AnnexAForm(request.POST)
    else:
        form = AnnexAForm(initial={**_default_period(), "file_format": ExportKind.ANNEX_A_XLSX})
    if request.method == "POST" and form.is_valid():
        period: annex_a.Period = form.cleaned_data["period"]
        try:
            exports.request_export(
                actor=user, kind=form.cleaned_data["file_format"], parameters=period.as_parameters()
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                "Your file is being prepared. It will appear in the list below when it is ready.",
            )
            return redirect("reporting:exports")
    return render(
        request,
        "reporting/annex_a.html",
        {
            "form": form,
            "lists": annex_a.LISTS,
            "not_recorded": annex_a.NOT_RECORDED,
            "page_has_errors": bool(form.errors),
        },
    )


urlpatterns: list[URLPattern] = [
    path("annex-a/", annex_a_page, name="annex_a"),
]
