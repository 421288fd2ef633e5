from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mash.accounts"
    label = "accounts"
    verbose_name = "Agencies and users"

    def ready(self) -> None:
        from mash.accounts import signals  # noqa: F401  (audit of sign-in events)
