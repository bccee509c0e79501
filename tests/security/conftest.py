"""The estate is built once per module and shared by its tests, each in its own savepoint."""

import pytest
from django.db import transaction

from tests.security.estate import build_estate


@pytest.fixture(scope="module")
def estate_once(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        estate = build_estate()
        yield estate
        transaction.set_rollback(True)


@pytest.fixture
def estate(estate_once, db):
    """The module's estate; whatever a test writes is rolled back after it."""
    return estate_once
