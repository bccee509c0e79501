"""TAXII 2.1 as a partner's tool meets it, through Django's test client: discovery, media
types, credentials, filters, paging, POST and status. The independent clients are in
test_clients.py, against the live server."""

import datetime
import json
import uuid

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services as agreement_services
from intel import collections, markings, services
from intel.models import CollectionEntry
from portal import throttle
from portal.models import AuditEvent
from tests.agreements.conftest import draft_between, fresh_reauth, sign_by_all
from tests.factories import UserFactory
from tests.intel.conftest import indicator, share_with_b, store
from tests.intel.taxii.conftest import TAXII, TaxiiClient, basic, collection_url

MARKINGS = list(markings.TLP2_IDS.values())


def shared(world, *objects):
    """A's objects, stored and shared with B under the A-B agreement, in this order."""
    stored = store(world, *objects)
    for obj in stored:
        share_with_b(world, obj)
    return stored


def ids(response, key="objects"):
    return [item["id"] for item in response.json().get(key, [])]


def walk(client, url, **params):
    """Every page of a listing, following next; the pages' responses."""
    pages = [client.get(url, params)]
    while pages[-1].json().get("more"):
        pages.append(client.get(url, {**params, "next": pages[-1].json()["next"]}))
        assert len(pages) < 50
    return pages


# --- Discovery, media types, credentials ------------------------------------------------------


def test_discovery_names_the_one_api_root_and_the_root_its_limits(taxii, settings):
    settings.INTEL_MAX_BUNDLE_BYTES = 123_456
    b = taxii.as_(taxii.b_member)
    discovery = b.get("/taxii2/")
    assert discovery.status_code == 200
    assert discovery["Content-Type"] == TAXII
    root = "http://testserver/taxii2/api/"
    assert discovery.json()["api_roots"] == [root] and discovery.json()["default"] == root
    about = b.get("/taxii2/api/").json()
    assert about["versions"] == [TAXII]
    assert about["max_content_length"] == 123_456


