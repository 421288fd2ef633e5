"""The outcome documents: the report for the team that acts next and the referrer's letter,
as pages and as PDFs, with only what each audience may see."""

from __future__ import annotations

import io
import re
import sys

import pytest
from pypdf import PdfReader

from mash.accounts.models import Role
from mash.core.models import AuditEvent
from mash.enquiries import services
from mash.enquiries.models import Enquiry, Outcome, Sensitivity
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

POLICE_SUMMARY = "Partner arrested for assault in 2023"
POLICE_DETAIL = "Intelligence log 7731: partner carries a blade"
EDUCATION_SUMMARY = "Attendance 82 percent this term"
EDUCATION_DETAIL = "Late on most Mondays since September"
SHAREABLE_SUMMARY = "Mother attended a parenting course"
SHAREABLE_DETAIL = "Completed all eight sessions in spring"
RATIONALE = "Injury consistent with the account given; support needed at home"
FEEDBACK = "Thank you for raising this; the family will be offered help."
CONCERN = "Amelia came to school with bruising on her arm and said she was scared."

URLS = {
    "outcome_report": "/enquiries/{pk}/outcome-report/",
    "outcome_report_pdf": "/enquiries/{pk}/outcome-report.pdf",
    "referrer_letter": "/enquiries/{pk}/referrer-letter/",
    "referrer_letter_pdf": "/enquiries/{pk}/referrer-letter.pdf",
}


def _answer(hub, enquiry, key, agency, summary, detail, sensitivity):
    services.answer_request(
        actor=hub.practitioners[key],
        request=journey.request_for(enquiry, agency),
        items=[services.ItemEntry(summary=summary, detail=detail, sensitivity=sensitivity)],
    )


def _decide(hub, enquiry, **kw):
    fields = {
        "outcome": Outcome.EARLY_HELP,
        "primary_need": "N4",
        "rationale": RATIONALE,
        "next_team": "Early Help Hub North",
        "themes": ["domestic_abuse", "neglect"],
        "lead_professional_agency": hub.education,
        "referrer_feedback": FEEDBACK,
    }
    fields.update(kw)
    return services.decide(
        actor=hub.manager, enquiry=enquiry, child=services.children_of(enquiry)[0], **fields
    )


def scenario(**contact):
    """Police answer MASH-only, education professionals-only, health nothing held,
    children's social care one item shareable with the family; then a decision."""
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, **contact)
    _answer(
        hub, enquiry, "police", hub.police, POLICE_SUMMARY, POLICE_DETAIL, Sensitivity.MASH_ONLY
    )
    _answer(
        hub,
        enquiry,
        "education",
        hub.education,
        EDUCATION_SUMMARY,
        EDUCATION_DETAIL,
        Sensitivity.PROFESSIONALS,
    )
    services.answer_request(
        actor=hub.practitioners["health"],
        request=journey.request_for(enquiry, hub.health),
        nothing_held=True,
    )
    _answer(
        hub,
        enquiry,
        "social_care",
        hub.social_care,
        SHAREABLE_SUMMARY,
        SHAREABLE_DETAIL,
        Sensitivity.SHAREABLE,
    )
    decision = _decide(hub, enquiry)
    return hub, Enquiry.objects.get(pk=enquiry.pk), decision


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def _document(response) -> str:
    """The document itself, without the service's header and navigation around it."""
    html = response.content.decode()
    start = html.index('<div class="mash-document">')
    return html[start : html.index("</main>", start)]


def _url(name: str, enquiry: Enquiry) -> str:
    return URLS[name].format(pk=enquiry.pk)


# --- The outcome report ---------------------------------------------------------------------


def test_the_outcome_report_holds_everything_but_mash_only_content(signed_in):
    hub, enquiry, _ = scenario()
    response = signed_in(hub.manager).get(_url("outcome_report", enquiry))
    assert response.status_code == 200
    html = _document(response)
    for expected in (
        "OFFICIAL-SENSITIVE",
        enquiry.reference,
        "Amelia Hart",
        "Dawn Hart",
        "Parent of Amelia Hart",
        "came to school with bruising on her arm",
        "Given",  # consent
        "Dawn Hart (mother)",
        "Injury to a young child.",  # the rating's rationale
        "Early help assessment",
        "N4 Family in acute stress",
        "Domestic abuse, Neglect",
        RATIONALE,
        "Early Help Hub North",
        "Education",  # the lead professional's agency
        EDUCATION_SUMMARY,
        EDUCATION_DETAIL,
        SHAREABLE_SUMMARY,
        SHAREABLE_DETAIL,
        "Nothing held: Health Visiting.",
        "Sam Teacher",
    ):
        assert expected in html, expected
    assert html.count("OFFICIAL-SENSITIVE") >= 2  # top and bottom
    for absent in (POLICE_SUMMARY, POLICE_DETAIL, "Police", "MASH-only", "MASH only"):
        assert absent not in html, absent


