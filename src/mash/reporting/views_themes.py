"""Themes and hotspots for analysts (/reports/themes/, /reports/hotspots/), the
pseudonymised extract (/reports/extract/) and the postcode-to-ward lookup (/reports/wards/).

No page here shows an identifiable record: only counts (with small counts hidden from
analysts on the hotspots page), and the extract's pseudonyms, birth months and districts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import json_script
from django.utils.http import urlencode

from mash.core import clock
from mash.core.permissions import is_hub_manager
from mash.core.spreadsheet import safe_cell as csv_safe
from mash.enquiries.models import Theme
from mash.reporting import exports, extract, performance, themes, wards
from mash.reporting.performance import Chart, Column, Period, Table
from mash.reporting.views_dashboard import PeriodForm

THEMES = "reporting.themes"
EXTRACT = "reporting.pseudonymised_extract"
LOAD_WARDS = "reporting.load_wards"
SUPPRESSED = object()  # a count under themes.SMALL_CELL, hidden from analysts
SUPPRESSED_TEXT = f"fewer than {themes.SMALL_CELL}"
CHART_PLACES = 20
CHART_PAIRS = 15
THEME_LABELS = dict(Theme.choices)

_DATE_FIELDS = (
    "from",
    "to",
    "from-day",
    "from-month",
    "from-year",
    "to-day",
    "to-month",
    "to-year",
)


View = Callable[..., HttpResponseBase]


def _guarded(permission: str, methods: tuple[str, ...] = ("GET", "HEAD")) -> Callable[[View], View]:
    """Signed in and holding `permission` (else 403), then one of `methods` (else 405)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            if request.method not in methods:
                return HttpResponseNotAllowed(list(methods))
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


# --- The period (and theme) asked for -----------------------------------------------------------


class HotspotForm(PeriodForm):
    """The period, and optionally one theme."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"] = forms.ChoiceField(
            label="Theme",
            required=False,
            choices=[("", "All decisions, whatever their themes"), *Theme.choices],
            error_messages={"invalid_choice": "Select a theme from the list"},
        )


def _read(request: HttpRequest, form_class: type[PeriodForm] = PeriodForm) -> tuple[Any, Any]:
    """The form (bound when the query names a date or a theme) and its cleaned data with
    the period, or None when it has errors. With nothing asked: the last 12 months."""
    today = clock.localtime(clock.now()).date()
    if not any(name in request.GET for name in (*_DATE_FIELDS, "theme")):
        period = performance.default_period(today)
        form = form_class(initial={"from": period.first, "to": period.last}, today=today)
        return form, {"period": period, "theme": ""}
    form = form_class(request.GET, today=today)
    if not form.is_valid():
        return form, None
    return form, {"period": form.period(), "theme": form.cleaned_data.get("theme") or ""}


def _query(period: Period, **extra: str) -> str:
    values = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    values.update({k: v for k, v in extra.items() if v})
    return urlencode(values)


# --- Tables, shown and downloaded ---------------------------------------------------------------


def _month(day: dt.date) -> str:
    return f"{day:%B %Y}"


def _text(value: Any, kind: str) -> str:
    if value is SUPPRESSED:
        return SUPPRESSED_TEXT
    if kind == "count":
        return f"{value:,}"
    return str(value)


def _chart(table: Table) -> dict[str, Any] | None:
    chart = table.chart
    if chart is None or not table.rows:
        return None
    rows = table.rows[:CHART_PLACES] if chart.kind == "horizontal_bar" else table.rows
    return {
        "type": chart.kind,
        "title": chart.title,
        "unit": "",
        "labels": [str(row[chart.label_column]) for row in rows],
        "datasets": [
            {
                "label": table.columns[i].heading,
                "data": [None if row[i] is SUPPRESSED else row[i] for row in rows],
            }
            for i in chart.value_columns
        ],
    }


def _show(table: Table, csv_url: str) -> dict[str, Any]:
    """A table as reporting/dashboard_macros.html's `figure` draws it."""
    chart = _chart(table)
    return {
        "slug": table.slug,
        "title": table.title,
        "note": table.note,
        "head": [
            {"text": c.heading, "format": "numeric" if c.kind == "count" else ""}
            for c in table.columns
        ],
        "rows": [
            [
                {"text": _text(value, c.kind), "format": "numeric" if c.kind == "count" else ""}
                for value, c in zip(row, table.columns, strict=True)
            ]
            for row in table.rows
        ],
        "chart_json": json_script(chart, f"chart-{table.slug}-data") if chart else "",
        "chart": chart,
        "csv": csv_url,
    }


