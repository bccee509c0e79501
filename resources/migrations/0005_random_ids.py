"""Random ids (portal.ids.RandomIdField) instead of a sequence: an id counts nothing.

Rows made before keep their ids, and keys pointing at them hold. PostgreSQL drops the
column's IDENTITY; SQLite rebuilds the table without AUTOINCREMENT.
"""

from django.db import migrations

import portal.ids


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0004_grant_valid_until"),
    ]

    operations = [
        migrations.AlterField(
            model_name="resource",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="resourcegroupobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="resourceuserobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="resourceversion",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="share",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
    ]