def test_without_credentials_or_with_a_wrong_token_the_answer_is_401_with_a_basic_challenge(
    taxii,
):
    for client in (
        TaxiiClient(),
        TaxiiClient(taxii.b_member, "0" * 40),
        TaxiiClient(taxii.b_member, "password"),  # the password is not the token
    ):
        response = client.get("/taxii2/api/collections/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith('Basic realm="')
        assert response.json()["http_status"] == "401"
    failed = AuditEvent.objects.filter(action="auth.sign_in_failed")
    assert failed.filter(details__reason="taxii_token").count() == 2


def test_the_api_token_header_works_as_well_as_basic(taxii):
    key = taxii.as_(taxii.b_member).headers["Authorization"]  # creates the token
    token = taxii.b_member.auth_token.key
    assert key == basic(taxii.b_member, token)
    client = TaxiiClient()
    response = client.get("/taxii2/api/", Authorization=f"Token {token}")
    assert response.status_code == 200


def test_repeated_wrong_tokens_lock_taxii_for_a_while_but_not_the_web_sign_in(taxii, settings):
    settings.THROTTLE_PER_ACCOUNT = (3, 600)
    for _ in range(3):
        assert TaxiiClient(taxii.b_member, "f" * 40).get("/taxii2/").status_code == 401
    locked = taxii.as_(taxii.b_member).get("/taxii2/")
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert locked.json()["http_status"] == "429"
    throttle.check(throttle.SIGN_IN, login=taxii.b_member.username, ip="127.0.0.1")  # no raise


def test_a_client_that_does_not_accept_taxii_2_1_gets_406(taxii):
    b = taxii.as_(taxii.b_member)
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        response = b.get("/taxii2/api/", Accept=accept)
        assert response.status_code == 406, accept
        assert response.json() == {
            "title": "Not acceptable",
            "description": response.json()["description"],
            "http_status": "406",
        }
    for accept in ("*/*", "application/taxii+json", "text/html, application/*;q=0.5"):
        assert b.get("/taxii2/api/", Accept=accept).status_code == 200, accept


def test_a_post_that_is_not_taxii_2_1_or_too_large_is_refused(taxii, settings):
    url = taxii.ab_url + "objects/"
    a = taxii.as_(taxii.a_pm)
    envelope = json.dumps({"objects": [indicator()]})
    assert a.post(url, envelope, content_type="application/json").status_code == 415
    assert a.post(url, envelope, content_type="application/stix+json").status_code == 415
    settings.INTEL_MAX_BUNDLE_BYTES = 200
    too_large = a.post(url, envelope)
    assert too_large.status_code == 413 and too_large.json()["http_status"] == "413"
    assert not services.StixObject.objects.exists()


def test_a_browser_session_posts_only_with_its_csrf_token(taxii):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(taxii.a_pm)
    envelope = json.dumps({"objects": [indicator()]})
    response = browser.post(taxii.ab_url + "objects/", envelope, content_type=TAXII)
    assert response.status_code == 403 and "CSRF" in response.json()["description"]
    assert not services.StixObject.objects.exists()


def test_objects_cannot_be_deleted(taxii):
    (obj,) = shared(taxii, indicator())
    response = taxii.as_(taxii.a_pm).delete(taxii.ab_url + f"objects/{obj.stix_id}/")
    assert response.status_code == 405 and response.json()["http_status"] == "405"


# --- Collections -----------------------------------------------------------------------------


def test_partner_b_lists_the_agreement_collection_and_its_own_sightings(taxii):
    listed = taxii.as_(taxii.b_member).get("/taxii2/api/collections/").json()["collections"]
    agreement, sightings = listed
    assert agreement == {
        "id": collections.agreement_collection_id(taxii.ab_agreement.reference),
        "title": taxii.ab_agreement.reference,
        "description": agreement["description"],
        "can_read": True,
        "can_write": False,  # B's member without a role adds no intelligence
        "media_types": ["application/stix+json;version=2.1"],
    }
    assert sightings["can_write"] is True  # anyone reports sightings
    by_pm = taxii.as_(taxii.b_pm).get(taxii.ab_url).json()
    assert by_pm["can_write"] is True


def test_nation_c_finds_nothing_of_the_ab_collection_anywhere(taxii):
    (obj,) = shared(taxii, indicator())
    c = taxii.as_(taxii.c_member)
    listed = c.get("/taxii2/api/collections/").json()["collections"]
    assert [entry["title"] for entry in listed] == ["cal-defence sightings"]
    unknown = f"/taxii2/api/collections/{uuid.uuid4()}/"
    for suffix in (
        "",
        "objects/",
        "manifest/",
        f"objects/{obj.stix_id}/",
        f"objects/{obj.stix_id}/versions/",
    ):
        hidden, missing = c.get(taxii.ab_url + suffix), c.get(unknown + suffix)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content == missing.content
    own = listed[0]["id"]
    assert c.get(f"/taxii2/api/collections/{own}/objects/{obj.stix_id}/").status_code == 404
    # Posting to it is refused alike too: nothing says the collection exists.
    post = c.post(taxii.ab_url + "objects/", json.dumps({"objects": [indicator()]}))
    assert post.status_code == 404


def test_an_object_hidden_from_the_requester_is_absent_from_a_collection_they_see(taxii):
    """A RED object named to one colleague, in a collection all of B sees."""
    red_pact = draft_between(taxii, title="Red channel", tlp_ceiling="red")
    agreement_services.submit(actor=taxii.a_pm, agreement=red_pact)
    red_pact = sign_by_all(taxii, red_pact)
    colleague = UserFactory(organisation=taxii.b, username="bor-analyst")
    amber, red = store(taxii, indicator("203.0.113.1")) + store(
        taxii, indicator("203.0.113.2"), default_tlp="red"
    )
    for obj, people in ((amber, []), (red, ["bor-analyst"])):
        services.share_object(
            actor=taxii.a_pm,
            obj=obj,
            agreement=red_pact,
            recipient=taxii.b,
            recipient_users=people,
            reauthentication=fresh_reauth(),
        )
    url = collection_url(red_pact)
    member, analyst = taxii.as_(taxii.b_member), taxii.as_(colleague)
    assert ids(analyst.get(url + "objects/"))[-2:] == [amber.stix_id, red.stix_id]
    objects, manifest = member.get(url + "objects/"), member.get(url + "manifest/")
    assert ids(objects) == [*MARKINGS, amber.stix_id]
    assert ids(manifest) == [*MARKINGS, amber.stix_id]
    amber_added = manifest.json()["objects"][-1]["date_added"]
    assert objects["X-TAXII-Date-Added-Last"] == amber_added
    assert manifest["X-TAXII-Date-Added-Last"] == amber_added
    for suffix in (f"objects/{red.stix_id}/", f"objects/{red.stix_id}/versions/"):
        hidden = member.get(url + suffix)
        missing = member.get(url + suffix.replace(red.stix_id, f"indicator--{uuid.uuid4()}"))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content == missing.content


# --- Paging and filters ----------------------------------------------------------------------


def test_paging_walks_markings_then_objects_once_each_with_date_headers(taxii):
    objects = shared(taxii, *(indicator(f"198.51.100.{n}") for n in range(1, 5)))
    b = taxii.as_(taxii.b_member)
    for endpoint in ("objects/", "manifest/"):
        pages = walk(b, taxii.ab_url + endpoint, limit="3")
        assert [len(ids(page)) for page in pages] == [3, 3, 3]
        assert [stix_id for page in pages for stix_id in ids(page)] == [
            *MARKINGS,
            *(obj.stix_id for obj in objects),
        ]
        assert [page.json()["more"] for page in pages] == [True, True, False]
        assert "next" not in pages[-1].json()
        manifest = walk(b, taxii.ab_url + "manifest/", limit="3")
        for page, listed in zip(pages, manifest, strict=True):
            dates = [record["date_added"] for record in listed.json()["objects"]]
            assert page["X-TAXII-Date-Added-First"] == dates[0]
            assert page["X-TAXII-Date-Added-Last"] == dates[-1]
    assert pages[0]["X-TAXII-Date-Added-First"] == "2022-10-01T00:00:00.000000Z"


def test_entries_added_at_the_same_instant_are_each_served_once_across_pages(taxii):
    """A share of many objects at once gives them one date_added: the cursor's position
    (date_added, then the entry's id) must still split them across pages exactly."""
    objects = shared(taxii, *(indicator(f"198.51.100.{n}") for n in range(1, 8)))
    CollectionEntry.objects.filter(object__in=objects).update(date_added=timezone.now())
    # Entry ids are not sequential: within the instant, the id decides the order.
    in_order = CollectionEntry.objects.filter(viewer=taxii.b).order_by("id")
    expected = [*MARKINGS, *in_order.values_list("object__stix_id", flat=True)]
    assert sorted(expected[5:]) == sorted(obj.stix_id for obj in objects)
    b = taxii.as_(taxii.b_member)
    for limit in ("1", "2", "3"):
        pages = walk(b, taxii.ab_url + "objects/", limit=limit)
        assert [stix_id for page in pages for stix_id in ids(page)] == expected


def test_a_tampered_foreign_or_reused_cursor_is_refused(taxii):
    shared(taxii, indicator())
    b = taxii.as_(taxii.b_member)
    url = taxii.ab_url + "objects/"
    cursor = b.get(url, {"limit": "2"}).json()["next"]
    assert b.get(url, {"limit": "2", "next": cursor}).status_code == 200
    tampered = cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB")
    for client, params, where in (
        (b, {"limit": "2", "next": tampered}, url),
        (taxii.as_(taxii.b_pm), {"limit": "2", "next": cursor}, url),  # someone else's
        (b, {"limit": "2", "next": cursor, "match[type]": "indicator"}, url),  # other filters
        (b, {"limit": "2", "next": cursor}, taxii.ab_url + "manifest/"),  # other listing
    ):
        response = client.get(where, params)
        assert response.status_code == 400, params
        assert response.json()["http_status"] == "400"


def test_a_cursor_kept_past_a_day_is_refused_with_a_way_forward(taxii):
    shared(taxii, indicator())
    b = taxii.as_(taxii.b_member)
    url = taxii.ab_url + "objects/"
    cursor = b.get(url, {"limit": "2"}).json()["next"]
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=23)):
        assert b.get(url, {"limit": "2", "next": cursor}).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        response = b.get(url, {"limit": "2", "next": cursor})
    assert response.status_code == 400
    assert "start again from the first page" in response.json()["description"]