def test_the_outcome_report_pdf_holds_the_same_and_no_mash_only_content(signed_in):
    hub, enquiry, _ = scenario()
    response = signed_in(hub.coordinator).get(_url("outcome_report_pdf", enquiry))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{enquiry.reference}-outcome-report.pdf"'
    )
    assert response["Cache-Control"] == "no-store"
    text = pdf_text(response.content)
    for expected in (
        "OFFICIAL-SENSITIVE",
        f"Outcome report: enquiry {enquiry.reference}",
        EDUCATION_SUMMARY,
        EDUCATION_DETAIL,
        SHAREABLE_SUMMARY,
        SHAREABLE_DETAIL,
        "Amelia Hart",
        "Early Help Hub North",
    ):
        assert expected in text, expected
    for absent in (POLICE_SUMMARY, POLICE_DETAIL, "Intelligence", "MASH"):
        assert absent not in text, absent


def test_the_outcome_report_shows_a_decision_and_its_amendment(signed_in):
    hub, enquiry, decision = scenario()
    services.amend_decision(
        actor=hub.manager,
        decision=decision,
        reason="Mother asked for a full assessment",
        outcome=Outcome.SECTION_17,
        next_team="Assessment Team East",
    )
    html = signed_in(hub.manager).get(_url("outcome_report", enquiry)).content.decode()
    assert "Mother asked for a full assessment" in html
    assert "Early help assessment" in html  # was
    assert "child and family assessment (section 17)" in html  # now
    assert "Early Help Hub North" in html
    assert "Assessment Team East" in html
    assert "Lead professional&#39;s agency" in html  # removed with the change of outcome


def test_the_report_names_an_authorised_override(signed_in):
    hub = journey.small_hub()
    enquiry = journey.open_enquiry(hub)
    services.record_consent(
        actor=hub.coordinator,
        enquiry=enquiry,
        status="refused",
        given_by="Dawn Hart",
        decided_on=enquiry.opened_at,
    )
    services.propose_override(
        actor=hub.manager,
        enquiry=enquiry,
        grounds=["significant_harm"],
        justification="Bruising to a young child and threats at home.",
    )
    services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag="urgent",
        rationale="Immediate danger.",
        summary_for_agencies="Check the household.",
    )
    _decide(
        hub,
        enquiry,
        outcome=Outcome.SECTION_47,
        lead_professional_agency=None,
        pending_reason="Strategy discussion now.",
    )
    html = signed_in(hub.coordinator).get(_url("outcome_report", enquiry)).content.decode()
    assert "Refused" in html
    assert "The child may be at risk of significant harm" in html
    assert "Bruising to a young child and threats at home." in html
    assert "Strategy discussion now." in html


# --- The referrer's letter ------------------------------------------------------------------


def test_the_letter_holds_only_what_the_family_may_see(signed_in):
    hub, enquiry, _ = scenario()
    response = signed_in(hub.manager).get(_url("referrer_letter", enquiry))
    assert response.status_code == 200
    html = _document(response)
    for expected in (
        "Dear Sam Teacher,",
        "Riverside Primary",
        "Multi-Agency Safeguarding Hub",
        enquiry.reference,
        "Amelia Hart",
        "The family will be offered early help",
        FEEDBACK,
        SHAREABLE_SUMMARY,
        SHAREABLE_DETAIL,
        "OFFICIAL-SENSITIVE",
    ):
        assert expected in html, expected
    for absent in (
        POLICE_SUMMARY,
        POLICE_DETAIL,
        EDUCATION_SUMMARY,
        EDUCATION_DETAIL,
        RATIONALE,
        "Domestic abuse",
        "Neglect",
        "N4",
        CONCERN,
        "Nothing held",
        "MASH-only",
    ):
        assert absent not in html, absent


def test_the_letter_pdf_holds_only_the_shareable_item(signed_in):
    hub, enquiry, _ = scenario()
    response = signed_in(hub.manager).get(_url("referrer_letter_pdf", enquiry))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{enquiry.reference}-referrer-letter.pdf"'
    )
    text = pdf_text(response.content)
    assert "Dear Sam Teacher" in text
    assert SHAREABLE_SUMMARY in text
    assert FEEDBACK in text
    for absent in (POLICE_SUMMARY, EDUCATION_SUMMARY, RATIONALE, "Domestic abuse"):
        assert absent not in text, absent


def test_an_anonymous_referrer_is_dear_referrer(signed_in):
    hub, enquiry, _ = scenario(
        referrer_anonymous=True,
        referrer_name="",
        referrer_role="",
        referrer_organisation="",
        referral_source="9",
    )
    html = signed_in(hub.manager).get(_url("referrer_letter", enquiry)).content.decode()
    assert "Dear referrer," in html
    assert "Sam Teacher" not in html


