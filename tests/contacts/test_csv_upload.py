"""Police notifications by CSV: the template, the preview, all-or-nothing import, hostile files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from mash.contacts.intake import storage, upload
from mash.contacts.models import NotificationChild, PoliceNotification
from mash.core.models import AuditEvent
from tests import factories
from tests.contacts import test_intake_support as support
from tests.contacts.test_pages_support import text

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 17, 13, 0, tzinfo=dt.UTC)
UPLOAD, PREVIEW, TEMPLATE = (
    "/police/upload/",
    "/police/upload/preview/",
    "/police/upload/template.csv",
)


@pytest.fixture(autouse=True)
def _frozen_and_private(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # each test keeps its uploads to itself
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def force():
    return support.force(name="Riverton Police")


@pytest.fixture
def researcher(force):
    return factories.police_researcher(agency_=force)


@pytest.fixture
def client(researcher):
    signed = Client()
    signed.force_login(researcher)
    return signed


def row(n: int, **overrides: str) -> dict[str, str]:
    """One valid notification, as a row of the template's columns."""
    values = {
        "occurrence_reference": f"RVP/{n:05d}/26",
        "incident_date": "16/06/2026",
        "incident_time": "21:45",
        "incident_type": "domestic_abuse",
        "dash_risk": "medium",
        "location": f"{n} Mill Lane, Riverton",
        "narrative": "Officers attended a verbal argument. Children present.",
        "officer_name": "PC Jo Bell",
        "officer_collar_number": "4521",
        "officer_team": "Riverton response",
        "child_1_given_name": "Amelia",
        "child_1_family_name": f"Hart{n}",
        "child_1_date_of_birth": "04/05/2018",
        "child_1_seen": "yes",
        "child_1_spoken_to": "no",
        "adult_1_given_name": "Dawn",
        "adult_1_family_name": f"Hart{n}",
        "adult_1_role": "victim",
    }
    values.update(overrides)
    return values


