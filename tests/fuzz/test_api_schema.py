"""Schemathesis against the live OpenAPI schema: every operation, as an admin of each nation.

The schema is loaded from /api/schema/ through the site's WSGI application, so an endpoint is
fuzzed the moment it is routed. Each operation gets FUZZ_EXAMPLES generated requests (50 by
default, the same ones every run; `make fuzz` runs many more with fresh seeds), valid and
deliberately invalid by the schema. Most name objects that exist (the nation's own, the
partner's and ones hidden from it), so they get past the lookup to the code behind it.

Every example runs in a savepoint that is rolled back, so each starts from the same world,
which is built once per test. Every response is checked against the schema, and whatever
objects it shows are replayed as the other nation's admin (tests/fuzz/tenancy.py).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.tenancy import ApiMap, TenancyProbe, current_probe, no_cross_tenant_leak

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
#: CI runs the same examples every time; `make fuzz` explores with fresh seeds.
RANDOM = os.environ.get("FUZZ_RANDOM", "") == "1"
#: Only operations whose label contains this (for instance "milestones"), when set.
ONLY = os.environ.get("FUZZ_OPERATIONS", "")

#: Built-in checks that say something about this API. Left out, and why:
#: - negative_data_rejection: DRF serves some schema-violating requests on purpose, and
#:   rightly: a bad page_size falls back to the default, a repeated query parameter takes its
#:   last value, a number is accepted as a string, unreadable multipart parts are ignored.
#:   Invalid requests are still sent: they must not crash and their refusals must match the
#:   schema;
#: - positive_data_acceptance: input the schema allows is still refused by rules a schema
#:   cannot state (dates in order, the state machine, the caller's role), rightly, with
#:   400, 403 or 409;
#: - ignored_auth: every route's refusal of anonymous callers is asserted by tests/access,
#:   and probing each success again without and with a wrong token would triple the calls;
#: - object_level_authorization: no_cross_tenant_leak does this with the access policy as
#:   the ground truth instead of guessing who owns what;
#: - use_after_free, ensure_resource_availability: need stateful sequences of calls (and
#:   the API deletes nothing); missing_required_header, unsupported_method and
#:   allow_header_conformance judge the coverage phase's requests, not generated ones;
#: - max_response_time: time on a shared CI machine is not a property of the API.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    no_cross_tenant_leak,
]

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=not RANDOM,
    database=None,
    deadline=None,
    print_blob=RANDOM,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    # Schemathesis filters what cannot be sent (a path parameter with a slash, say), and its
    # requests are large: neither is a problem of the code under test.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@pytest.mark.parametrize(
    ("actor_name", "other_name"),
    [("a_admin", "b_admin"), ("b_admin", "a_admin")],
    ids=["as-atlantis-admin", "as-borealis-admin"],
)
def test_every_operation_keeps_to_its_schema_and_to_its_tenant(
    actor_name, other_name, fuzz_world, wsgi_app, subtests
):
    world = fuzz_world
    actor, other = getattr(world, actor_name), getattr(world, other_name)
    auth = {"Authorization": f"Token {world.tokens[actor.pk]}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, headers=auth)
    api = ApiMap(schema.raw_schema)
    clients = [_client(world, user) for user in (actor, other)]
    known = api.known_keys(lambda url: [_json(client.get(url)) for client in clients])
    probe = TenancyProbe(api, recorder=actor, other=other, client=clients[1])
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if ONLY in operation.label]
    assert operations, f"the schema has no operation matching {ONLY!r}"

    token = current_probe.set(probe)
    try:
        for operation in operations:
            with subtests.test(msg=operation.label):
                ran = _fuzz(_cases(operation, api, known), auth)
                assert ran >= EXAMPLES, f"{operation.label}: {ran} of {EXAMPLES} examples ran"
    finally:
        current_probe.reset(token)

    if not ONLY:
        # The cross-tenant check must have had something to check: objects the other
        # nation may not see, and objects shared with it.
        assert probe.checked["hidden"] > 0, f"{probe.direction}: nothing hidden was replayed"
        assert probe.checked["allowed"] > 0, f"{probe.direction}: nothing shared was replayed"


def _fuzz(cases, auth: dict) -> int:
    """Send the generated requests and check each response; return how many were sent."""
    sent = 0

    @FUZZ_SETTINGS
    @given(case=cases)
    def example(case):
        nonlocal sent
        sent += 1
        with transaction.atomic():
            response = case.call(headers=auth)
            case.validate_response(response, checks=CHECKS, headers=auth)
            transaction.set_rollback(True)

    example()
    return sent


def _cases(operation, api: ApiMap, known: dict):
    """Valid and invalid requests; three in four name an object that exists."""
    anything = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    collection = api.collection_of(operation.path) if len(operation.path_parameters) else None
    keys = known.get(collection.path, []) if collection else []
    if not keys:
        return anything
    modes = [GenerationMode.POSITIVE]
    if len(operation.query) or operation.body:
        # With every path parameter fixed, only a query or a body is left to make invalid.
        modes.append(GenerationMode.NEGATIVE)
    existing = st.one_of(
        [operation.as_strategy(mode, path_parameters=k) for k in keys for mode in modes]
    )
    return st.integers(0, 3).flatmap(lambda i: existing if i else anything)


def _client(world, user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[user.pk]}")
    return client


def _json(response):
    return response.json() if response.status_code == 200 else None
