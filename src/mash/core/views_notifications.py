"""Everyone's own notifications: the header's count, the list, opening one, marking all read.

Notifications are written only by the deadline engine (mash.enquiries.deadlines);
these pages read them and mark them read, and only ever the signed-in user's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from mash.core import clock
from mash.core.models import Notification

PAGE_SIZE = 50
_CACHE = "_mash_unread_notifications"


def unread_count(request: Any) -> int:
    """The signed-in user's unread notifications: one query per request, none for a visitor.

    Safe for pages rendered without a request or a user (error pages).
    """
    if request is None:
        return 0
    cached = getattr(request, _CACHE, None)
    if cached is not None:
        return int(cached)
    user = getattr(request, "user", None)
    count = 0
    if user is not None and user.is_authenticated:
        count = Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()
    setattr(request, _CACHE, count)
    return count


def _owner(request: HttpRequest) -> int:
    """The signed-in user's id (the views are behind login_required)."""
    return int(request.user.pk)  # type: ignore[arg-type]


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(user_id=_owner(request)).only(
        "pk", "kind", "message", "created_at", "read_at"
    )
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page": page})


def _safe_link(request: HttpRequest, link: str) -> str:
    """The notification's own page; anything that is not a path on this site goes home."""
    if (
        link.startswith("/")
        and not link.startswith("//")
        and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()})
    ):
        return link
    return reverse("core:home")


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks one of the user's notifications read and goes to what it is about."""
    notification = (
        Notification.objects.filter(pk=pk, user_id=_owner(request)).only("pk", "link").first()
    )
    if notification is None:
        raise Http404("No such notification")
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=clock.now()
    )
    return redirect(_safe_link(request, notification.link))


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = Notification.objects.filter(user_id=_owner(request), read_at__isnull=True).update(
        read_at=clock.now()
    )
    if marked:
        messages.success(
            request, f"{marked} notification{'' if marked == 1 else 's'} marked as read."
        )
    return redirect("core:notifications")


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", notification_open, name="notification_open"),
    path("notifications/read-all/", notifications_read_all, name="notifications_read_all"),
]
