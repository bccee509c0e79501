"""`audit_privileges`: the application's database role may append to the audit trail, but
never change, delete or empty it, whatever the trigger does.
"""

import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from portal import audit
from portal.models import AuditEvent

TABLE = AuditEvent._meta.db_table


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_prints_the_revoke_with_quoted_names(db, capsys):
    call_command("audit_privileges", role="portal_app")

    assert capsys.readouterr().out.strip() == (
        f'REVOKE UPDATE, DELETE, TRUNCATE ON "{TABLE}" FROM "portal_app";'
    )


@pytest.mark.parametrize(
    "role",
    ['app"; DROP TABLE portal_auditevent; --', "app role", "", "1app", "x" * 64],
)
def test_refuses_a_role_name_that_could_be_anything_else(db, role):
    with pytest.raises(CommandError, match="not a role name"):
        call_command("audit_privileges", role=role)


@pytest.mark.parametrize("role", ["public", "PUBLIC", "current_user", "pg_write_all_data"])
def test_refuses_words_that_are_not_an_applications_role(db, role):
    with pytest.raises(CommandError, match="not an application's role"):
        call_command("audit_privileges", role=role)


def test_apply_needs_postgresql(db):
    if connection.vendor == "postgresql":
        pytest.skip("on PostgreSQL --apply runs; see the tests below")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("audit_privileges", role="portal_app", apply=True)


@pytest.fixture
def app_role(db, on_postgres):
    """A login-less role holding every privilege on the audit table, as an application's
    role often does by accident; dropped afterwards."""
    role = f"portal_audit_test_{uuid.uuid4().hex[:10]}"
    _execute(f'CREATE ROLE "{role}" NOLOGIN')
    _execute(f'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON "{TABLE}" TO "{role}"')
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        sequence = cursor.fetchone()[0]
    _execute(f'GRANT USAGE ON SEQUENCE {sequence} TO "{role}"')
    yield role
    _execute("RESET ROLE")
    _execute(f'DROP OWNED BY "{role}"')
    _execute(f'DROP ROLE "{role}"')


@pytest.mark.postgres
def test_a_revoked_role_appends_but_cannot_update_delete_or_truncate(app_role, capsys):
    event = audit.record(None, "test.event", n=1)

    call_command("audit_privileges", role=app_role, apply=True)
    assert f'FROM "{app_role}";' in capsys.readouterr().out

    _execute(f'SET ROLE "{app_role}"')
    try:
        with transaction.atomic():
            appended = audit.record(None, "test.event", n=2)
        refused = [
            ("UPDATE portal_auditevent SET action = 'test.forged' WHERE id = %s", [event.pk]),
            ("DELETE FROM portal_auditevent WHERE id = %s", [event.pk]),
            ("TRUNCATE portal_auditevent", []),
        ]
        for statement, params in refused:
            # Each refusal in its own savepoint, so the test's transaction goes on.
            with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                _execute(statement, params)
    finally:
        _execute("RESET ROLE")

    assert appended.prev_hash == event.hash
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert audit.verify_chain().intact


@pytest.mark.postgres
def test_apply_refuses_the_tables_owner(db, on_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]

    with pytest.raises(CommandError, match="owns"):
        call_command("audit_privileges", role=owner, apply=True)


@pytest.mark.postgres
def test_apply_names_a_role_that_does_not_exist(db, on_postgres):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("audit_privileges", role=f"no_such_role_{uuid.uuid4().hex[:8]}", apply=True)
