from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "mash.contacts"
    label = "contacts"
    verbose_name = "Contacts"
