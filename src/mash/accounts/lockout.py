"""How django-axes identifies a sign-in and answers a locked-out one."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

MAX_EMAIL_LENGTH = 254


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email address tried, normalised, so that 'A@x' and 'a@x' share a count."""
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username", "")
    return str(value).strip().lower()[:MAX_EMAIL_LENGTH]


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The same answer whether or not the address belongs to anyone."""
    username = username_from_request(request, credentials)
    cool_off = get_cool_off(request)
    latest = (
        AccessAttempt.objects.filter(username=username)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    retry_at = (latest or timezone.now()) + cool_off if cool_off else None
    return render(
        request,
        "accounts/locked_out.html",
        {"retry_at": retry_at},
        status=429,
    )
