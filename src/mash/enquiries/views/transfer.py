"""Enquiry pages: the responsible local authority and transfers (see enquiries/urls.py).

Setting the responsible authority (hub managers and co-ordinators), transferring an
enquiry to it (hub managers), and the transfer package: a JSON file for systems and a
PDF for people, both built by enquiries.transfer.build_package without MASH-only
content. A preview can be downloaded before confirming; afterwards the package as
sent is rebuilt from the record and served only if its hash matches. Every download
is audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.views.decorators.http import require_http_methods

from mash.core import audit, clock
from mash.core.concurrency import Conflict
from mash.core.models import Hub
from mash.enquiries import selectors
from mash.enquiries.forms.manager import service_errors
from mash.enquiries.forms.transfer import OWN, ResponsibleLaForm, TransferForm
from mash.enquiries.models import Enquiry, EnquiryTransfer
from mash.enquiries.transfer import (
    Package,
    PackageChanged,
    build_package,
    hub_authority_name,
    sent_package,
    set_responsible_la,
    transfer_enquiry,
    transfer_ready,
)

if TYPE_CHECKING:
    from django import forms

    from mash.accounts.models import User

logger = logging.getLogger(__name__)

TEMPLATES = "enquiries/transfer"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _require(user: User, permission: str, obj: Any = None) -> None:
    if not user.has_perm(permission, obj):
        raise PermissionDenied


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _when(moment: Any) -> str:
    return moment.astimezone(clock.LONDON).strftime("%-d %B %Y, %H:%M") if moment else ""


def _conflict_rows(current: Any) -> list[tuple[str, str]]:
    """What someone else recorded first, in words."""
    if isinstance(current, EnquiryTransfer):
        return [
            ("Transferred to", str(current.to_la)),
            ("Team or person", current.recipient),
            ("Sent by", current.sent_by.full_name),
            ("Sent at", _when(current.sent_at)),
        ]
    if isinstance(current, Enquiry):
        rows = [("Status", current.get_status_display())]
        if current.responsible_la_id:
            rows.append(("Responsible local authority", str(current.responsible_la)))
        if current.closed_at:
            rows.append(("Closed at", _when(current.closed_at)))
        return rows
    return []


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    context.setdefault("form", form)
    context.setdefault("conflict", None)
    context["page_has_errors"] = bool(form is not None and form.is_bound and form.errors)
    return render(request, f"{TEMPLATES}/{template}", context, status=status)


def _conflict(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    conflict: Conflict,
) -> HttpResponse:
    context["conflict"] = {"message": conflict.message, "rows": _conflict_rows(conflict.current)}
    return _render(request, template, context, form=None, status=409)


# The responsible local authority.


@login_required
@require_http_methods(["GET", "POST"])
def responsible_la(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require(user, "enquiries.set_responsible_la")
    enquiry = selectors.enquiry_for(user=user, pk=pk)
    _require(user, "enquiries.set_responsible_la", enquiry)
    hub = Hub.load()
    own_name = hub_authority_name(hub)
    context: dict[str, Any] = {"enquiry": enquiry, "own_name": own_name}
    if not enquiry.is_open:
        if request.method == "POST":
            return _conflict(
                request,
                "responsible.html",
                context,
                Conflict("This enquiry has been closed.", enquiry),
            )
        context["conflict"] = {
            "message": "This enquiry has been closed.",
            "rows": _conflict_rows(enquiry),
        }
        return _render(request, "responsible.html", context)
    current = enquiry.responsible_la.code if enquiry.responsible_la_id else OWN  # type: ignore[union-attr]
    form = ResponsibleLaForm(
        _posted(request),
        own_name=own_name,
        own_code=hub.la_code,
        initial={"version": enquiry.version, "local_authority": current},
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.chosen()
        try:
            set_responsible_la(
                actor=user,
                enquiry=enquiry,
                local_authority=chosen,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict(request, "responsible.html", context, conflict)
        else:
            name = own_name if chosen is None else chosen.name
            message = f"Responsible local authority set to {name}"
            if chosen is None:
                message += " (the hub's own)."
            elif user.has_perm("enquiries.transfer", enquiry):
                message += ". You can now transfer the enquiry."
            else:
                message += ". A hub manager can now transfer the enquiry."
            messages.success(request, message)
            return redirect("enquiries:detail", pk=enquiry.pk)
    return _render(request, "responsible.html", context, form=form)


# The transfer.


def _preview_summary(user: User, enquiry: Enquiry) -> dict[str, Any]:
    """What the package will hold, counted, for the confirmation page."""
    package = build_package(user=user, enquiry=enquiry, to_la=enquiry.responsible_la)
    data = package.data
    return {
        "children": [f"{c['given_name']} {c['family_name']}".strip() for c in data["children"]],
        "adults": len(data["adults"]),
        "agencies": [a["agency"] for a in data["agency_information"]],
        "item_count": sum(len(a["items"]) for a in data["agency_information"]),
        "decisions": len(data["decisions"]),
    }


@login_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _require(user, "enquiries.view")
    if request.method == "POST":
        _require(user, "enquiries.transfer")
    enquiry = selectors.enquiry_for(user=user, pk=pk)
    record = (
        EnquiryTransfer.objects.select_related("to_la", "sent_by").filter(enquiry=enquiry).first()
    )
    context: dict[str, Any] = {"enquiry": enquiry, "record": record}
    if record is not None and request.method == "GET":
        return _render(request, "record.html", context)
    _require(user, "enquiries.transfer", enquiry)
    if record is not None:
        return _conflict(
            request,
            "transfer.html",
            context,
            Conflict("This enquiry has already been transferred.", record),
        )
    not_ready = transfer_ready(enquiry)
    context["not_ready"] = not_ready
    if not_ready and request.method == "GET":
        return _render(request, "transfer.html", context)
    if not_ready:
        return _conflict(request, "transfer.html", context, Conflict(not_ready, enquiry))
    context["to_la"] = enquiry.responsible_la
    context["summary"] = _preview_summary(user, enquiry)
    form = TransferForm(_posted(request), initial={"version": enquiry.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = transfer_enquiry(
                actor=user,
                enquiry=enquiry,
                recipient=data["recipient"],
                recipient_email=data["recipient_email"],
                reason=data["reason"],
                expected_version=data["version"],
            )
        except ValidationError as error:
            service_errors(form, error, {})
        except Conflict as conflict:
            return _conflict(request, "transfer.html", context, conflict)
        else:
            messages.success(
                request,
                f"Enquiry {enquiry.reference} transferred to {done.to_la.name} and closed. "
                "Send them the package below.",
            )
            return redirect("enquiries:transfer", pk=enquiry.pk)
    return _render(request, "transfer.html", context, form=form)


# The package: JSON and PDF, as a preview or as sent.


def _london_text(value: str | None) -> str:
    """A package's UTC timestamp, shown in Europe/London."""
    return _when(dt.datetime.fromisoformat(value)) if value else ""


