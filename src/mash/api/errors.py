"""Every API error has the same shape: `{"detail": ..., "code": ..., "errors": {...}}`.

`detail` is one sentence for a person; `code` is a fixed word for a program;
`errors` maps each field to its problems, nested fields written as paths
(`children.0.date_of_birth`), and is empty when no one field is to blame. A
400 lists every field's problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

# The words a program can rely on, by status.
CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
}
MAX_ERROR_KEYS = 100


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"children.0.date_of_birth": ["..."]}."""
    flat: dict[str, list[str]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                name = str(key)
                if name == serializers.api_settings.NON_FIELD_ERRORS_KEY:
                    walk(inner, path)
                else:
                    walk(inner, f"{path}.{name}" if path else name)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for i, inner in enumerate(value):
                if inner:  # an item of a list with no problem is {} or []
                    walk(inner, f"{path}.{i}" if path else str(i))
        elif isinstance(value, list):
            flat.setdefault(path or "non_field_errors", []).extend(str(v) for v in value)
        else:
            flat.setdefault(path or "non_field_errors", []).append(str(value))

    walk(detail, prefix)
    return dict(list(flat.items())[:MAX_ERROR_KEYS])


def problems(errors: Mapping[str, list[str]]) -> str:
    count = sum(len(v) for v in errors.values())
    noun = "problem" if count == 1 else "problems"
    return f"The request has {count} {noun}: see errors, by field."


def body(detail: str, code: str, errors: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "errors": dict(errors or {})}


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = "This conflicts with something already received."

    def __init__(self, detail: str, *, errors: dict[str, list[str]], extra: dict[str, Any]):
        super().__init__(detail)
        self.errors = errors
        self.extra = extra


MESSAGES = {
    exceptions.NotAuthenticated: (
        "Send your API key in the Authorization header: 'Authorization: Bearer <key>'."
    ),
    exceptions.NotFound: "There is nothing at this address that your API key may see.",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The project's DRF exception handler: the one error shape for every 4xx.

    Anything that is not an API error is left to Django (logged, then answered 500,
    which ApiErrorsAsJsonMiddleware turns into JSON without a traceback).
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    status = exc.status_code
    code = CODES.get(status, "error")
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
        detail = problems(errors)
    else:
        errors = {}
        detail = str(exc.detail)
        if type(exc) in MESSAGES and detail == str(exc.default_detail):
            detail = MESSAGES[type(exc)]  # ours, in place of DRF's default wording
        if isinstance(exc, exceptions.UnsupportedMediaType):
            detail = (
                "Send the body as JSON, with the header 'Content-Type: application/json'. "
                f"{exc.detail}"
            )
        if isinstance(exc, exceptions.ParseError):
            errors = {"non_field_errors": [detail]}
        if isinstance(exc, Conflict):
            errors, extra = exc.errors, exc.extra
    set_rollback()
    return Response({**body(detail, code, errors), **extra}, status=status, headers=headers)


# --- For the schema ---------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """An error: what went wrong in a sentence, a code, and each field's problems."""

    detail = serializers.CharField(help_text="What went wrong, in a sentence for a person.")
    code = serializers.CharField(
        help_text=(
            "A fixed word a program can rely on: invalid, not_authenticated, "
            "permission_denied, not_found, method_not_allowed, conflict, payload_too_large, "
            "unsupported_media_type, server_error."
        )
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=(
            "Each field's problems, keyed by the field's path: `incident_type`, "
            "`children.0.date_of_birth` (the first child's). `non_field_errors` holds a "
            "problem with the body as a whole. Empty when no one field is to blame."
        ),
    )


class ExistingSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The notification already received.")
    reference = serializers.CharField(help_text="The hub's reference for it, e.g. PN-000042.")
    url = serializers.URLField(help_text="Where to read it.")


class ConflictSerializer(ErrorSerializer):
    """A 409: the occurrence reference was already received with different content."""

    existing = ExistingSerializer()
