"""Shared fixtures: a small world of three nations, and helpers to sign people in."""

import os
import uuid
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.core.cache import caches
from django.db import connection

from portal.models import Organisation, Role
from tests.factories import OrganisationFactory, UserFactory, platform_staff

ALL_ROLES = tuple(Role.values)

#: Under `--dist loadfile` these are handed out before everything else, so that the suite does
#: not end waiting on them: the schema fuzzer's two runs (minutes each; each is a unit of work
#: of its own, so that they run side by side on two workers), then the browser tests (few
#: tests per file, but long ones; by file, one after the other, so a worker opens Chromium
#: once). The other files follow, those with the most tests first (xdist's order).
LONG_TESTS = ("tests/fuzz/",)
FIRST = (*LONG_TESTS, "tests/e2e/")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` (as `make test` runs): a worker gets whole test files, so a module's
    world (the access matrix's, the security estate) is built once; FIRST goes first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            if nodeid.startswith(LONG_TESTS):
                return nodeid
            return nodeid.split("::", 1)[0]

        def _assign_work_unit(self, node):
            first = [scope for scope in self.workqueue if scope.startswith(FIRST)]
            first.sort(key=lambda scope: not scope.startswith(LONG_TESTS))
            for scope in reversed(first):
                self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return FileScheduling(config, log)


@dataclass
class World:
    """Nation A owns things, nation B is A's partner, nation C is unrelated to both."""

    a: Organisation
    b: Organisation
    c: Organisation
    a_admin: object  # holds every role in A
    a_pm: object
    a_member: object  # A, no role
    b_member: object
    c_member: object
    staff: object
    extra: dict = field(default_factory=dict)

    def __getattr__(self, name):
        # Fixtures add people and objects to `extra`; they read like the fields above.
        try:
            return self.__dict__["extra"][name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture(autouse=True, scope="session")
def _lists_kept():
    """The suite runs with lists kept (portal.list_cache), as production does with Redis: a
    list that outlived a write would fail the test that wrote and read it again."""
    from django.conf import settings

    settings.LIST_CACHE = True


@pytest.fixture(autouse=True)
def _fresh_fragments():
    """Each test starts with no cached page fragments (the embedded default keeps them in
    this process's memory)."""
    from django.core.cache import caches

    caches["fragments"].clear()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def fragments(request, settings):
    """The "fragments" cache in this process's memory (the embedded default), then in
    Redis (as production and the benchmark run), under a key prefix of this test's own."""
    if request.param == "memory":
        yield caches["fragments"]
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    # Parallel workers and earlier runs never meet this test's keys.
    prefix = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        "fragments": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    yield caches["fragments"]
    # Only this prefix's keys: clear() would empty the database other workers share.
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def world(db) -> World:
    return make_world()


def make_world() -> World:
    """The three nations and their people (for fixtures of wider scope than one test)."""
    a = OrganisationFactory(name="Atlantis National CSIRT", slug="atl-csirt", country="EE")
    b = OrganisationFactory(name="Borealis Cyber Centre", slug="bor-ncsc", country="FI")
    c = OrganisationFactory(name="Caldera Defence Agency", slug="cal-defence", country="PL")
    world = World(
        a=a,
        b=b,
        c=c,
        a_admin=UserFactory(organisation=a, username="atl-admin", roles=ALL_ROLES),
        a_pm=UserFactory(organisation=a, username="atl-pm", roles=[Role.PROGRAMME_MANAGER]),
        a_member=UserFactory(organisation=a, username="atl-member-9f3k"),
        b_member=UserFactory(organisation=b, username="bor-member"),
        c_member=UserFactory(organisation=c, username="cal-member"),
        staff=platform_staff(),
    )
    mail.outbox.clear()  # the world's own invitations are not what tests look at
    return world


@pytest.fixture
def people(world):
    """Signatories and programme managers on both sides of an A-B agreement."""
    world.extra.update(
        a_signatory=UserFactory(
            organisation=world.a, username="atl-signatory", roles=[Role.SIGNATORY]
        ),
        b_pm=UserFactory(organisation=world.b, username="bor-pm", roles=[Role.PROGRAMME_MANAGER]),
        b_signatory=UserFactory(
            organisation=world.b, username="bor-signatory", roles=[Role.SIGNATORY]
        ),
    )
    return world


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")
