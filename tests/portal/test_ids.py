"""Ids count nothing: every model of ours takes a random id, and rows of a whole demo world
(built through the services) have ids no one could count from, on a fresh database and on one
migrated from sequential ids with data in it."""

import itertools
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from portal import ids
from portal.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

OUR_APPS = ("portal", "agreements", "resources", "projects")
REFERENCE = re.compile(r"AGR-\d{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")

#: Models of ours that keep a sequential id, and why.
SEQUENTIAL = {
    AuditEvent: "the hash chain is verified in id order; no page, export or API shows the id",
}


def our_models(*, include_auto_created: bool = False) -> list:
    configs = [apps.get_app_config(label) for label in OUR_APPS]
    return [m for c in configs for m in c.get_models(include_auto_created=include_auto_created)]


def test_every_model_of_ours_takes_random_ids_but_the_audit_trail():
    models = our_models(include_auto_created=True)
    assert len(models) > 30  # the walk found the apps' models, many-to-many tables included
    sequential = [m._meta.label for m in models if not ids.has_random_ids(m)]
    assert sequential == [m._meta.label for m in SEQUENTIAL]
    # Third-party models (auth, guardian's generic tables, allauth, tokens) keep theirs: their
    # ids reach no page, export or API answer, and a user is named by username instead.


def test_two_objects_made_one_after_the_other_have_unrelated_ids():
    for model in our_models(include_auto_created=True):
        if model in SEQUENTIAL:
            continue
        first, second = model(), model()
        for pk in (first.pk, second.pk):
            assert ids.MIN_ID <= pk < ids.MAX_ID <= 2**53, model._meta.label
        assert abs(second.pk - first.pk) > 1, model._meta.label


@pytest.mark.django_db
def test_the_database_hands_out_no_numbers_of_its_own():
    """A row inserted without an id fails rather than take the next number of a sequence."""
    for model in our_models():  # Django's migrations keep many-to-many tables as they were
        table, column = model._meta.db_table, model._meta.pk.column
        assert _numbers_ids(table, column) == (model in SEQUENTIAL), table


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_whole_demo_world_has_ids_and_references_no_one_can_count(capsys):
    call_command("seed_demo")
    capsys.readouterr()  # the demo's sign-in list
    filled = 0
    for model in our_models(include_auto_created=True):
        if model in SEQUENTIAL:
            continue
        keys = sorted(model._default_manager.values_list("pk", flat=True))
        filled += bool(keys)
        assert all(ids.MIN_ID <= pk < ids.MAX_ID for pk in keys), model._meta.label
        assert all(b - a > 1 for a, b in itertools.pairwise(keys)), model._meta.label
    assert filled >= 25  # the demo makes rows of nearly every model
    Agreement = apps.get_model("agreements", "Agreement")
    references = set(Agreement.objects.filter(version=1).values_list("reference", flat=True))
    assert len(references) == Agreement.objects.filter(version=1).count() >= 5
    assert all(REFERENCE.fullmatch(r) for r in references), references


@pytest.mark.django_db(transaction=True)
def test_rows_made_before_keep_their_ids_and_new_rows_get_random_ones():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = _before_random_ids(executor.loader)
    assert {app for app, _name in before} == set(OUR_APPS)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        Group = old.get_model("auth", "Group")
        Organisation = old.get_model("portal", "Organisation")
        made = [
            Organisation.objects.create(
                name=f"Old {n}",
                slug=f"old-{n}",
                country="EE",
                kind="national_csirt",
                group=Group.objects.create(name=f"org:old-{n}"),
            )
            for n in range(2)
        ]
        assert made[1].pk == made[0].pk + 1  # sequential, as they were
        assert _numbers_ids("portal_organisation", "id")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    Now = apps.get_model("portal", "Organisation")
    assert set(Now.objects.values_list("pk", flat=True)) == {o.pk for o in made}
    assert not _numbers_ids("portal_organisation", "id")
    member = UserFactory(organisation=Now.objects.get(pk=made[0].pk))
    assert member.membership.organisation_id == made[0].pk  # keys pointing at old ids hold
    new = OrganisationFactory()
    assert ids.MIN_ID <= new.pk < ids.MAX_ID


def _before_random_ids(loader) -> list[tuple[str, str]]:
    """Per app, the migration just before the one that made its ids random."""
    targets = []
    for (app, _name), migration in loader.graph.nodes.items():
        made_random = any(
            getattr(op, "name", None) == "id" and isinstance(op.field, ids.RandomIdField)
            for op in migration.operations
            if hasattr(op, "field")
        )
        if made_random and app in OUR_APPS:
            targets += [parent for parent in migration.dependencies if parent[0] == app]
    return targets


def _numbers_ids(table: str, column: str) -> bool:
    """Whether the database numbers the column itself (a sequence, IDENTITY, AUTOINCREMENT)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT is_identity = 'YES' OR column_default LIKE 'nextval%%' "
                "FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                [table, column],
            )
            return bool(cursor.fetchone()[0])
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        return "AUTOINCREMENT" in cursor.fetchone()[0].upper()
