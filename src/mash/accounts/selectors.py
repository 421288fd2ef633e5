"""Reads for agencies and users, for those allowed to manage them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet

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
