"""Upgrading a portal whose trail predates object histories: the migration links every
earlier event into its object's history, in the order they were written, and the trail still
verifies (on PostgreSQL, past the append-only trigger, which it switches back on)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from portal import audit
from portal.models import AuditEvent

BEFORE = [("portal", "0006_random_ids")]
AFTER = [("portal", "0007_auditevent_object_histories")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_the_latest_schema():
    """Whatever the test does, the database ends at the latest migrations for the next test."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_events_written_before_histories_are_linked_into_them_and_still_verify(
    back_to_the_latest_schema, world
):
    old_apps = _migrate(BEFORE)
    OldEvent = old_apps.get_model("portal", "AuditEvent")
    prev = OldEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    prev = prev or audit.GENESIS_HASH
    written = []
    moment = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
    for n, (action, organisation) in enumerate(
        [
            ("organisation.updated", world.a),
            ("organisation.updated", world.b),
            ("access.refused", world.a),
            ("organisation.updated", world.a),
        ]
    ):
        event = OldEvent(
            created_at=moment + datetime.timedelta(seconds=n),
            actor_label="atl-admin",
            actor_organisation_id=world.a.pk,
            organisation_id=world.a.pk,
            action=action,
            object_type="portal.organisation",
            object_id=str(organisation.pk),
            object_repr=organisation.name,
            details={"n": n},
            prev_hash=prev,
        )
        event.hash = prev = audit.event_hash(event, event.prev_hash)
        event.save()
        written.append(event.pk)

    _migrate(AFTER)

    a_history = list(
        AuditEvent.objects.filter(pk__in=written, history=audit.history_key(world.a)).order_by("id")
    )
    assert [e.pk for e in a_history] == [written[0], written[3]]  # the refusal stays out
    assert a_history[1].history_prev_hash == a_history[0].history_hash
    assert AuditEvent.objects.get(pk=written[2]).history == ""
    assert AuditEvent.objects.get(pk=written[1]).history == audit.history_key(world.b)
    report = audit.verify_chain()
    assert report.intact, report.reason
    if connection.vendor == "postgresql":  # the trigger is back on
        with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
            cursor.execute("UPDATE portal_auditevent SET action = 'x' WHERE id = %s", [written[0]])
