"""What a token may do: only an active police force's system sends police notifications."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from mash.accounts.models import AgencyKind
from mash.api.models import ApiToken


class FromActivePoliceForce(BasePermission):
    """The token belongs to an active police agency of the hub; otherwise 403, saying why."""

    message = "Only a police force's system can send or read police notifications."

    def has_permission(self, request: Any, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        agency = token.agency
        if agency.kind != AgencyKind.POLICE:
            self.message = (
                f"This API key belongs to {agency.name}, which is not a police force: only a "
                "police force's system can send or read police notifications."
            )
            return False
        if not agency.is_active:
            self.message = (
                f"This API key belongs to {agency.name}, which is no longer an active agency "
                "of the hub. Ask the hub's administrator."
            )
            return False
        return True
