from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"

    def ready(self) -> None:
        # Registers the access policy and the agreement hooks (projects follow their agreement).
        from projects import policies, services  # noqa: F401
