"""Who calls the API: an agency's system, with `Authorization: Bearer <key>`.

There is no session or password authentication on the API, so no CSRF either:
a browser signed in to Mash is nobody here. The key is looked up by its SHA-256
in one query; a revoked or unknown key is a 401 that says which.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from mash.api import selectors, services
from mash.api.models import ApiToken
from mash.core import clock

logger = logging.getLogger("mash.api")

SCHEMES = (b"bearer", b"token")
REALM = 'Bearer realm="Mash API"'


class TokenClient:
    """The caller behind a token: an agency's system, not a person (it holds no permissions)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.agency = token.agency

    def __str__(self) -> str:
        return f"api:{self.token.name}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` (or `Token <key>`), checked against the stored hashes."""

    def authenticate(self, request: HttpRequest) -> tuple[TokenClient, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() not in SCHEMES:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer' followed by your API key."
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer', one space and your API key, "
                "with no spaces in the key."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raw = ""
        token = selectors.token_for_key(raw)
        if token is None:
            logger.info("API call refused: unknown key")
            raise exceptions.AuthenticationFailed(
                "The API key is not recognised. Check it was copied in full, or ask the "
                "hub's administrator for a new one."
            )
        if token.revoked_at is not None:
            logger.info("API call refused: revoked key %s (%s)", token.prefix, token.name)
            when = clock.localtime(token.revoked_at).strftime("%-d %B %Y at %H:%M")
            raise exceptions.AuthenticationFailed(
                f"This API key was revoked on {when}. Ask the hub's administrator for a new one."
            )
        services.note_use(token)
        return TokenClient(token), token

    def authenticate_header(self, request: HttpRequest) -> str:
        return REALM


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the key."""

    target_class = ApiTokenAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "The API key an administrator of the hub issued to your system, sent as "
                "`Authorization: Bearer mash_…` (`Token mash_…` is accepted too). Keys start "
                "`mash_`. A missing, unknown or revoked key is answered 401."
            ),
        }
