"""A curious operator in the admin site: no filter, search, ordering or page is an oracle on a
secret.

The secrets are found by walking the models (portal.secret_fields), and the paths to them by
walking the relations from every registered ModelAdmin, so a new secret or a new admin is
attacked by itself. Staff sign in with their second factor, as they must to use the admin.
For each path, a right guess and a wrong guess at the secret must get the same answer, and
that answer is a refusal: guessing one character at a time learns nothing.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP

from portal import secret_fields
from tests.access.admin_routes import comparable, plant_secrets, secret_values, shown_secrets
from tests.security.support import client_for

#: Secrets the portal keeps today; the walk must find each (it may find more).
KNOWN_SECRETS = {
    "auth.user.password",
    "sessions.session.session_key",
    "sessions.session.session_data",
    "usersessions.usersession.session_key",
    "authtoken.token.key",
    "mfa.authenticator.data",  # TOTP secrets and recovery-code seeds
    "projects.calendarfeed.token",
    "account.emailconfirmation.key",
}
#: Fields whose names come close but that are no secrets: the walk must leave them alone.
KNOWN_NOT_SECRETS = {
    "auth.user.username",
    "auth.user.email",
    "portal.organisation.slug",
    "portal.auditevent.hash",
    "portal.auditevent.prev_hash",
    "agreements.agreement.content_hash",
    "resources.resourceversion.sha256",
}
WRONG = "~~~"  # sorts after every character a key, token or hash is made of


def _cases():
    cases = []
    for model, model_admin in admin.site._registry.items():
        for secret, path in secret_fields.paths_to_secrets(model):
            cases.append(
                pytest.param(model_admin, secret, path, id=f"{model._meta.label_lower}:{path}")
            )
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def planted(estate_once, django_db_blocker):
    with django_db_blocker.unblock():
        plant_secrets(estate_once)
    return estate_once


@pytest.fixture
def staff(planted, db):
    return client_for(planted.staff)


def test_the_walk_finds_every_secret_the_portal_keeps():
    found = {secret_fields.label(field) for field in secret_fields.all_secret_fields()}
    assert found >= KNOWN_SECRETS, f"the walk missed {KNOWN_SECRETS - found}"
    assert not KNOWN_NOT_SECRETS & found, f"not secrets: {KNOWN_NOT_SECRETS & found}"


def test_the_walk_reaches_secrets_from_every_admin():
    """Guards the walk: from the accounts admin it must reach each per-person secret."""
    from django.contrib.auth import get_user_model

    paths = secret_fields.paths_to_secrets(get_user_model())
    reached = {secret_fields.label(secret) for secret, _ in paths}
    for secret in KNOWN_SECRETS - {"sessions.session.session_key", "sessions.session.session_data"}:
        assert secret in reached, secret
    assert CASES, "no admin reaches any secret: the oracle tests below would prove nothing"


def test_a_secret_the_project_marks_is_found_whatever_its_name():
    from django.db import models

    assert secret_fields.is_secret(secret_fields.secret(models.BinaryField()))
    assert not secret_fields.is_secret(models.BinaryField())


@pytest.mark.parametrize(("model_admin", "secret", "path"), CASES)
def test_a_filter_on_a_secret_answers_a_right_and_a_wrong_guess_alike(
    staff, model_admin, secret, path
):
    url = _changelist(model_admin)
    for lookup, right, wrong in _guesses(secret, path):
        key = f"{path}{LOOKUP_SEP}{lookup}"
        right_answer = staff.get(url, {key: right})
        wrong_answer = staff.get(url, {key: wrong})

        assert right_answer.status_code == wrong_answer.status_code == 400, (
            f"?{key}=: {right_answer.status_code} for a right guess, "
            f"{wrong_answer.status_code} for a wrong one"
        )
        assert comparable(right_answer) == comparable(wrong_answer), f"?{key}= tells them apart"


def test_search_answers_a_right_and_a_wrong_guess_alike(planted, staff):
    prefixes = sorted(_secret_prefixes())
    assert prefixes
    for model_admin in admin.site._registry.values():
        url = _changelist(model_admin)
        wrong = _result_pks(staff.get(url, {"q": WRONG * 3}))
        for prefix in prefixes:
            assert _result_pks(staff.get(url, {"q": prefix})) == wrong, f"{url}?q={prefix}"


@pytest.mark.parametrize("model_admin", admin.site._registry.values(), ids=str)
def test_no_column_orders_a_list_by_a_secret(staff, model_admin):
    url = _changelist(model_admin)
    columns = len(staff.get(url).context["cl"].list_display)
    for order in [str(i) for i in range(columns)] + [f"-{i}" for i in range(columns)]:
        response = staff.get(url, {"o": order})
        assert response.status_code == 200, (url, order)
        changelist = response.context["cl"]
        for name in changelist.get_ordering(response.wsgi_request, changelist.root_queryset):
            name = name if isinstance(name, str) else str(name)
            reached = secret_fields.secret_reached(model_admin.model, name.lstrip("-"))
            assert reached is None, f"{url}?o={order} orders by {reached}"


@pytest.mark.parametrize("model_admin", admin.site._registry.values(), ids=str)
def test_no_popup_refers_to_an_object_by_a_secret(staff, model_admin):
    url = _changelist(model_admin)
    secrets = [f for f in model_admin.model._meta.concrete_fields if secret_fields.is_secret(f)]
    for field in secrets:
        response = staff.get(url, {"_to_field": field.name, "_popup": "1"})
        assert response.status_code == 400, f"{url}?_to_field={field.name}"


@pytest.mark.parametrize("model_admin", admin.site._registry.values(), ids=str)
def test_no_page_of_any_object_shows_a_secret(planted, staff, model_admin):
    needles = secret_values()
    model = model_admin.model
    pages = [_changelist(model_admin)]
    opts = model._meta
    for pk in model._base_manager.values_list("pk", flat=True):
        pages += [
            f"/admin/{opts.app_label}/{opts.model_name}/{pk}/change/",
            f"/admin/{opts.app_label}/{opts.model_name}/{pk}/history/",
        ]
    for page in pages:
        body = staff.get(page).content.decode(errors="replace")
        assert not shown_secrets(body, needles), f"{page} shows {shown_secrets(body, needles)}"


def _changelist(model_admin) -> str:
    opts = model_admin.model._meta
    return f"/admin/{opts.app_label}/{opts.model_name}/"


def _guesses(secret, path: str) -> list[tuple[str, str, str]]:
    """(lookup, a right guess, a wrong guess) at a secret: the right one is a value the secret
    field really holds (planted for every secret), so without the guard it would match."""
    value = secret.model._base_manager.exclude(**{f"{secret.attname}__isnull": True})
    value = next(iter(value.values_list(secret.attname, flat=True)), None)
    if value is None:
        pytest.fail(f"Nothing holds {secret_fields.label(secret)}: add one to plant_secrets")
    if isinstance(value, dict):
        leaves = [(k, v) for k, v in value.items() if isinstance(v, str) and v]
        if leaves:
            key, leaf = leaves[0]
            return [(f"{key}{LOOKUP_SEP}startswith", leaf[:3], WRONG)]
        return [("isnull", "False", "True")]
    if not isinstance(value, str) or not value:
        return [("isnull", "False", "True")]
    if path.rsplit(LOOKUP_SEP, 1)[-1] != secret.name:  # the path ends on the relation
        return [("gte", value, WRONG), ("exact", value, WRONG)]
    return [("startswith", value[:3], WRONG), ("exact", value, WRONG), ("gte", value, WRONG)]


def _secret_prefixes() -> set[str]:
    """The first characters of every text value of every secret field."""
    prefixes = set()
    for field in secret_fields.all_secret_fields():
        for value in field.model._base_manager.values_list(field.attname, flat=True):
            if isinstance(value, str) and value:
                prefixes.add(value[:8])
    return prefixes


def _result_pks(response) -> list:
    assert response.status_code == 200, response.status_code
    return [obj.pk for obj in response.context["cl"].result_list]
