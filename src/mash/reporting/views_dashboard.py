"""The reports index (/reports/) and the performance dashboard (/reports/performance/)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import json_script

from mash.core import clock
from mash.core.forms import GovukDateField, GovukDateWidget
from mash.core.spreadsheet import safe_cell as csv_safe
from mash.reporting import performance
from mash.reporting.performance import Column, Formatted, Period, Table

PERMISSION = "reporting.performance"
_ISO_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")


def _guarded(
    permission: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed in, holding `permission`, and a GET: refused (403) before anything else."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            if request.method not in ("GET", "HEAD"):
                return HttpResponseNotAllowed(["GET", "HEAD"])
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


# --- The period asked for ---------------------------------------------------------------------


class _PeriodDateWidget(GovukDateWidget):
    """The three GOV.UK boxes (from-day, from-month, from-year), or one ISO date (from=...)
    as the CSV links carry."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> tuple[str, str, str]:
        if name in data and super().value_omitted_from_data(data, files, name):
            raw = str(data.get(name, "")).strip()[:20]
            if not raw:
                return ("", "", "")
            match = _ISO_DATE.fullmatch(raw)
            if match:
                return (match["d"], match["m"], match["y"])
            return ("x", "x", "x")  # reads as "must be a real date, written in numbers"
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)


