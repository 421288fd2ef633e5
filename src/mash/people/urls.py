from django.urls import path

from mash.people import views

app_name = "people"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.record, name="record"),
    path("<int:pk>/chronology/", views.chronology, name="chronology"),
]
