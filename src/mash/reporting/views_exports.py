"""/reports/exports/: files being prepared in the background, and their downloads.

The list refreshes itself (htmx, every 2 seconds) while any file is queued or
being prepared, and stops once none is. A file downloads for the person who
asked for it or a hub manager; every download is audited.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils.cache import add_never_cache_headers

from mash.accounts.models import User
from mash.reporting import exports
from mash.reporting.models import Export, ExportStatus

LIST_SIZE = 50


def _user(request: HttpRequest) -> User:
    """The user, if they may use exports at all (checked before the method, so that
    nobody else learns even which methods a page takes)."""
    user: User = request.user  # type: ignore[assignment]
    if not exports.may_use_exports(user):
        raise PermissionDenied
    return user


def _read_only(request: HttpRequest) -> HttpResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    return HttpResponseNotAllowed(["GET", "HEAD"])


def _rows(user: User) -> list[dict[str, object]]:
    rows = []
    for export in exports.visible_exports(user=user)[:LIST_SIZE]:
        rows.append(
            {
                "export": export,
                "about": exports.describe(export),
                "percent": _percent(export),
                "may_download": export.status == ExportStatus.READY
                and exports.may_download(user, export),
            }
        )
    return rows


def _percent(export: Export) -> int | None:
    if export.status == ExportStatus.READY:
        return 100
    if not export.total:
        return None
    return min(100, int(100 * export.done / export.total))


def _context(user: User) -> dict[str, object]:
    rows = _rows(user)
    busy = any(
        row["export"].status in (ExportStatus.QUEUED, ExportStatus.RUNNING)  # type: ignore[attr-defined]
        for row in rows
    )
    return {"rows": rows, "busy": busy, "keep_days": exports.KEEP_DAYS}


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if refused := _read_only(request):
        return refused
    response = render(request, "reporting/exports.html", _context(user))
    add_never_cache_headers(response)
    return response


@login_required
def export_table(request: HttpRequest) -> HttpResponse:
    """The list alone, for htmx to swap in while files are being prepared."""
    user = _user(request)
    if refused := _read_only(request):
        return refused
    response = render(request, "reporting/exports_table.html", _context(user))
    add_never_cache_headers(response)
    return response


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    user = _user(request)
    if refused := _read_only(request):
        return refused
    export = get_object_or_404(Export.objects.select_related("created_by"), pk=pk)
    if not exports.may_download(user, export):
        raise PermissionDenied
    location = exports.file_path(export)
    if location is None:
        response = render(
            request,
            "core/error.html",
            {
                "heading": "This file is not available",
                "paragraphs": (
                    "It is still being prepared, it could not be prepared, or it has been "
                    f"removed ({exports.KEEP_DAYS} days after it was asked for).",
                    "Go back to the list of files to see where it is, or prepare it again.",
                ),
            },
            status=404,
        )
        add_never_cache_headers(response)
        return response
    exports.record_download(actor=user, export=export)
    download = FileResponse(
        location.open("rb"),
        as_attachment=True,
        filename=exports.download_name(export),
        content_type=export.content_type or "application/octet-stream",
    )
    add_never_cache_headers(download)
    download["Cache-Control"] = "no-store, private"
    return download


urlpatterns: list[URLPattern] = [
    path("exports/", export_list, name="exports"),
    path("exports/table/", export_table, name="exports_table"),
    path("exports/<int:pk>/download/", export_download, name="export_download"),
]
