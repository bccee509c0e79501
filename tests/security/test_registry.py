"""The write registry is complete, and each of its requests really writes: every abuse test
that varies them starts from a request the portal accepts."""

import pytest

from tests.security.support import changes, client_for, form_errors, send
from tests.security.writes import NOT_WRITES, WRITES, write_routes


def test_every_write_route_has_a_valid_request():
    known = {(w.route, w.method) for w in WRITES}
    missing = [
        f"{method} {route}"
        for route, method in write_routes()
        if (route.name, method) not in known and route.name not in NOT_WRITES
    ]
    assert not missing, f"Add a valid request to tests/security/writes.py for: {missing}"


@pytest.mark.parametrize("write", WRITES, ids=str)
def test_the_valid_request_is_accepted_and_writes(estate, write):
    client = client_for(write.user(estate), api=write.is_api)
    before = changes()

    response = send(client, write, estate)

    assert response.status_code in (200, 201, 302), (response.status_code, response.content[:600])
    assert not form_errors(response), form_errors(response)
    assert changes() != before, f"{write} changed nothing"
