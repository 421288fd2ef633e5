"""Errors under /api/ answer JSON, even those Django raises before any API view runs.

A Host header not allowed (400), a path that matches nothing (404), a CSRF
failure or a crash (500) would otherwise answer with the HTML pages meant for
people. This turns any such answer into the API's error shape, with nothing
from the original page (no traceback can leak). The interactive docs at
/api/docs/ are a page for people and are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from mash.api.errors import CODES, body

PREFIX = "/api/"
PAGES = ("/api/docs/",)

DETAILS = {
    400: "The request could not be understood (check the address and the Host header).",
    403: "The request was refused.",
    404: "There is no such API address. The API is described at /api/docs/.",
    405: "This address does not accept that method.",
    413: "The request body is too large.",
    500: "Something went wrong on our side and has been logged. Try again later; if it "
    "goes on, tell the hub.",
}


# The original page's own headers that say nothing about its body are kept (the
# security headers, Allow on a 405, Vary...).
DROPPED = {"content-type", "content-length", "content-disposition", "content-language"}


def json_error(status: int, original: HttpResponse | None = None) -> HttpResponse:
    detail = DETAILS.get(status) or ("The request failed." if status < 500 else DETAILS[500])
    response = HttpResponse(
        json.dumps(body(detail, CODES.get(status, "error"))),
        status=status,
        content_type="application/json",
    )
    if original is not None:
        for name, value in original.items():
            if name.lower() not in DROPPED:
                response[name] = value
    return response


class ApiErrorsAsJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        path = request.path_info
        if (
            response.status_code >= 400
            and path.startswith(PREFIX)
            and not path.startswith(PAGES)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return json_error(response.status_code, response)
        return response
