"""Two people acting on one record at once: the second is told, never silently overwritten.

Records that people change together carry a `version`. A form posts the
version it showed; the service locks the row, compares, and raises Conflict
if someone else changed it in between.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


class Conflict(Exception):
    """Someone else changed or decided this first; `current` is what they recorded."""

    def __init__(self, message: str, current: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.current = current


def lock(queryset: models.QuerySet[M], pk: Any, expected_version: int | None) -> M:
    """The row, locked for this transaction, if it is still at the version the user saw."""
    obj = queryset.select_for_update().get(pk=pk)
    if expected_version is not None and getattr(obj, "version") != expected_version:  # noqa: B009
        raise Conflict("Someone else changed this while you were working on it.", current=obj)
    return obj


def bump(obj: models.Model, *fields: str) -> None:
    """Saves the given fields and moves the version on."""
    obj.version = models.F("version") + 1  # type: ignore[attr-defined]
    obj.save(update_fields=[*fields, "version"])
    obj.refresh_from_db(fields=["version"])
