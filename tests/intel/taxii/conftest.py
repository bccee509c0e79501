"""TAXII fixtures: the intel world (A-B agreement in force), API tokens for its people, and
a client that speaks TAXII 2.1 as partners' tools do (Basic auth with username and token)."""

import base64

import pytest
from django.test import Client

from intel import collections
from portal import services as portal_services

TAXII = "application/taxii+json;version=2.1"


def token_of(user) -> str:
    """The person's API token, created as they would on their profile page."""
    return portal_services.rotate_api_token(actor=user).key


def basic(user, token: str) -> str:
    credentials = f"{user.get_username()}:{token}".encode()
    return "Basic " + base64.b64encode(credentials).decode()


class TaxiiClient:
    """Django's test client, sending what a TAXII 2.1 client sends."""

    def __init__(self, user=None, token=None):
        self.client = Client()
        self.headers = {"Accept": TAXII}
        if user is not None:
            self.headers["Authorization"] = basic(user, token or token_of(user))

    def get(self, url, params=None, **headers):
        return self.client.get(url, params or {}, headers={**self.headers, **headers})

    def post(self, url, body, content_type=TAXII, **headers):
        return self.client.post(
            url, body, content_type=content_type, headers={**self.headers, **headers}
        )

    def delete(self, url, **headers):
        return self.client.delete(url, headers={**self.headers, **headers})


def collection_url(agreement) -> str:
    return f"/taxii2/api/collections/{collections.agreement_collection_id(agreement.reference)}/"


@pytest.fixture
def taxii(intel):
    """The intel world; `taxii.as_(user)` gives a TAXII client signed in as that person,
    `taxii.token(user)` their API token (made once)."""
    tokens = {}

    def token(user):
        if user.pk not in tokens:
            tokens[user.pk] = token_of(user)
        return tokens[user.pk]

    intel.extra["token"] = token
    intel.extra["as_"] = lambda user: TaxiiClient(user, token(user))
    intel.extra["ab_url"] = collection_url(intel.ab_agreement)
    return intel