def test_invalid_filters_are_400s(taxii):
    b = taxii.as_(taxii.b_member)
    url = taxii.ab_url + "objects/"
    for params in (
        {"limit": "0"},
        {"limit": "ten"},
        {"added_after": "yesterday"},
        {"match[version]": "newest"},
    ):
        response = b.get(url, params)
        assert response.status_code == 400, params
        assert response.json()["title"] == "Bad request"


def test_added_after_returns_only_what_was_added_since_the_last_poll(taxii):
    (old,) = shared(taxii, indicator("198.51.100.1"))
    b = taxii.as_(taxii.b_member)
    last = b.get(taxii.ab_url + "objects/")["X-TAXII-Date-Added-Last"]
    (new,) = shared(taxii, indicator("198.51.100.2"))
    poll = b.get(taxii.ab_url + "objects/", {"added_after": last})
    assert ids(poll) == [new.stix_id]
    assert ids(b.get(taxii.ab_url + "manifest/", {"added_after": last})) == [new.stix_id]
    assert old.stix_id in ids(b.get(taxii.ab_url + "objects/"))


def test_date_added_is_the_share_time_not_the_stix_modified_time(taxii):
    in_2020 = "2020-03-01T00:00:00.000Z"
    (old,) = shared(taxii, indicator(created=in_2020, modified=in_2020, valid_from=in_2020))
    yesterday = timezone.now() - timezone.timedelta(days=1)
    b = taxii.as_(taxii.b_member)
    poll = b.get(
        taxii.ab_url + "objects/", {"added_after": yesterday.strftime("%Y-%m-%dT%H:%M:%SZ")}
    )
    assert ids(poll) == [old.stix_id]
    (record,) = b.get(taxii.ab_url + "manifest/", {"match[id]": old.stix_id}).json()["objects"]
    assert record["version"] == "2020-03-01T00:00:00.000000Z"
    assert record["date_added"] > yesterday.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert record["date_added"].endswith("Z") and len(record["date_added"]) == 27


