from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"

    def ready(self) -> None:
        # Registers the access policy and the agreement hooks (shares end with agreements).
        from resources import policies, services  # noqa: F401
