"""The API reads JSON only, and only so much of it.

DRF's own JSON parser reads the request stream directly, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE never applies: this parser enforces
MASH_API_MAX_BODY_BYTES itself (413 before reading a declared larger body, and
after reading no more than the limit of an undeclared one), refuses text that
is not UTF-8, and answers JSON nested too deeply to parse with a 400, not a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


def max_body_bytes() -> int:
    return int(settings.MASH_API_MAX_BODY_BYTES)


def _too_large() -> PayloadTooLarge:
    limit = max_body_bytes()
    size = f"{limit // 1024} KB" if limit >= 1024 else f"{limit} bytes"
    return PayloadTooLarge(
        f"The request body is larger than the API accepts ({size}). "
        "Send one notification per request."
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


class JsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            if declared is not None and int(declared) > limit:
                raise _too_large()
        except ValueError:
            pass
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise _too_large()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ParseError("The request body is not valid UTF-8 text.") from error
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as error:
            raise ParseError("The JSON is nested too deeply.") from error
        except ValueError as error:
            raise ParseError(f"The request body is not valid JSON: {error}.") from error
