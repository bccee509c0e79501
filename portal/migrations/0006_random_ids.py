"""Random ids (portal.ids.RandomIdField) instead of a sequence: an id counts nothing.

Rows made before keep their ids, and keys pointing at them hold. PostgreSQL drops the
column's IDENTITY; SQLite rebuilds the table without AUTOINCREMENT. The audit trail keeps its
sequence, now declared (the chain is verified in id order): a no-op on PostgreSQL.
"""

from django.db import migrations, models

import portal.ids


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_grant_valid_until"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="id",
            field=models.BigAutoField(primary_key=True, serialize=False, verbose_name="ID"),
        ),
        migrations.AlterField(
            model_name="membership",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="organisationgroupobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="organisationuserobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
    ]
