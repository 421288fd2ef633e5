"""Helpers shared by the sign-in and account tests."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mash.core.models import AuditEvent

SIGN_IN_URL = reverse("accounts:sign_in")
WRONG_CREDENTIALS = "The email address or password is not right. Check them and try again."


def post_sign_in(client: Client, email: str, password: str, **extra: str) -> Any:
    """Posts the real sign-in form, so django-axes sees a request."""
    return client.post(SIGN_IN_URL, {"username": email, "password": password, **extra})


def actions(**filters: Any) -> list[str]:
    """Audit actions written so far, oldest first."""
    return list(
        AuditEvent.objects.filter(**filters).order_by("id").values_list("action", flat=True)
    )


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def without_csrf(html: str) -> str:
    """The page with its per-request CSRF tokens blanked, for comparing two pages."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.fixture
def sign_in() -> Any:
    """Signs a fresh client in through the real form and returns it."""

    def do(email: str, password: str, client: Client | None = None) -> Client:
        c = client or Client()
        response = post_sign_in(c, email, password)
        assert response.status_code == 302, response.content.decode()[:2000]
        return c

    return do
