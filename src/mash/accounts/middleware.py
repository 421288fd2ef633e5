from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from mash.accounts.services import has_two_factor

# Pages a signed-in user can reach before their second factor is checked.
_OPEN_PREFIXES = ("/static/", "/accessibility/")


def _open_paths() -> set[str]:
    return {
        reverse("accounts:sign_out"),
        reverse("accounts:signed_out"),
        reverse("accounts:two_factor_verify"),
        reverse("accounts:two_factor_setup"),
        reverse("accounts:recovery_codes"),
    }


class TwoFactorMiddleware:
    """Sends a signed-in user who has not passed their second factor to do so.

    Anyone with an authenticator set up must use it; with MASH_REQUIRE_2FA
    everyone must set one up before reaching any other page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(_OPEN_PREFIXES)
            and request.path not in _open_paths()
        ):
            enrolled = has_two_factor(user)
            if enrolled or settings.MASH_REQUIRE_2FA:
                target = "accounts:two_factor_verify" if enrolled else "accounts:two_factor_setup"
                query = (
                    urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
                )
                return HttpResponseRedirect(reverse(target) + (f"?{query}" if query else ""))
        return self.get_response(request)