def test_match_filters_select_types_ids_versions_and_spec_versions(taxii):
    first = indicator(modified="2026-11-30T10:00:00.000Z")
    (ind,) = shared(taxii, first)
    for minute in ("11", "12"):
        store(taxii, dict(first, modified=f"2026-11-30T{minute}:00:00.000Z"))
    (other,) = shared(taxii, indicator("203.0.113.5"))
    b = taxii.as_(taxii.b_member)
    url = taxii.ab_url + "objects/"

    def versions(**params):
        return [
            o["modified"]
            for o in b.get(url, {"match[id]": ind.stix_id, **params}).json()["objects"]
        ]

    assert versions() == ["2026-11-30T12:00:00.000Z"]  # last by default
    assert versions(**{"match[version]": "first"}) == ["2026-11-30T10:00:00.000Z"]
    assert len(versions(**{"match[version]": "all"})) == 3
    assert len(versions(**{"match[version]": "first,last"})) == 2
    assert versions(**{"match[version]": "2026-11-30T11:00:00Z"}) == ["2026-11-30T11:00:00.000Z"]
    assert ids(b.get(url, {"match[type]": "indicator"})) == [ind.stix_id, other.stix_id]
    assert ids(b.get(url, {"match[type]": "marking-definition,malware"})) == MARKINGS
    assert ids(b.get(url, {"match[id]": f"{other.stix_id},{MARKINGS[2]}"})) == [
        MARKINGS[2],
        other.stix_id,
    ]
    assert ids(b.get(url, {"match[spec_version]": "2.0"})) == []
    assert len(ids(b.get(url, {"match[spec_version]": "2.1"}))) == 7

    one = taxii.ab_url + f"objects/{ind.stix_id}/"
    assert [o["modified"] for o in b.get(one).json()["objects"]] == ["2026-11-30T12:00:00.000Z"]
    assert len(b.get(one, {"match[version]": "all"}).json()["objects"]) == 3
    listed = b.get(one + "versions/").json()
    assert listed["versions"] == [
        "2026-11-30T10:00:00.000000Z",
        "2026-11-30T11:00:00.000000Z",
        "2026-11-30T12:00:00.000000Z",
    ]
    marking = b.get(taxii.ab_url + f"objects/{MARKINGS[0]}/").json()["objects"]
    assert marking == [markings.definitions()[0]]


