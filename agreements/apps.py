from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "agreements"
    # Random primary keys for every model of the app: an id counts nothing (portal.ids).
    default_auto_field = "portal.ids.RandomIdField"

    def ready(self) -> None:
        from agreements import dashboard_cards, demo, policies, tick_jobs  # noqa: F401  (registries)
