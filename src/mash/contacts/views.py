"""Contact pages: the list, recording a contact (drafts, matching), the contact and screening."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from mash.accounts.models import User
from mash.contacts import selectors, services
from mash.contacts.forms import (
    ADULTS,
    CHILDREN,
    MAX_BLOCKS,
    NEW_PERSON,
    AdultForm,
    ContactForm,
    Data,
    PersonForm,
    ScreeningForm,
    add_block,
    bind,
    block_count,
    from_draft,
    initial_data,
    raw_data,
    remove_block,
)
from mash.contacts.models import Contact, ContactStatus, ScreeningOutcome
from mash.core import clock
from mash.core.concurrency import Conflict
from mash.core.govuk import govuk_error_summary
from mash.people import matching
from mash.people.identifiers import format_nhs_number


def _user(request: HttpRequest, permission: str) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm(permission):
        raise PermissionDenied
    return user


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def person_path(pk: int) -> str:
    """The person's record (built by the people pages)."""
    return f"/people/{pk}/"


def enquiry_path(pk: int) -> str:
    return f"/enquiries/{pk}/"


# --- The list --------------------------------------------------------------------------------


def _draft_children(draft: Any) -> list[str]:
    data = from_draft(draft)
    names = []
    for i in range(block_count(data, CHILDREN)):
        parts = [
            (data.get(f"{CHILDREN}-{i}-{n}") or [""])[-1].strip()
            for n in ("given_name", "family_name")
        ]
        name = " ".join(p for p in parts if p)
        if name:
            names.append(name[:120])
    return names


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.view")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    drafts = list(selectors.drafts(user=user))
    return render(
        request,
        "contacts/list.html",
        {
            "drafts": [(d, _draft_children(d.draft)) for d in drafts],
            "awaiting": selectors.awaiting_screening(user=user),
            "screened": selectors.recently_screened(user=user),
            "may_record": user.has_perm("contacts.record"),
            "enquiry_path": enquiry_path,
        },
    )


# --- Recording a contact ---------------------------------------------------------------------


class Page:
    """Everything the contact form page shows, built up by the view."""

    def __init__(self, contact: Contact | None, data: Data, version: int | None) -> None:
        self.contact = contact
        self.data = data
        self.version = version
        self.quiet = True
        self.focus = ""
        self.conflict: Conflict | None = None
        self.conflict_by = ""


@login_required
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest) -> HttpResponse:
    user = _user(request, "contacts.record")
    if request.method == "GET":
        return _render_form(request, user, Page(None, initial_data(), None))
    return _post(request, user, None)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request, "contacts.record")
    contact = selectors.draft_for(user=user, pk=pk, viewing=request.method == "GET")
    if request.method == "GET":
        if contact.status != ContactStatus.DRAFT:
            messages.info(request, f"{contact.reference} has been submitted: it cannot be edited.")
            return redirect("contacts:detail", pk=contact.pk)
        return _render_form(
            request, user, Page(contact, from_draft(contact.draft), contact.version)
        )
    return _post(request, user, contact)


def _post(request: HttpRequest, user: User, contact: Contact | None) -> HttpResponse:
    page = Page(contact, raw_data(request.POST.lists()), _version(request))
    action = request.POST.get("action", "save")
    kind, _, target = action.partition(":")
    if kind == "add" and target in (CHILDREN, ADULTS):
        index = add_block(page.data, target)
        if index is not None:
            page.focus = f"id_{target}-{index}-given_name"
        return _render_form(request, user, page)
    if kind == "remove":
        prefix, _, position = target.partition("-")
        if prefix in (CHILDREN, ADULTS) and position.isascii() and position.isdigit():
            remove_block(page.data, prefix, int(position[:6]))
            page.focus = f"add-{prefix}"
        return _render_form(request, user, page)
    if kind == "match":
        prefix, _, position = target.partition("-")
        if prefix in (CHILDREN, ADULTS) and position.isascii() and position.isdigit():
            page.data[f"{target}-matched"] = ["1"]
            # Fetched as the user typed (htmx, triggered by the region itself): leave focus
            # where they are typing. Asked for with the button: take them to the matches.
            if request.headers.get("HX-Trigger") != f"{target}-box":
                page.focus = f"{target}-matches"
        return _render_form(request, user, page)
    if kind == "submit":
        return _submit(request, user, page)
    return _save_draft(request, user, page)


