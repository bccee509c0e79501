"""The admin site's routes, found by walking the URLconf, and the secrets no admin page may show,
found by walking the models; a newly registered admin, or a new secret, is covered by itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory

from portal import secret_fields
from tests.access.routes import Route, all_routes
from tests.factories import PASSWORD

#: The views Django's ModelAdmin routes for each model, by the end of their URL name.
MODEL_VIEWS = ("changelist", "add", "history", "delete", "change")
#: The admin site's own views, by URL name.
SITE_VIEWS = (
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
)


@dataclass(frozen=True)
class AdminRoute:
    """One route of the admin site: the ModelAdmin it belongs to (None for the site's own
    views) and which view it is."""

    route: Route
    model_admin: object | None
    view: str

    def url(self, world) -> str:
        return self.route.url(_kwargs(self, world))

    def __str__(self) -> str:
        owner = self.model_admin.model._meta.label_lower if self.model_admin else "site"
        return f"{owner}:{self.view}"


def admin_routes() -> list[AdminRoute]:
    """Every route under the admin site's URLs, each told apart by what it shows."""
    found = []
    for route in all_routes():
        if not route.name.startswith("admin:"):
            continue
        model_admin = _model_admin_of(route)
        found.append(AdminRoute(route, model_admin, _view_of(route, model_admin)))
    return found


def staff_request(user):
    """A request by user, for asking a ModelAdmin what it permits."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def sign_in_for_real(username: str, user_agent: str = "AdminProbe/1.0") -> Client:
    """A client signed in through the sign-in page, as a person is: the session is recorded
    in allauth's user sessions, with its key, address and browser."""
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def plant_secrets(world) -> None:
    """Give nation A's people one of every secret the portal keeps, through the same doors
    real use takes: a signed-in session, an API token, a calendar feed, an authenticator app
    with recovery codes, and an email confirmation key."""
    from allauth.account.models import EmailAddress, EmailConfirmation
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from portal import services
    from projects import feed
    from tests.factories import enrol_totp

    member, admin_user = world.a_member, world.a_admin
    sign_in_for_real(member.username)
    services.rotate_api_token(actor=member)
    feed.create_calendar_feed(actor=member)
    if not admin_user.authenticator_set.exists():
        enrol_totp(admin_user)
    RecoveryCodes.activate(admin_user)
    address, _ = EmailAddress.objects.get_or_create(
        user=member, email=member.email, defaults={"primary": True, "verified": False}
    )
    EmailConfirmation.create(address)


def secret_values() -> dict[str, str]:
    """Every stored value of every secret field (and the parts a page could show of it, such
    as a hash's salt), each mapped to the field's label."""
    needles = {}
    for field in secret_fields.all_secret_fields():
        manager = field.model._base_manager
        for value in manager.values_list(field.attname, flat=True):
            for needle in _needles(value):
                needles[needle] = secret_fields.label(field)
    return needles


def shown_secrets(body: str, needles: dict[str, str]) -> list[str]:
    """The labels of the secrets whose value, or part of it, is in body."""
    return sorted({label for needle, label in needles.items() if needle in body})


def comparable(response) -> str:
    """A response's body without what differs between any two requests: CSRF tokens and CSP
    nonces. Two answers that are equal here tell the asker nothing apart."""
    body = response.content.decode(errors="replace")
    body = re.sub(r'(nonce=")[^"]*', r"\1", body)
    body = re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*', r"\1", body)
    return body


def _needles(value) -> list[str]:
    if isinstance(value, dict):
        return [n for item in value.values() for n in _needles(item)]
    if isinstance(value, list | tuple):
        return [n for item in value for n in _needles(item)]
    if not isinstance(value, str) or len(value) < 12:
        return []
    # The whole value, and the start of each long part: Django's password display, for one,
    # shows a hash's first six characters. Six digits alone could be any number on a page.
    parts = re.findall(r"[A-Za-z0-9]{16,}", value)
    return [value, *(part[:10] if part[:6].isdigit() else part[:6] for part in parts)]


def _model_admin_of(route: Route):
    match = re.match(r"admin/(\w+)/(\w+)/", route.pattern)
    if not match:
        return None
    for model, model_admin in admin.site._registry.items():
        if (model._meta.app_label, model._meta.model_name) == match.groups():
            return model_admin
    return None


def _view_of(route: Route, model_admin) -> str:
    name = route.name.removeprefix("admin:")
    if model_admin is not None:
        prefix = f"{model_admin.model._meta.app_label}_{model_admin.model._meta.model_name}_"
        if name.startswith(prefix):
            return name.removeprefix(prefix)
        if not name and route.kwarg_names == ["object_id"]:
            return "object_redirect"  # "<id>/" redirects to the change page
    if not name and route.kwarg_names == ["url"]:
        return "catch_all"
    return name


def _kwargs(entry: AdminRoute, world) -> dict:
    values = {}
    for name in entry.route.kwarg_names:
        if name == "object_id" and entry.model_admin is not None:
            values[name] = _target(entry.model_admin.model, world).pk
        elif name == "object_id":  # view_on_site: an organisation's public directory entry
            values[name] = world.a.pk
        elif name == "content_type_id":
            values[name] = ContentType.objects.get_for_model(world.a).pk
        elif name == "app_label":
            values[name] = next(iter(admin.site._registry))._meta.app_label
        elif name == "url":
            values[name] = "no-such-page/"
        else:
            raise AssertionError(f"Teach the admin matrix what <{name}> means in {entry.route}")
    return values


def _target(model, world):
    """The object of nation A a model's pages are opened on, or the newest of its kind."""
    known = {
        get_user_model(): world.a_member,
        type(world.a): world.a,
        type(world.a_member.membership): world.a_member.membership,
    }
    return known.get(model) or model._default_manager.order_by("pk").last()
