"""The REST API: /api/v1/ for agencies' systems, /api/schema/ and /api/docs/."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from mash.api import views

app_name = "api"


class Docs(SpectacularSwaggerSplitView):
    """Swagger UI from our own static files, its start-up script from a URL: no inline
    script or style, no CDN, so the site's Content-Security-Policy holds here too."""

    template_name = "api/docs.html"
    url_name = "api:schema"
    title = "Mash API"


urlpatterns = [
    path(
        "v1/police-notifications/",
        views.PoliceNotifications.as_view(),
        name="police_notifications",
    ),
    path(
        "v1/police-notifications/<int:pk>/",
        views.PoliceNotificationDetail.as_view(),
        name="police_notification",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", Docs.as_view(), name="docs"),
]
