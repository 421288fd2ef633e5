"""Reads for agencies and users, for those allowed to manage them."""

from __future__ import annotations

import datetime as dt

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from mash.accounts.models import Agency, User, UserRole


def agencies_with_user_counts(*, user: User) -> QuerySet[Agency]:
    """Every agency with its number of active users."""
    if not user.has_perm("accounts.manage_agencies"):
        raise PermissionDenied
    return Agency.objects.annotate(
        active_users=Count("users", filter=Q(users__is_active=True))
    ).order_by("name")


def users(
    *,
    user: User,
    search: str = "",
    role: str = "",
    agency_id: int | None = None,
    status: str = "active",
) -> QuerySet[User]:
    """Users matching the filters, with agency and roles loaded in a fixed number of queries."""
    if not user.has_perm("accounts.manage_users"):
        raise PermissionDenied
    result = (
        User.objects.select_related("agency")
        .prefetch_related(Prefetch("role_grants", queryset=UserRole.objects.order_by("role")))
        .order_by("full_name", "pk")
    )
    if search:
        result = result.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if role:
        result = result.filter(role_grants__role=role)
    if agency_id is not None:
        result = result.filter(agency_id=agency_id)
    if status == "active":
        result = result.filter(is_active=True)
    elif status == "inactive":
        result = result.filter(is_active=False)
    return result


def locked_out_until(user: User) -> dt.datetime | None:
    """When a sign-in lockout on the user's email address ends, if one is in force now."""
    attempt = (
        AccessAttempt.objects.filter(username=user.email)
        .order_by("-attempt_time")
        .only("attempt_time", "failures_since_start")
        .first()
    )
    cool_off = get_cool_off()
    if (
        attempt is None
        or cool_off is None
        or attempt.failures_since_start < settings.AXES_FAILURE_LIMIT
    ):
        return None
    until = attempt.attempt_time + cool_off
    return until if until > timezone.now() else None
