"""Reports: /reports/ (performance, themes and hotspots, statutory returns, exports)."""

from mash.reporting import views_annex, views_census, views_dashboard, views_exports, views_themes

app_name = "reporting"

urlpatterns = [
    *views_dashboard.urlpatterns,
    *views_themes.urlpatterns,
    *views_census.urlpatterns,
    *views_annex.urlpatterns,
    *views_exports.urlpatterns,
]
