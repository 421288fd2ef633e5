"""The cross-border pages: the responsible authority on the enquiry's page, setting it,
transferring, and the package's downloads (preview and as sent), for every role."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from pypdf import PdfReader

from mash.accounts.models import Role
from mash.core.models import AuditEvent
from mash.enquiries.models import Enquiry, EnquiryStatus, EnquiryTransfer
from mash.enquiries.transfer import transfer_enquiry
from tests import factories
from tests.contacts.test_pages_support import error_for, text
from tests.enquiries import journey
from tests.enquiries.test_transfer_support import (
    MASH_ONLY_DETAIL,
    MASH_ONLY_SUMMARY,
    PROFESSIONALS_DETAIL,
    PROFESSIONALS_SUMMARY,
    SHAREABLE_SUMMARY,
    answer_each_sensitivity,
    enquiry_elsewhere,
    la,
    set_up_hub,
    to_camden,
)

pytestmark = pytest.mark.django_db

REASON = "The family moved to Camden in March."
OTHER_ROLES = [
    Role.AGENCY_PRACTITIONER,
    Role.POLICE_RESEARCHER,
    Role.ADVICE_LINE_WORKER,
    Role.ANALYST,
    Role.ADMINISTRATOR,
]


@pytest.fixture
def hub():
    set_up_hub()
    return journey.small_hub()


def url(name: str, enquiry: Enquiry) -> str:
    paths = {
        "detail": "/enquiries/{}/",
        "responsible": "/enquiries/{}/responsible-authority/",
        "transfer": "/enquiries/{}/transfer/",
        "preview_json": "/enquiries/{}/transfer/preview.json",
        "preview_pdf": "/enquiries/{}/transfer/preview.pdf",
        "package_json": "/enquiries/{}/transfer/package.json",
        "package_pdf": "/enquiries/{}/transfer/package.pdf",
    }
    return paths[name].format(enquiry.pk)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() or "" for page in reader.pages))


def _transfer(hub, enquiry):
    return transfer_enquiry(
        actor=hub.manager, enquiry=enquiry, recipient="Camden MASH", reason="They live there"
    )


# --- The enquiry's page ------------------------------------------------------------------


def test_the_enquiry_page_names_the_hub_as_responsible_and_flags_a_child_outside(hub, signed_in):
    enquiry = enquiry_elsewhere(hub)
    page = text(signed_in(hub.manager).get(url("detail", enquiry)).content)
    assert "Responsible local authority: Northbridge (own)" in page
    assert (
        "Amelia Hart (postcode NW1 8AB) lives outside the hub\u2019s area: check the responsible "
        "authority." in page
    )
    assert "Change the responsible local authority" in page
    assert "Transfer the enquiry" not in page


def test_another_authority_is_named_with_a_prompt_to_transfer(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    page = text(signed_in(hub.manager).get(url("detail", enquiry)).content)
    assert "Responsible local authority: Camden (202)" in page
    assert "Set by Test User" in page
    assert REASON in page
    assert "Camden is responsible for these children, not Northbridge." in page
    assert "Transfer the enquiry to Camden" in page
    coordinator = text(signed_in(hub.coordinator).get(url("detail", enquiry)).content)
    assert "A hub manager can transfer the enquiry to them." in coordinator
    assert "Transfer the enquiry to Camden" not in coordinator
    assert "Change the responsible local authority" in coordinator


def test_a_transferred_enquiry_says_so(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    _transfer(hub, enquiry)
    raw = signed_in(hub.manager).get(url("detail", enquiry)).content
    page = text(raw)
    assert "Transferred on" in page
    assert "Transferred to Camden (202), Camden MASH, on" in page
    assert "Change the responsible local authority" not in page
    assert "lives outside the hub\u2019s area" not in page


# --- Setting the responsible authority ---------------------------------------------------


@pytest.mark.parametrize("role", [Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR])
def test_setting_another_authority_through_the_page(hub, signed_in, role):
    enquiry = enquiry_elsewhere(hub)
    client = signed_in(factories.ROLE_FACTORIES[role]())
    form = client.get(url("responsible", enquiry))
    assert form.status_code == 200
    html = form.content.decode()
    assert "Which local authority is responsible for the children?" in html
    assert '<option value="own" selected>Northbridge (the hub&#39;s own)</option>' in html
    assert "Westmorland and Furness (943)" in html
    assert "Cumbria (909)" not in html  # abolished: not offered
    response = client.post(
        url("responsible", enquiry),
        {"local_authority": "202", "reason": REASON, "version": enquiry.version},
    )
    assert response.status_code == 302
    assert response["Location"] == url("detail", enquiry)
    enquiry.refresh_from_db()
    assert enquiry.responsible_la == la("202")
    assert AuditEvent.objects.filter(action="enquiries.responsible_la_set").count() == 1
    page = text(client.get(url("detail", enquiry)).content)
    assert "Responsible local authority set to Camden." in page


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({}, "id_local_authority", "Select the responsible local authority"),
        ({"local_authority": "202"}, "id_reason", "Enter why this authority is responsible"),
        (
            {"local_authority": "999"},
            "id_local_authority",
            "Select the responsible local authority",
        ),
        (
            {"local_authority": "909"},
            "id_local_authority",
            "Select the responsible local authority",
        ),
        (
            {"local_authority": "<script>alert(1)</script>"},
            "id_local_authority",
            "Select the responsible local authority",
        ),
        (
            {"local_authority": "202", "reason": "x" * 501},
            "id_reason",
            "The reason must be 500 characters or fewer",
        ),
        (
            {"local_authority": "own", "reason": REASON},
            "id_local_authority",
            "This is already the responsible authority: select another, or go back",
        ),
    ],
)
def test_what_is_wrong_is_shown_next_to_the_field(hub, signed_in, posted, field, message):
    enquiry = enquiry_elsewhere(hub)
    data = {"reason": REASON, "version": enquiry.version, **posted}
    if "reason" not in posted and field == "id_reason":
        data.pop("reason")
    response = signed_in(hub.manager).post(url("responsible", enquiry), data)
    assert response.status_code == 200
    assert message in error_for(response.content, field)
    html = response.content.decode()
    assert "There is a problem" in html
    assert "<title>Error: " in html
    assert "<script>alert(1)</script>" not in html
    enquiry.refresh_from_db()
    assert enquiry.responsible_la is None


def test_a_stale_page_is_told_someone_else_changed_it(hub, signed_in):
    enquiry = enquiry_elsewhere(hub)
    stale = enquiry.version
    to_camden(hub, enquiry)
    response = signed_in(hub.manager).post(
        url("responsible", enquiry), {"local_authority": "201", "reason": REASON, "version": stale}
    )
    assert response.status_code == 409
    page = text(response.content)
    assert "Someone else changed this enquiry while you were working on it." in page
    assert "Nothing you entered has been saved." in page
    assert "Responsible local authority Camden (202)" in page


@pytest.mark.parametrize("version", ["abc", "-1", "9" * 30])
def test_a_forged_version_is_an_error_not_a_crash(hub, signed_in, version):
    enquiry = enquiry_elsewhere(hub)
    response = signed_in(hub.manager).post(
        url("responsible", enquiry),
        {"local_authority": "202", "reason": REASON, "version": version},
    )
    assert response.status_code == 200
    assert "The page was out of date: reload it and try again" in response.content.decode()


def test_a_closed_enquiry_offers_no_form(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    _transfer(hub, enquiry)
    client = signed_in(hub.manager)
    page = client.get(url("responsible", enquiry))
    assert page.status_code == 200
    assert "This enquiry has been closed." in text(page.content)
    assert '<form method="post" novalidate>' not in page.content.decode()
    post = client.post(url("responsible", enquiry), {"local_authority": "201", "reason": "x"})
    assert post.status_code == 409


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_may_not_set_it(hub, signed_in, role):
    enquiry = enquiry_elsewhere(hub)
    client = signed_in(factories.ROLE_FACTORIES[role]())
    assert client.get(url("responsible", enquiry)).status_code == 403
    response = client.post(url("responsible", enquiry), {"local_authority": "202", "reason": "x"})
    assert response.status_code == 403
    enquiry.refresh_from_db()
    assert enquiry.responsible_la is None


def test_an_enquiry_that_does_not_exist_is_not_found(hub, signed_in):
    client = signed_in(hub.manager)
    assert client.get("/enquiries/999999/responsible-authority/").status_code == 404
    assert client.get("/enquiries/999999/transfer/").status_code == 404
    assert client.get("/enquiries/999999/transfer/preview.json").status_code == 404
    assert client.get("/enquiries/999999/transfer/package.pdf").status_code == 404


# --- Transferring ------------------------------------------------------------------------


def test_the_transfer_page_says_when_the_hub_is_responsible(hub, signed_in):
    enquiry = enquiry_elsewhere(hub)
    response = signed_in(hub.manager).get(url("transfer", enquiry))
    assert response.status_code == 200
    page = text(response.content)
    assert "The hub's own authority is responsible for these children." in page
    assert "Set the responsible local authority" in page
    assert signed_in(hub.manager).post(url("transfer", enquiry), {}).status_code == 409
    assert signed_in(hub.manager).get(url("preview_json", enquiry)).status_code == 409


def test_a_manager_previews_then_transfers_and_downloads_the_package(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    answer_each_sensitivity(hub, enquiry)
    enquiry.refresh_from_db()
    client = signed_in(hub.manager)
    page = client.get(url("transfer", enquiry))
    assert page.status_code == 200
    shown = text(page.content)
    assert "Transfer the enquiry to Camden" in shown
    assert "Preview the package as a PDF" in shown
    assert "Agency information 2 items from Children's Social Care, Education" in shown
    assert "MASH-only information is left out" in shown

    preview = client.get(url("preview_json", enquiry))
    assert preview.status_code == 200
    assert preview["Content-Type"] == "application/json; charset=utf-8"
    assert preview["Content-Disposition"] == (
        f'attachment; filename="{enquiry.reference}-transfer-preview.json"'
    )
    assert preview["Cache-Control"] == "no-store"
    assert json.loads(preview.content)["status"] == "preview"
    assert MASH_ONLY_SUMMARY not in preview.content.decode()

    preview_pdf = client.get(url("preview_pdf", enquiry))
    assert preview_pdf.status_code == 200
    assert preview_pdf["Content-Type"] == "application/pdf"
    shown_pdf = pdf_text(preview_pdf.content)
    assert "PREVIEW: not sent." in shown_pdf
    assert PROFESSIONALS_SUMMARY in shown_pdf
    for secret in (MASH_ONLY_SUMMARY, MASH_ONLY_DETAIL, "55-ALPHA"):
        assert secret not in shown_pdf

    response = client.post(
        url("transfer", enquiry),
        {
            "recipient": "Camden MASH",
            "recipient_email": "mash@camden.example",
            "reason": "The family moved to Camden in March.",
            "version": enquiry.version,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url("transfer", enquiry)
    record = EnquiryTransfer.objects.get(enquiry=enquiry)
    record_page = text(client.get(url("transfer", enquiry)).content)
    assert f"Enquiry {enquiry.reference} transferred to Camden and closed." in record_page
    assert "Transferred to Camden" in record_page
    assert record.package_sha256 in record_page

    sent_json = client.get(url("package_json", enquiry))
    assert sent_json.status_code == 200
    assert hashlib.sha256(sent_json.content).hexdigest() == record.package_sha256
    data = json.loads(sent_json.content)
    assert data["status"] == "sent"
    assert data["transfer"]["recipient"] == "Camden MASH"
    sent_pdf = pdf_text(client.get(url("package_pdf", enquiry)).content)
    for expected in (
        f"Transfer package: enquiry {enquiry.reference}",
        "Camden (202)",
        "Camden MASH",
        "The family moved to Camden in March.",
        "Amelia Hart",
        "943 476 5919",
        "C204123456789",
        "NW1 8AB",
        "Parent of Amelia Hart",
        "came to school with bruising",
        "Injury to a young child.",
        PROFESSIONALS_SUMMARY,
        PROFESSIONALS_DETAIL,
        SHAREABLE_SUMMARY,
        "OFFICIAL-SENSITIVE",
    ):
        assert expected in sent_pdf, expected
    for secret in (MASH_ONLY_SUMMARY, MASH_ONLY_DETAIL, "55-ALPHA", "PREVIEW"):
        assert secret not in sent_pdf, secret

    downloads = AuditEvent.objects.filter(action="enquiries.transfer_package_downloaded")
    assert [(e.detail["format"], e.detail["preview"]) for e in downloads.order_by("id")] == [
        ("json", True),
        ("pdf", True),
        ("json", False),
        ("pdf", False),
    ]
    assert all(e.actor == hub.manager for e in downloads)


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"recipient": ""}, "id_recipient", "Enter the team or person the enquiry is going to"),
        ({"recipient": "x" * 201}, "id_recipient", "200 characters or fewer"),
        ({"recipient_email": "nope"}, "id_recipient_email", "correct format"),
        ({"reason": ""}, "id_reason", "Enter why the enquiry is being transferred"),
        ({"reason": "x" * 20_001}, "id_reason", "characters or fewer"),
        ({"recipient": "<script>alert(1)</script>", "reason": ""}, "id_reason", "Enter why"),
    ],
)
def test_transfer_form_errors_are_shown_next_to_the_field(hub, signed_in, posted, field, message):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    data = {"recipient": "Camden MASH", "reason": "They live there", "version": enquiry.version}
    data.update(posted)
    response = signed_in(hub.manager).post(url("transfer", enquiry), data)
    assert response.status_code == 200
    assert message in error_for(response.content, field)
    assert "<script>alert(1)</script>" not in response.content.decode()
    enquiry.refresh_from_db()
    assert enquiry.status != EnquiryStatus.CLOSED


def test_the_second_manager_gets_a_clear_conflict(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    seen = Enquiry.objects.get(pk=enquiry.pk).version
    first = signed_in(hub.manager)
    second = signed_in(factories.hub_manager(full_name="Second Manager"))
    post = {"recipient": "Camden MASH", "reason": "They live there", "version": seen}
    assert first.post(url("transfer", enquiry), post).status_code == 302
    response = second.post(url("transfer", enquiry), {**post, "recipient": "Other"})
    assert response.status_code == 409
    page = text(response.content)
    assert "This enquiry has already been transferred." in page
    assert "Transferred to Camden (202)" in page
    assert "Team or person Camden MASH" in page
    assert EnquiryTransfer.objects.count() == 1


def test_the_coordinator_sees_the_record_and_downloads_but_cannot_transfer(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    client = signed_in(hub.coordinator)
    assert client.get(url("transfer", enquiry)).status_code == 403
    assert client.get(url("preview_json", enquiry)).status_code == 403
    assert (
        client.post(url("transfer", enquiry), {"recipient": "x", "reason": "y"}).status_code == 403
    )
    assert client.get(url("package_json", enquiry)).status_code == 404  # not transferred yet
    _transfer(hub, enquiry)
    assert client.get(url("transfer", enquiry)).status_code == 200
    assert client.get(url("package_json", enquiry)).status_code == 200


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_reach_none_of_it(hub, signed_in, role):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    _transfer(hub, enquiry)
    client = signed_in(factories.ROLE_FACTORIES[role]())
    for name in ("transfer", "preview_json", "preview_pdf", "package_json", "package_pdf"):
        assert client.get(url(name, enquiry)).status_code == 403, name
        assert client.post(url(name, enquiry)).status_code == 403, name
    assert not AuditEvent.objects.filter(action="enquiries.transfer_package_downloaded").exists()


def test_downloads_answer_only_get(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    client = signed_in(hub.manager)
    assert client.post(url("preview_json", enquiry)).status_code == 405
    _transfer(hub, enquiry)
    assert client.post(url("package_pdf", enquiry)).status_code == 405


def test_a_package_that_cannot_be_reproduced_is_refused_and_audited(hub, signed_in):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    answer_each_sensitivity(hub, enquiry)
    record = _transfer(hub, enquiry)
    hub.education.name = "Schools Service"
    hub.education.save()
    response = signed_in(hub.manager).get(url("package_json", enquiry))
    assert response.status_code == 409
    page = text(response.content)
    assert "The package sent cannot be reproduced" in page
    assert record.package_sha256 in page
    assert AuditEvent.objects.filter(action="enquiries.transfer_package_changed").exists()
    assert not AuditEvent.objects.filter(action="enquiries.transfer_package_downloaded").exists()


def test_hostile_text_is_shown_as_text(hub, signed_in):
    hostile = "<script>alert('x')</script><b>bold</b>"
    enquiry = to_camden(hub, enquiry_elsewhere(hub, concern=hostile))
    transfer_enquiry(actor=hub.manager, enquiry=enquiry, recipient=hostile, reason=hostile)
    client = signed_in(hub.manager)
    html = client.get(url("transfer", enquiry)).content.decode()
    assert hostile not in html
    assert "&lt;script&gt;" in html
    assert "<b>bold</b>" not in client.get(url("detail", enquiry)).content.decode()
    assert hostile in pdf_text(client.get(url("package_pdf", enquiry)).content)
