from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from mash.accounts.models import Agency, Role, User
from mash.core import audit, selectors, services
from mash.core.forms import (
    RAG_LEVELS,
    AuditSearchForm,
    ClockSettingsForm,
    ClosureDayForm,
    HubSettingsForm,
)
from mash.core.models import AuditEvent, ClosureDay, Hub
from mash.core.spreadsheet import safe_cell as _csv_safe
from mash.people.selectors import person_index_size

AUDIT_PAGE_SIZE = 50


def _card(title: str, text: str, href: str | None = None, figure: Any = None) -> dict[str, Any]:
    return {"title": title, "text": text, "href": href, "figure": figure}


def _panels(user: User) -> list[dict[str, Any]]:
    """One panel per role the user holds: what is waiting for them, with links."""
    from mash.contacts import selectors as contact_selectors
    from mash.enquiries.selectors import home_figures

    figures = home_figures(user=user)
    panels = []
    if user.has_role(Role.HUB_MANAGER):
        enquiries = reverse("enquiries:list")
        panels.append(
            {
                "role": Role.HUB_MANAGER,
                "title": "Hub manager",
                "cards": [
                    _card(
                        "Ready for a decision",
                        "Rated enquiries with every agency's answer in.",
                        f"{enquiries}?status=ready",
                        figures.ready_for_decision,
                    ),
                    _card(
                        "Awaiting a rating",
                        "Consent is on record: rate them to ask the agencies.",
                        f"{enquiries}?status=awaiting_rating",
                        figures.awaiting_rating,
                    ),
                    _card(
                        "Consent overrides to authorise",
                        "Proposed by co-ordinators.",
                        enquiries,
                        figures.overrides_to_authorise,
                    ),
                    _card(
                        "Overdue agency requests",
                        "Agencies past their deadline on open enquiries.",
                        enquiries,
                        figures.overdue_requests,
                    ),
                    _card(
                        "Audit log",
                        "Who viewed and changed what, searchable and downloadable.",
                        reverse("core:audit_log"),
                    ),
                ],
            }
        )
    if user.has_role(Role.REFERRAL_COORDINATOR):
        contacts = reverse("contacts:list")
        panels.append(
            {
                "role": Role.REFERRAL_COORDINATOR,
                "title": "Referral co-ordinator",
                "cards": [
                    _card(
                        "Record a contact",
                        "A new concern reaching the front door.",
                        reverse("contacts:new"),
                    ),
                    _card(
                        "Contacts to screen",
                        "Submitted contacts waiting for screening.",
                        contacts,
                        contact_selectors.awaiting_screening(user=user).count(),
                    ),
                    _card(
                        "Draft contacts",
                        "Started by anyone in the hub, ready to finish.",
                        contacts,
                        contact_selectors.drafts(user=user).count(),
                    ),
                    _card(
                        "Person index",
                        "Children and adults known to the hub.",
                        reverse("people:search"),
                        person_index_size(user=user),
                    ),
                ],
            }
        )
    if user.has_role(Role.AGENCY_PRACTITIONER):
        agency = user.agency.name if user.agency else "your agency"
        queue = reverse("enquiries:queue")
        panels.append(
            {
                "role": Role.AGENCY_PRACTITIONER,
                "title": "Agency practitioner",
                "cards": [
                    _card(
                        "Requests to answer",
                        f"Information requests sent to {agency}.",
                        queue,
                        figures.agency_pending,
                    ),
                    _card(
                        "Overdue",
                        "Requests past their deadline: answer these first.",
                        queue,
                        figures.agency_overdue,
                    ),
                ],
            }
        )
    if user.has_role(Role.ADVICE_LINE_WORKER):
        from mash.contacts import advice
        from mash.contacts.views_advice import home_follow_ups

        advice_panel: dict[str, Any] = {
            "role": Role.ADVICE_LINE_WORKER,
            "title": "Advice line",
            "cards": [
                _card(
                    "Search people",
                    "Whether a child or adult is known to the hub.",
                    reverse("people:search"),
                ),
                _card(
                    "Log a call",
                    "A professional talking a worry through.",
                    reverse("advice:new"),
                ),
                _card(
                    "Follow-ups due on the line",
                    "Due today or overdue, whoever logged the call.",
                    reverse("advice:follow_ups"),
                    advice.follow_ups(user=user, due_by=advice.today()).count(),
                ),
                _card(
                    "Calls and figures",
                    "Your calls, everyone's, and the monthly figures.",
                    reverse("advice:list"),
                ),
            ],
            # Below the cards: the worker's own follow-ups due (advice/_home_follow_ups.html).
            "include": "advice/_home_follow_ups.html",
            "follow_ups": home_follow_ups(user),
        }
        panels.append(advice_panel)
    if user.has_role(Role.POLICE_RESEARCHER):
        panels.append(_police_researcher_panel(user))
    if user.has_role(Role.ANALYST):
        panels.append(
            {
                "role": Role.ANALYST,
                "title": "Analyst",
                "cards": [
                    _card(
                        "Reports",
                        "Performance, themes and hotspots, police notification quality, advice "
                        "line figures and the pseudonymised extract. You see no named record.",
                        reverse("reporting:index"),
                    ),
                ],
            }
        )
    if user.has_role(Role.ADMINISTRATOR):
        panels.append(
            {
                "role": Role.ADMINISTRATOR,
                "title": "Administrator",
                "cards": [
                    _card(
                        "Agencies",
                        "Member agencies of the hub.",
                        reverse("accounts:agency_list"),
                        Agency.objects.filter(is_active=True).count(),
                    ),
                    _card(
                        "Users",
                        "People who sign in, their agencies and roles.",
                        reverse("accounts:user_list"),
                        User.objects.filter(is_active=True).count(),
                    ),
                    _card(
                        "Hub settings",
                        "The hub's name and local authority.",
                        reverse("core:hub_settings"),
                    ),
                    _card(
                        "Wall screens",
                        "Screens that show the board of open enquiries.",
                        reverse("enquiries:screen_list"),
                    ),
                    _card(
                        "Audit log",
                        "Sign-ins, lockouts and every change.",
                        reverse("core:audit_log"),
                    ),
                ],
            }
        )
    return panels


