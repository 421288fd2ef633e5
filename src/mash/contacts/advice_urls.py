"""The professionals' advice line: /advice/."""

from mash.contacts import views_advice

app_name = "advice"

urlpatterns = [*views_advice.urlpatterns]
