"""Tell PostgreSQL's planner that an entry's collection and viewer go together.

Each organisation's view of a collection is its own set of rows, so (collection, viewer)
is far more selective together than its parts suggest apart: without these statistics the
planner guessed a view of 50,000 entries at 1,400, and read a poll page from the cursor by
sorting all of them instead of walking the poll index (300 ms a page, against 9).
"""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS intel_entry_view_stats (dependencies, mcv) "
    "ON collection, viewer_id FROM intel_collectionentry"
)
DROP = "DROP STATISTICS IF EXISTS intel_entry_view_stats"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        # Gathered now rather than at autovacuum's next pass over the table.
        schema_editor.execute("ANALYZE intel_collectionentry")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("intel", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
