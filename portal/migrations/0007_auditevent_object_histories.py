"""Each object's history becomes a hash chain of its own (portal.audit): the new fields, and
the histories of the events written before them, computed in the order they were written."""

import hashlib
import json
from datetime import UTC

from django.db import migrations, models

GENESIS_HASH = "0" * 64
TRIGGER = "portal_auditevent_append_only"


def _history_of(event) -> str:
    # The rule of portal.audit.history_of when these fields were added.
    if not event.object_type or event.action == "access.refused":
        return ""
    if event.object_type == "portal.membership":
        return f"portal.organisation:{event.organisation_id}" if event.organisation_id else ""
    return f"{event.object_type}:{event.object_id}"


def _history_hash(history: str, prev_hash: str, event, slug) -> str:
    content = {
        "history": history,
        "at": event.created_at.astimezone(UTC).isoformat(),
        "action": event.action,
        "actor": event.actor_label,
        "actor_organisation": slug,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def link_histories(apps, schema_editor):
    """Only fields derived from what each event's own hash covers are written; the trail's
    content and its chain stay as they were."""
    AuditEvent = apps.get_model("portal", "AuditEvent")
    Organisation = apps.get_model("portal", "Organisation")
    if not AuditEvent.objects.exists():
        return
    slugs = dict(Organisation.objects.values_list("pk", "slug"))
    heads: dict[str, str] = {}
    changed = []
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        history = _history_of(event)
        if not history:
            continue
        event.history = history
        event.history_prev_hash = heads.get(history, GENESIS_HASH)
        event.history_hash = _history_hash(
            history, event.history_prev_hash, event, slugs.get(event.actor_organisation_id)
        )
        heads[history] = event.history_hash
        changed.append(event)
    on_postgres = schema_editor.connection.vendor == "postgresql"
    if on_postgres:  # the append-only trigger refuses every UPDATE, this one included
        schema_editor.execute(f"ALTER TABLE portal_auditevent DISABLE TRIGGER {TRIGGER}")
    AuditEvent.objects.bulk_update(
        changed, ["history", "history_prev_hash", "history_hash"], batch_size=1000
    )
    if on_postgres:
        schema_editor.execute(f"ALTER TABLE portal_auditevent ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_random_ids")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="history",
            field=models.CharField(blank=True, max_length=140),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="history_prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="history_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["history", "id"], name="portal_audit_history_idx"),
        ),
        migrations.RunPython(link_histories, migrations.RunPython.noop, elidable=False),
    ]
