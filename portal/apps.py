from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal core"

    def ready(self) -> None:
        from portal import policies, signals  # noqa: F401  (registers access rules and receivers)
