"""Random ids (portal.ids.RandomIdField) instead of a sequence: an id counts nothing.

Rows made before keep their ids, and keys pointing at them hold. PostgreSQL drops the
column's IDENTITY; SQLite rebuilds the table without AUTOINCREMENT.
"""

from django.db import migrations

import portal.ids


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_grant_valid_until"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="contribution",
            options={"ordering": ["participant__organisation__name", "kind", "unit", "pk"]},
        ),
        migrations.AlterField(
            model_name="calendarfeed",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="contribution",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="datechange",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="deliverable",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="inject",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="milestone",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="participant",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="projectgroupobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="projectuserobjectpermission",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="review",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="reviewerassignment",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        migrations.AlterField(
            model_name="workpackage",
            name="id",
            field=portal.ids.RandomIdField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
    ]
