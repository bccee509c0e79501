"""Paging through the library by Previous and Next: every row the person may see, once, in
the order asked for, at the same cost on page N as on page 1 (portal.pagination)."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.http import QueryDict
from django.utils import timezone

from portal import access
from portal.pagination import CappedPaginator, Keyset
from portal.vocabulary import TLP
from resources.models import Resource
from resources.views import ResourceListView
from tests.paging import links, page_sql, pks, walk
from tests.resources.conftest import new_resource, share_with_b

HTMX = {"HTTP_HX_REQUEST": "true"}
FIRST_PAGE_AGAIN = "That page link no longer leads anywhere, so this is the first page."

#: What each sort of the library means, spelled out here rather than taken from the view.
ORDERS = {
    "newest": lambda r: (-r.created_at.timestamp(), r.pk),
    "title": lambda r: (r.title, r.pk),
    "tlp": lambda r: (-TLP.values.index(r.tlp), r.pk),
}


@pytest.fixture
def library(sharing, monkeypatch):
    """B's member sees 14 of A's and B's resources (ties in time, title and TLP), four to a
    page; A's unshared AMBER notes stay A's."""
    monkeypatch.setattr(ResourceListView, "paginate_by", 4)
    with time_machine.travel(timezone.now(), tick=False):  # five uploads in the same instant
        for n in range(5):
            new_resource(sharing, title=f"Report {n % 2}", tlp="clear")
    for n in range(5):
        share_with_b(sharing, new_resource(sharing, title=f"Report {n % 3}", tlp="amber"))
    for n in range(4):
        new_resource(sharing, actor=sharing.b_pm, title=f"Report {n}", tlp="green")
    sharing.extra["hidden"] = new_resource(sharing, title="A only: the hidden AMBER notes")
    return sharing


def visible(user) -> list[Resource]:
    return list(access.visible_to(user, Resource.objects.all()))


@pytest.mark.parametrize("cap", [1000, 5], ids=["counted", "past the cap"])
@pytest.mark.parametrize("sort", sorted(ORDERS))
def test_next_visits_every_visible_row_once_in_order_and_previous_walks_back(
    library, client, monkeypatch, sort, cap
):
    monkeypatch.setattr(CappedPaginator, "cap", cap)
    client.force_login(library.b_member)
    expected = [r.pk for r in sorted(visible(library.b_member), key=ORDERS[sort])]
    assert len(expected) == 14 and library.hidden.pk not in expected

    forward = walk(client, f"/resources/?sort={sort}")
    assert [pk for page in forward for pk in pks(page)] == expected
    assert [len(pks(page)) for page in forward] == [4, 4, 4, 2]
    for number, page in enumerate(forward, start=1):
        status = f"Page {number} of 4" if cap == 1000 else f"Page {number}<"
        assert status in page.content.decode()
        if number > 1:  # the pages the links lead to are read after a row, not at an offset
            assert "after" in page.wsgi_request.GET

    backward = walk(client, forward[-1].wsgi_request.get_full_path(), rel="prev")
    assert [pks(page) for page in reversed(backward)] == [pks(page) for page in forward]
    assert "Page 1" in backward[-1].content.decode() and "prev" not in links(backward[-1])


@pytest.mark.parametrize("cap", [1000, 5], ids=["counted", "past the cap"])
def test_page_n_costs_the_queries_of_page_one_and_no_offset(library, client, monkeypatch, cap):
    monkeypatch.setattr(CappedPaginator, "cap", cap)
    client.force_login(library.b_member)
    client.get("/resources/")  # warms per-process caches (permission ids, content types)
    pages = walk(client, "/resources/?sort=newest")
    assert len(pages) == 4
    first, *others = pages
    for page in others:
        assert len(page.queries) == len(first.queries), [q["sql"] for q in page.queries]
        [sql] = page_sql(page, "resources_resource")
        assert " OFFSET " not in sql and "COUNT(" not in sql


def test_filters_search_and_sort_are_kept_across_pages(library, client):
    client.force_login(library.b_member)
    pages = walk(client, "/resources/?tlp=amber&q=Report&sort=title")
    shown = [r for page in pages for r in page.context["object_list"]]
    assert len(pages) == 2 and len(shown) == 5 and {r.tlp for r in shown} == {"amber"}
    for page in pages:
        for query in links(page).values():
            kept = {name: parse_qs(query)[name] for name in ("tlp", "q", "sort")}
            assert kept == {"tlp": ["amber"], "q": ["Report"], "sort": ["title"]}


def test_the_links_work_from_a_results_region_htmx_refreshed(library, client):
    client.force_login(library.b_member)
    full = walk(client, "/resources/?sort=title")
    partial = walk(client, "/resources/?sort=title", **HTMX)
    assert "<html" not in partial[1].content.decode()  # the results region alone
    assert [pks(page) for page in partial] == [pks(page) for page in full]


def test_old_page_number_links_still_work(library, client):
    client.force_login(library.b_member)
    by_cursor = walk(client, "/resources/?sort=title")
    by_number = client.get("/resources/?sort=title&page=3")
    assert pks(by_number) == pks(by_cursor[2]) and "Page 3 of 4" in by_number.content.decode()
    assert client.get("/resources/?page=5").status_code == 404  # as before: past the end


def _cursor_url(response, rel="next") -> str:
    return "/resources/?" + links(response)[rel]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda q: q.replace("after=", "after=x"),  # altered
        lambda q: q.replace("after=", "after=") + "A",
        lambda q: "after=not-a-cursor&page=2",
        lambda q: "after=&page=2",
        lambda q: "after=%00&page=2",
        lambda q: "after=" + "A" * 10_000 + "&page=2",
        lambda q: q.replace("page=2", "page=two"),
        lambda q: q.replace("page=2", "page=0"),
        lambda q: q.replace("page=2", f"page={2**70}"),
        lambda q: q.replace("sort=newest", "sort=title"),  # a cursor made for another order
        lambda q: q + "&before=" + parse_qs(q)["after"][0],  # both ways at once
    ],
)
def test_a_link_that_cannot_be_followed_shows_the_first_page_and_says_so(library, client, spoil):
    client.force_login(library.b_member)
    first = client.get("/resources/?sort=newest")
    query = spoil(links(first)["next"])
    response = client.get(f"/resources/?{query}")
    assert response.status_code == 200
    assert FIRST_PAGE_AGAIN in response.content.decode()
    first_page = QueryDict(query, mutable=True)
    for name in ("page", "after", "before"):
        first_page.pop(name, None)
    assert pks(response) == pks(client.get(f"/resources/?{first_page.urlencode()}"))


def test_a_cursor_at_a_row_the_person_cannot_see_only_narrows_what_they_see(library, client):
    """Even a cursor made from a hidden row (a person cannot make one: cursors are encrypted
    and authenticated) shows only visible rows after its place, and nothing of the row."""
    client.force_login(library.b_member)
    hidden = library.hidden
    keyset = Keyset.of(Resource.objects.order_by("-created_at", "pk"))
    token = keyset.token(hidden)
    response = client.get(f"/resources/?sort=newest&after={token}&page=2")
    body = response.content.decode()
    assert response.status_code == 200 and hidden.title not in body
    older = [
        r
        for r in sorted(visible(library.b_member), key=ORDERS["newest"])
        if (r.created_at, -r.pk) < (hidden.created_at, -hidden.pk)
    ]
    assert pks(response) == [r.pk for r in older][:4]
    # The same answer as a cursor at the same place that names no row at all.
    nowhere = type("Nowhere", (), {"pk": 10**9, "created_at": hidden.created_at})()
    elsewhere = client.get(f"/resources/?sort=newest&after={keyset.token(nowhere)}&page=2")
    assert pks(elsewhere) == pks(response)


def test_a_cursor_past_the_last_row_shows_the_first_page(library, client):
    client.force_login(library.b_member)
    last = walk(client, "/resources/?sort=newest")[-1]
    query = links(last)["prev"].replace("before=", "after=")  # after the last page's first row
    rows = client.get(f"/resources/?{query}")
    assert len(pks(rows)) == 1  # the last page's other row
    after_end = Keyset.of(Resource.objects.order_by("-created_at", "pk")).token(
        type("Oldest", (), {"pk": 1, "created_at": timezone.now() - datetime.timedelta(days=99)})()
    )
    response = client.get(f"/resources/?sort=newest&after={after_end}&page=9")
    assert FIRST_PAGE_AGAIN in response.content.decode() and len(pks(response)) == 4


def test_cursors_do_not_show_the_rows_values(library, client):
    client.force_login(library.b_member)
    query = links(client.get("/resources/?sort=title"))["next"]
    cursor = parse_qs(urlsplit("?" + query).query)["after"][0]
    assert "Report" not in cursor and set(cursor) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
