"""Background exports: a large file made by the worker, with its progress, then a download.

`request_export()` checks the user may have that kind of file and queues a task
(`run_export`, run by `mash worker`) in the same transaction as the Export row.
The task streams the file through the kind's exporter into a temporary file
beside the finished ones (settings.MASH_EXPORT_DIR), then renames it into
place, so a half-written file is never offered. Its progress (`done` of
`total`) is saved as it goes, for the exports page to show. A problem the user
can act on is an `ExportProblem` with a plain-English message; anything else
is logged and the user sees a general message, never a traceback.

Each kind of file registers its exporter in EXPORTERS: one line,
`ExportKind.X: lazy("mash.reporting.module:function")`, where the function is
`(export, binary_file, progress) -> None` and calls `progress(done, total)` now
and then (`total` may be None when it is not known).

The worker's daily prune (`prune_exports`) removes files and their rows after
KEEP_DAYS, and marks as failed an export whose worker stopped while making it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import importlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django_tasks import task

from mash.accounts.models import Role, User
from mash.core import audit, clock
from mash.reporting.models import Export, ExportKind, ExportStatus

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
Exporter = Callable[[Export, IO[bytes], Progress], None]

KEEP_DAYS = 7
# A user's files queued or being made at once: enough for real work, not a flood.
MAX_ACTIVE_PER_USER = 3
# An export still "running" this long after it started lost its worker (a restart).
STALE_AFTER = dt.timedelta(hours=6)
MAX_PARAMETERS_BYTES = 2048
# A problem may list several children and what each lacks (the census); one per line.
MAX_PROBLEM_LENGTH = 20_000
# How often the progress is written to the database, at most.
PROGRESS_SECONDS = 0.5

GENERAL_PROBLEM = (
    "Something went wrong while preparing the file. Try again. If it happens again, "
    "tell your administrator the file's number ({number})."
)
NO_SPACE_PROBLEM = (
    "The server ran out of disk space while preparing the file. "
    "Tell your administrator, then try again."
)


class ExportProblem(Exception):
    """A reason the file could not be made, in words the user can act on; several
    reasons (a child and what is missing for them, say) go one to a line."""


def lazy(path: str) -> Exporter:
    """An exporter named "module:function", imported only when a file is made."""
    module_name, _, name = path.partition(":")

    def exporter(export: Export, out: IO[bytes], progress: Progress) -> None:
        function: Exporter = getattr(importlib.import_module(module_name), name)
        function(export, out, progress)

    exporter.__qualname__ = f"lazy({path})"
    return exporter


EXPORTERS: dict[str, Exporter] = {
    ExportKind.CIN_CENSUS: lazy("mash.reporting.census:export_file"),
    ExportKind.ANNEX_A_XLSX: lazy("mash.reporting.annex_a:write_xlsx"),
    ExportKind.ANNEX_A_CSV: lazy("mash.reporting.annex_a:write_csv_zip"),
    ExportKind.PSEUDONYMISED: lazy("mash.reporting.extract:write_csv"),
}

# Who may ask for each kind (and download it: the one who asked, or a hub manager).
PERMISSIONS: dict[str, str] = {
    ExportKind.CIN_CENSUS: "reporting.statutory_returns",
    ExportKind.ANNEX_A_XLSX: "reporting.statutory_returns",
    ExportKind.ANNEX_A_CSV: "reporting.statutory_returns",
    ExportKind.PSEUDONYMISED: "reporting.pseudonymised_extract",
}
EXPORT_PERMISSIONS = frozenset(PERMISSIONS.values())


def _annex_a_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    from mash.reporting.annex_a import check_parameters

    return check_parameters(parameters)


# Optional: checks a kind's parameters before it is queued (ValidationError keyed by field).
PARAMETER_CHECKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    ExportKind.CIN_CENSUS: lambda p: importlib.import_module(
        "mash.reporting.census"
    ).check_parameters(p),
    ExportKind.ANNEX_A_XLSX: _annex_a_parameters,
    ExportKind.ANNEX_A_CSV: _annex_a_parameters,
    ExportKind.PSEUDONYMISED: lambda p: importlib.import_module(
        "mash.reporting.extract"
    ).check_parameters(p),
}

# The finished file's ending and type.
FILE_TYPES: dict[str, tuple[str, str]] = {
    ExportKind.CIN_CENSUS: (".xml", "application/xml"),
    ExportKind.ANNEX_A_XLSX: (
        ".xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ExportKind.ANNEX_A_CSV: (".zip", "application/zip"),
    ExportKind.PSEUDONYMISED: (".csv", "text/csv"),
}
_DOWNLOAD_STEMS: dict[str, str] = {
    ExportKind.CIN_CENSUS: "cin-census",
    ExportKind.ANNEX_A_XLSX: "ofsted-annex-a",
    ExportKind.ANNEX_A_CSV: "ofsted-annex-a-csv",
    ExportKind.PSEUDONYMISED: "pseudonymised-extract",
}


# --- Asking for a file -----------------------------------------------------------------------


def request_export(*, actor: User, kind: str, parameters: dict[str, Any]) -> Export:
    """Queues a file of this kind for the worker; checks permission and parameters; audited."""
    if kind not in PERMISSIONS:
        raise ValidationError({"kind": "Choose a kind of file"})
    if not actor.has_perm(PERMISSIONS[kind]):
        raise PermissionDenied
    if kind not in EXPORTERS:
        raise ValidationError({"kind": "This file cannot be prepared yet"})
    if not isinstance(parameters, dict):
        raise ValidationError("The file's settings are not valid")
    try:
        encoded = json.dumps(parameters, sort_keys=True)
    except (TypeError, ValueError):
        raise ValidationError("The file's settings are not valid") from None
    if len(encoded) > MAX_PARAMETERS_BYTES:
        raise ValidationError("The file's settings are too long")
    if kind in PARAMETER_CHECKS:
        parameters = PARAMETER_CHECKS[kind](parameters)
    with transaction.atomic():
        # Locked so two quick clicks cannot both pass the limit.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        active = Export.objects.filter(
            created_by=actor, status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING)
        ).count()
        if active >= MAX_ACTIVE_PER_USER:
            raise ValidationError(
                f"You already have {active} files being prepared. "
                "Wait for one to finish, then try again."
            )
        export = Export.objects.create(
            kind=kind, parameters=parameters, created_by=actor, created_at=clock.now()
        )
        audit.record(
            action="reporting.export_requested",
            actor=actor,
            obj=export,
            detail={"kind": kind, "parameters": parameters},
        )
        run_export.enqueue(export_id=export.pk)
    return export


# --- Making it (the worker) ------------------------------------------------------------------


def export_dir() -> Path:
    path = Path(settings.MASH_EXPORT_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


class _Progress:
    """Saves done/total on the export, at most every PROGRESS_SECONDS (and the last one)."""

    def __init__(self, export: Export) -> None:
        self.export_id = export.pk
        self.saved_at = 0.0
        self.total: int | None = None

    def __call__(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        finished = self.total is not None and done >= self.total
        moment = time.monotonic()
        if not finished and moment - self.saved_at < PROGRESS_SECONDS:
            return
        self.saved_at = moment
        Export.objects.filter(pk=self.export_id).update(done=max(int(done), 0), total=self.total)


@task()
def run_export(*, export_id: int) -> None:
    """Makes one queued export's file. Safe to run twice: only a queued export is made."""
    claimed = Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=clock.now()
    )
    if not claimed:
        return
    export = Export.objects.select_related("created_by").get(pk=export_id)
    owner = export.created_by
    if not owner.is_active or not owner.has_perm(PERMISSIONS.get(export.kind, "-")):
        _fail(export, "The person who asked for this file may no longer prepare it.")
        return
    exporter = EXPORTERS.get(export.kind)
    if exporter is None:
        _fail(export, "This kind of file cannot be prepared yet.")
        return
    suffix, content_type = FILE_TYPES[export.kind]
    folder = export_dir()
    final = folder / f"export-{export.pk}{suffix}"
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed, not deleted, on success)
        dir=folder, prefix=f".export-{export.pk}-", suffix=".part", delete=False
    )
    partial = Path(handle.name)
    try:
        with handle:
            exporter(export, handle, _Progress(export))
            handle.flush()
            os.fsync(handle.fileno())
        size, digest = _measure(partial)
        os.replace(partial, final)
    except ExportProblem as problem:
        _discard(partial)
        _fail(export, str(problem))
        return
    except Exception as error:
        _discard(partial)
        log.exception("export %s (%s) failed", export.pk, export.kind)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            _fail(export, NO_SPACE_PROBLEM)
        else:
            _fail(export, GENERAL_PROBLEM.format(number=export.pk))
        return
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.READY,
        file_name=final.name,
        content_type=content_type,
        size=size,
        sha256=digest,
        finished_at=clock.now(),
    )
    log.info("export %s (%s) ready: %s bytes", export.pk, export.kind, size)


