"""`access.visible_parts`: disjoint parts whose union is exactly what `visible_to` gives, so
a list counted part by part (portal.pagination) counts what the person may see, no more."""

from agreements.models import Agreement
from portal import access
from resources.models import Resource
from tests.agreements.conftest import draft_between
from tests.resources.conftest import new_resource, share_with_b


def _keys(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def test_parts_are_disjoint_and_make_up_exactly_what_is_visible(sharing):
    shared = new_resource(sharing, title="Shared AMBER report")
    share_with_b(sharing, shared)
    new_resource(sharing, title="Public advisory", tlp="clear")
    new_resource(sharing, title="A's own AMBER notes")
    new_resource(sharing, actor=sharing.b_pm, title="B's CLEAR feed", tlp="clear")

    for user in (sharing.a_member, sharing.b_member, sharing.c_member):
        everyone_part, granted_part = access.visible_parts(user, Resource.objects.all())
        everyone, granted = _keys(everyone_part), _keys(granted_part)
        assert not set(everyone) & set(granted)
        assert sorted(everyone + granted) == _keys(access.visible_to(user, Resource.objects.all()))

    everyone, granted = access.visible_parts(sharing.b_member, Resource.objects.all())
    assert sorted(everyone.values_list("title", flat=True)) == ["B's CLEAR feed", "Public advisory"]
    assert list(granted.values_list("title", flat=True)) == ["Shared AMBER report"]


def test_a_model_without_everyone_rows_has_one_part(sharing):
    draft_between(sharing, title="A-B draft")  # beside the fixture's agreement in force
    [granted] = access.visible_parts(sharing.a_pm, Agreement.objects.all())
    assert _keys(granted) == _keys(access.visible_to(sharing.a_pm, Agreement.objects.all()))
    assert "A-B draft" in granted.values_list("title", flat=True)
    assert access.visible_parts(sharing.c_member, Agreement.objects.all())[0].count() == 0


def test_signed_out_people_get_no_parts(sharing):
    from django.contrib.auth.models import AnonymousUser

    assert access.visible_parts(AnonymousUser(), Resource.objects.all()) == []


def test_the_library_counts_part_by_part_and_shows_the_same_rows(sharing, client, monkeypatch):
    from portal.pagination import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 2)
    share_with_b(sharing, new_resource(sharing, title="Shared one"))
    new_resource(sharing, title="Clear one", tlp="clear")
    client.force_login(sharing.b_member)
    exact = client.get("/resources/?kind=report")
    assert exact.context["paginator"].count == 2
    assert [r.title for r in exact.context["object_list"]] == ["Clear one", "Shared one"]
    new_resource(sharing, title="Clear two", tlp="clear")
    capped = client.get("/resources/?kind=report")
    assert "More than 2 results" in capped.content.decode()
    assert [r.title for r in capped.context["object_list"]] == [
        "Clear two",
        "Clear one",
        "Shared one",
    ]