def csv_text(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    columns = header or upload.template_header()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def send(client: Client, content: str | bytes, name: str = "notifications.csv", force=None, **kw):
    data = content.encode() if isinstance(content, str) else content
    file = SimpleUploadedFile(name, data, content_type=kw.pop("content_type", "text/csv"))
    post: dict[str, Any] = {"file": file}
    post["force"] = "" if force is None else str(force.pk)
    return client.post(UPLOAD, post)


def upload_and_preview(client: Client, content: str | bytes, force, **kw) -> Any:
    response = send(client, content, force=force, **kw)
    assert response.status_code == 302, text(response.content)
    assert response["Location"] == PREVIEW
    return client.get(PREVIEW)


def digest_on(page: Any) -> str:
    match = re.search(r'name="digest" value="([0-9a-f]{64})"', page.content.decode())
    assert match, "the preview offers no import"
    return match.group(1)


def import_(client: Client, page: Any) -> Any:
    return client.post(PREVIEW, {"action": "import", "digest": digest_on(page)})


def problems_on(page: Any) -> list[tuple[str, str, str]]:
    table = re.search(r'<table[^>]*data-testid="problems".*?</table>', page.content.decode(), re.S)
    if table is None:
        return []
    found = []
    for tr in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table.group(0), re.S)[1:]:
        cells = [text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
        found.append((cells[0], cells[1], cells[2]))
    return found


# --- The template ---------------------------------------------------------------------------------


def test_the_template_has_the_columns_and_an_example_that_imports(client, force):
    response = client.get(TEMPLATE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # a spreadsheet opens it as UTF-8
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == upload.template_header()
    assert len(rows) == 2
    assert set(upload.REQUIRED_COLUMNS) <= set(rows[0])
    page = upload_and_preview(client, body, force)
    assert "1 row read: 1 new" in text(page.content)
    assert import_(client, page).status_code == 302
    notification = PoliceNotification.objects.get()
    assert notification.occurrence_reference == "RVP/12345/26"
    assert notification.children.count() == 2
    assert notification.adults.count() == 2


# --- The upload form ------------------------------------------------------------------------------


def test_the_upload_page_offers_the_researchers_force(client, force):
    page = client.get(UPLOAD)
    assert page.status_code == 200
    assert f'<option value="{force.pk}" selected>' in page.content.decode()
    assert 'enctype="multipart/form-data"' in page.content.decode()
    assert "occurrence_reference" in page.content.decode()  # the column reference


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notifications.xlsx", b"PK\x03\x04 a zip", "The selected file must be a CSV"),
        ("notifications", b"a,b", "The selected file must be a CSV"),
        ("notifications.csv", b"", "The selected file is empty"),
        ("notifications.csv", b"  \r\n \r\n", "The selected file is empty"),
        ("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "holds binary data"),
        ("notifications.csv", b"occurrence_reference\nRVP/1\x00\n", "holds binary data"),
        ("latin.csv", "occurrence_reference\nCaf\xe9\n".encode("latin-1"), "UTF-8"),
        ("utf16.csv", "occurrence_reference\n".encode("utf-16"), "binary data"),
    ],
)
def test_files_that_are_not_csv_are_refused_plainly(client, force, name, content, message):
    response = send(client, content, name=name, force=force)
    assert response.status_code == 200
    assert message in text(response.content)
    assert 'href="#file"' in response.content.decode()
    assert "police_upload" not in client.session


def test_a_10mb_file_is_refused_without_reading_it(client, force):
    big = csv_text([row(1)]) + ("x" * 1024 + "\n") * (10 * 1024)
    response = send(client, big, force=force)
    assert response.status_code == 200
    assert "The selected file must be smaller than 2MB" in text(response.content)


def test_no_file_and_no_force(client):
    response = client.post(UPLOAD, {"force": ""})
    page = text(response.content)
    assert "Select a CSV file" in page
    assert "Select the police force that sent the file" in page
    assert 'href="#force"' in response.content.decode()


@pytest.mark.parametrize("value", ["999999", "abc", "<script>", "1" * 40])
def test_a_force_that_is_not_offered_is_refused(client, value):
    response = client.post(
        UPLOAD, {"force": value, "file": SimpleUploadedFile("a.csv", csv_text([row(1)]).encode())}
    )
    assert "Select the police force that sent the file" in text(response.content)


def test_a_non_police_agency_is_not_a_force(client):
    council = factories.agency(name="Riverton Council")
    response = send(client, csv_text([row(1)]), force=council)
    assert "Select the police force that sent the file" in text(response.content)


def test_a_file_field_sent_as_text_is_no_file(client, force):
    response = client.post(UPLOAD, {"force": str(force.pk), "file": "not a file"})
    assert "Select a CSV file" in text(response.content)


# --- The preview ----------------------------------------------------------------------------------


def test_the_preview_lists_every_row_and_imports_nothing_yet(client, force):
    page = upload_and_preview(client, csv_text([row(1), row(2), row(3)]), force)
    assert page.status_code == 200
    content = text(page.content)
    assert "3 rows read: 3 new, 0 already received" in content
    assert "RVP/00002/26" in content
    assert "Import 3 notifications" in content
    assert not PoliceNotification.objects.exists()


def test_a_bom_and_header_spacing_and_case_are_tolerated(client, force):
    body = csv_text([row(1)])
    header, rest = body.split("\r\n", 1)
    header = ",".join(f" {c.upper()} " for c in header.split(","))
    page = upload_and_preview(client, "\ufeff" + header + "\r\n" + rest, force)
    assert "1 row read: 1 new" in text(page.content)


def test_labels_and_words_are_read_as_well_as_codes(client, force):
    page = upload_and_preview(
        client,
        csv_text(
            [
                row(
                    1,
                    incident_type="Domestic abuse",
                    dash_risk="HIGH",
                    child_1_seen="Y",
                    child_1_spoken_to="",
                    adult_1_role="Suspect",
                    incident_date="2026-06-16",
                    incident_time="21:45:00",
                )
            ]
        ),
        force,
    )
    assert problems_on(page) == []
    assert import_(client, page).status_code == 302
    notification = PoliceNotification.objects.get()
    assert notification.dash_risk == "high"
    assert notification.incident_at == dt.datetime(2026, 6, 16, 20, 45, tzinfo=dt.UTC)
    child = notification.children.get()
    assert child.seen is True
    assert child.spoken_to is None
    assert notification.adults.get().role == "suspect"


def test_a_quoted_narrative_over_several_lines_counts_as_one_spreadsheet_row(client, force):
    rows = [row(1, narrative='Line one,\nline two\n"quoted"'), row(2, incident_time="7pm")]
    page = upload_and_preview(client, csv_text(rows), force)
    assert problems_on(page) == [
        ("3", "incident_time", "Enter the time in 24-hour format, like 21:45")
    ]


def test_blank_rows_are_skipped_but_keep_the_numbering(client, force):
    body = (
        csv_text([row(1)]) + ",,,,\r\n\r\n" + csv_text([row(2, dash_risk="")]).split("\r\n", 1)[1]
    )
    page = upload_and_preview(client, body, force)
    assert problems_on(page) == [("5", "dash_risk", "Enter the DASH risk level for domestic abuse")]


@pytest.mark.parametrize(
    ("overrides", "column", "message"),
    [
        ({"occurrence_reference": ""}, "occurrence_reference", "Enter the force's occurrence"),
        ({"occurrence_reference": "R" * 41}, "occurrence_reference", "must be 40 characters"),
        ({"incident_date": ""}, "incident_date", "Enter the date of the incident"),
        ({"incident_date": "31/02/2026"}, "incident_date", "The incident date must be a real date"),
        ({"incident_date": "16-06-2026"}, "incident_date", "The incident date must be a real date"),
        ({"incident_date": "18/06/2026"}, "incident_date", "The incident cannot be in the future"),
        ({"incident_date": "01/01/2020"}, "incident_date", "within the last 5 years"),
        ({"incident_time": ""}, "incident_time", "Enter the time of the incident"),
        ({"incident_time": "24:00"}, "incident_time", "Enter the time in 24-hour format"),
        ({"incident_type": ""}, "incident_type", "Enter the type of incident"),
        ({"incident_type": "burglary"}, "incident_type", "The type must be one of"),
        ({"dash_risk": "extreme"}, "dash_risk", "must be standard, medium or high"),
        ({"incident_type": "drugs"}, "dash_risk", "only for domestic abuse"),
        ({"location": "L" * 301}, "location", "Location must be 300 characters or fewer"),
        ({"narrative": "N" * 20_001}, "narrative", "20,000 characters or fewer"),
        ({"officer_team": "T" * 101}, "officer_team", "100 characters or fewer"),
        (
            {"child_1_given_name": "", "child_1_family_name": "", "child_1_date_of_birth": ""},
            "child_1_given_name",
            "Enter the child's name or date of birth",
        ),
        (
            {
                "child_1_given_name": "",
                "child_1_family_name": "",
                "child_1_date_of_birth": "",
                "child_1_seen": "",
                "child_1_spoken_to": "",
            },
            "child_1_given_name",
            "Name at least one child present",
        ),
        ({"child_1_date_of_birth": "04/05/2000"}, "child_1_date_of_birth", "under 18"),
        ({"child_1_date_of_birth": "yesterday"}, "child_1_date_of_birth", "a real date"),
        ({"child_1_seen": "maybe"}, "child_1_seen", "Enter yes, no, or leave it blank"),
        (
            {"child_1_seen": "no", "child_1_spoken_to": "yes"},
            "child_1_spoken_to",
            "A child spoken to was also seen",
        ),
        ({"adult_1_role": "bystander"}, "adult_1_role", "must be victim, suspect, witness"),
        ({"adult_1_role": ""}, "adult_1_role", "must be victim, suspect, witness"),
        (
            {"adult_1_given_name": "", "adult_1_family_name": ""},
            "adult_1_given_name",
            "Enter the adult's name",
        ),
        ({"child_1_given_name": "A" * 101}, "child_1_given_name", "100 characters or fewer"),
    ],
)
def test_each_problem_is_named_by_row_and_column(client, force, overrides, column, message):
    page = upload_and_preview(client, csv_text([row(1), row(2, **overrides), row(3)]), force)
    found = problems_on(page)
    assert len(found) == 1, found
    assert found[0][:2] == ("3", column)
    assert message in found[0][2]
    assert "Fix row 3 in the spreadsheet" in text(page.content)
    assert 'name="digest"' not in page.content.decode()  # no import offered
    assert client.post(PREVIEW, {"action": "import", "digest": "0" * 64}).status_code == 200
    assert not PoliceNotification.objects.exists()


def test_a_later_child_group_is_named_by_its_own_number(client, force):
    header = [*upload.template_header()]
    values = row(1, child_3_given_name="Ivy", child_3_date_of_birth="01/01/2030")
    page = upload_and_preview(client, csv_text([values], header), force)
    assert problems_on(page) == [
        ("2", "child_3_date_of_birth", "A child's date of birth cannot be in the future")
    ]


@pytest.mark.parametrize(
    ("header_change", "message"),
    [
        (
            lambda h: [c for c in h if c != "narrative"],
            "The file is missing these columns: narrative",
        ),
        (lambda h: [*h, "child_1_dob"], "These columns are not ones we know: child_1_dob"),
        (lambda h: [*h, "narrative"], "These columns appear twice: narrative"),
        (lambda h: [*h, "child_21_given_name"], "not ones we know: child_21_given_name"),
        (
            lambda h: [c for c in h if c != "child_2_seen"],
            "The child 2 columns are incomplete: add child_2_seen",
        ),
    ],
)
def test_header_problems_are_said_plainly(client, force, header_change, message):
    header = header_change(upload.template_header())
    page = upload_and_preview(client, csv_text([row(1)], header), force)
    assert message in text(page.content)
    assert "This file cannot be imported" in text(page.content)
    assert not PoliceNotification.objects.exists()


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_the_wrong_delimiter_is_named(client, force, separator, name):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator)
    writer.writerow(upload.template_header())
    writer.writerow([row(1).get(c, "") for c in upload.template_header()])
    page = upload_and_preview(client, out.getvalue(), force)
    assert f"The columns are separated by {name}" in text(page.content)