def _save_draft(request: HttpRequest, user: User, page: Page) -> HttpResponse:
    try:
        contact = services.save_draft(
            actor=user, data=page.data, contact=page.contact, expected_version=page.version
        )
    except Conflict as conflict:
        _note_conflict(page, conflict)
        return _render_form(request, user, page)
    when = clock.now()
    messages.success(
        request,
        f"Draft {contact.reference} saved at {when.astimezone(clock.LONDON):%H:%M}. "
        + (
            "Anyone in the hub can finish it from the contacts list."
            if user.has_perm("contacts.view")
            else "Finish it later from the notification or call it came from."
        ),
    )
    return redirect("contacts:edit", pk=contact.pk)


def _note_conflict(page: Page, conflict: Conflict) -> None:
    page.conflict = conflict
    current = conflict.current
    if isinstance(current, Contact):
        if current.status == ContactStatus.DRAFT:
            page.conflict_by = selectors.last_saved_by(current)
            # Saving again, knowingly, replaces their version with what is on this page.
            page.version = current.version
        page.contact = current


def _people_forms(children: Any, adults: Any) -> tuple[list[PersonForm], list[PersonForm]]:
    """The blocks with something typed in them; at least the first child's, blank or not."""
    child_forms = [f for f in children.forms if not f.is_blank()]
    adult_forms = [f for f in adults.forms if not f.is_blank()]
    if not child_forms:
        child_forms = [children.forms[0]]
    for form in [*children.forms, *adults.forms]:
        form.quiet = form not in child_forms and form not in adult_forms
    return child_forms, adult_forms


def _check_links(user: User, page: Page, forms_: list[PersonForm]) -> None:
    """Every block decided: linked to one record or a new person, never twice the same record."""
    seen: dict[int, str] = {}
    typed: dict[tuple[str, str], str] = {}
    for form in forms_:
        for name, label in (("nhs_number", "NHS number"), ("upn", "unique pupil number")):
            value = form.cleaned_data.get(name)
            if value and (name, value) in typed:
                form.add_error(name, f"This {label} is also given for {typed[name, value]}")
            elif value:
                typed[name, value] = form.label(0)
        if form.has_error("link_to"):
            continue
        person = form.linked_person
        if person is not None:
            if person.pk in seen:
                form.add_error(
                    "link_to", f"This record is already linked to {seen[person.pk]} on this contact"
                )
            seen[person.pk] = form.label(0)
            continue
        _check_identifiers_are_new(form)
        if form.cleaned_data.get("link_to") == NEW_PERSON or not form.can_match():
            continue
        if selectors.matches(user=user, query=form.match_query()):
            page.data[f"{form.prefix}-matched"] = ["1"]
            form.add_error(
                "link_to",
                f"Check the possible matches for {form.label(0)}: link an existing record, "
                "or choose 'None of these: create a new person'",
            )


def _check_identifiers_are_new(form: PersonForm) -> None:
    """A new person cannot take an NHS number or UPN someone in the index already has."""
    for name, label in (("nhs_number", "NHS number"), ("upn", "unique pupil number")):
        value = form.cleaned_data.get(name)
        if value and selectors.identifier_taken(name, value):
            form.add_error(
                name,
                f"Someone in the person index already has this {label}: find matches and link "
                "their record, or check the number",
            )


def _entry(form: PersonForm) -> services.PersonEntry:
    data = form.cleaned_data
    person = form.linked_person
    score, reasons = None, []
    if person is not None:
        scored = matching.score(form.match_query(), person)
        score, reasons = scored.score, scored.reasons
    return services.PersonEntry(
        role=form.role,
        given_name=data["given_name"],
        family_name=data["family_name"],
        date_of_birth=data.get("date_of_birth"),
        expected_date_of_birth=data.get("expected_date_of_birth"),
        sex=data["sex"],
        ethnicity=data["ethnicity"],
        nhs_number=data["nhs_number"],
        upn=data["upn"],
        address_line_1=data["address_line_1"],
        address_line_2=data["address_line_2"],
        town=data["town"],
        postcode=data["postcode"],
        school=data.get("school", ""),
        gp=data.get("gp", ""),
        link_to=person.pk if person is not None else None,
        match_score=score,
        match_reasons=reasons,
    )


