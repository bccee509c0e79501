"""The organisation directory page: filters, search, sorting, pagination and htmx partials."""

from tests.factories import OrganisationFactory


def test_directory_filters_by_kind_and_country(world, client):
    client.force_login(world.c_member)
    body = client.get("/organisations/?country=FI").content.decode()
    assert "Borealis Cyber Centre" in body and "Atlantis National CSIRT" not in body


def test_directory_paginates_and_keeps_filters_across_pages(world, client):
    for n in range(30):
        OrganisationFactory(name=f"Zeta Partner {n:02d}", slug=f"zeta-{n:02d}", country="SE")
    client.force_login(world.a_member)

    first = client.get("/organisations/?country=SE&sort=name")
    assert first.context["paginator"].count == 30
    assert "Page 1 of 2" in first.content.decode()
    assert "country=SE&amp;sort=name&amp;page=2" in first.content.decode()
    second = client.get("/organisations/?country=SE&sort=name&page=2").content.decode()
    assert "Zeta Partner 29" in second and "Zeta Partner 00" not in second


def test_sorting_ignores_unknown_keys(world, client):
    client.force_login(world.a_member)
    response = client.get("/organisations/?sort=group__name")
    assert response.status_code == 200 and response.context["sort"] == "name"


def test_htmx_filter_request_gets_only_the_results(world, client):
    client.force_login(world.a_member)
    response = client.get("/organisations/?q=borealis", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Borealis Cyber Centre" in body
    assert "<html" not in body and "filter-bar" not in body


def test_empty_search_says_so(world, client):
    client.force_login(world.a_member)
    assert (
        "Nothing matches these filters"
        in client.get("/organisations/?q=nothing-like-this").content.decode()
    )
