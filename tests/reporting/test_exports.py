"""Background exports: asked for, queued, made by the worker, shown with progress, downloaded.

The task is run by calling it directly (`run_export.call`), and once through
the database worker itself; both are what `mash worker` does.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from mash.accounts.models import Role
from mash.core.models import AuditEvent
from mash.reporting import exports
from mash.reporting.models import Export, ExportKind, ExportStatus
from tests import factories
from tests.reporting.test_annex_a import NOW, build

pytestmark = pytest.mark.django_db

PARAMETERS = {"start": "2026-04-01", "end": "2026-09-30"}
ANNEX_PAGE = "/reports/annex-a/"
EXPORTS_PAGE = "/reports/exports/"
TABLE = "/reports/exports/table/"


@pytest.fixture(autouse=True)
def _setting(settings: Any, tmp_path: Path, time_machine: Any) -> None:
    settings.MASH_EXPORT_DIR = tmp_path / "exports"
    time_machine.move_to(NOW, tick=False)


def folder() -> Path:
    return exports.export_dir()


def annex(user: Any, kind: str = ExportKind.ANNEX_A_XLSX) -> Export:
    return exports.request_export(actor=user, kind=kind, parameters=dict(PARAMETERS))


def run(export: Export) -> Export:
    exports.run_export.call(export_id=export.pk)
    return Export.objects.get(pk=export.pk)


def client_for(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def fake(content: bytes = b"id,theme\n1,cse\n") -> Any:
    def exporter(export: Export, out: Any, progress: Any) -> None:
        progress(0, 1)
        out.write(content)
        progress(1, 1)

    return exporter


@pytest.fixture
def extract_ready(monkeypatch: Any) -> None:
    """The pseudonymised extract and the census, as their own modules will register them."""
    for kind, content in ((ExportKind.PSEUDONYMISED, b"id\n1\n"), (ExportKind.CIN_CENSUS, b"<M/>")):
        monkeypatch.setitem(exports.EXPORTERS, kind, fake(content))
        monkeypatch.delitem(exports.PARAMETER_CHECKS, kind, raising=False)  # theirs to test


# --- Asking ---------------------------------------------------------------------------------


def test_asking_queues_the_task_in_the_same_transaction_and_audits_it():
    manager = factories.hub_manager()
    export = annex(manager)
    assert export.status == ExportStatus.QUEUED
    assert export.parameters == PARAMETERS
    queued = DBTaskResult.objects.get(task_path="mash.reporting.exports.run_export")
    assert queued.status == "READY"
    assert queued.args_kwargs["kwargs"] == {"export_id": export.pk}
    event = AuditEvent.objects.get(action="reporting.export_requested")
    assert event.object_id == str(export.pk)
    assert event.detail == {"kind": "annex_a_xlsx", "parameters": PARAMETERS}


KIND_ROLES = {
    ExportKind.ANNEX_A_XLSX: {Role.HUB_MANAGER},
    ExportKind.ANNEX_A_CSV: {Role.HUB_MANAGER},
    ExportKind.CIN_CENSUS: {Role.HUB_MANAGER},
    ExportKind.PSEUDONYMISED: {Role.HUB_MANAGER, Role.ANALYST},
}


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("kind", list(KIND_ROLES))
def test_who_may_ask_for_each_kind(role, kind, extract_ready):
    user = factories.ROLE_FACTORIES[role]()
    parameters = dict(PARAMETERS) if kind.startswith("annex") else {"year": 2026}
    if role in KIND_ROLES[kind]:
        assert exports.request_export(actor=user, kind=kind, parameters=parameters).pk
    else:
        with pytest.raises(PermissionDenied):
            exports.request_export(actor=user, kind=kind, parameters=parameters)
        assert not Export.objects.exists()


@pytest.mark.parametrize(
    ("kind", "parameters"),
    [
        ("nonsense", {}),
        (ExportKind.ANNEX_A_XLSX, ["not", "a", "dict"]),
        (ExportKind.ANNEX_A_XLSX, {"start": "2026-04-01", "end": "2026-09-30", "x": "y" * 5000}),
        (ExportKind.ANNEX_A_XLSX, {"start": dt.date(2026, 4, 1), "end": "2026-09-30"}),
        (ExportKind.ANNEX_A_XLSX, {"start": "2026-09-30", "end": "2026-04-01"}),
        (ExportKind.ANNEX_A_XLSX, {"start": "<script>", "end": "2026-04-01"}),
        (ExportKind.ANNEX_A_CSV, {}),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_queued(kind, parameters):
    with pytest.raises(ValidationError):
        exports.request_export(actor=factories.hub_manager(), kind=kind, parameters=parameters)
    assert not Export.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_describe_and_name_a_file_from_its_parameters():
    manager = factories.hub_manager()
    cases = [
        (ExportKind.ANNEX_A_XLSX, PARAMETERS, "1 April 2026 to 30 September 2026"),
        (ExportKind.PSEUDONYMISED, {"from": "2025-10-01", "to": "2026-09-30"}, "1 October 2025"),
        (ExportKind.CIN_CENSUS, {"year": 2026}, "Census year 2026"),
        (ExportKind.CIN_CENSUS, {"year": "x"}, ""),
        (ExportKind.PSEUDONYMISED, {}, ""),
    ]
    for kind, parameters, described in cases:
        export = Export.objects.create(kind=kind, parameters=parameters, created_by=manager)
        assert exports.describe(export).startswith(described)
    names = [exports.download_name(e) for e in Export.objects.order_by("pk")]
    assert names[:3] == [
        "ofsted-annex-a-2026-04-01-to-2026-09-30.xlsx",
        "pseudonymised-extract-2025-10-01-to-2026-09-30.csv",
        "cin-census-2026.xml",
    ]
    assert names[3] == "cin-census-x.xml"


def test_a_kind_without_an_exporter_yet_is_refused_plainly(monkeypatch):
    monkeypatch.delitem(exports.EXPORTERS, ExportKind.CIN_CENSUS, raising=False)
    with pytest.raises(ValidationError) as caught:
        exports.request_export(
            actor=factories.hub_manager(), kind=ExportKind.CIN_CENSUS, parameters={"year": 2026}
        )
    assert caught.value.message_dict == {"kind": ["This file cannot be prepared yet"]}


def test_a_user_may_have_three_files_in_hand_at_once():
    manager = factories.hub_manager()
    for _ in range(exports.MAX_ACTIVE_PER_USER):
        annex(manager)
    with pytest.raises(ValidationError) as caught:
        annex(manager)
    assert "You already have 3 files being prepared" in caught.value.messages[0]
    run(Export.objects.order_by("pk")[0])  # one finishes: room for another
    assert annex(manager).pk


# --- Making the file ------------------------------------------------------------------------


def test_queued_then_run_then_ready_then_downloaded_from_the_pages():
    history = build()
    manager = history.manager
    client = client_for(manager)
    response = client.post(
        ANNEX_PAGE,
        {
            "start-day": "1",
            "start-month": "4",
            "start-year": "2026",
            "end-day": "30",
            "end-month": "9",
            "end-year": "2026",
            "file_format": ExportKind.ANNEX_A_XLSX,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:exports")
    export = Export.objects.get()
    assert export.parameters == PARAMETERS

    page = client.get(EXPORTS_PAGE).content.decode()
    assert "Your file is being prepared" in page
    assert "Waiting to start" in page
    assert 'hx-trigger="every 2s"' in page
    assert f'href="/reports/exports/{export.pk}/download/"' not in page

    export = run(export)
    assert export.status == ExportStatus.READY
    assert (export.done, export.total) == (11, 11)
    assert export.file_name == f"export-{export.pk}.xlsx"
    stored = folder() / export.file_name
    assert export.size == stored.stat().st_size
    assert export.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert [p.name for p in folder().iterdir()] == [export.file_name]  # no temporary left

    page = client.get(EXPORTS_PAGE).content.decode()
    assert "hx-trigger" not in page  # nothing in hand: the polling stops
    assert "Ready" in page
    assert "11 rows" in page
    assert f'href="/reports/exports/{export.pk}/download/"' in page

    response = client.get(f"/reports/exports/{export.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="ofsted-annex-a-2026-04-01-to-2026-09-30.xlsx"'
    )
    assert "no-store" in response["Cache-Control"]
    body = response.getvalue()
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert [book[s].max_row - 1 for s in book.sheetnames] == [6, 2, 3]
    event = AuditEvent.objects.get(action="reporting.export_downloaded")
    assert event.actor_id == manager.pk
    assert event.detail["sha256"] == export.sha256


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_a_queued_export():
    manager = factories.hub_manager()
    export = annex(manager, ExportKind.ANNEX_A_CSV)
    call_command(
        "db_worker", queue_name="*", batch=True, reload=False, startup_delay=False, verbosity=0
    )
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.file_name == f"export-{export.pk}.zip"
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_running_twice_makes_the_file_once():
    export = run(annex(factories.hub_manager()))
    made = (folder() / export.file_name).stat().st_mtime_ns
    assert run(export).status == ExportStatus.READY
    assert (folder() / export.file_name).stat().st_mtime_ns == made


def test_progress_is_saved_while_the_file_is_made(monkeypatch):
    monkeypatch.setattr(exports, "PROGRESS_SECONDS", 0)
    seen: list[tuple[int, int | None]] = []

    def exporter(export: Export, out: Any, progress: Any) -> None:
        progress(0, 4)
        for done in range(1, 5):
            out.write(b"row\n")
            progress(done)
            row = Export.objects.get(pk=export.pk)
            seen.append((row.done, row.total))
            assert row.status == ExportStatus.RUNNING

    monkeypatch.setitem(exports.EXPORTERS, ExportKind.ANNEX_A_CSV, exporter)
    export = run(annex(factories.hub_manager(), ExportKind.ANNEX_A_CSV))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert export.status == ExportStatus.READY
    assert (folder() / export.file_name).read_bytes() == b"row\n" * 4


def test_the_page_shows_progress_while_a_file_is_made():
    manager = factories.hub_manager()
    export = annex(manager)
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, done=1500, total=6000)
    page = client_for(manager).get(TABLE).content.decode()
    assert "<html" not in page  # the fragment alone, for htmx
    assert "Being prepared" in page
    assert "1,500 of 6,000 rows (25%)" in page
    assert 'hx-get="/reports/exports/table/"' in page
    assert 'hx-trigger="every 2s"' in page


# --- When it goes wrong ---------------------------------------------------------------------


def test_a_failing_exporter_records_a_plain_problem_and_no_traceback(monkeypatch, caplog):
    def exporter(export: Export, out: Any, progress: Any) -> None:
        out.write(b"half a file")
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setitem(exports.EXPORTERS, ExportKind.ANNEX_A_XLSX, exporter)
    manager = factories.hub_manager()
    with caplog.at_level(logging.ERROR, logger="mash.reporting.exports"):
        export = run(annex(manager))
    assert export.status == ExportStatus.FAILED
    assert export.problem == (
        "Something went wrong while preparing the file. Try again. If it happens again, "
        f"tell your administrator the file's number ({export.pk})."
    )
    assert "secret internals" in caplog.text  # logged for the administrator
    assert list(folder().iterdir()) == []  # the half-written file is gone
    page = client_for(manager).get(EXPORTS_PAGE).content.decode()
    assert "Could not be prepared" in page
    assert export.problem.replace("'", "&#39;") in page
    for leak in ("Traceback", "RuntimeError", "hunter2", "secret"):
        assert leak not in page
    assert client_for(manager).get(f"/reports/exports/{export.pk}/download/").status_code == 404


def test_a_problem_the_user_can_act_on_is_shown_in_its_own_words(monkeypatch):
    problem = "Child 42 has no date of birth.\nChild 43 has no sex recorded."

    def exporter(export: Export, out: Any, progress: Any) -> None:
        raise exports.ExportProblem(problem)

    monkeypatch.setitem(exports.EXPORTERS, ExportKind.ANNEX_A_XLSX, exporter)
    manager = factories.hub_manager()
    export = run(annex(manager))
    assert export.status == ExportStatus.FAILED
    assert export.problem == problem
    page = client_for(manager).get(EXPORTS_PAGE).content.decode()
    assert "Child 42 has no date of birth.<br>Child 43 has no sex recorded." in page


def test_a_full_disk_is_said_plainly(monkeypatch):
    def exporter(export: Export, out: Any, progress: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setitem(exports.EXPORTERS, ExportKind.ANNEX_A_XLSX, exporter)
    export = run(annex(factories.hub_manager()))
    assert export.problem == exports.NO_SPACE_PROBLEM


def test_a_requester_who_lost_the_permission_gets_no_file():
    manager = factories.hub_manager()
    export = annex(manager)
    manager.is_active = False
    manager.save()
    export = run(export)
    assert export.status == ExportStatus.FAILED
    assert "may no longer prepare it" in export.problem
    assert list(folder().iterdir()) == []


# --- Who sees and downloads what ------------------------------------------------------------


PAGE_ROLES = {
    ANNEX_PAGE: {Role.HUB_MANAGER},
    EXPORTS_PAGE: {Role.HUB_MANAGER, Role.ANALYST},
    TABLE: {Role.HUB_MANAGER, Role.ANALYST},
}


@pytest.mark.parametrize("role", [*Role.values, "anonymous"])
@pytest.mark.parametrize("url", list(PAGE_ROLES))
def test_who_may_open_each_page(role, url):
    if role == "anonymous":
        response = Client().get(url)
        assert response.status_code == 302
        assert f"next={url}" in response["Location"]
        return
    response = client_for(factories.ROLE_FACTORIES[role]()).get(url)
    assert response.status_code == (200 if role in PAGE_ROLES[url] else 403)


def test_another_users_export_is_refused_but_a_hub_manager_may_download_it(extract_ready):
    mine, theirs = factories.analyst(), factories.analyst()
    export = run(exports.request_export(actor=mine, kind=ExportKind.PSEUDONYMISED, parameters={}))
    url = f"/reports/exports/{export.pk}/download/"
    assert client_for(mine).get(url).status_code == 200
    assert client_for(theirs).get(url).status_code == 403
    assert f"export-{export.pk}" not in client_for(theirs).get(EXPORTS_PAGE).content.decode()
    assert client_for(factories.hub_manager()).get(url).status_code == 200
    for role in (Role.REFERRAL_COORDINATOR, Role.ADMINISTRATOR, Role.AGENCY_PRACTITIONER):
        assert client_for(factories.ROLE_FACTORIES[role]()).get(url).status_code == 403
    downloads = AuditEvent.objects.filter(action="reporting.export_downloaded")
    assert downloads.count() == 2


def test_an_analyst_may_not_download_a_managers_annex_a():
    manager = factories.hub_manager()
    export = run(annex(manager))
    analyst = factories.analyst()
    assert client_for(analyst).get(f"/reports/exports/{export.pk}/download/").status_code == 403
    assert f"export-{export.pk}" not in client_for(analyst).get(EXPORTS_PAGE).content.decode()
    other_manager = factories.hub_manager()
    page = client_for(other_manager).get(EXPORTS_PAGE).content.decode()
    assert f'data-testid="export-{export.pk}"' in page


def test_a_file_gone_from_disk_or_not_there_is_a_page_not_an_error():
    manager = factories.hub_manager()
    export = run(annex(manager))
    (folder() / export.file_name).unlink()
    client = client_for(manager)
    response = client.get(f"/reports/exports/{export.pk}/download/")
    assert response.status_code == 404
    assert "This file is not available" in response.content.decode()
    assert client.get("/reports/exports/999999/download/").status_code == 404
    assert client.post(f"/reports/exports/{export.pk}/download/").status_code == 405
    assert client.post(EXPORTS_PAGE).status_code == 405


def test_the_list_costs_the_same_queries_for_many_files(django_assert_max_num_queries):
    manager = factories.hub_manager()
    client = client_for(manager)
    annex(manager)
    client.get(EXPORTS_PAGE)
    with django_assert_max_num_queries(12):
        assert client.get(EXPORTS_PAGE).status_code == 200
    for _ in range(15):
        Export.objects.create(kind=ExportKind.ANNEX_A_CSV, created_by=factories.hub_manager())
    with django_assert_max_num_queries(12):
        assert client.get(EXPORTS_PAGE).status_code == 200


# --- The Annex A page -----------------------------------------------------------------------


def test_the_annex_a_page_offers_six_months_to_today_and_names_the_blank_columns():
    page = client_for(factories.hub_manager()).get(ANNEX_PAGE).content.decode()
    boxes = dict(re.findall(r'name="((?:start|end)-\w+)" type="text" value="(\d*)"', page))
    assert boxes == {  # 16 April to 15 October 2026: today, and the six months before it
        "start-day": "16",
        "start-month": "4",
        "start-year": "2026",
        "end-day": "15",
        "end-month": "10",
        "end-year": "2026",
    }
    assert "Assessment completion date" in page
    assert "Allocated Worker" in page
    assert "Prepare the file" in page


GOOD = {
    "start-day": "1",
    "start-month": "4",
    "start-year": "2026",
    "end-day": "30",
    "end-month": "9",
    "end-year": "2026",
    "file_format": ExportKind.ANNEX_A_CSV,
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start-day": "", "start-month": "", "start-year": ""}, "Enter first day"),
        ({"end-month": ""}, "Last day must include a month"),
        ({"start-day": "31", "start-month": "2"}, "First day must be a real date"),
        ({"start-year": "26"}, "First day year must include 4 numbers"),
        (
            {"end-day": "<script>alert(1)</script>"},
            "Last day must be a real date, written in numbers",
        ),
        ({"end-day": "9" * 400}, "Last day must be a real date"),
        ({"end-year": "2027"}, "The last day must be today or in the past"),
        ({"end-month": "3"}, "The last day must be the same as or after the first day"),
        ({"start-year": "2020"}, "The lists can cover at most 5 years"),
        ({"file_format": "pseudonymised"}, "Choose the kind of file"),
        ({"file_format": ""}, "Choose the kind of file"),
    ],
)
def test_a_wrong_form_is_answered_next_to_the_field(changes, message):
    response = client_for(factories.hub_manager()).post(ANNEX_PAGE, {**GOOD, **changes})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert message in page
    assert "<script>alert(1)</script>" not in page
    assert not Export.objects.exists()


def test_the_limit_on_files_in_hand_is_shown_on_the_form():
    manager = factories.hub_manager()
    for _ in range(exports.MAX_ACTIVE_PER_USER):
        annex(manager)
    response = client_for(manager).post(ANNEX_PAGE, GOOD)
    assert response.status_code == 200
    assert "You already have 3 files being prepared" in response.content.decode()


# --- Clearing up ----------------------------------------------------------------------------


def test_the_daily_prune_removes_week_old_files_and_stray_ones(time_machine):
    manager = factories.hub_manager()
    time_machine.move_to(NOW - dt.timedelta(days=8), tick=False)
    old = run(annex(manager))
    time_machine.move_to(NOW - dt.timedelta(days=6), tick=False)
    recent = run(annex(manager))
    stuck = annex(manager)
    Export.objects.filter(pk=stuck.pk).update(
        status=ExportStatus.RUNNING, started_at=NOW - dt.timedelta(hours=7)
    )
    time_machine.move_to(NOW, tick=False)
    being_made = annex(manager)
    Export.objects.filter(pk=being_made.pk).update(status=ExportStatus.RUNNING, started_at=NOW)
    (folder() / f".export-{being_made.pk}-abc.part").write_bytes(b"in progress")
    (folder() / ".export-99999-abc.part").write_bytes(b"left by a crash")
    (folder() / "export-88888.xlsx").write_bytes(b"no row")
    (folder() / "notes.txt").write_bytes(b"not ours")

    assert exports.prune_exports() == 1

    assert not Export.objects.filter(pk=old.pk).exists()
    assert Export.objects.get(pk=recent.pk).status == ExportStatus.READY
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED
    assert "server stopped" in stuck.problem
    assert sorted(p.name for p in folder().iterdir()) == sorted(
        [recent.file_name, f".export-{being_made.pk}-abc.part", "notes.txt"]
    )
    event = AuditEvent.objects.get(action="reporting.exports_pruned")
    assert event.detail == {"exports": [old.pk], "count": 1}


@pytest.mark.django_db(transaction=True)
def test_the_worker_prunes_exports_in_its_daily_round(monkeypatch):
    from mash.core.management.commands import worker

    stop = threading.Event()
    calls: list[int] = []

    def prune(now: Any = None) -> int:
        calls.append(1)
        stop.set()
        return 0

    monkeypatch.setattr(exports, "prune_exports", prune)
    sweeper = threading.Thread(target=worker.sweep_forever, args=(0.05, stop), daemon=True)
    sweeper.start()
    sweeper.join(timeout=10)
    assert not sweeper.is_alive()
    assert calls == [1]


def test_file_permissions_keep_the_file_to_the_service_account():
    export = run(annex(factories.hub_manager()))
    mode = os.stat(folder() / export.file_name).st_mode & 0o777
    assert mode == 0o600
    assert os.stat(folder()).st_mode & 0o777 == 0o700


@pytest.mark.parametrize("url", [ANNEX_PAGE, EXPORTS_PAGE, TABLE, "/reports/exports/1/download/"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_permission_is_checked_before_the_method(url, method):
    administrator = client_for(factories.administrator())
    if url == ANNEX_PAGE and method == "post":
        return  # a form: POST is its method
    assert getattr(administrator, method)(url).status_code == 403
    assert getattr(client_for(factories.hub_manager()), method)(url).status_code == 405
