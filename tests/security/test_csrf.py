"""Cross-site request forgery: a page on another site makes the victim's browser send a write
with the victim's cookies. Every write must be refused without the CSRF token, and nothing may
change. The writes are every route found by walking the URLconf (tests/security/writes.py),
allauth's account pages and the htmx share dialog included."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.access.routes import Route
from tests.security.support import changes, client_for, describe_change, rolled_back, send
from tests.security.writes import API_WRITES, WEB_WRITES, allauth_write_routes

SECRET = "SecAbuseCsrfSecret0123456789abcd"  # a CSRF secret is 32 characters


def _with_token(client) -> None:
    client.cookies["csrftoken"] = SECRET


@pytest.mark.parametrize("write", WEB_WRITES, ids=str)
def test_web_write_without_csrf_token_is_refused_and_changes_nothing(estate, write):
    client = client_for(write.user(estate), csrf=True)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with rolled_back():
            before = changes()
            if method == "POST":
                response = send(client, write, estate)
            else:
                response = client.generic(method, write.url(estate), "x=1")
            assert response.status_code == 403, f"{method} {write} without a token"
            assert changes() == before, describe_change(before, changes())

    # The same request with the token goes through: the refusal above was the token's doing.
    _with_token(client)
    before = changes()
    response = send(client, write, estate, {**write.data(estate), "csrfmiddlewaretoken": SECRET})
    assert response.status_code != 403, response.content[:400]
    assert changes() != before


@pytest.mark.parametrize("write", WEB_WRITES[:1] + WEB_WRITES[-1:], ids=str)
def test_a_valid_token_from_a_foreign_origin_is_refused(estate, write):
    client = client_for(write.user(estate), csrf=True)
    _with_token(client)
    before = changes()

    response = send(
        client,
        write,
        estate,
        {**write.data(estate), "csrfmiddlewaretoken": SECRET},
        HTTP_ORIGIN="http://evil.example",
    )

    assert response.status_code == 403
    assert changes() == before


def test_a_forged_token_is_refused(estate):
    write = next(w for w in WEB_WRITES if w.route == "agreements:create")
    client = client_for(estate.a_pm, csrf=True)
    _with_token(client)
    before = changes()

    response = send(client, write, estate, {**write.data(estate), "csrfmiddlewaretoken": "A" * 32})

    assert response.status_code == 403
    assert changes() == before


@pytest.mark.parametrize("write", [w for w in API_WRITES if w.session], ids=str)
def test_api_write_with_a_session_but_no_csrf_token_is_refused(estate, write):
    """The API takes the browser's session too: a forged request must not ride on it."""
    client = client_for(write.user(estate), api=True, csrf=True)
    before = changes()

    response = send(client, write, estate)

    assert response.status_code == 403, response.content[:300]
    assert "CSRF" in response.json()["message"]
    assert changes() == before, describe_change(before, changes())

    _with_token(client)
    response = send(client, write, estate, HTTP_X_CSRFTOKEN=SECRET)
    assert response.status_code in (200, 201), response.content[:300]


@pytest.mark.parametrize("write", [w for w in API_WRITES if not w.session], ids=str)
def test_a_credentials_endpoint_ignores_the_session(estate, write):
    """An endpoint that takes a password in its body needs no CSRF token, because a session
    cookie gives it nothing: a forged request without the password gets nowhere."""
    client = client_for(estate.a_admin, api=True, csrf=True)
    before = changes()

    response = send(client, write, estate, {})

    assert response.status_code == 400
    assert changes() == before


# --- Allauth's account pages --------------------------------------------------------------


ALLAUTH_DATA = {
    "account_login": lambda e: {"login": e.a_member.username, "password": e.password},
    "account_change_password": lambda e: {
        "oldpassword": e.password,
        "password1": "a-brand-new-passphrase-42",
        "password2": "a-brand-new-passphrase-42",
    },
    "account_reset_password": lambda e: {"email": e.a_member.email},
    "account_reauthenticate": lambda e: {"password": e.password},
    "account_email": lambda e: {"action_add": "", "email": "sec-extra@atl.example"},
    "account_set_password": lambda e: {
        "password1": "a-brand-new-passphrase-42",
        "password2": "a-brand-new-passphrase-42",
    },
}


def _allauth_url(route: Route) -> str:
    return route.url({name: "1" for name in route.kwarg_names})  # any key: it is never read


@pytest.mark.parametrize("route", allauth_write_routes(), ids=lambda r: r.name)
def test_account_page_write_without_csrf_token_is_refused(estate, route):
    data = ALLAUTH_DATA.get(route.name, lambda e: {})(estate)
    for user in (None, estate.a_member):
        client = client_for(user, csrf=True)
        with rolled_back():
            before = changes()
            response = client.post(_allauth_url(route), data)
            assert response.status_code == 403, f"{route.name} as {user}: {response.status_code}"
            assert changes() == before, describe_change(before, changes())


def test_sign_in_without_csrf_token_does_not_sign_in(estate):
    client = client_for(csrf=True)

    client.post(reverse("account_login"), ALLAUTH_DATA["account_login"](estate))

    assert "_auth_user_id" not in client.session
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_sign_out_without_csrf_token_leaves_the_session(estate):
    """A forged sign-out is a nuisance attack (log the victim out mid-signature)."""
    client = client_for(estate.a_member, csrf=True)

    assert client.post(reverse("account_logout")).status_code == 403

    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_password_change_without_csrf_token_keeps_the_password(estate):
    client = client_for(estate.a_member, csrf=True)

    client.post(reverse("account_change_password"), ALLAUTH_DATA["account_change_password"](estate))

    estate.a_member.refresh_from_db()
    assert estate.a_member.check_password(estate.password)


# --- htmx -------------------------------------------------------------------------------------


def test_htmx_share_without_csrf_header_is_refused(estate):
    write = next(w for w in WEB_WRITES if w.route == "resources:share")
    client = client_for(estate.a_pm, csrf=True)
    before = changes()

    response = send(client, write, estate, HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    assert changes() == before


def test_htmx_requests_carry_the_pages_csrf_token(estate):
    """base.html hands htmx the token in hx-headers; a request with it goes through."""
    write = next(w for w in WEB_WRITES if w.route == "resources:share")
    client = client_for(estate.a_pm, csrf=True)
    page = client.get(reverse("resources:detail", args=[estate.a_strict.pk]))
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.content.decode())
    assert token, "the page gives htmx no CSRF token"
    before = changes()

    response = send(client, write, estate, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token.group(1))

    assert response.status_code == 200, response.content[:300]
    assert response["HX-Redirect"] == estate.a_strict.get_absolute_url()
    assert changes() != before
