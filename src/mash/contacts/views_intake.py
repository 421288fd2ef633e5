"""Police notifications by hand and by CSV, the quality report and today's screen (/police/...)."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse

from mash.accounts.models import Agency, User
from mash.contacts import police, quality
from mash.contacts.intake import manual, storage, upload
from mash.contacts.models import IncidentType, PoliceNotification, TriageOutcome
from mash.core.govuk import govuk_error_summary
from mash.core.spreadsheet import safe_cell as csv_safe

SESSION_KEY = "police_upload"


def _user(request: HttpRequest, permission: str, methods: tuple[str, ...]) -> User:
    """The signed-in user, if they may; the permission is checked before the method, so a
    user who may not use the page is refused (403) whatever they send."""
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm(permission):
        raise PermissionDenied
    if request.method not in methods:
        raise _NotAllowed(methods)
    return user


class _NotAllowed(Exception):
    def __init__(self, methods: tuple[str, ...]) -> None:
        super().__init__(methods)
        self.methods = methods


def _guarded(view: Any) -> Any:
    """Signed in, and a wrong method answered 405 (after the permission check)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _NotAllowed as error:
            return HttpResponseNotAllowed(list(error.methods))

    return login_required(wrapper)


GET = ("GET", "HEAD")
GET_POST = ("GET", "HEAD", "POST")


def notification_path(notification: PoliceNotification) -> str:
    """The notification in the triage queue."""
    try:
        return reverse("police:detail", args=[notification.pk])
    except NoReverseMatch:  # pragma: no cover - the triage pages name it
        return reverse("police:queue")


# --- Entering a notification by hand --------------------------------------------------------