def _police_researcher_panel(user: User) -> dict[str, Any]:
    """Police notifications waiting for triage: how many, and how long the oldest has waited."""
    from mash.contacts import triage_selectors
    from mash.core import clock

    count, oldest = triage_selectors.figures(user=user)
    queue = reverse("police:queue")
    waited = triage_selectors.waited(oldest.received_at, clock.now()) if oldest else None
    received = f"{clock.localtime(oldest.received_at):%-d %B, %H:%M}" if oldest else ""
    return {
        "role": Role.POLICE_RESEARCHER,
        "title": "Police researcher",
        "cards": [
            _card(
                "Notifications waiting",
                "Police notifications waiting to be triaged, oldest first.",
                queue,
                count,
            ),
            _card(
                "Oldest waiting",
                f"{oldest.reference}, received {received}." if oldest else "Nothing is waiting.",
                reverse("police:detail", args=[oldest.pk]) if oldest else None,
                waited,
            ),
            _card(
                "Recently triaged",
                "The last 50 outcomes recorded.",
                reverse("police:triaged"),
            ),
        ],
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(request, "core/home.html", {"panels": _panels(user)})


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("core.view_audit_log"):
        raise PermissionDenied
    form = AuditSearchForm(request.GET or None, actions=selectors.audit_actions())
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = form.filters()
    events = selectors.audit_events(user=user, **filters) if not form.errors else None

    if events is not None and request.GET.get("format") == "csv":
        audit.record(action="audit.exported", actor=user, detail={"filters": form.filter_summary()})
        response = StreamingHttpResponse(_audit_csv_rows(events), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response

    page = Paginator(
        events if events is not None else AuditEvent.objects.none(), AUDIT_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "core/audit_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "page_has_errors": bool(form.errors),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _audit_csv_rows(events: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            "occurred_at",
            "actor",
            "agency",
            "action",
            "object_type",
            "object_id",
            "ip_address",
            "user_agent",
            "detail",
        ]
    )
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.occurred_at.isoformat(),
                _csv_safe(event.actor_label),
                _csv_safe(event.actor_agency.name if event.actor_agency else ""),
                event.action,
                event.object_type,
                event.object_id,
                event.ip_address or "",
                _csv_safe(event.user_agent),
                # JSON, not Python's repr: the column must parse outside Python.
                _csv_safe(json.dumps(event.detail, ensure_ascii=False, sort_keys=True)),
            ]
        )


