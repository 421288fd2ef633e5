from django.urls import path

from mash.core import views, views_notifications, views_teams

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("audit/", views.audit_log, name="audit_log"),
    path("settings/hub/", views.hub_settings, name="hub_settings"),
    path("settings/hub/clocks/", views.clock_settings, name="clock_settings"),
    *views_notifications.urlpatterns,
    *views_teams.urlpatterns,
]
