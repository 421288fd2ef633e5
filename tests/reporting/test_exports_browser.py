"""Exports in real Chromium: ask for Annex A, watch the list change by itself, download it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from mash.reporting import exports
from mash.reporting.models import Export, ExportStatus
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_list_updates_itself_until_the_file_is_ready_then_it_downloads(
    page: Any, sign_in: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MASH_EXPORT_DIR = tmp_path / "exports"
    manager = factories.hub_manager()
    sign_in(page, manager)
    page.goto("/reports/annex-a/")
    page.get_by_test_id("prepare").click()
    expect(page).to_have_url(f"{page.url.split('/reports/')[0]}/reports/exports/")
    export = Export.objects.get()
    row = page.get_by_test_id(f"export-{export.pk}")
    expect(row.get_by_test_id("export-status")).to_contain_text("Waiting to start")

    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, done=3, total=12)
    expect(row.get_by_test_id("export-progress")).to_contain_text("3 of 12 rows (25%)")
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.QUEUED, done=0, total=None)
    exports.run_export.call(export_id=export.pk)  # what the worker does

    expect(row.get_by_test_id("export-status")).to_contain_text("Ready")
    expect(page.get_by_test_id("exports-list")).not_to_have_attribute("hx-trigger", "every 2s")
    with page.expect_download() as caught:
        row.get_by_test_id("export-download").click()
    download = caught.value
    assert download.suggested_filename.startswith("ofsted-annex-a-")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert book.sheetnames == ["List 1", "List 2", "List 3"]
