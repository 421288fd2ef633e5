"""Writes for the core app. Each runs in one transaction and audits itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction

from mash.core import audit
from mash.core.models import Hub

if TYPE_CHECKING:
    from mash.accounts.models import User


@transaction.atomic
def update_hub(*, actor: User | None, name: str, local_authority_name: str, la_code: str) -> Hub:
    """Saves the hub's settings; actor None is the command line."""
    if actor is not None and not actor.has_perm("core.manage_hub"):
        raise PermissionDenied
    hub = Hub.objects.select_for_update().get_or_create(pk=1)[0]
    before = {
        "name": hub.name,
        "local_authority_name": hub.local_authority_name,
        "la_code": hub.la_code,
    }
    hub.name, hub.local_authority_name, hub.la_code = name, local_authority_name, la_code
    hub.full_clean()
    hub.save()
    after = {"name": name, "local_authority_name": local_authority_name, "la_code": la_code}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    audit.record(
        action="core.hub_updated",
        actor=actor,
        obj=hub,
        detail={"changed": changed},
        actor_label="" if actor else "system",
    )
    return hub
