from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    # Random primary keys for every model of the app: an id counts nothing (portal.ids).
    default_auto_field = "portal.ids.RandomIdField"
    verbose_name = "Portal core"
    default = True  # this module also holds the admin's config, below

    def ready(self) -> None:
        # Registers access rules, signal receivers and the dashboard's cards.
        from django.db.backends.signals import connection_created

        from portal import audit_words, dashboard_cards, list_cache, policies, signals  # noqa: F401

        # Every statement is watched: a write invalidates the kept lists read from its table.
        connection_created.connect(list_cache.watch, dispatch_uid="portal.list_cache.watch")

        # Each app's phrasing of its audit events (its audit_words module), as admin finds
        # admin modules: the portal names no app, so the apps still depend one way only.
        audit_words.discover()


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on our site class (sign-in through the portal, second factor)."""

    default = False  # named explicitly in INSTALLED_APPS
    default_site = "portal.admin_site.PortalAdminSite"