def _date_text(value: str | None) -> str:
    if not value:
        return ""
    day = dt.date.fromisoformat(value)
    return f"{day.day} {day:%B %Y}"


def _json(package: Package, filename: str) -> HttpResponse:
    response = HttpResponse(package.content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _pdf(request: HttpRequest, enquiry: Enquiry, package: Package, filename: str) -> HttpResponse:
    try:
        # As in views/documents.py: a server without Pango still serves every other page.
        from weasyprint import HTML
    except (ImportError, OSError):
        logger.exception("WeasyPrint could not be loaded; the PDF service is unavailable")
        return render(
            request,
            f"{TEMPLATES}/pdf_unavailable.html",
            {"enquiry": enquiry},
            status=503,
        )
    html = render_to_string(
        f"{TEMPLATES}/pdf.html",
        {"p": package.data, "london_text": _london_text, "date_text": _date_text},
        request=request,
    )
    # Inline style, no images: nothing outside the document is fetched.
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _download(
    request: HttpRequest, enquiry: Enquiry, package: Package, fmt: str, *, preview: bool
) -> HttpResponse:
    name = f"{enquiry.reference}-transfer-{'preview' if preview else 'package'}.{fmt}"
    response = _json(package, name) if fmt == "json" else _pdf(request, enquiry, package, name)
    if response.status_code == 200:
        audit.record(
            action="enquiries.transfer_package_downloaded",
            actor=_user(request),
            obj=enquiry,
            detail={"format": fmt, "preview": preview, "package_sha256": package.sha256},
        )
    return response


def _preview(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    user = _user(request)
    _require(user, "enquiries.transfer")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    enquiry = selectors.enquiry_for(user=user, pk=pk)
    not_ready = transfer_ready(enquiry)
    if not_ready:
        return _render(
            request,
            "transfer.html",
            {"enquiry": enquiry, "record": None, "not_ready": not_ready},
            status=409,
        )
    package = build_package(user=user, enquiry=enquiry, to_la=enquiry.responsible_la)
    return _download(request, enquiry, package, fmt, preview=True)


def _sent(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    user = _user(request)
    _require(user, "enquiries.view")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    enquiry = selectors.enquiry_for(user=user, pk=pk)
    record = (
        EnquiryTransfer.objects.select_related("to_la", "sent_by", "enquiry")
        .filter(enquiry=enquiry)
        .first()
    )
    if record is None:
        raise Http404("This enquiry has not been transferred")
    try:
        package = sent_package(user=user, transfer=record)
    except PackageChanged:
        audit.record(
            action="enquiries.transfer_package_changed",
            actor=user,
            obj=enquiry,
            detail={"format": fmt, "package_sha256": record.package_sha256},
        )
        return _render(request, "changed.html", {"enquiry": enquiry, "record": record}, status=409)
    return _download(request, enquiry, package, fmt, preview=False)


@login_required
def preview_json(request: HttpRequest, pk: int) -> HttpResponse:
    return _preview(request, pk, "json")


@login_required
def preview_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _preview(request, pk, "pdf")


@login_required
def package_json(request: HttpRequest, pk: int) -> HttpResponse:
    return _sent(request, pk, "json")


@login_required
def package_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _sent(request, pk, "pdf")


urlpatterns = [
    path(
        "enquiries/<int:pk>/responsible-authority/",
        responsible_la,
        name="responsible_la",
    ),
    path("enquiries/<int:pk>/transfer/", transfer, name="transfer"),
    path("enquiries/<int:pk>/transfer/preview.json", preview_json, name="transfer_preview_json"),
    path("enquiries/<int:pk>/transfer/preview.pdf", preview_pdf, name="transfer_preview_pdf"),
    path("enquiries/<int:pk>/transfer/package.json", package_json, name="transfer_package_json"),
    path("enquiries/<int:pk>/transfer/package.pdf", package_pdf, name="transfer_package_pdf"),
]
