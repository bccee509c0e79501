"""A hidden object and one that does not exist answer alike (issue 13, timing).

Only a hidden object used to leave a refusal in the trail, so it answered some milliseconds
later than an id that never existed, and the trail itself told the two apart. Now both run
the same queries and record the same refusal. Timing is the bench's business; here the work
is compared directly: every route that names an object (found by walking the URLconf as the
matrix does), as the unrelated nation's member, for a hidden object and for a key that names
nothing.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal import access
from portal import services as portal_services
from portal.models import AuditEvent
from tests.access.routes import all_routes, excluded_reason
from tests.access.test_matrix import _client, _kwargs, _methods, matrix_world, subject_of
from tests.factories import OrganisationFactory

__all__ = ["matrix_world"]  # the fixture, shared with the matrix

#: For each protected model, an object the unrelated member (nation C) cannot see.
HIDDEN = {
    # The directory shows every active organisation; a deactivated one is hidden.
    "portal.organisation": lambda world: world.inactive_organisation,
    "agreements.agreement": lambda world: world.ab_agreement,
    "resources.resource": lambda world: world.a_resource,
    "projects.project": lambda world: world.a_project,
    "intel.stixobject": lambda world: world.a_intel,
}


@pytest.fixture
def alike_world(matrix_world):
    world = matrix_world
    organisation = OrganisationFactory(name="Dormant Agency", slug="dormant-agency")
    world.extra["inactive_organisation"] = portal_services.update_organisation(
        actor=world.staff, organisation=organisation, is_active=False
    )
    return world


def _object_routes():
    """(route, method) for every route whose URL names one protected object."""
    cases = []
    for route in all_routes():
        if excluded_reason(route):
            continue
        for method in _methods(route):
            subject = subject_of(route, method)
            if subject is not None and ("pk" in route.kwarg_names or "slug" in route.kwarg_names):
                cases.append((route, method, subject[0]))
    return cases


CASES = _object_routes()


def test_every_protected_model_is_tried_on_an_html_and_an_api_route():
    """A model added to the access registry is covered here, or this fails until it is."""
    labels = {model._meta.label_lower for model in access.registered_models()}
    assert labels <= set(HIDDEN), f"teach HIDDEN how to hide {sorted(labels - set(HIDDEN))}"
    for label in labels:
        kinds = {route.is_api for route, _, model in CASES if model == label}
        assert kinds == {True, False}, f"{label} needs an HTML and an API route here"


@pytest.mark.parametrize("label", sorted(HIDDEN))
def test_a_hidden_and_a_missing_object_cost_the_same_and_leave_the_same_refusal(alike_world, label):
    """One world per model, every route of it in turn: a failure names each route."""
    failures = [
        problem
        for route, method, model in CASES
        if model == label
        for problem in [_compare(alike_world, route, method, HIDDEN[label](alike_world))]
        if problem
    ]
    assert not failures, "\n".join(failures)


def _compare(world, route, method: str, hidden) -> str:
    """Why the hidden object and a missing one answer route differently; "" if they do not."""
    key = "slug" if "slug" in route.kwarg_names else "pk"
    kwargs = _kwargs(route, world, hidden)
    hidden_url = route.url(kwargs)
    missing_url = route.url({**kwargs, key: _missing_key(type(hidden), getattr(hidden, key))})
    client = _client(route, world, "unrelated")
    client.generic(method, missing_url)  # warm the caches a first request fills

    hidden_answer, hidden_queries, hidden_events = _ask(client, method, hidden_url)
    missing_answer, missing_queries, missing_events = _ask(client, method, missing_url)

    where = f"{method} {route}"
    if not hidden_answer == missing_answer == 404:
        return f"{where}: {hidden_answer} for a hidden object, {missing_answer} for a missing one"
    if len(hidden_queries) != len(missing_queries):
        return (
            f"{where}: {len(hidden_queries)} queries for a hidden object, "
            f"{len(missing_queries)} for a missing one"
        )
    if _shapes(hidden_queries) != _shapes(missing_queries):
        return f"{where}: the queries differ between a hidden object and a missing one"
    if [_refusal(e) for e in hidden_events] != [_refusal(e) for e in missing_events]:
        return f"{where}: the trail records a hidden object and a missing one differently"
    if [e.action for e in hidden_events] != ["access.refused"]:
        return f"{where}: recorded {[e.action for e in hidden_events]}, not one refusal"
    refusal = hidden_events[0]
    if refusal.object_id != str(getattr(hidden, key)) or refusal.object_repr:
        return f"{where}: the refusal records {refusal.object_repr!r}, not only the key asked"
    return ""


def _ask(client, method: str, url: str):
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with CaptureQueriesContext(connection) as queries:
        response = client.generic(method, url)
    events = list(AuditEvent.objects.filter(id__gt=last).order_by("id"))
    return response.status_code, [q["sql"] for q in queries.captured_queries], events


def _missing_key(model, example):
    """A key of the same kind as the hidden object's that names no row."""
    if isinstance(example, int):
        return (model._default_manager.order_by("-pk").values_list("pk", flat=True).first()) + 10**6
    if isinstance(example, uuid.UUID):
        return uuid.uuid4()
    return f"no-such-{model._meta.model_name}-{uuid.uuid4().hex[:8]}"


def _shapes(queries: list[str]) -> list[str]:
    """The queries with their values taken out: only the keys asked for may differ."""
    shapes = []
    for sql in queries:
        sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
        shapes.append(re.sub(r"\d+", "0", sql))
    return shapes


def _refusal(event: AuditEvent) -> tuple:
    """Everything a refusal records but its time, its hashes and the key that was asked."""
    details = {k: v for k, v in event.details.items() if k != "ip"}
    return (
        event.action,
        event.actor_id,
        event.actor_organisation_id,
        event.organisation_id,
        event.object_type,
        event.object_repr,
        details,
        event.history,
    )