class PeriodForm(forms.Form):
    """From and to dates (both included), at most five years apart, not in the future."""

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["from"] = GovukDateField(
            label="From",
            required=False,
            widget=_PeriodDateWidget,
            help_text="For example, 1 4 2025",
        )
        self.fields["to"] = GovukDateField(
            label="To", required=False, widget=_PeriodDateWidget, help_text="For example, 31 3 2026"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = cleaned.get("from"), cleaned.get("to")
        if "from" not in self.errors and first is None:
            self.add_error("from", "Enter the date the period starts")
        if "to" not in self.errors and last is None:
            self.add_error("to", "Enter the date the period ends")
        if first is not None and first < performance.EARLIEST:
            self.add_error("from", "The date the period starts must be 1 January 2000 or later")
            first = None
        if last is not None and last > self.today:
            self.add_error("to", "The date the period ends must be today or in the past")
            last = None
        if first is not None and last is not None:
            if last < first:
                self.add_error(
                    "to", "The date the period ends must be on or after the date it starts"
                )
            elif last >= performance.add_years(first, performance.MAX_YEARS):
                self.add_error(
                    "to",
                    f"The period must be {performance.MAX_YEARS} years or shorter: "
                    "choose a later start or an earlier end",
                )
        return cleaned

    def period(self) -> Period:
        return Period(self.cleaned_data["from"], self.cleaned_data["to"])


_FIELDS = ("from", "to", "from-day", "from-month", "from-year", "to-day", "to-month", "to-year")


def _period_from(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    """The form (bound when the query names any date) and the period, or None on errors."""
    today = clock.localtime(clock.now()).date()
    if not any(name in request.GET for name in _FIELDS):
        period = performance.default_period(today)
        form = PeriodForm(initial={"from": period.first, "to": period.last}, today=today)
        return form, period
    form = PeriodForm(request.GET, today=today)
    if not form.is_valid():
        return form, None
    return form, form.period()


# --- Showing figures --------------------------------------------------------------------------


def _text(value: Any, kind: str) -> str:
    if isinstance(value, Formatted):
        return _text(value.value, value.kind)
    if kind == "text":
        return str(value)
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:,.1f}"
    return f"{value:,}"


def _number(value: Any, kind: str) -> Any:
    """A value as a chart or a CSV file carries it: percentages out of 100, hours to 0.1."""
    if isinstance(value, Formatted):
        return _number(value.value, value.kind)
    if value is None:
        return None
    if kind == "percent":
        return round(value * 100, 1)
    if kind == "hours":
        return round(value, 1)
    return value


def _chart_data(table: Table) -> dict[str, Any] | None:
    chart = table.chart
    if chart is None:
        return None
    kinds = {table.columns[i].kind for i in chart.value_columns}
    unit = "%" if kinds == {"percent"} else ("hours" if kinds == {"hours"} else "")
    return {
        "type": chart.kind,
        "title": chart.title,
        "unit": unit,
        "labels": [str(row[chart.label_column]) for row in table.rows],
        "datasets": [
            {
                "label": table.columns[i].heading,
                "data": [_number(row[i], table.columns[i].kind) for row in table.rows],
            }
            for i in chart.value_columns
        ],
    }


def _show(table: Table, period: Period) -> dict[str, Any]:
    numeric = {"count", "percent", "hours", "mixed"}
    chart = _chart_data(table)
    return {
        "slug": table.slug,
        "title": table.title,
        "head": [
            {"text": c.heading, "format": "numeric" if c.kind in numeric else ""}
            for c in table.columns
        ],
        "rows": [
            [
                {
                    "text": _text(value, column.kind),
                    "format": "numeric" if column.kind in numeric else "",
                }
                for value, column in zip(row, table.columns, strict=True)
            ]
            for row in table.rows
        ],
        "chart_json": json_script(chart, f"chart-{table.slug}-data") if chart else "",
        "chart": chart,
        "csv": _csv_url(table.slug, period),
    }


def _csv_url(slug: str, period: Period) -> str:
    url = reverse("reporting:performance_csv", args=[slug])
    return f"{url}?from={period.first.isoformat()}&to={period.last.isoformat()}"


@_guarded(PERMISSION)
def dashboard(request: HttpRequest) -> HttpResponse:
    form, period = _period_from(request)
    context: dict[str, Any] = {"form": form, "page_has_errors": bool(form.errors)}
    if period is not None:
        figures = performance.figures_for(request.user, period)
        tables = performance.build_tables(figures)
        context.update(
            period=period,
            previous=period.previous(),
            tables={slug: _show(table, period) for slug, table in tables.items()},
            hub=figures.hub,
        )
    return render(request, "reporting/dashboard.html", context)


@_guarded(PERMISSION)
def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in performance.TABLES:
        raise Http404
    form, period = _period_from(request)
    if period is None:
        return render(
            request,
            "reporting/dashboard.html",
            {"form": form, "page_has_errors": True},
            status=400,
        )
    figures = performance.figures_for(request.user, period)
    found = performance.build_tables(figures, [table])[table]
    response = HttpResponse(_csv(found, period), content_type="text/csv; charset=utf-8")
    name = f"performance-{table}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_heading(column: Column, period: Period) -> str:
    previous = period.previous()
    heading = column.heading
    this = f"This period ({period.first.isoformat()} to {period.last.isoformat()})"
    before = f"Previous period ({previous.first.isoformat()} to {previous.last.isoformat()})"
    if heading == performance.THIS:
        heading = this
    elif heading.startswith(performance.PREVIOUS):
        heading = before + heading[len(performance.PREVIOUS) :]
    if column.kind == "percent":
        heading += " (%)"
    return heading


def _csv(table: Table, period: Period) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_safe(_csv_heading(c, period)) for c in table.columns])
    for row in table.rows:
        cells = []
        for value, column in zip(row, table.columns, strict=True):
            if isinstance(value, Formatted) and value.kind == "percent":
                number = _number(value, "percent")
                cells.append("" if number is None else f"{number}%")
            elif column.kind == "text" and not isinstance(value, Formatted):
                cells.append(csv_safe(str(value)))
            else:
                number = _number(value, column.kind)
                cells.append("" if number is None else number)
        writer.writerow(cells)
    return out.getvalue()


# --- The reports index ------------------------------------------------------------------------


@_guarded(PERMISSION)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/index.html", {})


urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
    path("performance/", dashboard, name="performance"),
    path("performance/<slug:table>.csv", dashboard_csv, name="performance_csv"),
]