def test_a_poll_costs_the_same_queries_on_page_1_and_page_3(taxii):
    shared(taxii, *(indicator(f"198.51.100.{n}") for n in range(1, 16)))
    b = taxii.as_(taxii.b_member)
    url = taxii.ab_url + "objects/"
    b.get(url, {"limit": "5"})  # the first request of a client warms nothing it would not
    with CaptureQueriesContext(connection) as first:
        page1 = b.get(url, {"limit": "5"})
    page2 = b.get(url, {"limit": "5", "next": page1.json()["next"]})
    with CaptureQueriesContext(connection) as third:
        page3 = b.get(url, {"limit": "5", "next": page2.json()["next"]})
    assert len(ids(page3)) == 5 and page3.json()["more"] is True
    assert len(first) == len(third), [q["sql"] for q in third.captured_queries]


# --- Ends of access --------------------------------------------------------------------------


def _everywhere(client, url, obj) -> list[int]:
    """Where the object shows: objects, manifest, by id, versions (status codes or hits)."""
    return [
        obj.stix_id in ids(client.get(url + "objects/")),
        obj.stix_id in ids(client.get(url + "manifest/")),
        client.get(url + f"objects/{obj.stix_id}/").status_code,
        client.get(url + f"objects/{obj.stix_id}/versions/").status_code,
    ]


def test_revocation_and_termination_take_objects_off_every_endpoint_at_once(taxii):
    kept, revoked = shared(taxii, indicator("198.51.100.1"), indicator("198.51.100.2"))
    b = taxii.as_(taxii.b_member)
    assert _everywhere(b, taxii.ab_url, revoked) == [True, True, 200, 200]
    services.revoke_share(actor=taxii.a_pm, share=revoked.shares.get())
    assert _everywhere(b, taxii.ab_url, revoked) == [False, False, 404, 404]
    assert _everywhere(b, taxii.ab_url, kept) == [True, True, 200, 200]

    agreement_services.terminate(
        actor=taxii.a_admin,
        agreement=taxii.ab_agreement,
        reason="The exchange ends.",
        effective_on=timezone.localdate(),
    )
    assert _everywhere(b, taxii.ab_url, kept) == [False, False, 404, 404]
    assert b.get(taxii.ab_url).status_code == 404
    listed = b.get("/taxii2/api/collections/").json()["collections"]
    assert [entry["title"] for entry in listed] == ["bor-ncsc sightings"]