def _measure(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fail(export: Export, problem: str) -> None:
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.FAILED, problem=problem[:MAX_PROBLEM_LENGTH], finished_at=clock.now()
    )


# --- Clearing up (the worker, daily) ---------------------------------------------------------

_OUR_FILE = re.compile(r"^\.?export-(\d+)[.-]")


def prune_exports(now: dt.datetime | None = None) -> int:
    """Removes exports (files and rows) older than KEEP_DAYS, fails ones whose worker
    stopped, and deletes stray files left in the folder; returns how many were removed."""
    moment = now or clock.now()
    Export.objects.filter(status=ExportStatus.RUNNING, started_at__lt=moment - STALE_AFTER).update(
        status=ExportStatus.FAILED,
        problem="The file was not finished: the server stopped while preparing it. "
        "Prepare it again.",
        finished_at=moment,
    )
    old = Export.objects.filter(created_at__lt=moment - dt.timedelta(days=KEEP_DAYS)).exclude(
        status=ExportStatus.RUNNING
    )
    removed = list(old.values_list("pk", flat=True))
    if removed:
        with transaction.atomic():
            Export.objects.filter(pk__in=removed).delete()
            audit.record(
                action="reporting.exports_pruned",
                actor=None,
                actor_label="system",
                detail={"exports": removed[:50], "count": len(removed)},
            )
    _sweep_folder(moment)
    return len(removed)


