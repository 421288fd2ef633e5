"""The service navigation: only what the signed-in user may use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    text: str
    url_name: str
    permission: str | None  # None: everyone signed in


ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", "core:home", None),
    NavItem("Contacts", "contacts:list", "contacts.view"),
    NavItem("Enquiries", "enquiries:list", "enquiries.view"),
    NavItem("Board", "enquiries:manager_board", "enquiries.view_board"),
    NavItem("Requests", "enquiries:queue", "enquiries.agency_queue"),
    NavItem("Police notifications", "police:queue", "contacts.triage_police"),
    NavItem("Advice line", "advice:list", "contacts.advice_line"),
    NavItem("People", "people:search", "people.search"),
    NavItem("Reports", "reporting:index", "reporting.performance"),
    NavItem("Agencies", "accounts:agency_list", "accounts.manage_agencies"),
    NavItem("Users", "accounts:user_list", "accounts.manage_users"),
    NavItem("Hub settings", "core:hub_settings", "core.manage_hub"),
    NavItem("API keys", "api_tokens:list", "api.manage_tokens"),
    NavItem("Audit log", "core:audit_log", "core.view_audit_log"),
)


def items_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items: list[dict[str, Any]] = []
    for item in ITEMS:
        if item.permission is not None and not user.has_perm(item.permission):
            continue
        href = reverse(item.url_name)
        active = request.path == href if href == "/" else request.path.startswith(href)
        items.append({"href": href, "text": item.text, "active": active, "current": active})
    # Only the most specific match is current: the board (/enquiries/board/) is not "Enquiries".
    longest = max((len(i["href"]) for i in items if i["active"]), default=0)
    for i in items:
        if i["active"] and len(i["href"]) < longest:
            i["active"] = i["current"] = False
    return items