def test_markup_in_the_documents_is_shown_as_text(signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    _answer(
        hub,
        enquiry,
        "education",
        hub.education,
        "<b>bold</b> claim",
        "<script>x()</script>",
        Sensitivity.SHAREABLE,
    )
    _decide(
        hub,
        enquiry,
        referrer_feedback="<img src=x onerror=alert(1)>",
        pending_reason="Enough is known.",
    )
    for name in ("outcome_report", "referrer_letter"):
        html = signed_in(hub.manager).get(_url(name, enquiry)).content.decode()
        assert "<script>x()" not in html
        assert "&lt;script&gt;x()&lt;/script&gt;" in html
        assert "&lt;b&gt;bold&lt;/b&gt; claim" in html
    letter = signed_in(hub.manager).get(_url("referrer_letter", enquiry)).content.decode()
    assert "<img src=x" not in letter


# --- Audit, no decision yet, the PDF service missing -----------------------------------------


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("outcome_report", "enquiries.outcome_report_viewed"),
        ("outcome_report_pdf", "enquiries.outcome_report_downloaded"),
        ("referrer_letter", "enquiries.referrer_letter_viewed"),
        ("referrer_letter_pdf", "enquiries.referrer_letter_downloaded"),
    ],
)
def test_every_view_and_download_is_audited(name, action, signed_in):
    hub, enquiry, _ = scenario()
    client = signed_in(hub.coordinator)
    client.get(_url(name, enquiry))
    client.get(_url(name, enquiry))
    events = AuditEvent.objects.filter(action=action, object_id=str(enquiry.pk))
    assert events.count() == 2
    assert {e.actor for e in events} == {hub.coordinator}
    assert {e.object_type for e in events} == {"enquiries.enquiry"}


@pytest.mark.parametrize("name", list(URLS))
def test_before_any_decision_the_documents_say_there_is_none(name, signed_in):
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub)
    response = signed_in(hub.manager).get(_url(name, enquiry))
    assert response.status_code == 409
    assert "There is no decision yet" in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith=f"enquiries.{name.split('_pdf')[0]}")


@pytest.mark.parametrize("name", list(URLS))
def test_a_missing_enquiry_is_not_found(name, signed_in, make):
    response = signed_in(make.hub_manager()).get(URLS[name].format(pk=999999))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["outcome_report_pdf", "referrer_letter_pdf"])
def test_without_the_pdf_library_the_pdf_is_unavailable_not_an_error(
    name, signed_in, monkeypatch, caplog
):
    hub, enquiry, _ = scenario()
    # As on a server without Pango: importing WeasyPrint fails.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = signed_in(hub.manager).get(_url(name, enquiry))
    assert response.status_code == 503
    html = response.content.decode()
    assert "The PDF service is unavailable" in html
    assert "libpango-1.0-0" in html
    assert URLS[name.removesuffix("_pdf")].format(pk=enquiry.pk) in html
    assert not AuditEvent.objects.filter(action__endswith="_downloaded").exists()


# --- Who may have them ----------------------------------------------------------------------


def _user_for(who, hub, make):
    if who == Role.HUB_MANAGER:
        return hub.manager
    if who == Role.REFERRAL_COORDINATOR:
        return hub.coordinator
    if who == "education_practitioner":
        return hub.practitioners["education"]  # their agency answered this enquiry
    if who == "police_practitioner":
        return hub.practitioners["police"]
    return make.ROLE_FACTORIES[who]()


ALLOWED = {Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR}
WHO = [
    Role.HUB_MANAGER,
    Role.REFERRAL_COORDINATOR,
    "education_practitioner",
    "police_practitioner",
    Role.ADVICE_LINE_WORKER,
    Role.ANALYST,
    Role.ADMINISTRATOR,
]


@pytest.mark.parametrize("who", WHO)
def test_only_hub_managers_and_coordinators_have_the_documents(who, make, signed_in):
    hub, enquiry, _ = scenario()
    client = signed_in(_user_for(who, hub, make))
    for name in URLS:
        url = _url(name, enquiry)
        expected = 200 if who in ALLOWED else 403
        assert client.get(url).status_code == expected, (name, "GET")
        assert client.post(url).status_code == (405 if who in ALLOWED else 403), (name, "POST")
    audited = AuditEvent.objects.filter(
        action__in=[
            "enquiries.outcome_report_viewed",
            "enquiries.outcome_report_downloaded",
            "enquiries.referrer_letter_viewed",
            "enquiries.referrer_letter_downloaded",
        ]
    )
    assert audited.count() == (4 if who in ALLOWED else 0)


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(client):
    _, enquiry, _ = scenario()
    for name in URLS:
        assert client.get(_url(name, enquiry)).status_code == 302


def test_the_page_offers_print_and_the_pdf_and_the_pdf_has_no_page_chrome(signed_in):
    hub, enquiry, _ = scenario()
    client = signed_in(hub.manager)
    html = client.get(_url("outcome_report", enquiry)).content.decode()
    # Print needs JavaScript, so its button starts hidden; the PDF link always works.
    assert re.search(r"<button[^>]*data-mash-print hidden", html)
    assert "/static/js/print.js" in html
    assert f'href="{_url("outcome_report_pdf", enquiry)}"' in html
    assert f'href="/enquiries/{enquiry.pk}/"' in html  # back to the enquiry
    text = pdf_text(client.get(_url("outcome_report_pdf", enquiry)).content)
    assert "Download PDF" not in text
    assert "Sign out" not in text
    assert "Accessibility statement" not in text
