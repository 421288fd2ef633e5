from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client

from tests import factories

# Real Chromium fixtures (browser, page, new_page, sign_in) for any test directory.
pytest_plugins = ["tests.browser_fixtures"]


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings: Any) -> None:
    # A fast hasher: the suite signs in hundreds of times. Production keeps PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def signed_in(client: Client) -> Any:
    """Signs a client in as the given user (no second factor unless the test asks)."""

    def sign_in(user: Any, client_: Client | None = None) -> Client:
        c = client_ or Client()
        c.force_login(user)
        return c

    return sign_in


@pytest.fixture
def make() -> Any:
    return factories


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/") or "page" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.browser)
