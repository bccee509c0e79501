from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    # Random primary keys for every model of the app: an id counts nothing (portal.ids).
    default_auto_field = "portal.ids.RandomIdField"

    def ready(self) -> None:
        # Registers the access policy, the agreement hooks (projects follow their agreement),
        # the dashboard cards and the demo step.
        from projects import dashboard_cards, demo, policies, services  # noqa: F401
