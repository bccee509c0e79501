"""`access.visible_through` decides row by row exactly what `visible_to` decides for the
objects the rows point at: group and named grants, grants past their last day, everyone's
rows (TLP:CLEAR), and nobody signed in."""

import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from intel import markings
from intel.models import StixObject, StixObjectUserObjectPermission, StixVersion
from portal import access
from portal.vocabulary import TLP
from tests.intel.conftest import (
    indicator,
    intel,  # noqa: F401  (the fixture)
    share_with_b,
    store,
)
from tests.resources.conftest import sharing  # noqa: F401  (intel's own fixture)


def marked(tlp, value):
    return indicator(value, object_marking_refs=[markings.TLP2_IDS[tlp]])


def through(user) -> set[int]:
    rows = StixVersion.objects.filter(access.visible_through(user, "object", StixObject))
    return set(rows.values_list("object_id", flat=True))


def directly(user) -> set[int]:
    return set(access.visible_to(user, StixObject.objects.all()).values_list("pk", flat=True))


def test_visible_through_agrees_with_visible_to_for_every_kind_of_grant(intel):  # noqa: F811
    clear, green, amber, lapsed, named = store(
        intel,
        marked(TLP.CLEAR, "198.51.100.1"),
        marked(TLP.GREEN, "198.51.100.2"),
        marked(TLP.AMBER, "198.51.100.3"),
        marked(TLP.GREEN, "198.51.100.4"),
        marked(TLP.AMBER, "198.51.100.5"),
    )
    share_with_b(intel, green)
    share_with_b(intel, lapsed)
    # B's grant on `lapsed` ended yesterday (before tick removed it); B's programme manager
    # alone is named on `named`.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    lapsed_grants = access.policy_for(StixObject).group_grants.objects.filter(
        content_object=lapsed, group_id=intel.b.group_id
    )
    assert lapsed_grants.update(valid_until=yesterday) == 1
    StixObjectUserObjectPermission.objects.create(
        user=intel.b_pm,
        content_object=named,
        permission_id=lapsed_grants.get().permission_id,
    )

    everything = {clear.pk, green.pk, amber.pk, lapsed.pk, named.pk}
    expected = {
        intel.a_member: everything,
        intel.b_member: {clear.pk, green.pk},
        intel.b_pm: {clear.pk, green.pk, named.pk},
        intel.c_member: {clear.pk},
        AnonymousUser(): set(),
    }
    for user, seen in expected.items():
        assert directly(user) == seen, user
        assert through(user) == seen, user
