"""Upgrading a portal whose resources predate `current_version`: the migration points each
resource at its newest version, which the library then shows as its latest file."""

import pytest

from resources import services
from resources.models import Resource
from tests.portal.test_audit_migration import _migrate, back_to_the_latest_schema  # noqa: F401
from tests.resources.conftest import new_resource, upload

BEFORE = [("resources", "0006_grant_held_index")]
AFTER = [("resources", "0007_current_version")]


@pytest.mark.django_db(transaction=True)
def test_each_resource_points_at_its_newest_version_after_the_upgrade(
    back_to_the_latest_schema,  # noqa: F811
    sharing,
):
    edited = new_resource(sharing, title="Edited twice")
    for name in ("v2.txt", "v3.txt"):
        services.add_version(actor=sharing.a_pm, resource=edited, file=upload(name, b"text\n"))
    single = new_resource(sharing, title="One file")

    _migrate(BEFORE)
    _migrate(AFTER)

    newest = {
        r.title: (r.current_version.number, r.current_version.original_name)
        for r in Resource.objects.select_related("current_version")
    }
    assert newest == {
        "Edited twice": (3, "v3.txt"),
        "One file": (1, single.latest_version.original_name),
    }
