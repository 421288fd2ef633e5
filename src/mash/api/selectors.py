"""Reads for the API: the token behind a key, the tokens an administrator manages, and
the police notifications a force's token may see (its own force's, nothing else)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from mash.api.models import ApiToken
from mash.api.services import key_hash
from mash.contacts.models import NotificationAdult, NotificationChild, PoliceNotification

if TYPE_CHECKING:
    from mash.accounts.models import User

# Longer than any key we issue (5 + 43 characters): anything longer is not one of ours.
MAX_KEY_LENGTH = 100


def token_for_key(raw: str) -> ApiToken | None:
    """The token with this key, revoked or not (one query, with its agency), or None."""
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return None
    try:
        # get(), not first(): no ORDER BY (the model's ordering would join to the agency).
        return ApiToken.objects.select_related("agency").get(key_hash=key_hash(raw))
    except ApiToken.DoesNotExist:
        return None


def tokens(*, user: User) -> QuerySet[ApiToken]:
    """Every token, live first, for an administrator; refused to anyone else."""
    if not user.has_perm("api.manage_tokens"):
        raise PermissionDenied
    return ApiToken.objects.select_related("agency", "created_by", "revoked_by").order_by(
        "agency__name", "name", "-created_at", "pk"
    )


def notifications_for(*, token: ApiToken) -> QuerySet[PoliceNotification]:
    """The notifications of the token's own force (however they arrived); no other force's."""
    return PoliceNotification.objects.filter(force_id=token.agency_id)


def people_of(
    notification: PoliceNotification,
) -> tuple[list[NotificationChild], list[NotificationAdult]]:
    """The children and adults of a notification, as sent (in their order)."""
    children = NotificationChild.objects.filter(notification=notification).order_by("position")
    adults = NotificationAdult.objects.filter(notification=notification).order_by("position")
    return list(children), list(adults)
