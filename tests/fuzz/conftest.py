"""The fuzzing world: the access matrix's world, plus what each nation must not see of the
other's, and the site as a WSGI application that keeps the test's transaction open."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from portal import services
from tests.access import test_matrix
from tests.agreements.conftest import draft_between
from tests.conftest import ALL_ROLES
from tests.factories import UserFactory
from tests.resources.conftest import new_resource

#: The access matrix's world: an A-B agreement in force, A's AMBER report shared with B under
#: it, and A's project with B as a partner, with work packages, a milestone and a deliverable.
matrix_world = test_matrix.matrix_world


@pytest.fixture
def fuzz_world(matrix_world):
    """A and B share an agreement in force, A's AMBER report and A's project. Besides that:

    - hidden from B: A's draft agreement with C and A's unshared report;
    - hidden from A: B's unshared report;
    - both sides have an admin holding every role, with an API token.
    """
    world = matrix_world
    world.extra["b_admin"] = UserFactory(
        organisation=world.b, username="bor-admin", roles=ALL_ROLES
    )
    world.extra["ac_draft"] = draft_between(world, world.a, world.c, title="A-C draft 5K")
    world.extra["a_private"] = new_resource(world, title="Atlantis internal note 2M")
    world.extra["b_private"] = new_resource(
        world, actor=world.b_admin, title="Borealis internal note 4T"
    )
    admins = (world.a_admin, world.b_admin)
    world.extra["tokens"] = {user.pk: services.rotate_api_token(actor=user).key for user in admins}
    return world


@pytest.fixture
def wsgi_app():
    """The site's WSGI application, called in-process inside the test's transaction.

    Django closes "old" connections when a request starts and finishes; on PostgreSQL that
    would end the transaction every example runs in. Django's test client switches this off
    around each request; so does this wrapper.
    """
    from portal.wsgi import application

    def app(environ, start_response):
        # A WSGI server always says who the client is; the audit trail records it.
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = application(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()  # sends request_finished, as a server would
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app
