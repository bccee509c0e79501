"""Lists kept per person and query (portal.list_cache) never outlive a write: a revoked
share, an edit or a new grant is seen on the very next request, in the embedded cache and
in Redis alike. These tests commit (transaction=True), as production does, because an
epoch is bumped when a write's transaction commits."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from portal import list_cache
from resources import services
from resources.models import Resource
from tests.resources.conftest import new_resource, share_with_b

pytestmark = pytest.mark.django_db(transaction=True)

LIBRARY = "/resources/"
API = "/api/v1/resources/"


def _get(client, url, **headers):
    """The response, and whether it was answered without reading the resources table."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    read = set().union(*(list_cache.tables_in(q["sql"]) for q in queries.captured_queries))
    return response, "resources_resource" not in read


def _kept(client, url, **headers):
    """Read a list until it is kept (the first read learns its tables, the second keeps
    it), and prove the third is answered from the cache."""
    for _ in range(2):
        _get(client, url, **headers)
    response, kept = _get(client, url, **headers)
    assert kept, "the list was built again instead of being kept"
    return response


def test_a_revoked_share_leaves_the_kept_library_on_the_next_request(sharing, client, fragments):
    resource = new_resource(sharing, title="Shared AMBER report")
    share = share_with_b(sharing, resource)
    client.force_login(sharing.b_member)
    assert "Shared AMBER report" in _kept(client, LIBRARY).content.decode()

    services.revoke_share(actor=sharing.a_pm, share=share, reason="Ended early")
    after, kept = _get(client, LIBRARY)
    assert not kept
    assert "Shared AMBER report" not in after.content.decode()
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_a_revoked_share_leaves_the_kept_api_list_and_dashboard_card(sharing, client, fragments):
    resource = new_resource(sharing, title="Shared AMBER report")
    share = share_with_b(sharing, resource)
    client.force_login(sharing.b_member)
    titles = [row["title"] for row in _kept(client, API).json()["results"]]
    assert titles == ["Shared AMBER report"]
    assert "Shared AMBER report" in _kept(client, "/").content.decode()

    services.revoke_share(actor=sharing.a_pm, share=share, reason="Ended early")
    assert client.get(API).json()["results"] == []
    assert "Shared AMBER report" not in client.get("/").content.decode()


def test_a_new_share_and_an_edit_show_on_the_next_request(sharing, client, fragments):
    first = new_resource(sharing, title="First report")
    share_with_b(sharing, first)
    client.force_login(sharing.b_member)
    _kept(client, LIBRARY)

    second = new_resource(sharing, title="Second report")
    share_with_b(sharing, second)
    assert "Second report" in client.get(LIBRARY).content.decode()
    _kept(client, LIBRARY)
    # A bulk update sends no signal; the statement itself is what is watched.
    Resource.objects.filter(pk=first.pk).update(title="First report, revised")
    page = client.get(LIBRARY).content.decode()
    assert "First report, revised" in page and "Second report" in page


def test_a_kept_list_is_one_person_s_in_one_language(sharing, client, fragments):
    resource = new_resource(sharing, title="For B only")
    share_with_b(sharing, resource)
    client.force_login(sharing.b_member)
    _kept(client, LIBRARY)
    # C sends the same query and has its own list, built for C.
    client.force_login(sharing.c_member)
    page, kept = _get(client, LIBRARY)
    assert not kept
    assert "For B only" not in page.content.decode()
    assert client.get(API).json()["results"] == []
    # The same person in another language is another list.
    client.force_login(sharing.b_member)
    english = _kept(client, LIBRARY).content.decode()
    with translation.override("fr"):
        french, kept = _get(client, LIBRARY, HTTP_ACCEPT_LANGUAGE="fr")
    assert not kept
    assert "For B only" in french.content.decode() and "For B only" in english


def test_a_write_not_yet_committed_is_not_hidden_by_a_kept_list(sharing, client, fragments):
    resource = new_resource(sharing, title="Before")
    client.force_login(sharing.a_pm)
    _kept(client, LIBRARY)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        Resource.objects.filter(pk=resource.pk).update(title="Uncommitted title")
        # Inside the writing transaction the list is built from what it wrote...
        inside, kept = _get(client, LIBRARY)
        assert not kept and "Uncommitted title" in inside.content.decode()
        raise Undo
    # ... and nothing it saw was kept: after the rollback the list is as it was.
    after = client.get(LIBRARY).content.decode()
    assert "Before" in after and "Uncommitted title" not in after


def test_every_kind_of_write_bumps_its_table_once_committed_and_a_rollback_none(sharing, fragments):
    table = "resources_resource"
    resource = new_resource(sharing, title="Counted")

    def epoch():
        return list_cache._epochs([table])[table]

    writes = {
        "save": lambda: Resource.objects.get(pk=resource.pk).save(),
        "update": lambda: Resource.objects.filter(pk=resource.pk).update(title="x"),
        "raw SQL": lambda: connection.cursor().execute(
            "UPDATE resources_resource SET title = %s WHERE id = %s", ["y", resource.pk]
        ),
    }
    for name, write in writes.items():
        before = epoch()
        with transaction.atomic():
            write()
            write()
            assert epoch() == before, f"{name}: bumped before its transaction committed"
        assert epoch() == before + 1, f"{name}: one bump a transaction"

    before = epoch()
    with pytest.raises(RuntimeError), transaction.atomic():
        Resource.objects.filter(pk=resource.pk).update(title="never")
        raise RuntimeError
    assert epoch() == before
    # A read bumps nothing, and neither does a write to another table.
    list(Resource.objects.all())
    sharing.a.save()
    assert epoch() == before


def test_a_list_with_a_form_token_or_a_nonce_is_never_kept(rf, sharing, fragments):
    request = rf.get(LIBRARY)
    request.user = sharing.a_pm
    request.csp_nonce = "n0nce-value"

    def build(text):
        return lambda: (text, True)

    for text in ('<input name="csrfmiddlewaretoken" value="t">', "<script nonce=n0nce-value>"):
        for _ in range(3):
            assert list_cache.text_of(request, "test.scope", build(text)) == (text, False)
    for _ in range(2):
        list_cache.text_of(request, "test.plain", build("<p>rows</p>"))
    assert list_cache.text_of(request, "test.plain", build("other")) == ("<p>rows</p>", True)
