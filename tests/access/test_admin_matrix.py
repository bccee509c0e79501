"""The admin site in the matrix: every admin route, found by walking the URLconf, as everyone.

Only platform staff with a second factor get in. Everyone else (anonymous, partners, an
organisation admin with a second factor, staff without one) is sent to sign in or refused and
never sees an admin page. Staff open every page without a crash; no page shows a secret (every
stored value of every secret field, found by walking the models), and whatever a request
changes is in the audit trail. A newly registered admin, or a new view of one, is covered
the moment it is routed; a view of a kind the matrix does not know fails until someone decides.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal.models import AuditEvent
from tests.access.admin_routes import (
    MODEL_VIEWS,
    SITE_VIEWS,
    admin_routes,
    plant_secrets,
    secret_values,
    shown_secrets,
    staff_request,
)
from tests.security.support import NOT_CHANGES

REFUSED = ["anonymous", "unrelated", "partner_admin", "staff_without_mfa"]
#: Where a refused person may be sent: the admin's sign-in (which sends them on), the portal's
#: sign-in, the second-factor page, or the admin's index (after "sign out" there).
REFUSED_LOCATIONS = ("/admin/login/", "/accounts/login/", "/accounts/2fa/", "/admin/")

ROUTES = admin_routes()


@pytest.fixture
def admin_world(world):
    plant_secrets(world)
    world.extra["staff_without_mfa"] = get_user_model().objects.create_superuser(
        "staff-no-2fa", "no-2fa@portal.example", "unused-password-1"
    )
    return world


def test_the_admin_matrix_finds_every_admin_and_the_site_views():
    """Guards the walker: if it found nothing, every test below would pass vacuously."""
    from django.contrib import admin

    models = {entry.model_admin.model for entry in ROUTES if entry.model_admin is not None}
    assert models == set(admin.site._registry)
    views = {entry.view for entry in ROUTES}
    assert {*MODEL_VIEWS, "index", "login", "app_list", "view_on_site"} <= views


def test_every_admin_route_is_a_view_the_matrix_knows():
    """A ModelAdmin that adds its own view (a set-password page, say) fails here until
    someone decides what staff may do with it."""
    model_views, site_views = {*MODEL_VIEWS, "object_redirect"}, {*SITE_VIEWS, "catch_all"}
    unknown = [
        str(entry.route)
        for entry in ROUTES
        if entry.view not in (model_views if entry.model_admin else site_views)
    ]
    assert not unknown, f"Admin views the matrix does not know: {unknown}"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("entry", ROUTES, ids=str)
def test_nobody_but_staff_with_a_second_factor_gets_an_admin_page(admin_world, entry, method):
    url = entry.url(admin_world)
    for user_kind in REFUSED:
        response = _client(admin_world, user_kind).generic(method, url)
        where = f"{method} {url} as {user_kind}"
        assert response.status_code in (302, 403), f"{where}: {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith(REFUSED_LOCATIONS), where


@pytest.mark.parametrize("entry", ROUTES, ids=str)
def test_staff_open_every_admin_page_and_none_shows_a_secret(admin_world, entry):
    needles = secret_values()
    assert needles, "the world holds no secrets: the scan below would prove nothing"
    url = entry.url(admin_world)

    response = _client(admin_world, "staff").get(url)

    assert response.status_code in _expected_statuses(admin_world, entry), (
        f"GET {url} as staff: {response.status_code}"
    )
    body = response.content.decode(errors="replace")
    assert not shown_secrets(body, needles), f"{url} shows {shown_secrets(body, needles)}"


@pytest.mark.parametrize("entry", ROUTES, ids=str)
def test_whatever_staff_change_in_the_admin_is_audited(admin_world, entry):
    """An empty POST to every admin route: whatever it changes of the admin's rows, a new
    audit event by staff says so."""
    url = entry.url(admin_world)
    client = _client(admin_world, "staff")
    before, events = _admin_rows(), _audited_changes()

    response = client.post(url, {})

    assert response.status_code < 500, f"POST {url} as staff crashed"
    if _admin_rows() != before:
        new = AuditEvent.objects.filter(pk__gt=events, actor=admin_world.staff)
        assert new.exclude(action__in=NOT_CHANGES).exists(), f"POST {url} changed rows unaudited"


def _expected_statuses(world, entry) -> set[int]:
    request = staff_request(world.staff)
    model_admin = entry.model_admin
    view = entry.view
    if view in ("changelist", "change", "history", "index", "app_list", "jsi18n"):
        return {200}
    if view == "add":
        return {200} if model_admin.has_add_permission(request) else {403}
    if view == "delete":
        return {200} if model_admin.has_delete_permission(request) else {403}
    if view in ("object_redirect", "view_on_site", "login", "password_change"):
        return {302}
    if view == "password_change_done":
        return {302}
    if view == "logout":
        return {405}  # signing out takes a POST
    if view == "autocomplete":
        return {403}  # no admin offers autocompletion; a request without its fields is refused
    if view == "catch_all":
        return {404}
    pytest.fail(f"No expectation for the admin view {view!r}; add one.")


def _client(world, user_kind: str) -> Client:
    client = Client()
    user = {
        "anonymous": None,
        "unrelated": world.c_member,
        "partner_admin": world.a_admin,
        "staff_without_mfa": world.staff_without_mfa,
        "staff": world.staff,
    }[user_kind]
    if user is not None:
        client.force_login(user)
    return client


def _admin_rows() -> dict:
    from django.contrib import admin

    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for model in admin.site._registry
    }


def _audited_changes() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
