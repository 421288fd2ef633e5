"""A scratch database for a benchmark, never the developer's own.

SQLite (the default): a database file in a temporary directory (MASH_VAR_DIR
points there before Django starts). PostgreSQL (DATABASE_URL set): a database
named <name>_bench beside the configured one, created afresh and dropped at
the end. Either way the schema is built by running the migrations.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


def _postgres_admin(url: str) -> tuple[str, str]:
    """The scratch database's URL, and a URL to the server's maintenance database."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "mash"
    scratch = f"{name}_bench"
    return (
        urlunsplit(parts._replace(path=f"/{scratch}")),
        urlunsplit(parts._replace(path="/postgres")),
    )


def _execute(admin_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


@contextmanager
def scratch_database() -> Iterator[str]:
    """Sets Django up on a fresh, migrated scratch database; yields its engine's vendor."""
    url = os.environ.get("DATABASE_URL", "")
    var_dir = tempfile.mkdtemp(prefix="mash-bench-")
    os.environ["MASH_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
    scratch_name = ""
    admin_url = ""
    if url.startswith(("postgres://", "postgresql://")):
        scratch_url, admin_url = _postgres_admin(url)
        scratch_name = urlsplit(scratch_url).path.lstrip("/")
        _execute(
            admin_url,
            f'DROP DATABASE IF EXISTS "{scratch_name}"',
            f'CREATE DATABASE "{scratch_name}"',
        )
        os.environ["DATABASE_URL"] = scratch_url
    elif url:
        raise SystemExit("The benchmark runs on SQLite (no DATABASE_URL) or PostgreSQL")
    try:
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        yield connection.vendor
    finally:
        from django.db import connections

        connections.close_all()
        if scratch_name:
            _execute(admin_url, f'DROP DATABASE IF EXISTS "{scratch_name}"')
            os.environ["DATABASE_URL"] = url
        shutil.rmtree(var_dir, ignore_errors=True)


def analyse() -> None:
    """Fresh planner statistics and (PostgreSQL) visibility map, as a database in service
    would have after autovacuum."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
