from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from mash.core import audit
from mash.core.models import Hub


class RequestContextMiddleware:
    """Makes the caller's address and browser known to the audit helper, and the hub to pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.hub = SimpleLazyObject(Hub.load)  # type: ignore[attr-defined]
        token = audit.set_request_context(request)
        try:
            return self.get_response(request)
        finally:
            audit.reset_request_context(token)