def test_a_row_with_too_many_values_is_a_problem(client, force):
    body = csv_text([row(1)]).rstrip("\r\n") + ",surplus,values\r\n"
    page = upload_and_preview(client, body, force)
    assert problems_on(page)[0][0] == "2"
    assert "check for an extra comma" in problems_on(page)[0][2]


def test_trailing_empty_columns_and_cells_are_ignored(client, force):
    body = csv_text([row(1)]).replace("\r\n", ",,\r\n")
    page = upload_and_preview(client, body, force)
    assert problems_on(page) == []
    assert "1 row read: 1 new" in text(page.content)


def test_a_header_only_file_has_no_notifications(client, force):
    page = upload_and_preview(client, csv_text([]), force)
    assert "The file has no notifications: only a header row" in text(page.content)


def test_more_than_a_thousand_rows_is_refused(client, force):
    body = csv_text([row(n, narrative="") for n in range(1, 1_002)])
    page = upload_and_preview(client, body, force)
    assert "more than 1,000 notifications" in text(page.content)


def test_a_huge_cell_is_a_clear_answer_not_a_crash(client, force):
    body = csv_text([row(1, narrative="N" * 200_000)])
    page = upload_and_preview(client, body, force)
    assert page.status_code == 200
    assert "Row 2 has a value too long to read" in text(page.content)


