"""Take UPDATE, DELETE and TRUNCATE on the audit table away from the application's role.

The append-only trigger refuses UPDATE and DELETE row by row; a role without the privileges
cannot even try, and TRUNCATE (which no row trigger sees) is refused too. Run the printed SQL
as the table's owner (the role that runs the migrations), or pass --apply when connected as it.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction

from portal.models import AuditEvent

#: A conservative role name: PostgreSQL allows more when quoted, but a name like this one is
#: what a deployment uses, and anything else is more likely a mistake than a role.
_ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$.\-]{0,62}")
#: Words PostgreSQL reads as something other than a role even when quoted, and its own roles.
_NOT_A_ROLE = {"public", "none", "current_role", "current_user", "session_user"}


class Command(BaseCommand):
    help = (
        "Print (or with --apply, run) the SQL that revokes UPDATE, DELETE and TRUNCATE on the "
        "audit table from the application's database role. PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--role", required=True, help="the database role the application connects as"
        )
        parser.add_argument(
            "--apply",
            action="store_true",
            help="run the statement now (connected as the table's owner) instead of printing it",
        )

    def handle(self, *args, role: str, apply: bool, **options):
        statement = revoke_statement(_valid_role(role))
        if not apply:
            self.stdout.write(statement)
            return
        if connection.vendor != "postgresql":
            raise CommandError(
                f"--apply needs PostgreSQL; this database is {connection.vendor}. The "
                "statement is for the production database:\n" + statement
            )
        owner = _table_owner()
        if owner == role:
            raise CommandError(
                f"{role} owns {AuditEvent._meta.db_table}: an owner can always grant itself "
                "these privileges back, so revoking them protects nothing. Run the "
                "application as a role that does not own the tables, and give that role here."
            )
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        except DatabaseError as error:
            raise CommandError(f"The statement failed: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Done: {statement}"))


def revoke_statement(role: str) -> str:
    """The REVOKE for the audit table and role, with both names quoted as identifiers."""
    table = _quote(AuditEvent._meta.db_table)
    return f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {_quote(role)};"


def _valid_role(role: str) -> str:
    if not _ROLE_NAME.fullmatch(role) or len(role.encode()) > 63:
        raise CommandError(
            f"{role!r} is not a role name this command accepts: up to 63 letters, digits, "
            "_, $, . or -, starting with a letter or _."
        )
    if role.lower() in _NOT_A_ROLE or role.lower().startswith("pg_"):
        raise CommandError(f"{role!r} is not an application's role.")
    return role


def _quote(identifier: str) -> str:
    # SQL's quoted identifier: a double quote inside is doubled. Role names are validated
    # before they get here; the quoting keeps case, and any character, literal.
    return '"' + identifier.replace('"', '""') + '"'


def _table_owner() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass",
            [_quote(AuditEvent._meta.db_table)],
        )
        row = cursor.fetchone()
    return row[0] if row else None
