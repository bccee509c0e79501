"""Security headers on real responses, pages and API alike; our own error pages, with no
stack trace or internal name, when DEBUG is off."""

import re

import pytest
from rest_framework.test import APIClient

from portal import views
from portal.api import views as api_views


def directives(csp: str) -> dict[str, str]:
    return {part.split()[0]: part for part in (p.strip() for p in csp.split(";")) if part}


@pytest.fixture
def page(world, client):
    client.force_login(world.a_member)
    return client.get("/", secure=True)


@pytest.fixture
def api_response(world):
    api = APIClient()
    api.force_authenticate(world.a_member)
    return api.get("/api/v1/me/", secure=True)


def test_scripts_run_only_from_our_origin_or_with_this_response_nonce(page):
    csp = directives(page["Content-Security-Policy"])
    script_src = csp["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    scripts = re.findall(r"<script\b[^>]*>", page.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"


def test_a_fresh_nonce_for_every_response(world, client):
    client.force_login(world.a_member)
    first = client.get("/")["Content-Security-Policy"]
    second = client.get("/")["Content-Security-Policy"]
    assert first != second


@pytest.mark.parametrize("response_name", ["page", "api_response"])
def test_transport_referrer_permissions_and_caching_headers(request, response_name):
    response = request.getfixturevalue(response_name)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert response["Referrer-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    assert "camera=()" in permissions and "geolocation=()" in permissions
    assert "microphone=()" in permissions
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_error_responses_carry_the_headers_too(world, client):
    client.force_login(world.a_member)
    response = client.get("/agreements/999999/")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    assert "Permissions-Policy" in response


def test_a_crash_shows_our_page_without_internals(world, client, monkeypatch):
    def broken(self, **kwargs):
        raise RuntimeError("secret_internal_table_name exploded")

    monkeypatch.setattr(views.DashboardView, "get_context_data", broken)
    client.raise_request_exception = False
    client.force_login(world.a_member)

    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret_internal_table_name" not in body
    assert "Traceback" not in body and "RuntimeError" not in body


def test_an_api_crash_is_json_without_internals(world, monkeypatch):
    def broken(self, request):
        raise RuntimeError("secret_internal_table_name exploded")

    monkeypatch.setattr(api_views.MeView, "get", broken)
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(world.a_member)

    response = api.get("/api/v1/me/")
    assert response.status_code == 500
    assert response.json() == {"message": "Server error.", "code": "server_error"}


def test_not_found_is_our_page_not_django_debug(world, client):
    client.force_login(world.a_member)
    body = client.get("/no/such/page/").content.decode()
    assert "Page not found" in body or "not found" in body.lower()
    assert "URLconf" not in body and "Using the URLconf" not in body
    assert "portal.urls" not in body
