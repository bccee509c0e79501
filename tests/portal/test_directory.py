"""The organisation directory page: filters, search, sorting, pagination and htmx partials."""

from tests.access.test_matrix import matrix_world  # noqa: F401  (a fixture)
from tests.factories import OrganisationFactory, UserFactory


def test_directory_filters_by_kind_and_country(world, client):
    client.force_login(world.c_member)
    body = client.get("/organisations/?country=FI").content.decode()
    assert "Borealis Cyber Centre" in body and "Atlantis National CSIRT" not in body


def test_the_country_filter_offers_only_countries_the_directory_holds(world, client):
    client.force_login(world.c_member)
    response = client.get("/organisations/")
    field = response.context["filterset"].form.fields["country"]
    offered = [code for code, _ in field.widget.choices]
    # The world's three nations (EE, FI, PL), after "Any country"; nothing else.
    assert offered == ["", "EE", "FI", "PL"]
    body = response.content.decode()
    assert ">Finland</option>" in body and ">Sweden</option>" not in body
    # Any country code still filters: one with no organisation finds none, with no error.
    empty = client.get("/organisations/?country=SE")
    assert empty.status_code == 200 and empty.context["paginator"].count == 0


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


def test_organisation_picker_suggests_directory_matches_by_name_or_short_name(world, client):
    client.force_login(world.c_member)
    by_name = client.get("/suggest/organisations/?field=owner&owner=borea").content.decode()
    assert by_name == '<option value="bor-ncsc">Borealis Cyber Centre</option>\n'
    by_slug = client.get("/suggest/organisations/?field=party&party=ATL-").content.decode()
    assert 'value="atl-csirt"' in by_slug and "bor-ncsc" not in by_slug


def test_organisation_picker_suggests_at_most_twenty(world, client):
    for n in range(25):
        OrganisationFactory(name=f"Zeta Partner {n:02d}", slug=f"zeta-{n:02d}")
    client.force_login(world.a_member)
    body = client.get("/suggest/organisations/?field=owner&owner=zeta").content.decode()
    assert body.count("<option") == 20
    assert "Zeta Partner 00" in body and "Zeta Partner 20" not in body  # by name


def test_organisation_picker_needs_a_session(world, client):
    response = client.get("/suggest/organisations/?field=owner&owner=borea")
    assert response.status_code == 302 and "Borealis" not in response.content.decode()


def test_list_filters_name_an_organisation_by_short_name_without_listing_them_all(
    matrix_world,  # noqa: F811  (the imported fixture)
    client,
):
    world = matrix_world  # A's agreement, resource and project, all visible to A's manager
    for n in range(30):
        OrganisationFactory(name=f"Zeta Partner {n:02d}", slug=f"zeta-{n:02d}")
    client.force_login(world.a_pm)
    for url, field in (
        ("/resources/", "owner"),
        ("/agreements/", "party"),
        ("/projects/", "participant"),
    ):
        page = client.get(url)
        body = page.content.decode()
        assert f'name="{field}"' in body and f'list="id_{field}-options"' in body
        assert "Zeta Partner" not in body  # no option per organisation in the page
        assert page.context["paginator"].count > 0
        assert client.get(f"{url}?{field}={world.a.slug}").context["paginator"].count > 0

        unknown = client.get(f"{url}?{field}=no-such-org")
        body = unknown.content.decode()
        assert unknown.status_code == 200 and unknown.context["paginator"].count == 0
        assert "No organisation has the short name “no-such-org”." in body
        assert "The filters are not valid, so nothing is shown" in body


def test_the_organisation_filter_does_not_confirm_a_hidden_organisation(world, client):
    from portal import services

    hidden = OrganisationFactory(name="Dormant Agency", slug="dormant-agency")
    member = UserFactory(organisation=hidden, username="dormant-member")
    services.update_organisation(actor=world.staff, organisation=hidden, is_active=False)
    client.force_login(world.c_member)
    for url, field in (("/resources/", "owner"), ("/agreements/", "party")):
        answers = [
            client.get(f"{url}?{field}={slug}").content.decode()
            for slug in (hidden.slug, "never-existed")
        ]
        assert f"No organisation has the short name “{hidden.slug}”." in answers[0]
        assert "No organisation has the short name “never-existed”." in answers[1]
    api = client.get(f"/api/v1/resources/?owner={hidden.slug}")
    assert api.status_code == 400 and "dormant-agency" in api.content.decode()
    # Its own members hold none of its grants while it is inactive: not even it.
    client.force_login(member)
    assert "No organisation has" in client.get(f"/resources/?owner={hidden.slug}").content.decode()
