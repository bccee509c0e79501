"""The API documentation a partner's developer reads: operations grouped by area, each saying
what it does, who may do it and what it answers, and where a token comes from; the docs page
keeps the portal's header and a way back."""

import re

import pytest
import yaml

from portal.api.docs import TAGS

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
AREAS = ["account", "organisations", "agreements", "resources", "projects", "intel", "audit"]


@pytest.fixture
def schema(world, client):
    client.force_login(world.a_member)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_is_grouped_under_one_area(schema):
    assert [tag["name"] for tag in schema["tags"]] == AREAS
    assert all(tag["description"] for tag in schema["tags"])
    stray = {
        name: operation.get("tags")
        for name, operation in operations(schema)
        if operation.get("tags", [None])[0] not in AREAS or len(operation["tags"]) != 1
    }
    assert not stray, stray  # no "v1" or "api" catch-all
    tags = {name: operation["tags"][0] for name, operation in operations(schema)}
    assert tags["GET /api/v1/agreements/"] == "agreements"
    assert tags["POST /api/v1/resources/{id}/shares/"] == "resources"
    assert tags["POST /api/v1/projects/{id}/milestones/{item_pk}/submit/"] == "projects"
    assert tags["GET /api/v1/organisations/{slug}/members/"] == "organisations"
    assert tags["GET /api/v1/me/"] == tags["POST /api/v1/auth/token/"] == "account"
    assert tags["GET /api/v1/intel/objects/"] == "intel"
    # Every area listed holds something: none is an empty heading.
    assert set(tags.values()) == set(AREAS) == {tag["name"] for tag in TAGS}


def test_every_operation_says_what_it_does_who_may_and_what_it_answers(schema):
    vague = []
    descriptions = {}
    for name, operation in operations(schema):
        text = operation.get("description", "")
        does, _, rest = text.partition("\n\n**Who may:** ")
        who, _, answers = rest.partition("\n\n**Answers:** ")
        if not (does.strip() and who.strip() and answers.strip()):
            vague.append(name)
        descriptions[name] = text
    assert not vague, vague
    # Each action its own words, not the viewset's docstring repeated.
    assert len(set(descriptions.values())) == len(descriptions)
    assert "signatory" in descriptions["POST /api/v1/agreements/{id}/sign/"]
    assert "404" in descriptions["GET /api/v1/agreements/{id}/"]


def test_the_schema_says_where_a_token_comes_from(schema):
    description = schema["info"]["description"]
    assert "profile page" in description and "API token" in description
    assert "POST /api/v1/auth/token/" in description
    assert "Authorization: Token <key>" in description


def test_the_docs_page_keeps_the_portal_header_and_a_way_back(world, client):
    client.force_login(world.a_member)
    page = client.get("/api/docs/").content.decode()
    header = re.search(r'<header class="topbar">.*?</header>', page, re.S).group()
    assert 'href="/"' in header and "Cooperation Portal" in header
    assert 'aria-label="Main"' in header and "Sign out" in header
    assert re.search(r'<a href="/">Back to the portal</a>', page)
    assert '<div id="swagger-ui"' in page
    # Where the token comes from, linked.
    assert re.search(r'<a href="/profile/#token-heading">[^<]*API token', page)
    # Scripts from our origin, none inline (the CSP allows none).
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