def _csv_response(table: Table, name: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_safe(c.heading) for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [
                SUPPRESSED_TEXT
                if value is SUPPRESSED
                else (value if column.kind == "count" else csv_safe(str(value)))
                for value, column in zip(row, table.columns, strict=True)
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Themes -------------------------------------------------------------------------------------


def _themes_summary(period: Period) -> Table:
    totals = themes.theme_totals(period)
    ranked = sorted(
        ((THEME_LABELS[t], totals[t]) for t in themes.themes_present(totals)),
        key=lambda r: (-r[1], r[0]),
    )
    rows: list[list[Any]] = [[label, n] for label, n in ranked]
    return Table(
        "themes",
        "Enquiries by theme",
        [Column("Theme", "text"), Column("Enquiries")],
        rows,
        Chart("horizontal_bar", 0, [1], "Enquiries by theme"),
    )


def _themes_by_month(period: Period) -> Table:
    present = themes.themes_present(themes.theme_totals(period))
    months = themes.months_of(period)
    rows = [
        [_month(row[0]), *row[1:]]
        for row in themes.grid(themes.themes_by_month(period), months, present)
    ]
    return Table(
        "themes-by-month",
        "Enquiries by theme and month",
        [Column("Month", "text"), *(Column(THEME_LABELS[t]) for t in present)],
        rows if present else [],
        Chart("line", 0, list(range(1, len(present) + 1)), "Enquiries by theme and month")
        if present
        else None,
    )


def _cohort(dimension: str) -> Callable[[Period], Table]:
    heading, categories = themes.COHORTS[dimension]

    def build(period: Period) -> Table:
        present = themes.themes_present(themes.theme_totals(period))
        rows = themes.themed_count_rows(themes.cohort(period, dimension), categories, present)
        value_columns = list(range(2, len(present) + 2)) or [1]
        return Table(
            f"cohort-{dimension}",
            f"Children decided by {heading.lower()}",
            [
                Column(heading, "text"),
                Column("All decisions"),
                *(Column(THEME_LABELS[t]) for t in present),
            ],
            rows,
            Chart("bar", 0, value_columns, f"Children decided by {heading.lower()}"),
        )

    return build


def _pairs(period: Period) -> Table:
    rows = [[THEME_LABELS[a], THEME_LABELS[b], n] for a, b, n in themes.theme_pairs(period)]
    return Table(
        "theme-pairs",
        "Themes that occur together",
        [Column("Theme", "text"), Column("With theme", "text"), Column("Enquiries")],
        rows,
    )


def _pairs_chart(table: Table) -> dict[str, Any] | None:
    if not table.rows:
        return None
    rows = table.rows[:CHART_PAIRS]
    return {
        "type": "horizontal_bar",
        "title": table.title,
        "unit": "",
        "labels": [f"{a} with {b}" for a, b, _ in rows],
        "datasets": [{"label": "Enquiries", "data": [n for _, _, n in rows]}],
    }


THEME_TABLES: dict[str, Callable[[Period], Table]] = {
    "themes": _themes_summary,
    "themes-by-month": _themes_by_month,
    "cohort-age": _cohort("age"),
    "cohort-sex": _cohort("sex"),
    "cohort-ethnicity": _cohort("ethnicity"),
    "theme-pairs": _pairs,
}


def _themes_csv_url(slug: str, period: Period) -> str:
    return f"{reverse('reporting:themes_csv', args=[slug])}?{_query(period)}"


@_guarded(THEMES)
def themes_page(request: HttpRequest) -> HttpResponse:
    form, asked = _read(request)
    context: dict[str, Any] = {"form": form, "page_has_errors": bool(form.errors)}
    if asked is not None:
        period = asked["period"]
        tables = {}
        for slug, build in THEME_TABLES.items():
            table = build(period)
            shown = _show(table, _themes_csv_url(slug, period))
            if slug == "theme-pairs":
                chart = _pairs_chart(table)
                shown["chart"] = chart
                shown["chart_json"] = json_script(chart, "chart-theme-pairs-data") if chart else ""
            tables[slug] = shown
        decided, themed = themes.enquiries_decided(period)
        context.update(period=period, tables=tables, decided=decided, themed=themed)
    return render(request, "reporting/themes.html", context)


@_guarded(THEMES)
def themes_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in THEME_TABLES:
        raise Http404
    form, asked = _read(request)
    if asked is None:
        return render(
            request, "reporting/themes.html", {"form": form, "page_has_errors": True}, status=400
        )
    period = asked["period"]
    name = f"themes-{table}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    return _csv_response(THEME_TABLES[table](period), name)


# --- Hotspots -----------------------------------------------------------------------------------


def _places_table(
    slug: str, title: str, first: list[Column], places: list[themes.Place], *, suppress: bool
) -> Table:
    if suppress:
        places = themes.suppressed(places)

    def shown(n: int) -> Any:
        return SUPPRESSED if suppress and n < themes.SMALL_CELL else n

    with_code = len(first) == 2
    rows = [
        [p.name, *([p.code] if with_code else []), shown(p.enquiries), shown(p.children)]
        for p in places
    ]
    n = len(first)
    return Table(
        slug,
        title,
        [*first, Column("Enquiries"), Column("Children")],
        rows,
        Chart("horizontal_bar", 0, [n], title),
    )


def _hotspot_table(slug: str, period: Period, theme: str, *, suppress: bool) -> Table | None:
    suffix = f": {THEME_LABELS[theme]}" if theme else ""
    if slug == "districts":
        return _places_table(
            "districts",
            f"Enquiries by postcode district{suffix}",
            [Column("Postcode district", "text")],
            themes.by_district(period, theme or None),
            suppress=suppress,
        )
    if slug == "wards" and themes.wards_loaded():
        return _places_table(
            "wards",
            f"Enquiries by ward{suffix}",
            [Column("Ward", "text"), Column("Ward code", "text")],
            themes.by_ward(period, theme or None),
            suppress=suppress,
        )
    return None


def _suppress(request: HttpRequest) -> bool:
    # Hub managers may open the records behind these counts; analysts may not.
    return not is_hub_manager(request.user)


@_guarded(THEMES)
def hotspots_page(request: HttpRequest) -> HttpResponse:
    form, asked = _read(request, HotspotForm)
    context: dict[str, Any] = {
        "form": form,
        "page_has_errors": bool(form.errors),
        "suppress": _suppress(request),
        "small_cell": themes.SMALL_CELL,
        "chart_places": CHART_PLACES,
        "may_load_wards": request.user.has_perm(LOAD_WARDS),
    }
    if asked is not None:
        period, theme = asked["period"], asked["theme"]
        tables = {}
        for slug in ("districts", "wards"):
            table = _hotspot_table(slug, period, theme, suppress=context["suppress"])
            if table is not None:
                url = reverse("reporting:hotspots_csv", args=[slug])
                tables[slug] = _show(table, f"{url}?{_query(period, theme=theme)}")
        context.update(period=period, theme=theme, tables=tables)
    return render(request, "reporting/hotspots.html", context)


@_guarded(THEMES)
def hotspots_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in ("districts", "wards"):
        raise Http404
    form, asked = _read(request, HotspotForm)
    if asked is None:
        return render(
            request,
            "reporting/hotspots.html",
            {"form": form, "page_has_errors": True, "suppress": _suppress(request)},
            status=400,
        )
    period, theme = asked["period"], asked["theme"]
    found = _hotspot_table(table, period, theme, suppress=_suppress(request))
    if found is None:
        raise Http404
    about = f"{table}-{theme}" if theme else table
    name = f"hotspots-{about}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    return _csv_response(found, name)


# --- The pseudonymised extract ------------------------------------------------------------------


def _background() -> bool:
    return "pseudonymised" in exports.EXPORTERS


@_guarded(EXTRACT, ("GET", "HEAD", "POST"))
def extract_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        parameters = {
            "from": str(request.POST.get("from", ""))[:10],
            "to": str(request.POST.get("to", ""))[:10],
        }
        try:
            exports.request_export(
                actor=request.user,  # type: ignore[arg-type]
                kind="pseudonymised",
                parameters=parameters,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(f"{reverse('reporting:extract')}?{urlencode(parameters)}")
        messages.success(
            request, "The extract is being prepared. It will be listed here when ready."
        )
        return redirect("reporting:exports")
    form, asked = _read(request)
    context: dict[str, Any] = {
        "form": form,
        "page_has_errors": bool(form.errors),
        "columns": extract.HEADER,
        "background": _background(),
    }
    if asked is not None:
        period = asked["period"]
        context.update(
            period=period,
            rows=extract.count(period),
            download=f"{reverse('reporting:extract_download')}?{_query(period)}",
        )
    return render(request, "reporting/extract.html", context)


@_guarded(EXTRACT)
def extract_download(request: HttpRequest) -> HttpResponseBase:
    form, asked = _read(request)
    if asked is None:
        return render(
            request,
            "reporting/extract.html",
            {"form": form, "page_has_errors": True, "columns": extract.HEADER},
            status=400,
        )
    period = asked["period"]
    key = extract.pseudonym_key()
    extract.record_download(actor=request.user, period=period)
    response = StreamingHttpResponse(
        extract.stream(period, key), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{extract.file_name(period)}"'
    response["Cache-Control"] = "no-store"
    return response


# --- The postcode-to-ward lookup ----------------------------------------------------------------


@_guarded(LOAD_WARDS, ("GET", "HEAD", "POST"))
def wards_page(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        sent = request.FILES.get("file")
        if sent is None or not sent.size:
            errors = ["Select a CSV file of postcodes and wards"]
        else:
            try:
                loaded = wards.load(
                    actor=request.user,
                    stream=sent,
                    size=sent.size,
                    file_name=str(sent.name or ""),
                )
            except ValidationError as error:
                errors = list(error.messages)
            else:
                messages.success(
                    request,
                    f"The ward lookup now holds {loaded.postcodes:,} postcodes "
                    f"in {loaded.wards:,} wards.",
                )
                return redirect("reporting:wards")
    summary = (
        {
            "titleText": "There is a problem",
            "errorList": [{"text": e, "href": "#file"} for e in errors],
        }
        if errors
        else None
    )
    return render(
        request,
        "reporting/wards.html",
        {
            "status": wards.status(),
            "errors": errors,
            "summary": summary,
            "page_has_errors": bool(errors),
            "max_label": wards.MAX_BYTES_LABEL,
            "max_rows": wards.MAX_ROWS,
            "postcode_columns": wards.POSTCODE_COLUMNS,
        },
        status=400 if errors else 200,
    )


urlpatterns: list[URLPattern] = [
    path("themes/", themes_page, name="themes"),
    path("themes/<slug:table>.csv", themes_csv, name="themes_csv"),
    path("hotspots/", hotspots_page, name="hotspots"),
    path("hotspots/<slug:table>.csv", hotspots_csv, name="hotspots_csv"),
    path("extract/", extract_page, name="extract"),
    path("extract/download/", extract_download, name="extract_download"),
    path("wards/", wards_page, name="wards"),
]
