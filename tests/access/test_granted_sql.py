"""The grant subquery's SQL is compiled once per asker, action and day (portal.access,
`_granted_sql`), and still reads the grants as they are when each query runs: a grant given,
lapsed or revoked after the SQL was compiled counts at once."""

import datetime

from django.utils import timezone

from intel.models import StixObject
from portal import access
from portal.vocabulary import TLP
from tests.access.test_visible_through import marked
from tests.intel.conftest import (
    intel,  # noqa: F401  (the fixture)
    share_with_b,
    store,
)
from tests.resources.conftest import sharing  # noqa: F401  (intel's own fixture)


def seen_by(user) -> set[int]:
    return set(access.visible_to(user, StixObject.objects.all()).values_list("pk", flat=True))


def compilations(read) -> tuple:
    """What `read` returned, and how many grant queries it had to compile."""
    before = access._granted_sql.cache_info().misses
    result = read()
    return result, access._granted_sql.cache_info().misses - before


def test_a_compiled_grant_query_reads_the_grants_of_the_moment(intel):  # noqa: F811
    clear, green = store(
        intel, marked(TLP.CLEAR, "198.51.100.1"), marked(TLP.GREEN, "198.51.100.2")
    )
    access._granted_sql.cache_clear()

    assert compilations(lambda: seen_by(intel.b_member)) == ({clear.pk}, 1)

    share_with_b(intel, green)
    assert compilations(lambda: seen_by(intel.b_member)) == ({clear.pk, green.pk}, 0)

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    grants = access.policy_for(StixObject).group_grants.objects.filter(
        content_object=green, group_id=intel.b.group_id
    )
    assert grants.update(valid_until=yesterday) == 1
    assert compilations(lambda: seen_by(intel.b_member)) == ({clear.pk}, 0)

    grants.update(valid_until=None)
    assert compilations(lambda: seen_by(intel.b_member)) == ({clear.pk, green.pk}, 0)
    grants.delete()
    assert compilations(lambda: seen_by(intel.b_member)) == ({clear.pk}, 0)


def test_each_asker_gets_their_own_query(intel):  # noqa: F811
    (green,) = store(intel, marked(TLP.GREEN, "198.51.100.3"))
    share_with_b(intel, green)

    assert green.pk in seen_by(intel.b_member)
    assert green.pk in seen_by(intel.a_member)
    assert green.pk not in seen_by(intel.c_member)