def _relationships(
    children: Any, child_forms: list[PersonForm], adult_forms: list[PersonForm]
) -> list[services.RelationshipEntry]:
    position = {children.forms.index(f): i for i, f in enumerate(child_forms)}
    entries = []
    for adult_index, form in enumerate(adult_forms):
        if not isinstance(form, AdultForm):
            raise TypeError(form)
        for field in form.relationship_fields():
            child = int(field.name.rpartition("_")[2])
            value = form.cleaned_data.get(field.name)
            if value and child in position:
                entries.append(
                    services.RelationshipEntry(
                        adult=adult_index, child=position[child], relationship=value
                    )
                )
    return entries


def _map_service_errors(
    error: ValidationError, contact_form: ContactForm, people: list[PersonForm]
) -> None:
    for key, messages_ in error.message_dict.items():
        target: BaseForm
        field: str | None
        if key in ("concern", "family_told", "from_local_authority"):
            target, field = contact_form, key
        elif key == "received_at":
            target, field = contact_form, "received_time"
        elif key.startswith("people-") and key[7:].isdigit() and int(key[7:]) < len(people):
            target, field = people[int(key[7:])], None
        elif key == "children" and people:
            target, field = people[0], None
        else:
            target, field = contact_form, None
        for message in messages_:
            target.add_error(field, message)


def _submit(request: HttpRequest, user: User, page: Page) -> HttpResponse:
    page.quiet = False
    contact_form, children, adults = bind(page.data, quiet=False)
    child_forms, adult_forms = _people_forms(children, adults)
    people = [*child_forms, *adult_forms]
    valid = all([f.is_valid() for f in [contact_form, *people]])  # noqa: C419 (validate every form)
    if valid:
        _check_links(user, page, people)
        valid = not any(f.errors for f in people)
    if valid:
        data = contact_form.cleaned_data
        details = services.Details(
            received_at=data["received_at"],
            channel=data["channel"],
            referral_source=data["referral_source"],
            concern=data["concern"],
            family_told=data["family_told"],
            referrer_anonymous=data["referrer_anonymous"],
            referrer_name=data["referrer_name"],
            referrer_role=data["referrer_role"],
            referrer_organisation=data["referrer_organisation"],
            referrer_phone=data["referrer_phone"],
            referrer_email=data["referrer_email"],
            from_local_authority=data["from_local_authority"],
        )
        try:
            contact = services.submit_contact(
                actor=user,
                details=details,
                people=[_entry(f) for f in people],
                relationships=_relationships(children, child_forms, adult_forms),
                contact=page.contact,
                expected_version=page.version,
            )
        except ValidationError as error:
            _map_service_errors(error, contact_form, people)
        except Conflict as conflict:
            _note_conflict(page, conflict)
            return _render_form(request, user, page, (contact_form, children, adults))
        else:
            messages.success(
                request,
                f"Contact {contact.reference} recorded. It is waiting to be screened.",
            )
            if not user.has_perm("contacts.view"):  # a researcher or advice-line worker
                return redirect("core:home")
            return redirect("contacts:detail", pk=contact.pk)
    # Not submitted: keep what was typed as the draft, so nothing is lost if they walk away.
    try:
        saved = services.save_draft(
            actor=user, data=page.data, contact=page.contact, expected_version=page.version
        )
    except Conflict as conflict:
        _note_conflict(page, conflict)
    else:
        page.contact, page.version = saved, saved.version
    return _render_form(request, user, page, (contact_form, children, adults))


def _block_matches(user: User, page: Page, forms_: list[PersonForm]) -> dict[str, Any]:
    """The candidates to show under each block that asked for them (or has one chosen)."""
    shown: dict[str, Any] = {}
    for form in forms_:
        link = str(form["link_to"].value() or "")
        asked = (page.data.get(f"{form.prefix}-matched") or [""])[-1] == "1"
        if not (asked or link):
            continue
        linked = selectors.chosen_person(user=user, value=link)
        query = form.match_query()
        found = (
            selectors.matches(user=user, query=query, linked=linked)
            if form.can_match() or linked
            else []
        )
        shown[str(form.prefix)] = {
            "matches": found,
            "new_chosen": link == NEW_PERSON,
            "can_match": form.can_match(),
        }
    return shown


