"""TAXII 2.1 against the live server, with clients nobody here wrote: taxii2-client and
stix2's TAXIICollectionSource, as partners' tools use them (Basic auth: username and API
token). Each test is a whole story, as the live server is slow to set up."""

import uuid

import pytest
import requests
import stix2
from django.utils import timezone
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import ApiRoot, Collection, Server, Status, as_pages

from agreements import services as agreement_services
from intel import markings, services
from tests.intel.conftest import indicator, share_with_b, store
from tests.intel.taxii.conftest import collection_url

MARKINGS = list(markings.TLP2_IDS.values())
VALIDATION = ValidationOptions(version="2.1")


def _shared(world, *objects):
    stored = store(world, *objects)
    for obj in stored:
        share_with_b(world, obj)
    return stored


def _collection(live_server, world, user, **known):
    """The A-B collection as taxii2-client reaches it by its URL, without listing first;
    with collection_info, as a client that assumes what it is (and so asks its endpoints
    without asking for the collection first)."""
    url = live_server.url + collection_url(world.ab_agreement)
    return Collection(url, user=user.username, password=world.token(user), **known)


def _malware():
    now = "2026-11-30T10:00:00.000Z"
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": "Borealis loader",
        "is_family": True,
    }


@pytest.fixture
def live(taxii, live_server):
    taxii.extra["root"] = live_server.url + "/taxii2/"
    return taxii


def test_partner_b_discovers_pages_polls_and_filters_with_independent_clients(live, live_server):
    first = indicator("198.51.100.1", modified="2026-11-30T10:00:00.000Z")
    objects = _shared(live, first, *(indicator(f"198.51.100.{n}") for n in range(2, 7)))
    store(live, dict(first, modified="2026-11-30T11:00:00.000Z", name="C2 server, updated"))
    (malware,) = _shared(live, _malware())

    server = Server(live.root, user=live.b_member.username, password=live.token(live.b_member))
    assert server.default.url == live.root + "api/"
    (api_root,) = server.api_roots
    titles = [c.title for c in api_root.collections]
    assert titles == [live.ab_agreement.reference, "bor-ncsc sightings"]
    collection = api_root.collections[0]

    pages = list(as_pages(collection.get_objects, per_request=4))
    received = [obj for page in pages for obj in page.get("objects", [])]
    assert len(pages) == 3
    # The updated indicator's newest version was added last but for the malware: by date added.
    assert [o["id"] for o in received] == [
        *MARKINGS,
        *(o.stix_id for o in objects[1:]),
        objects[0].stix_id,
        malware.stix_id,
    ]
    assert received[10]["modified"] == "2026-11-30T11:00:00.000Z"
    for obj in received:
        result = validate_instance(obj, VALIDATION)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])

    manifest = collection.get_manifest()["objects"]
    last_poll = manifest[-1]["date_added"]
    (newer,) = _shared(live, indicator("198.51.100.99"))
    assert [o["id"] for o in collection.get_objects(added_after=last_poll)["objects"]] == [
        newer.stix_id
    ]

    assert [o["id"] for o in collection.get_objects(type="malware")["objects"]] == [malware.stix_id]
    updated = objects[0].stix_id
    by_version = {
        version: [
            o["modified"] for o in collection.get_objects(id=updated, version=version)["objects"]
        ]
        for version in ("first", "last", "all")
    }
    assert by_version == {
        "first": ["2026-11-30T10:00:00.000Z"],
        "last": ["2026-11-30T11:00:00.000Z"],
        "all": ["2026-11-30T10:00:00.000Z", "2026-11-30T11:00:00.000Z"],
    }
    assert len(collection.object_versions(updated)["versions"]) == 2

    source = stix2.TAXIICollectionSource(collection)
    indicators = source.query([stix2.Filter("type", "=", "indicator")])
    assert {o.id for o in indicators} == {o.stix_id for o in objects} | {newer.stix_id}
    assert source.get(updated).name == "C2 server, updated"
    assert len(source.all_versions(updated)) == 2
    assert {o.id for o in source.query([stix2.Filter("type", "=", "marking-definition")])} == set(
        MARKINGS
    )


def test_nation_c_with_the_same_clients_reaches_nothing_of_the_ab_collection(live, live_server):
    (obj,) = _shared(live, indicator())
    c = live.c_member
    api_root = ApiRoot(live.root + "api/", user=c.username, password=live.token(c))
    assert [col.title for col in api_root.collections] == ["cal-defence sightings"]

    with pytest.raises(requests.HTTPError) as refused:
        _collection(live_server, live, c).refresh()
    assert refused.value.response.status_code == 404
    guessed = _collection(live_server, live, c, collection_info=_assumed(live))
    for call in (
        guessed.get_objects,
        guessed.get_manifest,
        lambda: guessed.get_object(obj.stix_id),
        lambda: guessed.object_versions(obj.stix_id),
        lambda: guessed.add_objects({"objects": [indicator()]}),
    ):
        with pytest.raises(requests.HTTPError) as refused:
            call()
        assert refused.value.response.status_code == 404

    source = stix2.TAXIICollectionSource(api_root.collections[0])
    assert {o.id for o in source.query()} == set(MARKINGS)
    assert source.get(obj.stix_id) is None


def _assumed(world) -> dict:
    """What a client that guessed the A-B collection's id would assume of it."""
    collection_id = collection_url(world.ab_agreement).rstrip("/").rsplit("/", 1)[-1]
    return {"id": collection_id, "title": "guessed", "can_read": True, "can_write": True}


def test_after_revocation_and_termination_the_clients_receive_nothing(live, live_server):
    kept, revoked = _shared(live, indicator("198.51.100.1"), indicator("198.51.100.2"))
    collection = _collection(live_server, live, live.b_member)
    source = stix2.TAXIICollectionSource(collection)
    assert {kept.stix_id, revoked.stix_id} <= {o.id for o in source.query()}

    services.revoke_share(actor=live.a_pm, share=revoked.shares.get())
    assert revoked.stix_id not in {o["id"] for o in collection.get_objects()["objects"]}
    assert revoked.stix_id not in {o["id"] for o in collection.get_manifest()["objects"]}
    assert source.get(revoked.stix_id) is None
    with pytest.raises(requests.HTTPError):
        collection.object_versions(revoked.stix_id)
    assert kept.stix_id in {o.id for o in source.query()}

    agreement_services.terminate(
        actor=live.a_admin,
        agreement=live.ab_agreement,
        reason="The exchange ends.",
        effective_on=timezone.localdate(),
    )
    with pytest.raises(requests.HTTPError):
        collection.get_objects()
    with pytest.raises(stix2.datastore.DataSourceError):
        source.query()
    assert source.get(kept.stix_id) is None


def test_a_programme_manager_adds_objects_and_reads_the_status(live, live_server):
    collection = _collection(live_server, live, live.a_pm)
    good, bad = indicator("198.51.100.50"), indicator(pattern="[nonsense")
    status = collection.add_objects({"objects": [good, bad]})
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (2, 1, 1)
    assert status.successes[0]["id"] == good["id"]
    assert status.failures[0]["id"] == bad["id"] and status.failures[0]["message"]

    again = Status(status.url, user=live.a_pm.username, password=live.token(live.a_pm))
    assert again.success_count == 1
    b_collection = _collection(live_server, live, live.b_member)
    assert good["id"] in {o["id"] for o in b_collection.get_objects()["objects"]}
