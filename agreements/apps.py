from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "agreements"

    def ready(self) -> None:
        from agreements import dashboard_cards, demo, policies, tick_jobs  # noqa: F401  (registries)