def _summary(contact_form: ContactForm, people: list[BaseForm]) -> dict[str, Any] | None:
    """The error summary in the order of the page: the concern comes after the people."""
    first: list[dict[str, str]] = []
    last: list[dict[str, str]] = []
    top = govuk_error_summary(contact_form)
    for item in top["errorList"] if top else []:
        (last if item.get("href") in ("#id_concern", "#id_family_told") else first).append(item)
    middle: list[dict[str, str]] = []
    for form in people:
        summary = govuk_error_summary(form)
        if summary:
            middle.extend(summary["errorList"])
    errors = [*first, *middle, *last]
    return {"titleText": "There is a problem", "errorList": errors} if errors else None


def _render_form(
    request: HttpRequest, user: User, page: Page, bound: tuple[Any, Any, Any] | None = None
) -> HttpResponse:
    if bound is None:
        bound = bind(page.data, quiet=True)
    contact_form, children, adults = bound
    people = [*children.forms, *adults.forms]
    summary = None if page.quiet else _summary(contact_form, people)
    contact = page.contact
    action = (
        reverse("contacts:edit", args=[contact.pk])
        if contact is not None and contact.pk
        else reverse("contacts:new")
    )
    return render(
        request,
        "contacts/form.html",
        {
            "contact": contact,
            "form_action": action,
            "version": page.version,
            "form": contact_form,
            "children": children,
            "adults": adults,
            "matches": _block_matches(user, page, people),
            "focus": page.focus,
            "conflict": page.conflict,
            "conflict_by": page.conflict_by,
            "summary": summary,
            "page_has_errors": bool(summary),
            "format_nhs_number": format_nhs_number,
            "person_path": person_path,
            "max_blocks": MAX_BLOCKS,
        },
    )


# --- The contact and screening ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request, "contacts.view")
    if request.method == "POST":
        _user(request, "contacts.screen")
    contact = selectors.contact_for(user=user, pk=pk, viewing=request.method == "GET")
    if contact.status == ContactStatus.DRAFT:
        if request.method == "POST" or not user.has_perm("contacts.record"):
            raise PermissionDenied
        return redirect("contacts:edit", pk=contact.pk)
    form = ScreeningForm(request.POST or None)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.screen_contact(
                actor=user,
                contact=contact,
                outcome=data["outcome"],
                reason=data["reason"],
                signposted_to=data["signposted_to"],
                expected_version=_version(request),
            )
        except ValidationError as error:
            for key, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(key if key in form.fields else None, message)
        except Conflict as error:
            conflict = error
            contact = selectors.contact_for(user=user, pk=pk, viewing=False)
        else:
            if data["outcome"] == ScreeningOutcome.PROGRESS:
                enquiry = selectors.enquiry_id(contact)
                messages.success(
                    request, f"Contact {contact.reference} progressed to a MASH enquiry."
                )
                if enquiry is not None:
                    return redirect(enquiry_path(enquiry))
            else:
                messages.success(request, f"Screening decision recorded for {contact.reference}.")
            return redirect("contacts:detail", pk=contact.pk)
    people = list(contact.people.all())
    return render(
        request,
        "contacts/detail.html",
        {
            "contact": contact,
            "children": [p for p in people if p.role == "child"],
            "adults": [p for p in people if p.role == "adult"],
            "relationships": list(contact.relationships.all()),
            "form": form,
            "may_screen": user.has_perm("contacts.screen")
            and contact.status == ContactStatus.AWAITING_SCREENING,
            "conflict": conflict,
            # A contact that did not progress has no enquiry (the accessor raises AttributeError).
            "enquiry_id": getattr(getattr(contact, "enquiry", None), "pk", None),
            "page_has_errors": bool(form.errors),
            "person_path": person_path,
            "enquiry_path": enquiry_path,
            "format_nhs_number": format_nhs_number,
            "progress": ScreeningOutcome.PROGRESS,
            "signposted": ScreeningOutcome.SIGNPOSTED,
        },
    )
