"""Enquiry pages: documents (see enquiries/urls.py).

The outcome report for the team that acts next and the feedback letter for the
referrer, each a print-styled page and a PDF rendered from the same template
with WeasyPrint. Both get agencies' answers only through visible_answer_items
with their own audience: the report leaves out MASH-only items, the letter
holds only what the family may see. Every view and download is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse

from mash.accounts.models import Agency
from mash.core import audit, clock
from mash.core.models import Hub
from mash.enquiries import selectors
from mash.enquiries.models import (
    AnswerItem,
    Decision,
    Enquiry,
    Outcome,
    OverrideStatus,
    PrimaryNeed,
    RequestStatus,
    Theme,
)
from mash.enquiries.selectors import Audience

if TYPE_CHECKING:
    from mash.accounts.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    kind: str  # the audit actions are enquiries.<kind>_viewed and enquiries.<kind>_downloaded
    title: str
    body_template: str
    filename: str  # after the enquiry's reference
    audience: str
    html_url: str
    pdf_url: str


OUTCOME_REPORT = Document(
    kind="outcome_report",
    title="Outcome report",
    body_template="enquiries/documents/_outcome_report.html",
    filename="outcome-report.pdf",
    audience=Audience.OUTCOME_REPORT,
    html_url="enquiries:outcome_report",
    pdf_url="enquiries:outcome_report_pdf",
)
REFERRER_LETTER = Document(
    kind="referrer_letter",
    title="Letter to the referrer",
    body_template="enquiries/documents/_referrer_letter.html",
    filename="referrer-letter.pdf",
    audience=Audience.REFERRER,
    html_url="enquiries:referrer_letter",
    pdf_url="enquiries:referrer_letter_pdf",
)

# What each outcome means, in words for someone outside children's services.
OUTCOME_FOR_REFERRER = {
    Outcome.SECTION_47: (
        "Children's social care will hold a strategy discussion with the police and other "
        "professionals to decide whether to make child-protection enquiries."
    ),
    Outcome.SECTION_17: (
        "Children's social care will carry out an assessment of the child's and the "
        "family's needs (a child and family assessment)."
    ),
    Outcome.EARLY_HELP: (
        "The family will be offered early help: a professional will work with them to "
        "understand what support they need and arrange it."
    ),
    Outcome.SIGNPOST: (
        "The family will be told about services in the community that can help them."
    ),
    Outcome.NFA: "No further action is needed from children's services at this time.",
}

CHANGE_LABELS = {
    "outcome": "Decision",
    "primary_need": "Primary need",
    "themes": "Themes",
    "rationale": "Rationale",
    "next_team": "Team that acts next",
    "lead_professional_agency": "Lead professional's agency",
    "referrer_feedback": "Feedback for the referrer",
}


@dataclass
class AgencyAnswers:
    agency: str
    items: list[AnswerItem] = field(default_factory=list)


def _label(choices: Any, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "none")


def _describe_changes(
    changes: dict[str, list[Any]], agencies: dict[int, str]
) -> list[tuple[str, str, str]]:
    """An amendment's changes as (what, from, to) in words."""

    def words(name: str, value: Any) -> str:
        if value in (None, "", []):
            return "none"
        if name == "outcome":
            return _label(Outcome, value)
        if name == "primary_need":
            return _label(PrimaryNeed, value)
        if name == "themes":
            return ", ".join(_label(Theme, t) for t in value)
        if name == "lead_professional_agency":
            return agencies.get(value, "an agency no longer listed")
        return str(value)

    return [
        (CHANGE_LABELS.get(name, name), words(name, old), words(name, new))
        for name, (old, new) in changes.items()
    ]


