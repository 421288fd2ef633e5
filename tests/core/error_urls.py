"""A URL configuration for tests: the real one, plus views that fail or forget a guard."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


class DeliberateError(Exception):
    """Raised by a view that exists to fail."""


def fails(request: HttpRequest) -> HttpResponse:
    raise DeliberateError("this view always fails")


def refuses(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered")


def guarded_case_page(request: HttpRequest) -> HttpResponse:
    """What a case page should do: ask for a case-data permission."""
    if not request.user.has_perm("people.view_person_index"):
        raise PermissionDenied
    return HttpResponse("a child's record")


def unguarded_case_page(request: HttpRequest) -> HttpResponse:
    """A case page someone forgot to guard: the access walk must flag it."""
    return HttpResponse("a child's record")


urlpatterns = [
    path("test-errors/fails/", fails),
    path("test-errors/refuses/", refuses),
    path("test-errors/suspicious/", suspicious),
    path("test-cases/guarded/", guarded_case_page),
    path("test-cases/unguarded/", unguarded_case_page),
    path("", include("mash.urls")),
]

handler400 = "mash.core.views.bad_request"
handler403 = "mash.core.views.permission_denied"
handler404 = "mash.core.views.page_not_found"
handler500 = "mash.core.views.server_error"