def _sweep_folder(moment: dt.datetime) -> None:
    folder = Path(settings.MASH_EXPORT_DIR)
    if not folder.is_dir():
        return
    wanted = set(
        Export.objects.filter(status=ExportStatus.READY).values_list("file_name", flat=True)
    )
    running = set(
        Export.objects.filter(status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING)).values_list(
            "pk", flat=True
        )
    )
    for path in folder.iterdir():
        match = _OUR_FILE.match(path.name)
        if match is None or not path.is_file() or path.name in wanted:
            continue
        if path.name.startswith(".") and int(match.group(1)) in running:
            continue  # being written now
        path.unlink(missing_ok=True)


# --- Reading (the pages) ---------------------------------------------------------------------


def may_use_exports(user: User) -> bool:
    return any(user.has_perm(permission) for permission in EXPORT_PERMISSIONS)


def visible_exports(*, user: User) -> QuerySet[Export]:
    """The exports a user may see: a hub manager all of them, anyone else their own."""
    if not may_use_exports(user):
        raise PermissionDenied
    exports = Export.objects.select_related("created_by").order_by("-created_at", "-id")
    if user.has_role(Role.HUB_MANAGER):
        return exports
    return exports.filter(created_by=user)


def may_download(user: User, export: Export) -> bool:
    """The one who asked for it, or a hub manager; and they may still have that kind."""
    if not user.has_perm(PERMISSIONS.get(export.kind, "-")):
        return False
    return export.created_by_id == user.pk or user.has_role(Role.HUB_MANAGER)


def file_path(export: Export) -> Path | None:
    """Where a finished export's file is, if it is still there."""
    if export.status != ExportStatus.READY or not _OUR_FILE.match(export.file_name):
        return None
    path = Path(settings.MASH_EXPORT_DIR) / export.file_name
    return path if path.is_file() else None


def record_download(*, actor: User, export: Export) -> None:
    """Audits that someone downloaded an export's file."""
    audit.record(
        action="reporting.export_downloaded",
        actor=actor,
        obj=export,
        detail={
            "kind": export.kind,
            "parameters": export.parameters,
            "size": export.size,
            "sha256": export.sha256,
        },
    )


def _range(parameters: dict[str, Any]) -> tuple[str, str] | None:
    """The first and last day a file covers, as given ("start"/"end" or "from"/"to")."""
    for first, last in (("start", "end"), ("from", "to")):
        if parameters.get(first) and parameters.get(last):
            return str(parameters[first]), str(parameters[last])
    return None


def describe(export: Export) -> str:
    """What the file covers, from its parameters: "1 April 2025 to 31 March 2026"."""
    parameters = export.parameters if isinstance(export.parameters, dict) else {}
    try:
        if days := _range(parameters):
            start, end = (dt.date.fromisoformat(day[:10]) for day in days)
            return f"{start:%-d %B %Y} to {end:%-d %B %Y}"
        if "year" in parameters:
            return f"Census year {int(parameters['year'])}"
    except (TypeError, ValueError):
        pass
    return ""


def download_name(export: Export) -> str:
    suffix, _ = FILE_TYPES.get(export.kind, (".bin", ""))
    parameters = export.parameters if isinstance(export.parameters, dict) else {}
    if days := _range(parameters):
        detail = f"{days[0][:10]}-to-{days[1][:10]}"
    elif "year" in parameters:
        detail = str(parameters["year"])
    else:
        detail = f"{export.pk}"
    stem = _DOWNLOAD_STEMS.get(export.kind, "export")
    name = re.sub(r"[^A-Za-z0-9.-]+", "-", f"{stem}-{detail}")[:120]
    return f"{name}{suffix}"
