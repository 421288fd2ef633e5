"""Gunicorn's access log, without secrets in URLs.

A wall screen's connect address carries its board token; the access log
records the path of every request, so the token is replaced there with "…".
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

SECRET_PATHS = re.compile(r"(/board/connect/)[^/?\s]+")


def redact(text: str) -> str:
    return SECRET_PATHS.sub(r"\1…", text)


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
