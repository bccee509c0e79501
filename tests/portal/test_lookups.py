"""`field__any`: the rows whose field is one of a list of keys (portal.lookups), passed to
PostgreSQL as one array parameter."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import Organisation


def test_any_finds_exactly_the_listed_keys_and_nothing_for_none(world):
    wanted = [world.a.pk, world.c.pk]
    found = Organisation.objects.filter(pk__any=wanted)
    assert sorted(found.values_list("slug", flat=True)) == ["atl-csirt", "cal-defence"]
    assert not Organisation.objects.filter(pk__any=[]).exists()
    slugs = Organisation.objects.filter(slug__any=["bor-ncsc", "no-such"])
    assert list(slugs.values_list("pk", flat=True)) == [world.b.pk]


def test_on_postgresql_the_keys_are_one_array_parameter(world, on_postgres):
    keys = [world.a.pk, world.b.pk, world.c.pk]
    with CaptureQueriesContext(connection) as queries:
        assert Organisation.objects.filter(pk__any=keys).count() == 3
    sql = queries.captured_queries[0]["sql"]
    assert "= ANY(" in sql and sql.count(str(world.b.pk)) == 1