# --- Adding objects --------------------------------------------------------------------------


def test_a_post_stores_the_good_objects_and_reports_each_bad_one(taxii):
    good = indicator("198.51.100.40")
    bad_pattern = indicator(pattern="[ipv4-addr:value = ")
    spoofed = indicator("198.51.100.41", created_by_ref=f"identity--{uuid.uuid4()}")
    too_high = indicator("198.51.100.42", object_marking_refs=[markings.TLP2_IDS["red"]])
    a = taxii.as_(taxii.a_pm)
    envelope = {"objects": [good, bad_pattern, spoofed, too_high, markings.definitions()[2]]}
    response = a.post(taxii.ab_url + "objects/", json.dumps(envelope))

    assert response.status_code == 202
    status = response.json()
    assert status["status"] == "complete" and status["pending_count"] == 0
    assert status["total_count"] == 5 and status["success_count"] == 2
    assert status["successes"][0] == {"id": good["id"], "version": good["modified"]}
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert set(failed) == {bad_pattern["id"], spoofed["id"], too_high["id"]}
    assert "pattern" in failed[bad_pattern["id"]].lower()
    assert "created_by_ref" in failed[spoofed["id"]]
    assert "not added to this collection" in failed[too_high["id"]]

    assert a.get(f"/taxii2/api/status/{status['id']}/").json() == status
    for someone_else in (taxii.a_admin, taxii.b_pm):
        response = taxii.as_(someone_else).get(f"/taxii2/api/status/{status['id']}/")
        assert response.status_code == 404
    b_sees = ids(taxii.as_(taxii.b_member).get(taxii.ab_url + "objects/"))
    assert good["id"] in b_sees and too_high["id"] not in b_sees
    imported = AuditEvent.objects.filter(action="intel.imported", details__via="taxii")
    assert imported.count() == 1


def test_an_envelope_that_cannot_be_read_is_a_400_and_a_reader_cannot_post(taxii):
    a, url = taxii.as_(taxii.a_pm), taxii.ab_url + "objects/"
    for body in ("{not json", json.dumps({"objects": []}), json.dumps({"more": False})):
        response = a.post(url, body)
        assert response.status_code == 400, body
        assert response.json()["description"]
    reader = taxii.as_(taxii.b_member).post(url, json.dumps({"objects": [indicator()]}))
    assert reader.status_code == 403 and reader.json()["http_status"] == "403"
    assert not services.StixObject.objects.exists()


def test_a_partner_posts_sightings_to_its_own_sightings_collection(taxii):
    (obj,) = shared(taxii, indicator())
    b = taxii.as_(taxii.b_member)
    own = b.get("/taxii2/api/collections/").json()["collections"][1]["id"]
    url = f"/taxii2/api/collections/{own}/objects/"
    now = "2026-12-01T09:00:00.000Z"
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "sighting_of_ref": obj.stix_id,
        "count": 3,
    }
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": "Not feedback",
        "is_family": True,
    }
    opinion = {
        "type": "opinion",
        "spec_version": "2.1",
        "id": f"opinion--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "opinion": "agree",
        "object_refs": [obj.stix_id],
    }
    status = b.post(url, json.dumps({"objects": [sighting, malware, opinion]})).json()
    assert [s["id"] for s in status["successes"]] == [sighting["id"], opinion["id"]]
    assert "takes only" in status["failures"][0]["message"]
    assert ids(b.get(url)) == [*MARKINGS, sighting["id"], opinion["id"]]


def test_a_path_no_endpoint_answers_gets_the_same_taxii_404(taxii):
    c = taxii.as_(taxii.c_member)
    hidden = c.get(taxii.ab_url)
    unrouted = c.get("/taxii2/api/nothing-here/")
    assert hidden.status_code == unrouted.status_code == 404
    assert unrouted["Content-Type"] == TAXII
    assert unrouted.json() == hidden.json()
