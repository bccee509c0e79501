from intel.models import CollectionEntry, StixObject
from portal import access
from tests.intel.conftest import indicator, share_with_b, store


def test_a_shared_indicator_reaches_b_and_not_c(intel):
    (obj,) = store(intel, indicator())
    assert obj.tlp == "amber"
    visible = StixObject.objects.all()
    assert not access.visible_to(intel.b_member, visible).exists()
    share_with_b(intel, obj)
    assert access.visible_to(intel.b_member, visible).get() == obj
    assert not access.visible_to(intel.c_member, visible).exists()
    assert CollectionEntry.objects.filter(viewer=intel.b).count() == 1
