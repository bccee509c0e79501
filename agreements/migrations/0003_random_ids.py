"""Random ids (portal.ids.RandomIdField) instead of a sequence: an id counts nothing.

Rows made before keep their ids, and keys pointing at them hold. PostgreSQL drops the
column's IDENTITY; SQLite rebuilds the table without AUTOINCREMENT.
"""

from django.db import migrations

import portal.ids


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0002_grant_valid_until"),
    ]

    operations = [
        migrations.AlterField(
            model_name="agreement",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="agreementgroupobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="agreementuserobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="party",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="signature",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
    ]
