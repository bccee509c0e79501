"""Lists kept per person and query (portal.list_cache) never outlive a write: a revoked
share, an edit or a new grant is seen on the very next request, in the embedded cache and
in Redis alike. These tests commit (transaction=True), as production does, because an
epoch is bumped when a write's transaction commits."""

import re

import pytest
from django.db import connection, transaction
from django.middleware.csrf import get_token
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from portal import list_cache, notifications
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


def test_a_list_built_with_a_form_token_or_a_nonce_in_it_is_never_kept(rf, sharing, fragments):
    request = rf.get(LIBRARY)
    request.user = sharing.a_pm
    request.csp_nonce = "n0nce-value"

    def with_token():
        return f'<input name="csrfmiddlewaretoken" value="{get_token(request)}">', True

    for build in (with_token, lambda: ("<script nonce=n0nce-value>", True)):
        for _ in range(3):
            assert list_cache.text_of(request, "test.scope", build)[1] is False
    for _ in range(2):
        list_cache.text_of(request, "test.plain", lambda: ("<p>rows</p>", True))
    assert list_cache.text_of(request, "test.plain", lambda: ("other", True)) == (
        "<p>rows</p>",
        True,
    )


# --- Kept pages: what differs on every answer is filled in per request ------------------------

_HX_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
_NONCE = re.compile(r'<script [^>]*nonce="([^"]+)"')


def test_a_kept_page_carries_a_form_token_and_a_nonce_of_its_own_request(sharing, fragments):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sharing.b_member)
    answers = [_kept(client, LIBRARY), _get(client, LIBRARY)[0]]
    nonces = []
    for answer in answers:
        page = answer.content.decode()
        assert not any(list_cache.hole(name) in page for name in list_cache.HOLES)
        nonce = _NONCE.search(page).group(1)
        assert f"'nonce-{nonce}'" in answer["Content-Security-Policy"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    # The token a kept page carries is good for the person's next form.
    token = _HX_TOKEN.search(answers[1].content.decode()).group(1)
    response = client.post("/notifications/read/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302


def test_the_unread_count_of_a_kept_page_is_the_one_of_now(sharing, client, fragments):
    client.force_login(sharing.b_member)
    before = _kept(client, LIBRARY).content.decode()
    assert 'class="count"' not in before
    notifications.notify([sharing.b_member], kind="resource.shared", title="A new share")
    after, kept = _get(client, LIBRARY)
    assert kept
    assert '<span class="count">1<span class="visually-hidden"> unread</span></span>' in (
        after.content.decode()
    )


def test_a_waiting_message_is_shown_on_the_next_page_even_where_it_is_kept(
    sharing, client, fragments
):
    client.force_login(sharing.b_member)
    _kept(client, LIBRARY)
    client.post("/notifications/read/")  # answers with a message for the next page
    page, kept = _get(client, LIBRARY)
    assert not kept
    assert "0 notices marked as read." in page.content.decode()
    assert "marked as read" not in client.get(LIBRARY).content.decode()
    # A page that says something once (a link that led nowhere) is never kept either.
    for _ in range(3):
        page, kept = _get(client, f"{LIBRARY}?after=not-a-cursor")
        assert not kept and "no longer leads anywhere" in page.content.decode()


def test_a_renamed_person_or_organisation_shows_on_the_next_kept_page(sharing, client, fragments):
    client.force_login(sharing.b_member)
    _kept(client, "/")
    sharing.b_member.first_name = "Renamed"
    sharing.b_member.save()
    sharing.b.name = "Borealis Renamed Centre"
    sharing.b.save()
    page = client.get("/").content.decode()
    assert "Good to see you, Renamed" in page and "Borealis Renamed Centre" in page
