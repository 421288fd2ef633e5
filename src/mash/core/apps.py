from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mash.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from mash.core import permissions  # noqa: F401  (registers the rules)