def test_unbalanced_quotes_are_a_clear_answer(client, force):
    body = csv_text([row(1)]) + '"RVP/2,16/06/2026,"21:45"x,\r\n'
    page = upload_and_preview(client, body, force)
    assert page.status_code == 200
    assert "cannot be read as CSV" in text(page.content) or problems_on(page)


def test_formulas_stay_inert_text(client, force):
    hostile = "=cmd|' /C calc'!A0"
    page = upload_and_preview(
        client,
        csv_text([row(1, narrative=hostile, location="@SUM(1+1)", officer_team="+team")]),
        force,
    )
    assert import_(client, page).status_code == 302
    notification = PoliceNotification.objects.get()
    assert notification.narrative == hostile
    assert notification.location == "@SUM(1+1)"


def test_markup_in_cells_is_shown_as_text(client, force):
    page = upload_and_preview(
        client, csv_text([row(1, occurrence_reference="<script>alert(1)</script>")]), force
    )
    assert "<script>alert(1)</script>" not in page.content.decode()
    assert "&lt;script&gt;" in page.content.decode()


# --- All or nothing -------------------------------------------------------------------------------


def test_500_rows_with_one_bad_imports_nothing_then_the_fixed_file_imports_all(client, force):
    rows = [row(n) for n in range(1, 501)]
    rows[316] = row(317, child_1_date_of_birth="31/13/2019")
    page = upload_and_preview(client, csv_text(rows), force)
    assert problems_on(page) == [
        (
            "318",
            "child_1_date_of_birth",
            "The date of birth must be a real date written as DD/MM/YYYY, like 14/06/2026",
        )
    ]
    assert "Fix row 318 in the spreadsheet" in text(page.content)
    assert "499 new" in text(page.content)
    # Asking to import anyway imports nothing.
    response = client.post(PREVIEW, {"action": "import", "digest": "f" * 64})
    assert response.status_code == 200
    assert PoliceNotification.objects.count() == 0

    rows[316] = row(317)
    page = upload_and_preview(client, csv_text(rows), force)
    assert "Import 500 notifications" in text(page.content)
    response = import_(client, page)
    assert response.status_code == 302
    assert response["Location"] == UPLOAD
    assert PoliceNotification.objects.count() == 500
    assert set(PoliceNotification.objects.values_list("received_via", flat=True)) == {"csv"}
    assert NotificationChild.objects.count() == 500
    event = AuditEvent.objects.get(action="contacts.police_csv_imported")
    assert event.detail["created"] == 500
    assert event.detail["rows"] == 500
    assert "500 notifications from notifications.csv added to the triage queue" in text(
        client.get(UPLOAD).content
    )
    # The file is gone: importing again does nothing.
    assert client.post(PREVIEW, {"action": "import", "digest": digest_on(page)}).status_code == 302
    assert PoliceNotification.objects.count() == 500


