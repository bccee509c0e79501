"""The shared cache's table (settings.CACHES): throttling counters, used TOTP codes and
allauth's rate limits live there, so every worker process sees them."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_notification")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
