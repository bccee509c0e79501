"""Intelligence fixtures: the A-B agreement in force, and STIX objects built for tests."""

import uuid

import pytest

from intel import services, stix
from tests.resources.conftest import sharing  # noqa: F401  (the fixture)

NOW = "2026-11-30T10:00:00.000Z"


def indicator(value="198.51.100.7", *, stix_id=None, modified=NOW, **extra):
    """A STIX 2.1 indicator of an IPv4 address, as partners' tools send it."""
    data = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": NOW,
        "modified": modified,
        "name": f"C2 server {value}",
        "description": "Command and control server seen in a phishing campaign.",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": NOW,
        "indicator_types": ["malicious-activity"],
    }
    data.update(extra)
    return data


def bundle(*objects):
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def store(world, *objects, actor=None, **kwargs):
    """Objects imported by A's programme manager (or actor), through the one import path."""
    result = services.import_objects(actor=actor or world.a_pm, raw=bundle(*objects), **kwargs)
    return result.stored


def share_with_b(world, obj, **kwargs):
    return services.share_object(
        actor=world.a_pm, obj=obj, agreement=world.ab_agreement, recipient=world.b, **kwargs
    )[0]


@pytest.fixture
def intel(sharing):  # noqa: F811  (the fixture imported above)
    """The resources' sharing world (A-B agreement in force, AMBER ceiling, threat
    intelligence and incidents); A's identity for created_by_ref."""
    sharing.extra["a_identity"] = stix.identity_id(sharing.a)
    return sharing
