from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "mash.people"
    label = "people"
    verbose_name = "Person index"
