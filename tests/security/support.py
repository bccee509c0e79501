"""What the abuse tests share: clients, sending a registry request, and "did anything change"."""

from __future__ import annotations

import contextlib
import json

from django.apps import apps
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test import Client
from rest_framework.test import APIClient

from portal.models import AuditEvent

#: Apps whose rows an attack must not create, change or remove.
WATCHED_APPS = {
    "portal",
    "agreements",
    "resources",
    "intel",
    "projects",
    "auth",
    "authtoken",
    "account",
    "mfa",
    "guardian",
}
#: Rows that change on every request of a signed-in person, attack or not.
UNWATCHED_MODELS = {"portal.auditevent", "usersessions.usersession"}
#: Audit events that record a refusal, a read or a sign-in, not a change.
NOT_CHANGES = (
    "access.refused",
    "resource.viewed",
    "auth.signed_in",
    "auth.sign_in_failed",
    "auth.reauthentication_failed",
)


def client_for(user=None, *, api: bool = False, csrf: bool = False, raise_errors: bool = True):
    """A client signed in as user; with raise_errors=False a crash is a 500 response, so a
    test can list every input that crashes instead of stopping at the first."""
    client = APIClient(enforce_csrf_checks=csrf) if api else Client(enforce_csrf_checks=csrf)
    client.raise_request_exception = raise_errors
    if user is not None:
        client.force_login(user)
    return client


def send(client, write, estate, data=None, *, url=None, **extra):
    """Send write's request (or the same request with other data) as the client's user."""
    url = url or write.url(estate)
    data = write.data(estate) if data is None else data
    if write.is_api:
        fmt = "multipart" if write.multipart else "json"
        return getattr(client, write.method.lower())(url, data, format=fmt, **extra)
    return client.post(url, data, **extra)


def changes() -> tuple:
    """Row counts of every watched table, and the number of audit events that record a
    change. Every write goes through a service that records one, so an update that leaves the
    counts alone still moves the second number."""
    tables = [
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in WATCHED_APPS
        and model._meta.label_lower not in UNWATCHED_MODELS
        and not model._meta.proxy
    ]
    quote = connection.ops.quote_name
    # Table names come from the models, never from input.
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        row = cursor.fetchone()
    audited = AuditEvent.objects.exclude(action__in=NOT_CHANGES).count()
    return dict(zip(tables, row, strict=True)), audited


def describe_change(before: tuple, after: tuple) -> str:
    moved = {t: (before[0][t], after[0][t]) for t in before[0] if before[0][t] != after[0][t]}
    latest = list(
        AuditEvent.objects.exclude(action__in=NOT_CHANGES)
        .order_by("-id")
        .values_list("action", flat=True)[: max(after[1] - before[1], 0)]
    )
    return f"rows {moved}, new audit events {latest}"


@contextlib.contextmanager
def rolled_back():
    """Whatever happens inside is undone afterwards (a savepoint of the test's transaction)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def snapshot(obj) -> dict:
    """The object's stored field values, fresh from the database."""
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    return model_to_dict(fresh, fields=[f.name for f in fresh._meta.concrete_fields])


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def json_message(response) -> str:
    try:
        data = json.loads(body_text(response))
    except ValueError:
        return ""
    return data.get("message", "") if isinstance(data, dict) else ""


def form_errors(response) -> dict:
    """The errors of the form a page re-rendered, or {} when there is none."""
    context = getattr(response, "context", None)
    if not context:
        return {}
    for key in ("form", "token_form"):
        try:
            form = context[key]
        except KeyError:
            continue
        if form is not None and hasattr(form, "errors"):
            return dict(form.errors)
    return {}
