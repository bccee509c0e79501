"""The audit trail: what an auditor relies on and what an organisation admin sees in it.

An auditor needs `verify_audit` to pass on an honest trail and to fail, naming the first bad
event, on any row altered, removed or reordered behind the portal's back; on PostgreSQL the
database itself must refuse to change the trail, and concurrent writers must keep one chain.
Organisation admins need sign-ins, failed sign-ins, sign-outs and refused access recorded.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from portal import audit
from portal.models import AuditEvent
from tests.factories import PASSWORD

TRIGGER = "portal_auditevent_append_only"


def _record_events(count: int) -> list[AuditEvent]:
    return [audit.record(None, "test.event", n=n) for n in range(count)]


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify_audit_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    return str(failure.value)


@pytest.fixture
def dba(db):
    """Raw SQL with table-owner rights: on PostgreSQL the append-only trigger is switched off."""
    on_pg = connection.vendor == "postgresql"
    if on_pg:
        _execute(f"ALTER TABLE portal_auditevent DISABLE TRIGGER {TRIGGER}")
    yield _execute
    if on_pg:
        # ALTER TABLE refuses while deferred foreign-key checks are queued: run them first.
        _execute("SET CONSTRAINTS ALL IMMEDIATE")
        _execute(f"ALTER TABLE portal_auditevent ENABLE TRIGGER {TRIGGER}")
        _execute("SET CONSTRAINTS ALL DEFERRED")


# --- The chain ------------------------------------------------------------------------------


def test_recorded_events_form_an_intact_chain_and_verify_audit_says_so(db, capsys):
    _record_events(3)
    total = AuditEvent.objects.count()

    assert audit.verify_chain().intact
    assert audit.verify_chain().checked == total
    call_command("verify_audit")  # raises CommandError (exit 1) on a broken chain
    assert f"Audit chain intact: {total} events." in capsys.readouterr().out


def test_each_event_links_to_the_one_before_it(db):
    first, second = _record_events(2)

    assert second.prev_hash == first.hash
    assert AuditEvent.objects.order_by("id").first().prev_hash == audit.GENESIS_HASH


def test_numbers_in_details_do_not_read_as_tampering(db):
    # PostgreSQL's jsonb gives 1e16 back as an integer; the hash must not depend on that.
    audit.record(None, "test.event", large=1e16, huge=1e20, small=1.5e-7, ratio=0.1, whole=2.0)

    assert audit.verify_chain().intact


def test_verify_audit_names_an_event_whose_details_were_edited_in_sql(db, dba):
    events = _record_events(4)
    tampered = events[2]
    dba(
        """UPDATE portal_auditevent SET details = '{"n": 99}' WHERE id = %s""",
        [tampered.pk],
    )

    message = _verify_audit_fails()

    assert f"event #{tampered.pk}:" in message
    assert "altered" in message


def test_verify_audit_names_an_event_whose_action_was_edited_in_sql(db, dba):
    events = _record_events(3)
    dba("UPDATE portal_auditevent SET action = 'test.harmless' WHERE id = %s", [events[1].pk])

    assert f"event #{events[1].pk}:" in _verify_audit_fails()


def test_verify_audit_names_the_event_after_a_deleted_one(db, dba):
    events = _record_events(4)
    dba("DELETE FROM portal_auditevent WHERE id = %s", [events[1].pk])

    message = _verify_audit_fails()

    assert f"event #{events[2].pk}:" in message
    assert "removed" in message


def test_verify_audit_names_the_first_of_two_reordered_events(db, dba):
    events = _record_events(4)
    first, second = events[1].pk, events[2].pk
    # Each row keeps its own valid hash; only their order in the trail changes.
    dba("UPDATE portal_auditevent SET id = %s WHERE id = %s", [-1, first])
    dba("UPDATE portal_auditevent SET id = %s WHERE id = %s", [first, second])
    dba("UPDATE portal_auditevent SET id = %s WHERE id = %s", [second, -1])

    message = _verify_audit_fails()

    assert f"event #{first}:" in message
    assert "reordered" in message


# --- The database and the ORM refuse to change the trail ---------------------------------------


def test_database_refuses_to_update_an_event(db, on_postgres):
    event = audit.record(None, "test.event", n=1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _execute("UPDATE portal_auditevent SET action = 'test.forged' WHERE id = %s", [event.pk])

    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert audit.verify_chain().intact


def test_database_refuses_to_delete_an_event(db, on_postgres):
    event = audit.record(None, "test.event", n=1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _execute("DELETE FROM portal_auditevent WHERE id = %s", [event.pk])

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_saved_event_cannot_be_changed_or_deleted_through_the_model(db):
    event = audit.record(None, "test.event", n=1)

    event.action = "test.forged"
    with pytest.raises(ValidationError, match="append-only"):
        event.save()
    with pytest.raises(ValidationError, match="append-only"):
        event.delete()
    with pytest.raises(ValidationError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(action="test.forged")
    with pytest.raises(ValidationError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_keep_one_linear_chain(on_postgres):
    threads, per_thread = 8, 25
    before = AuditEvent.objects.count()
    errors = []

    def write(worker: int) -> None:
        try:
            for n in range(per_thread):
                audit.record(None, "test.parallel", worker=worker, n=n)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert AuditEvent.objects.count() - before == threads * per_thread
    assert audit.verify_chain().intact
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == len(set(prev_hashes)), "two events share a parent: a fork"


# --- Sign-in, sign-out and refused access are recorded --------------------------------------


def test_sign_in_is_recorded_with_the_user_as_actor(client, world):
    response = client.post("/accounts/login/", {"login": world.a_pm.username, "password": PASSWORD})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert event.actor == world.a_pm
    assert event.actor_organisation == world.a
    assert event.organisation == world.a


def test_failed_sign_in_is_recorded_for_the_targeted_users_organisation(client, world):
    response = client.post(
        "/accounts/login/", {"login": world.a_admin.username, "password": "not-the-password"}
    )

    assert response.status_code == 200  # the form again, with an error
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.actor is None
    assert event.actor_organisation is None
    assert event.details["login"] == world.a_admin.username
    assert event.organisation == world.a
    assert event.object_id == str(world.a_admin.pk)
    assert not AuditEvent.objects.filter(action="auth.signed_in").exists()


def test_sign_out_is_recorded_with_the_user_as_actor(client, world):
    client.force_login(world.b_member)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.signed_out")
    assert event.actor == world.b_member
    assert event.actor_organisation == world.b


def test_unrelated_member_asking_for_a_member_list_gets_404_and_is_recorded(client, world):
    client.force_login(world.c_member)

    response = client.get(f"/organisations/{world.a.slug}/members/")

    assert response.status_code == 404
    event = AuditEvent.objects.get(action="access.refused")
    assert event.actor == world.c_member
    assert event.actor_organisation == world.c
    assert (event.object_type, event.object_id) == ("portal.organisation", str(world.a.pk))
    assert event.details["outcome"] == "not_found"
    assert event.details["requested_action"] == "view_members"


def test_member_without_admin_role_asking_to_invite_gets_403_and_is_recorded(client, world):
    client.force_login(world.a_member)

    response = client.get(f"/organisations/{world.a.slug}/members/invite/")

    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access.refused")
    assert event.actor == world.a_member
    assert event.object_id == str(world.a.pk)
    assert event.details["outcome"] == "forbidden"
    assert event.details["requested_action"] == "manage_members"


# --- Object histories: a chain of their own ------------------------------------------------


def test_each_object_history_links_only_its_own_events(world):
    first_of_a = AuditEvent.objects.filter(history=audit.history_key(world.a)).order_by("id")[0]
    a1 = audit.record(world.a_admin, "test.event", world.a)
    audit.record(world.c_member, "test.event", world.c)
    a2 = audit.record(world.a_admin, "test.event", world.a)

    assert a1.history == a2.history == audit.history_key(world.a)
    assert first_of_a.history_prev_hash == audit.GENESIS_HASH
    assert a2.history_prev_hash == a1.history_hash  # C's event between them is not in it
    assert list(audit.timeline(world.a, limit=2)) == [a2, a1]
    assert audit.verify_chain().intact


def test_a_refusal_joins_no_history(world):
    refusal = audit.record_refusal(
        world.c_member, type(world.a), world.a.pk, requested_action="view", outcome="not_found"
    )

    assert (refusal.history, refusal.history_prev_hash, refusal.history_hash) == ("", "", "")
    assert refusal not in audit.timeline(world.a)
    assert refusal.object_repr == ""  # a hidden object's name is never in a refusal


def test_verify_audit_names_an_event_taken_out_of_its_history(
    dba, world
):  # dba first: it switches the trigger off
    audit.record(world.a_admin, "test.event", world.a)
    taken = audit.record(world.a_admin, "test.event", world.a)
    dba(
        "UPDATE portal_auditevent SET history = '', history_prev_hash = '', history_hash = '' "
        "WHERE id = %s",
        [taken.pk],
    )

    message = _verify_audit_fails()

    assert f"event #{taken.pk}:" in message
    assert "moved between histories" in message


def test_verify_audit_names_a_history_entry_whose_link_was_rewritten(
    dba, world
):  # dba first: it switches the trigger off
    """An entry re-linked to skip the one before it: the global chain still holds."""
    audit.record(world.a_admin, "test.event", world.a)
    second = audit.record(world.a_admin, "test.event", world.a)
    dba(
        "UPDATE portal_auditevent SET history_prev_hash = %s WHERE id = %s",
        [audit.GENESIS_HASH, second.pk],
    )

    message = _verify_audit_fails()

    assert f"event #{second.pk}:" in message
    assert "an entry was removed, inserted or reordered" in message


def test_verify_audit_names_a_history_entry_whose_hash_was_rewritten(
    dba, world
):  # dba first: it switches the trigger off
    event = audit.record(world.a_admin, "test.event", world.a)
    dba("UPDATE portal_auditevent SET history_hash = %s WHERE id = %s", ["f" * 64, event.pk])

    message = _verify_audit_fails()

    assert f"event #{event.pk}:" in message
    assert "does not match its hash (altered)" in message


@pytest.mark.django_db
def test_an_event_keeps_what_a_request_sent_even_a_nul_and_the_chain_holds(world):
    # PostgreSQL's jsonb cannot store U+0000; the trail must not fail on what a client sent.
    event = audit.record(
        world.a_member, "intel.exported", query={"q\x00": "a\x00b", "n": [1, "c\x00"]}
    )
    event.refresh_from_db()
    assert event.details["query"] == {"q": "ab", "n": [1, "c"]}
    assert audit.verify_chain().intact