@login_required
@require_http_methods(["GET", "POST"])
def hub_settings(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("core.manage_hub"):
        raise PermissionDenied
    hub = Hub.load()
    form = HubSettingsForm(request.POST or None, instance=hub)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.update_hub(actor=user, **form.cleaned_data)
        messages.success(request, "Hub settings saved.")
        return redirect("core:hub_settings")
    return render(
        request, "core/hub_settings.html", {"form": form, "page_has_errors": bool(form.errors)}
    )


def _error_page(request: HttpRequest, status: int, heading: str, *paragraphs: str) -> HttpResponse:
    return render(
        request, "core/error.html", {"heading": heading, "paragraphs": paragraphs}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        400,
        "Sorry, the service could not understand that request",
        "Go back and try again.",
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        403,
        "You do not have access to this page",
        "Your role in the hub does not include this page. If you need it for your work, "
        "ask your hub manager or an administrator.",
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        404,
        "Page not found",
        "If you typed the web address, check it is correct.",
        "If you pasted the web address, check you copied the entire address.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    template = loader.get_template("500.html")
    return HttpResponse(template.render({"service_name": settings.MASH_SERVICE_NAME}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page(
        request,
        403,
        "Your form could not be sent",
        "This happens when a page has been open for a long time, or your session has ended. "
        "Go back, reload the page, and try again. What you typed may need to be entered again.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def clock_settings(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.has_perm("core.manage_hub"):
        raise PermissionDenied
    hub = Hub.load()
    initial: dict[str, Any] = {name: getattr(hub, name) for name in services.CLOCK_FIELDS}
    initial["working_weekdays"] = list(hub.working_weekdays)
    initial["opens_at"] = hub.opens_at.strftime("%H:%M")
    initial["closes_at"] = hub.closes_at.strftime("%H:%M")
    form = ClockSettingsForm(
        request.POST if "save_clocks" in request.POST else None, initial=initial
    )
    closure_form = ClosureDayForm(request.POST if "add_closure" in request.POST else None)
    if request.method == "POST":
        if "save_clocks" in request.POST and form.is_valid():
            values = dict(form.cleaned_data)
            values["working_weekdays"] = "".join(sorted(values["working_weekdays"]))
            services.update_clocks(actor=user, **values)
            messages.success(
                request,
                "Deadlines and working time saved. Clocks already "
                "running keep the deadlines they were given.",
            )
            return redirect("core:clock_settings")
        if "add_closure" in request.POST and closure_form.is_valid():
            services.add_closure_day(
                actor=user,
                day=closure_form.cleaned_data["day"],
                description=closure_form.cleaned_data["description"],
            )
            messages.success(request, "Closure day added.")
            return redirect("core:clock_settings")
        if "remove_closure" in request.POST:
            raw = request.POST.get("remove_closure", "")
            closure = (
                ClosureDay.objects.filter(pk=int(raw)).first()
                if raw.isascii() and raw.isdigit() and len(raw) < 18
                else None
            )
            if closure is not None:
                services.remove_closure_day(actor=user, closure=closure)
                messages.success(request, "Closure day removed.")
            return redirect("core:clock_settings")
    return render(
        request,
        "core/clock_settings.html",
        {
            "form": form,
            "closure_form": closure_form,
            "rags": RAG_LEVELS,
            "closures": ClosureDay.objects.filter(day__gte=timezone.localdate()).order_by("day"),
            "page_has_errors": bool(form.errors or closure_form.errors),
        },
    )
