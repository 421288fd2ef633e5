"""A researcher's uploaded CSV file, kept on the server between its preview and its import.

The file waits here, readable by the service only, until it is imported or
cancelled; an abandoned one is swept away after KEEP_FOR. The session holds only its
random name and SHA-256, so nothing the browser sends can change what is imported,
and the import reads and checks the file again from the start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from mash.core import clock

if TYPE_CHECKING:
    from mash.accounts.models import User


KEEP_FOR = dt.timedelta(hours=2)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _kept_dir() -> Path:
    path = Path(settings.VAR_DIR) / "police-uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _kept_path(user: User, token: str) -> Path:
    return _kept_dir() / f"{int(user.pk)}-{token}.csv"


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def keep(*, user: User, text: str) -> tuple[str, str]:
    """Stores an uploaded file's text for the user: (token, sha256)."""
    sweep()
    token = secrets.token_hex(16)
    descriptor = os.open(_kept_path(user, token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(text.encode())
    # Dated by the hub's clock, which is what `kept` and `sweep` compare it with.
    moment = clock.now().timestamp()
    os.utime(_kept_path(user, token), (moment, moment))
    return token, digest_of(text)


def kept(*, user: User, token: str, digest: str) -> str | None:
    """The text kept for the user under `token`, if it is still there and unchanged."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    path = _kept_path(user, token)
    try:
        age = clock.now().timestamp() - path.stat().st_mtime
        content = path.read_bytes()
    except OSError:
        return None
    if age > KEEP_FOR.total_seconds() or hashlib.sha256(content).hexdigest() != digest:
        return None
    return content.decode()


def discard(*, user: User, token: str) -> None:
    if isinstance(token, str) and _TOKEN.match(token):
        _kept_path(user, token).unlink(missing_ok=True)


def sweep() -> None:
    """Removes files kept longer than KEEP_FOR (left by someone who never imported them)."""
    cutoff = clock.now().timestamp() - KEEP_FOR.total_seconds()
    for path in _kept_dir().glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue
