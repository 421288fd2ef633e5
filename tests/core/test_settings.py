"""Settings read from the environment: production is safe by default, or refuses to start."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

SECRET = secrets.token_urlsafe(64)


def _mash(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MASH_", "DJANGO_"))
        and k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "EMAIL_URL"}
    }
    clean["MASH_VAR_DIR"] = str(tmp_path / "var")
    clean["MASH_BASE_URL"] = "https://mash.council.example"
    clean.update(env)
    return subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-m", "mash.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_with_its_settings_passes_every_deployment_check(tmp_path):
    result = _mash(
        ["check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        MASH_ENV="production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="mash.council.example",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output
    # Production keeps no development secret on disk.
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = _mash(
        ["check", "--deploy"],
        tmp_path,
        MASH_ENV="production",
        ALLOWED_HOSTS="mash.council.example",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_an_unknown_environment_name_refuses_to_start(tmp_path):
    result = _mash(["check"], tmp_path, MASH_ENV="prod", SECRET_KEY=SECRET)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "MASH_ENV must be 'production' or 'development'" in result.stderr


def test_production_with_a_weak_secret_key_fails_the_deployment_check(tmp_path):
    result = _mash(
        ["check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        MASH_ENV="production",
        SECRET_KEY="short",
        ALLOWED_HOSTS="mash.council.example",
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_development_makes_its_own_secret_key_once_and_keeps_it_private(tmp_path):
    first = _mash(["check"], tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "var" / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    second = _mash(["check"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert key_file.read_text() == key


def test_production_turns_on_transport_security_and_two_factor(tmp_path):
    expected = {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "MASH_REQUIRE_2FA": True,
        "ALLOWED_HOSTS": ["mash.council.example"],
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(expected)!r}}}))"
    )
    result = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-c", code],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("MASH_", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "mash.settings",
            "MASH_ENV": "production",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "mash.council.example",
            "MASH_BASE_URL": "https://mash.council.example",
            "MASH_VAR_DIR": str(tmp_path / "var"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_production_static_files_collect_with_every_file_they_name(tmp_path):
    # The manifest storage follows every url() and sourceMappingURL in the built files:
    # a missing one stops a production deployment, so the whole build is collected here.
    result = _mash(
        ["collectstatic", "--noinput"],
        tmp_path,
        MASH_ENV="production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="mash.council.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "var" / "static" / "staticfiles.json").read_text())
    for name in ("js/chart.umd.min.js", "js/htmx.min.js", "css/app.css", "js/triage.js"):
        assert name in manifest["paths"], name
