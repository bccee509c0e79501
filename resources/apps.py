from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"

    def ready(self) -> None:
        # Registers the access policy, the agreement hooks (shares end with agreements), the
        # dashboard card and the demo step.
        from resources import dashboard_cards, demo, policies, services  # noqa: F401
