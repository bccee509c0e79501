from django.apps import AppConfig


class IntelConfig(AppConfig):
    name = "intel"
    verbose_name = "Threat intelligence"
    # Random primary keys for every model of the app: an id counts nothing (portal.ids).
    default_auto_field = "portal.ids.RandomIdField"

    def ready(self) -> None:
        # Registers the access policy, the agreement hooks (shares end with agreements) and
        # the demo step.
        from intel import demo, policies, services  # noqa: F401
