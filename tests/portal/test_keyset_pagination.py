"""Previous and Next by cursor on lists other than the library: a nullable sort column (an
agreement's end date), a sort through a relation (members by last name) and the order's
NULLs, the same on PostgreSQL and SQLite (portal.pagination)."""

import datetime

import pytest
from django.utils import timezone

from agreements.models import Agreement
from agreements.views import AgreementListView
from portal import access
from portal.models import Membership
from portal.pagination import CappedPaginator, KeysetPaginator
from portal.views import MemberListView
from tests.agreements.conftest import draft_between
from tests.factories import UserFactory
from tests.paging import links, pks, walk

NONE_LAST = datetime.date.max  # PostgreSQL's order: NULL after every date, ascending


@pytest.fixture
def agreements(people, monkeypatch):
    """Eight of A's agreements, three to a page: two end on the same day, three never end."""
    monkeypatch.setattr(AgreementListView, "paginate_by", 3)
    today = timezone.localdate()
    ends = [None, 30, 30, None, 10, 400, None, 5]
    for n, days in enumerate(ends):
        draft_between(
            people,
            title=f"Exchange {n}",
            expires_on=None if days is None else today + datetime.timedelta(days=days),
        )
    return people


@pytest.mark.parametrize("cap", [1000, 4], ids=["counted", "past the cap"])
def test_agreements_by_end_date_page_through_undated_ones_last(
    agreements, client, cap, monkeypatch
):
    monkeypatch.setattr(CappedPaginator, "cap", cap)
    client.force_login(agreements.a_member)
    mine = access.visible_to(agreements.a_member, Agreement.objects.all())
    expected = [a.pk for a in sorted(mine, key=lambda a: (a.expires_on or NONE_LAST, a.pk))]
    assert len(expected) == 8

    forward = walk(client, "/agreements/?sort=expires")
    assert [pk for page in forward for pk in pks(page)] == expected
    assert len(forward) == 3 and len({len(page.queries) for page in forward[1:]}) == 1
    backward = walk(client, forward[-1].wsgi_request.get_full_path(), rel="prev")
    assert [pks(page) for page in reversed(backward)] == [pks(page) for page in forward]


def test_members_by_last_name_page_through_the_relation(world, client, monkeypatch):
    monkeypatch.setattr(MemberListView, "paginate_by", 2)
    for n in range(5):  # three share a last name
        UserFactory(organisation=world.a, username=f"atl-{n}", last_name=f"Tamm{min(n, 2)}")
    client.force_login(world.a_member)
    members = Membership.objects.filter(organisation=world.a).select_related("user")
    expected = [m.pk for m in sorted(members, key=lambda m: (m.user.last_name, m.pk))]

    url = f"/organisations/{world.a.slug}/members/?sort=name"
    client.get(url)  # warms per-process caches (permission ids, content types)
    forward = walk(client, url)
    assert [pk for page in forward for pk in pks(page)] == expected
    first, *others = forward
    assert all(len(page.queries) == len(first.queries) for page in others)
    assert "Tamm2" not in links(first)["next"]  # the cursor does not spell the name out
    backward = walk(client, forward[-1].wsgi_request.get_full_path(), rel="prev")
    assert [pks(page) for page in reversed(backward)] == [pks(page) for page in forward]


def _walk_paginator(queryset, per_page=2) -> tuple[list, list]:
    """Every row by cursor pages forward from page 1, then back from the last page."""
    paginator = KeysetPaginator(queryset, per_page)
    pages = [paginator.page(1)]
    while pages[-1].has_next():
        pages.append(paginator.cursor_page(pages[-1].next_cursor, number=len(pages) + 1))
    back = [pages[-1]]
    while back[-1].has_previous():
        back.append(paginator.cursor_page(back[-1].previous_cursor, backwards=True, number=1))
    forward = [row.pk for page in pages for row in page]
    return forward, [row.pk for page in back[::-1] for row in page]


@pytest.mark.parametrize(
    "ordering, key",
    [
        (("expires_on", "pk"), lambda a: (a.expires_on or NONE_LAST, a.pk)),
        (("-expires_on", "pk"), lambda a: (-(a.expires_on or NONE_LAST).toordinal(), a.pk)),
        (("-expires_on", "-pk"), lambda a: (-(a.expires_on or NONE_LAST).toordinal(), -a.pk)),
    ],
    ids=["ascending", "descending", "descending both"],
)
def test_nulls_sort_as_the_largest_value_on_every_database(agreements, ordering, key):
    rows = Agreement.objects.filter(title__startswith="Exchange")
    expected = [a.pk for a in sorted(rows, key=key)]
    forward, backward = _walk_paginator(rows.order_by(*ordering))
    assert forward == expected and backward == expected


def test_an_order_that_is_not_total_pages_by_number(agreements):
    paginator = KeysetPaginator(Agreement.objects.order_by("title"), 2)
    assert paginator.keyset is None and paginator.page(1).next_cursor == ""
