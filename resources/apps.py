from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"
    # Random primary keys for every model of the app: an id counts nothing (portal.ids).
    default_auto_field = "portal.ids.RandomIdField"

    def ready(self) -> None:
        # Registers the access policy, the agreement hooks (shares end with agreements), the
        # dashboard card and the demo step.
        from resources import dashboard_cards, demo, policies, services  # noqa: F401
