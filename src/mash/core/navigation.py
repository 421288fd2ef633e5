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
    NavItem("Requests", "enquiries:queue", "enquiries.agency_queue"),
    NavItem("People", "people:search", "people.search"),
    NavItem("Agencies", "accounts:agency_list", "accounts.manage_agencies"),
    NavItem("Users", "accounts:user_list", "accounts.manage_users"),
    NavItem("Hub settings", "core:hub_settings", "core.manage_hub"),
    NavItem("Audit log", "core:audit_log", "core.view_audit_log"),
)


def items_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    for item in ITEMS:
        if item.permission is not None and not user.has_perm(item.permission):
            continue
        href = reverse(item.url_name)
        active = request.path == href if href == "/" else request.path.startswith(href)
        items.append({"href": href, "text": item.text, "active": active, "current": active})
    return items
