"""The REST API base: authentication, the directory, member lists, errors, schema and docs."""

import re

from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portal import services


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.rotate_api_token(actor=user).key}")
    return client


def test_me_returns_user_organisation_and_roles(world):
    body = token_client(world.a_pm).get("/api/v1/me/").json()
    assert body["username"] == "atl-pm"
    assert body["organisation"]["slug"] == world.a.slug
    assert body["organisation"]["country"] == "EE"
    assert body["roles"] == ["programme_manager"]
    assert "id" not in body  # a user's id is sequential: it would count every nation's accounts


def test_anonymous_call_is_401_with_a_json_message():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert response.json()["message"] == "Authentication credentials were not provided."


def test_a_wrong_token_is_refused(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/me/").status_code == 401


def test_directory_is_paginated_filterable_and_searchable(world):
    client = token_client(world.c_member)
    page = client.get("/api/v1/organisations/?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    finnish = client.get("/api/v1/organisations/?country=FI").json()["results"]
    assert [org["slug"] for org in finnish] == [world.b.slug]
    found = client.get("/api/v1/organisations/?search=caldera").json()["results"]
    assert [org["slug"] for org in found] == [world.c.slug]


def test_member_list_is_visible_to_own_organisation_and_404_to_others(world):
    own = token_client(world.a_member).get(f"/api/v1/organisations/{world.a.slug}/members/")
    assert own.status_code == 200
    usernames = {row["username"] for row in own.json()["results"]}
    assert usernames == {"atl-admin", "atl-pm", "atl-member-9f3k"}

    other = token_client(world.c_member).get(f"/api/v1/organisations/{world.a.slug}/members/")
    assert other.status_code == 404
    assert other.json() == {"message": "Not found.", "code": "not_found"}
    assert "atl-member" not in other.content.decode()


def test_unknown_api_address_is_json_404(world):
    client = token_client(world.a_member)
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_write_methods_on_the_read_only_directory_are_refused(world):
    response = token_client(world.a_admin).post("/api/v1/organisations/", {"name": "Mine"})
    assert response.status_code == 405
    assert "not allowed" in response.json()["message"]


def test_schema_and_docs_need_sign_in_and_load_nothing_from_outside(world, client):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(world.a_member)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/organisations/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs)
    assert sources, docs
    assert all(not s.startswith(("http:", "https:", "//")) for s in sources), sources


def test_profile_page_creates_rotates_and_revokes_the_token(world, client):
    client.force_login(world.a_pm)
    created = client.post("/profile/token/", {"operation": "rotate"})
    first = Token.objects.get(user=world.a_pm).key
    assert first in created.content.decode()
    client.post("/profile/token/", {"operation": "rotate"})
    second = Token.objects.get(user=world.a_pm).key
    assert second != first
    assert first not in client.get("/profile/").content.decode()  # shown once only

    client.post("/profile/token/", {"operation": "revoke"})
    assert not Token.objects.filter(user=world.a_pm).exists()


def test_drf_create_token_command_works(world, capsys):
    call_command("drf_create_token", world.b_member.username)
    key = Token.objects.get(user=world.b_member).key
    assert key in capsys.readouterr().out