def test_a_failure_half_way_through_the_import_rolls_back_everything(client, force, monkeypatch):
    page = upload_and_preview(client, csv_text([row(n) for n in range(1, 6)]), force)
    real = upload.police.receive_notification
    calls = {"n": 0}

    def flaky(**kw):
        calls["n"] += 1
        made, new = real(**kw)
        if calls["n"] == 4:
            raise upload.police.ReplayConflict(made)
        return made, new

    monkeypatch.setattr(upload.police, "receive_notification", flaky)
    response = import_(client, page)
    assert response.status_code == 200
    assert "Nothing has been imported" in text(response.content)
    assert problems_on(response)[0][:2] == ("5", "occurrence_reference")
    assert PoliceNotification.objects.count() == 0
    assert not AuditEvent.objects.filter(action="contacts.police_notification_received").exists()


def test_replays_are_reported_as_already_received(client, force, researcher):
    page = upload_and_preview(client, csv_text([row(1), row(2)]), force)
    import_(client, page)
    first = PoliceNotification.objects.get(occurrence_reference="RVP/00001/26")
    page = upload_and_preview(client, csv_text([row(1), row(2), row(3)]), force)
    content = text(page.content)
    assert "3 rows read: 1 new, 2 already received" in content
    assert f"Already received as {first.reference}" in content
    assert "Import 1 notification" in content
    import_(client, page)
    assert PoliceNotification.objects.count() == 3
    message = text(client.get(UPLOAD).content)
    assert "1 notification from notifications.csv added" in message
    assert f"2 were already received, and not added again: {first.reference}" in message


def test_a_conflicting_replay_is_a_problem_for_its_row(client, force, researcher):
    support.notification(actor=researcher, force_=force, occurrence_reference="RVP/00002/26")
    page = upload_and_preview(client, csv_text([row(1), row(2)]), force)
    (problem,) = problems_on(page)
    assert problem[:2] == ("3", "occurrence_reference")
    assert "was already received from this force as PN-" in problem[2]


def test_the_same_reference_twice_in_a_file(client, force):
    page = upload_and_preview(client, csv_text([row(1), row(1)]), force)
    assert "Same as row 2: imported once" in text(page.content)
    import_(client, page)
    assert PoliceNotification.objects.count() == 1
    page = upload_and_preview(client, csv_text([row(5), row(5, narrative="Other")]), force)
    assert problems_on(page) == [
        (
            "3",
            "occurrence_reference",
            "Row 2 has the same occurrence reference with different details: each notification "
            "needs its own reference",
        )
    ]


def test_the_import_checks_again_and_catches_what_changed_since_the_preview(
    client, force, researcher
):
    page = upload_and_preview(client, csv_text([row(1), row(2)]), force)
    # Meanwhile someone types RVP/00002/26 by hand, with other details.
    support.notification(actor=researcher, force_=force, occurrence_reference="RVP/00002/26")
    response = import_(client, page)
    assert response.status_code == 200
    assert problems_on(response)[0][:2] == ("3", "occurrence_reference")
    assert PoliceNotification.objects.count() == 1


# --- Keeping the file between preview and import --------------------------------------------------


def test_an_import_from_an_old_tab_after_another_upload_imports_nothing(client, force):
    old = upload_and_preview(client, csv_text([row(1)]), force)
    upload_and_preview(client, csv_text([row(2)]), force)
    response = import_(client, old)
    assert response.status_code == 200
    assert "A different file was uploaded since" in text(response.content)
    assert not PoliceNotification.objects.exists()


