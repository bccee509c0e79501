"""The filter bar is kept across requests where it is the same for everyone who sends the
same query (its fixed choices). A revoked share is gone on the very next request while
that page's bar is cached, in the embedded cache and in Redis alike. (Lists kept per person
are tests/resources/test_kept_lists.py.)"""

from django.core.cache.utils import make_template_fragment_key

from resources import services
from tests.resources.conftest import new_resource, share_with_b


def _bar_key(response) -> str:
    return make_template_fragment_key("filter_bar", [response.context["filter_bar_key"]])


def test_a_revoked_share_is_gone_on_the_next_request_while_the_page_is_cached(
    sharing, client, fragments
):
    resource = new_resource(sharing, title="Shared AMBER report")
    share = share_with_b(sharing, resource)
    client.force_login(sharing.b_member)
    before = client.get("/resources/?kind=report")
    assert "Shared AMBER report" in before.content.decode()
    cached_bar = fragments.get(_bar_key(before))
    assert cached_bar is not None and 'name="kind"' in cached_bar

    services.revoke_share(actor=sharing.a_pm, share=share, reason="Ended early")
    after = client.get("/resources/?kind=report")
    assert after.status_code == 200
    assert "Shared AMBER report" not in after.content.decode()
    assert "Nothing matches these filters" in after.content.decode()
    # The same cached bar was served with the fresh rows.
    assert fragments.get(_bar_key(after)) == cached_bar
    assert cached_bar in after.content.decode()
    assert client.get(resource.get_absolute_url()).status_code == 404


def test_the_bar_is_shared_by_query_and_language_and_never_when_it_shows_an_error(
    sharing, client, fragments
):
    client.force_login(sharing.b_member)
    b_page = client.get("/resources/?tlp=amber")
    client.force_login(sharing.c_member)
    c_page = client.get("/resources/?tlp=amber")
    assert _bar_key(b_page) == _bar_key(c_page)
    assert fragments.get(_bar_key(c_page)) in c_page.content.decode()
    assert _bar_key(client.get("/resources/?tlp=green")) != _bar_key(c_page)
    assert _bar_key(client.get("/resources/?tlp=amber&page=1")) == _bar_key(c_page)

    # An owner filter's error depends on what the person may see: such a bar is never kept.
    refused = client.get("/resources/?owner=no-such-organisation")
    assert refused.context["filter_bar_key"] is None
    assert "No organisation has the short name" in refused.content.decode()


def test_a_bar_drawn_from_the_organisation_own_data_is_never_shared(sharing, client):
    # The audit log's actions are those its organisation's log holds.
    client.force_login(sharing.a_admin)
    page = client.get(f"/organisations/{sharing.a.slug}/audit/")
    assert page.status_code == 200
    assert page.context["filter_bar_key"] is None