def _context(
    user: User,
    enquiry: Enquiry,
    history: selectors.EnquiryHistory,
    document: Document,
) -> dict[str, Any]:
    people = selectors.people_on_enquiry(user=user, enquiry=enquiry)
    answers = selectors.visible_answer_items(enquiry=enquiry, audience=document.audience)
    decisions: dict[int, Decision] = {d.child_id: d for d in history.decisions}

    by_agency: dict[str, AgencyAnswers] = {}
    for item in answers.items:
        by_agency.setdefault(item.agency.name, AgencyAnswers(item.agency.name)).items.append(item)

    agency_ids = {
        value
        for d in history.decisions
        for a in d.amendments.all()
        for value in a.changes.get("lead_professional_agency", [])
        if isinstance(value, int)
    }
    agencies = dict(Agency.objects.filter(pk__in=agency_ids).values_list("pk", "name"))
    amendments = {
        d.pk: [(a, _describe_changes(a.changes, agencies)) for a in d.amendments.all()]
        for d in history.decisions
    }
    contact = enquiry.contact
    return {
        "document": document,
        "enquiry": enquiry,
        "contact": contact,
        "hub": Hub.load(),
        "people": people,
        "history": history,
        "latest_consent": history.consents[-1] if history.consents else None,
        "authorised_overrides": [
            o for o in history.overrides if o.status == OverrideStatus.AUTHORISED
        ],
        "decisions": decisions,
        "amendments": amendments,
        "answers_by_agency": sorted(by_agency.values(), key=lambda a: a.agency),
        "nothing_held": [
            r.agency.name for r in history.requests if r.status == RequestStatus.NOTHING_HELD
        ],
        "outcome_for_referrer": OUTCOME_FOR_REFERRER,
        "referrer_name": "" if contact.referrer_anonymous else contact.referrer_name.strip(),
        "produced_at": clock.now(),
        "produced_by": user,
        "html_url": reverse(document.html_url, kwargs={"pk": enquiry.pk}),
        "pdf_url": reverse(document.pdf_url, kwargs={"pk": enquiry.pk}),
    }


def _no_decision(request: HttpRequest, enquiry: Enquiry, document: Document) -> HttpResponse:
    return render(
        request,
        "enquiries/documents/no_decision.html",
        {"enquiry": enquiry, "document": document},
        status=409,
    )


def _load(
    request: HttpRequest, pk: int, document: Document
) -> tuple[Enquiry, selectors.EnquiryHistory | None, HttpResponse | None]:
    """The enquiry and its history, or the response to give instead."""
    user: User = request.user  # type: ignore[assignment]
    enquiry = selectors.enquiry_for_documents(user=user, pk=pk)
    # After the permission check, so a role without access is refused whatever it sends.
    if request.method not in ("GET", "HEAD"):
        return enquiry, None, HttpResponseNotAllowed(["GET", "HEAD"])
    history = selectors.enquiry_history(user=user, enquiry=enquiry)
    if not history.decisions:
        return enquiry, None, _no_decision(request, enquiry, document)
    return enquiry, history, None


def _page(request: HttpRequest, pk: int, document: Document) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    enquiry, history, refused = _load(request, pk, document)
    if refused is not None or history is None:
        return refused or HttpResponseNotAllowed(["GET"])
    context = _context(user, enquiry, history, document)
    audit.record(action=f"enquiries.{document.kind}_viewed", actor=user, obj=enquiry)
    return render(request, "enquiries/documents/page.html", context)


def _pdf(request: HttpRequest, pk: int, document: Document) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    enquiry, history, refused = _load(request, pk, document)
    if refused is not None or history is None:
        return refused or HttpResponseNotAllowed(["GET"])
    try:
        # Imported here: WeasyPrint loads Pango through cffi when imported, and a server
        # without Pango should still serve every other page.
        from weasyprint import HTML
    except (ImportError, OSError):
        logger.exception("WeasyPrint could not be loaded; the PDF service is unavailable")
        return render(
            request,
            "enquiries/documents/pdf_unavailable.html",
            {
                "enquiry": enquiry,
                "document": document,
                "html_url": reverse(document.html_url, kwargs={"pk": enquiry.pk}),
            },
            status=503,
        )
    html = render_to_string(
        "enquiries/documents/pdf.html",
        _context(user, enquiry, history, document),
        request=request,
    )
    # The document fetches nothing: its style is inline and it has no images, so no
    # base URL is given and nothing outside it is read.
    pdf = HTML(string=html).write_pdf()
    audit.record(action=f"enquiries.{document.kind}_downloaded", actor=user, obj=enquiry)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{enquiry.reference}-{document.filename}"'
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def outcome_report(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, pk, OUTCOME_REPORT)


@login_required
def outcome_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(request, pk, OUTCOME_REPORT)


@login_required
def referrer_letter(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, pk, REFERRER_LETTER)


@login_required
def referrer_letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _pdf(request, pk, REFERRER_LETTER)


urlpatterns = [
    path("enquiries/<int:pk>/outcome-report/", outcome_report, name="outcome_report"),
    path("enquiries/<int:pk>/outcome-report.pdf", outcome_report_pdf, name="outcome_report_pdf"),
    path("enquiries/<int:pk>/referrer-letter/", referrer_letter, name="referrer_letter"),
    path("enquiries/<int:pk>/referrer-letter.pdf", referrer_letter_pdf, name="referrer_letter_pdf"),
]
