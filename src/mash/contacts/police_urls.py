"""Police notifications: /police/ (triage, today, quality) and how they arrive by hand."""

from mash.contacts import views_intake, views_triage

app_name = "police"

urlpatterns = [*views_triage.urlpatterns, *views_intake.urlpatterns]
