"""Lists count up to a cap (portal.pagination): exact below it, "more than" above it, and
Previous/Next keep working past it, on pages and in the API."""

import pytest
from rest_framework.test import APIClient

from portal.pagination import CappedPaginator
from tests.factories import OrganisationFactory


@pytest.fixture
def crowded_directory(world, monkeypatch):
    """Twelve more organisations, and a cap of five, so that the directory is over it."""
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    for n in range(12):
        OrganisationFactory(name=f"Zeta Partner {n:02d}", slug=f"zeta-{n:02d}", country="SE")
    return world


def test_a_list_below_the_cap_is_counted_exactly(crowded_directory, client):
    client.force_login(crowded_directory.a_member)
    body = client.get("/organisations/?q=Borealis").content.decode()
    assert "1 result<" in body and "More than" not in body


def test_a_list_past_the_cap_says_more_than_it_counted(crowded_directory, client):
    client.force_login(crowded_directory.a_member)
    # 12 Swedish organisations fit on one page of 25, but the count stops past five.
    response = client.get("/organisations/?country=SE&sort=name")
    body = response.content.decode()
    assert "More than 5 results" in body and body.count("Zeta Partner") == 12
    assert 'rel="next"' not in body
    assert client.get("/organisations/?country=SE&sort=name&page=2").status_code == 404


def test_paging_past_the_cap_reaches_every_row_once(crowded_directory, client, monkeypatch):
    from portal.views import OrganisationListView

    monkeypatch.setattr(OrganisationListView, "paginate_by", 4)
    client.force_login(crowded_directory.a_member)
    seen, number = [], 1
    while True:
        response = client.get(f"/organisations/?country=SE&sort=name&page={number}")
        body = response.content.decode()
        assert "More than 5 results" in body and f"Page {number}</span>" in body
        seen += [f"Zeta Partner {n:02d}" for n in range(12) if f"Zeta Partner {n:02d}" in body]
        if 'rel="next"' not in body:
            break
        number += 1
    assert number == 3 and seen == [f"Zeta Partner {n:02d}" for n in range(12)]
    assert client.get("/organisations/?country=SE&sort=name&page=4").status_code == 404
    assert client.get(f"/organisations/?page={2**70}").status_code == 404


def test_the_api_says_when_its_count_is_capped(crowded_directory):
    client = APIClient()
    client.force_authenticate(crowded_directory.a_member)
    listing = client.get("/api/v1/organisations/?page_size=10").json()
    assert listing["count"] == 5 and listing["count_capped"] is True
    assert len(listing["results"]) == 10 and listing["next"]
    rest = client.get(listing["next"]).json()
    assert rest["next"] is None and len(rest["results"]) == 15 - 10  # A, B, C and 12 more

    exact = client.get("/api/v1/organisations/?search=Borealis").json()
    assert exact["count"] == 1 and exact["count_capped"] is False