@_guarded
def notification_new(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.record_police", GET_POST)
    forces = manual.police_forces()
    if request.method != "POST":
        data = manual.initial_data(manual.default_force(user, forces))
        return _render_form(request, manual.bind(data, forces=forces, quiet=True))
    data = manual.raw_data(request.POST.lists())
    kind, _, target = request.POST.get("action", "submit").partition(":")
    if kind == "add" and target in manual.PREFIXES:
        index = manual.add_block(data, target)
        focus = f"id_{target}-{index}-given_name" if index is not None else f"add-{target}"
        return _render_form(request, manual.bind(data, forces=forces, quiet=True), focus=focus)
    if kind == "remove":
        prefix, _, position = target.partition("-")
        if prefix in manual.PREFIXES and position.isascii() and position.isdigit():
            manual.remove_block(data, prefix, int(position[:6]))
        focus = f"add-{prefix}" if prefix in manual.PREFIXES else ""
        return _render_form(request, manual.bind(data, forces=forces, quiet=True), focus=focus)
    if kind != "submit":  # nothing a button sends: show the page again, judging nothing
        return _render_form(request, manual.bind(data, forces=forces, quiet=True))
    bound = manual.bind(data, forces=forces, quiet=False)
    checked = manual.validate(bound)
    if checked.entry is None:
        return _render_form(request, bound)
    try:
        notification, created = police.receive_notification(
            actor=user, force=checked.force, entry=checked.entry, via="manual"
        )
    except ValidationError as error:
        manual.apply_errors(error.message_dict, bound)
        return _render_form(request, bound)
    except police.ReplayConflict as conflict:
        existing = conflict.existing
        bound.form.add_error(
            "occurrence_reference",
            f"{existing.occurrence_reference} was already received from this force as "
            f"{existing.reference} with different details: check the reference",
        )
        return _render_form(request, bound, conflict=existing)
    if not created:
        return _render_form(request, bound, already=notification)
    messages.success(
        request,
        f"Notification {notification.reference} ({notification.occurrence_reference}) received "
        "and added to the triage queue.",
    )
    return redirect("police:new")


_AFTER_THE_PEOPLE = (
    "#id_narrative",
    "#id_officer_name",
    "#id_officer_collar_number",
    "#id_officer_team",
)


def _form_summary(bound: manual.Bound) -> dict[str, Any] | None:
    """The error summary in the order of the page: the officer's part comes after the people."""
    top = govuk_error_summary(bound.form)
    items = top["errorList"] if top else []
    first = [i for i in items if i.get("href") not in _AFTER_THE_PEOPLE]
    last = [i for i in items if i.get("href") in _AFTER_THE_PEOPLE]
    people = govuk_error_summary(*bound.children.forms, *bound.adults.forms)
    errors = [*first, *(people["errorList"] if people else []), *last]
    return {"titleText": "There is a problem", "errorList": errors} if errors else None


def _render_form(
    request: HttpRequest,
    bound: manual.Bound,
    *,
    focus: str = "",
    conflict: PoliceNotification | None = None,
    already: PoliceNotification | None = None,
) -> HttpResponse:
    summary = _form_summary(bound)
    return render(
        request,
        "police/intake/new.html",
        {
            "form": bound.form,
            "children": bound.children,
            "adults": bound.adults,
            "summary": summary,
            "page_has_errors": bool(summary),
            "focus": focus,
            "conflict": conflict,
            "already": already,
            "notification_path": notification_path,
            "max_children": manual.MAX_BLOCKS[manual.CHILDREN],
            "max_adults": manual.MAX_BLOCKS[manual.ADULTS],
            "domestic_abuse": IncidentType.DOMESTIC_ABUSE,
        },
    )


# --- CSV upload -----------------------------------------------------------------------------


def _force_from(value: str, forces: list[Agency]) -> Agency | None:
    return next((f for f in forces if str(f.pk) == value), None)


@_guarded
def upload_template(request: HttpRequest) -> HttpResponse:
    _user(request, "contacts.record_police", GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="police-notifications-template.csv"'
    response.write("\ufeff")  # Excel reads the file as UTF-8 only with the BOM
    writer = csv.writer(response)
    writer.writerows(upload.template_rows())
    return response


@_guarded
def upload_file(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.record_police", GET_POST)
    forces = manual.police_forces()
    default = manual.default_force(user, forces)
    chosen = str(default.pk) if default else ""
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen = str(request.POST.get("force", ""))[:20]
        force = _force_from(chosen, forces)
        if force is None:
            errors["force"] = "Select the police force that sent the file"
        sent = request.FILES.get("file")
        try:
            text = upload.read_upload(sent)
        except upload.UploadError as error:
            errors["file"] = error.message
        if not errors and force is not None and sent is not None:
            _forget_upload(request, user)
            token, digest = storage.keep(user=user, text=text)
            name = str(sent.name or "")[-100:]
            request.session[SESSION_KEY] = {
                "token": token,
                "digest": digest,
                "force": force.pk,
                "name": name,
            }
            return redirect("police:upload_preview")
    summary = _summary(errors, {"force": "#force", "file": "#file"})
    return render(
        request,
        "police/intake/upload.html",
        {
            "forces": forces,
            "chosen": chosen,
            "errors": errors,
            "summary": summary,
            "page_has_errors": bool(summary),
            "max_label": upload.MAX_UPLOAD_LABEL,
            "max_rows": upload.MAX_ROWS,
        },
    )


def _summary(errors: dict[str, str], targets: dict[str, str]) -> dict[str, Any] | None:
    if not errors:
        return None
    return {
        "titleText": "There is a problem",
        "errorList": [
            {"text": m, "href": targets.get(k, "#main-content")} for k, m in errors.items()
        ],
    }


def _forget_upload(request: HttpRequest, user: User) -> None:
    kept = request.session.pop(SESSION_KEY, None)
    if isinstance(kept, dict):
        storage.discard(user=user, token=str(kept.get("token", "")))


def _kept_upload(
    request: HttpRequest, user: User
) -> tuple[dict[str, Any], str, Agency | None] | None:
    """The file this user uploaded for preview (from the server, never from the form)."""
    kept = request.session.get(SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    text = storage.kept(
        user=user, token=str(kept.get("token", "")), digest=str(kept.get("digest", ""))
    )
    if text is None:
        return None
    force_pk = kept.get("force")
    force = Agency.objects.filter(pk=force_pk).first() if isinstance(force_pk, int) else None
    return kept, text, force


@_guarded
def upload_preview(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.record_police", GET_POST)
    found = _kept_upload(request, user)
    if found is None:
        if request.method == "POST" or SESSION_KEY in request.session:
            request.session.pop(SESSION_KEY, None)
            messages.info(
                request,
                "The file you uploaded is no longer waiting to be imported: upload it again.",
            )
        return redirect("police:upload")
    kept, text, force = found
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "cancel":
        _forget_upload(request, user)
        messages.info(request, f"Nothing from {kept['name']} was imported.")
        return redirect("police:upload")
    preview = upload.read_csv(text, force=force)
    stale = False
    refused: list[upload.Problem] = []
    if action == "import":
        if request.POST.get("digest", "") != kept["digest"]:
            stale = True  # another tab uploaded another file since this preview was shown
        elif preview.ready:
            try:
                imported = upload.import_csv(
                    actor=user,
                    force=force,
                    preview=preview,
                    file_name=kept["name"],
                    digest=kept["digest"],
                )
            except upload.ImportRefused as error:
                refused = error.problems
            else:
                _forget_upload(request, user)
                messages.success(request, _imported_message(kept["name"], imported))
                return redirect("police:upload")
    return render(
        request,
        "police/intake/preview.html",
        {
            "preview": preview,
            "file_name": kept["name"],
            "force": force,
            "digest": kept["digest"],
            "stale": stale,
            "refused": refused,
            "page_has_errors": bool(preview.file_problems or preview.problems or refused),
            "notification_path": notification_path,
        },
    )


def _imported_message(name: str, imported: upload.Imported) -> str:
    count = len(imported.created)
    text = f"{count} notification{'' if count == 1 else 's'} from {name} added to the triage queue."
    if imported.already:
        refs = [n.reference for _, n in imported.already]
        shown = ", ".join(refs[:10]) + (f" and {len(refs) - 10} more" if len(refs) > 10 else "")
        text += (
            f" {len(refs)} {'was' if len(refs) == 1 else 'were'} already received, and not "
            f"added again: {shown}."
        )
    return text


# --- The quality report ---------------------------------------------------------------------


def _months(request: HttpRequest) -> tuple[int, str]:
    value = str(request.GET.get("months", ""))[:4]
    if value == "":
        return quality.DEFAULT_MONTHS, ""
    if value.isascii() and value.isdigit() and int(value) in quality.MONTH_CHOICES:
        return int(value), ""
    return quality.DEFAULT_MONTHS, "Choose how many months to show from the list"


@_guarded
def quality_report(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.police_quality_report", GET)
    months, error = _months(request)
    report = quality.quality_report(user=user, months=months)
    summary = _summary({"months": error} if error else {}, {"months": "#months"})
    return render(
        request,
        "police/quality.html",
        {
            "report": report,
            "months": months,
            "month_choices": quality.MONTH_CHOICES,
            "error": error,
            "summary": summary,
            "page_has_errors": bool(summary),
            "chart": report.chart(),
            "may_triage": user.has_perm("contacts.triage_police"),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _quality_rows(report: quality.QualityReport) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(
        [
            "team",
            "month",
            "received",
            "marked_poor",
            "share_marked_poor_percent",
            "change_in_points",
            "trend",
        ]
    )
    for row in [*report.rows, *report.totals]:
        yield writer.writerow(
            [
                csv_safe(row.team),
                f"{row.month:%Y-%m}",
                row.received,
                row.poor,
                "" if row.share is None else round(row.share, 1),
                "" if row.change is None else round(row.change, 1),
                row.trend,
            ]
        )


@_guarded
def quality_csv(request: HttpRequest) -> StreamingHttpResponse:
    user = _user(request, "contacts.police_quality_report", GET)
    months, _ = _months(request)
    report = quality.quality_report(user=user, months=months)
    response = StreamingHttpResponse(_quality_rows(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="police-notification-quality-{months}-months.csv"'
    )
    return response


# --- Today's screen -------------------------------------------------------------------------


@_guarded
def today(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.triage_police", GET)
    figures = quality.today(user=user)
    return render(
        request,
        "police/today.html",
        {
            "today": figures,
            "outcomes": TriageOutcome.choices,
            "notification_path": notification_path,
        },
    )


urlpatterns: list[URLPattern] = [
    path("new/", notification_new, name="new"),
    path("upload/", upload_file, name="upload"),
    path("upload/template.csv", upload_template, name="upload_template"),
    path("upload/preview/", upload_preview, name="upload_preview"),
    path("quality/", quality_report, name="quality"),
    path("quality.csv", quality_csv, name="quality_csv"),
    path("today/", today, name="today"),
]