def test_the_kept_file_cannot_be_changed_on_disk(client, force, tmp_path):
    page = upload_and_preview(client, csv_text([row(1)]), force)
    (kept,) = (tmp_path / "police-uploads").glob("*.csv")
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    kept.write_text(csv_text([row(1), row(2)]))
    response = import_(client, page)
    assert response.status_code == 302
    assert response["Location"] == UPLOAD
    assert not PoliceNotification.objects.exists()
    assert "no longer waiting to be imported" in text(client.get(UPLOAD).content)


def test_another_user_cannot_import_my_file(client, force, researcher):
    page = upload_and_preview(client, csv_text([row(1)]), force)
    other = Client()
    other.force_login(factories.police_researcher(agency_=force))
    session = other.session
    session["police_upload"] = dict(client.session["police_upload"])
    session.save()
    response = other.post(PREVIEW, {"action": "import", "digest": digest_on(page)})
    assert response.status_code == 302
    assert not PoliceNotification.objects.exists()


@pytest.mark.parametrize(
    "tampered",
    [
        {"token": "../../secret_key", "digest": "x"},
        {"token": "0" * 32, "digest": "0" * 64},
        "not a dict",
        {"token": None},
    ],
)
def test_a_tampered_session_is_refused(client, force, tampered):
    session = client.session
    session["police_upload"] = tampered
    session.save()
    assert client.get(PREVIEW).status_code == 302
    assert client.post(PREVIEW, {"action": "import", "digest": "0" * 64}).status_code == 302
    assert not PoliceNotification.objects.exists()


def test_the_preview_without_an_upload_goes_to_the_upload_page(client):
    assert client.get(PREVIEW)["Location"] == UPLOAD


def test_cancel_discards_the_file(client, force, tmp_path):
    upload_and_preview(client, csv_text([row(1)]), force)
    response = client.post(PREVIEW, {"action": "cancel"})
    assert response["Location"] == UPLOAD
    assert list((tmp_path / "police-uploads").glob("*.csv")) == []
    assert "police_upload" not in client.session
    assert not PoliceNotification.objects.exists()


def test_an_abandoned_file_is_swept_after_two_hours(client, force, tmp_path, researcher):
    upload_and_preview(client, csv_text([row(1)]), force)
    kept = dict(client.session["police_upload"])
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        client.force_login(researcher)  # the session itself timed out long before
        session = client.session
        session["police_upload"] = kept
        session.save()
        assert client.get(PREVIEW)["Location"] == UPLOAD
        storage.sweep()
    assert list((tmp_path / "police-uploads").glob("*.csv")) == []


def test_a_force_made_inactive_after_the_upload_stops_the_import(client, force):
    page = upload_and_preview(client, csv_text([row(1)]), force)
    force.is_active = False
    force.save()
    response = import_(client, page)
    assert "Select the police force that sent the file" in text(response.content)
    assert not PoliceNotification.objects.exists()


# --- Who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_user",
    [
        factories.coordinator,
        factories.practitioner,
        factories.advice_line_worker,
        factories.analyst,
        factories.administrator,
    ],
)
def test_other_roles_are_refused(force, make_user):
    other = Client()
    other.force_login(make_user())
    for url in (UPLOAD, PREVIEW, TEMPLATE):
        assert other.get(url).status_code == 403
        assert other.post(url).status_code == 403
    assert send(other, csv_text([row(1)]), force=force).status_code == 403


def test_a_hub_manager_may_upload(force):
    manager = Client()
    manager.force_login(factories.hub_manager())
    page = upload_and_preview(manager, csv_text([row(1)]), force)
    assert import_(manager, page).status_code == 302
    assert PoliceNotification.objects.count() == 1


def test_the_preview_of_500_rows_is_within_its_query_budget(
    client, force, django_assert_max_num_queries
):
    upload_and_preview(client, csv_text([row(1)]), force)
    with django_assert_max_num_queries(15) as small:
        client.get(PREVIEW)
    budget = len(small)
    upload_and_preview(client, csv_text([row(n) for n in range(1, 501)]), force)
    with django_assert_max_num_queries(budget):
        client.get(PREVIEW)


def test_read_csv_writes_nothing(force):
    preview = upload.read_csv(csv_text([row(1)]), force=force)
    assert preview.ready
    assert not PoliceNotification.objects.exists()
    assert upload.read_csv(csv_text([row(1)]), force=None).file_problems == [
        "Select the police force that sent the file"
    ]
