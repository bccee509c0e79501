"""The access layer's faster query shapes answer exactly what `visible_to` answers.

- A resource's group grants carry copies of its TLP and kind (policy `grant_copies`), kept
  by `sync_object`, so a filtered library narrows the grants in their index (`narrow`).
- `visible_walk` decides row by row, for a page of a list too long to count.
"""

import itertools

import pytest

from portal import access
from portal.vocabulary import TLP
from resources import services
from resources.models import Resource, ResourceGroupObjectPermission
from tests.resources.conftest import new_resource, share_with_b


def _keys(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def _copies(resource) -> set[tuple[str, str]]:
    rows = ResourceGroupObjectPermission.objects.filter(content_object=resource)
    return set(rows.values_list("tlp", "kind"))


def test_grants_carry_the_resource_tlp_and_kind_and_follow_each_change(sharing):
    resource = new_resource(sharing, tlp=TLP.GREEN, kind="report")
    share_with_b(sharing, resource)
    assert ResourceGroupObjectPermission.objects.filter(content_object=resource).count() == 2
    assert _copies(resource) == {("green", "report")}

    services.update_resource(actor=sharing.a_pm, resource=resource, kind="dataset")
    assert _copies(resource) == {("green", "dataset")}
    services.update_resource(actor=sharing.a_pm, resource=resource, tlp=TLP.AMBER)
    assert _copies(resource) == {("amber", "dataset")}


def test_stale_copies_are_drift_that_reconcile_reports_and_repairs(sharing):
    resource = new_resource(sharing, tlp=TLP.GREEN, kind="report")
    ResourceGroupObjectPermission.objects.filter(content_object=resource).update(kind="tool")

    drift = access.object_drift(resource)
    assert (drift.stale_copies, drift.missing, drift.extra) == (1, frozenset(), frozenset())
    assert "1 with stale copies" in drift.describe()
    assert [d.obj for d in access.reconcile(repair=False).grant_drift] == [resource]

    access.reconcile(repair=True)
    assert _copies(resource) == {("green", "report")}
    assert not access.object_drift(resource)


def test_narrowed_parts_and_the_walk_see_exactly_what_visible_to_sees(sharing):
    made = []
    for tlp, kind in itertools.product([TLP.CLEAR, TLP.GREEN, TLP.AMBER], ["report", "tool"]):
        made.append(new_resource(sharing, title=f"{tlp} {kind}", tlp=tlp, kind=kind))
    for resource in made[2:5]:  # GREEN and AMBER ones, not the last AMBER tool
        share_with_b(sharing, resource)
    new_resource(sharing, actor=sharing.b_pm, title="B's own tool", tlp=TLP.AMBER, kind="tool")

    everything = Resource.objects.all()
    for user in (sharing.a_member, sharing.b_member, sharing.c_member):
        assert _keys(access.visible_walk(user, everything)) == _keys(
            access.visible_to(user, everything)
        )
        for tlp, kind in itertools.product(TLP.values, ["report", "tool"]):
            narrow = {"tlp": tlp, "kind": kind}
            filtered = everything.filter(**narrow)
            expected = _keys(access.visible_to(user, filtered))
            assert _keys(access.visible_to(user, filtered, narrow=narrow)) == expected
            parts = access.visible_parts(user, filtered, narrow=narrow)
            assert set().union(*map(_keys, parts)) == expected

    b_sees = {
        (tlp, kind): sorted(
            access.visible_to(
                sharing.b_member,
                everything.filter(tlp=tlp, kind=kind),
                narrow={"tlp": tlp, "kind": kind},
            ).values_list("title", flat=True)
        )
        for tlp, kind in [(TLP.AMBER, "report"), (TLP.AMBER, "tool"), (TLP.GREEN, "tool")]
    }
    assert b_sees == {
        (TLP.AMBER, "report"): ["amber report"],
        (TLP.AMBER, "tool"): ["B's own tool"],
        (TLP.GREEN, "tool"): ["green tool"],
    }


def test_the_filtered_library_lists_what_the_narrowed_grants_allow(sharing, client):
    shared = new_resource(sharing, title="Shared AMBER report", tlp=TLP.AMBER, kind="report")
    share_with_b(sharing, shared)
    new_resource(sharing, title="A's AMBER report", tlp=TLP.AMBER, kind="report")
    new_resource(sharing, title="A's AMBER tool", tlp=TLP.AMBER, kind="tool")
    client.force_login(sharing.b_member)

    page = client.get("/resources/?tlp=amber&kind=report")
    assert [r.title for r in page.context["object_list"]] == ["Shared AMBER report"]
    services.update_resource(actor=sharing.a_pm, resource=shared, kind="tool")
    assert list(client.get("/resources/?tlp=amber&kind=report").context["object_list"]) == []
    page = client.get("/resources/?tlp=amber&kind=tool")
    assert [r.title for r in page.context["object_list"]] == ["Shared AMBER report"]


def test_narrowing_on_a_field_the_grants_do_not_carry_is_refused(sharing):
    with pytest.raises(ValueError, match="no copy"):
        access.visible_to(sharing.b_member, Resource.objects.all(), narrow={"title": "x"})
