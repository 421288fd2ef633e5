from django.apps import AppConfig


class EnquiriesConfig(AppConfig):
    name = "mash.enquiries"
    label = "enquiries"
    verbose_name = "MASH enquiries"
