"""The intelligence API: the same services as the pages, 404 for outsiders, bad bundles
refused whole with one problem per bad object, and nothing stored."""

import datetime
import json
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from intel import markings, stix
from intel.models import IntelShare, StixObject, StixVersion
from portal import services as portal_services
from portal.models import AuditEvent
from resources.models import ShareStatus
from tests.factories import PASSWORD
from tests.intel.conftest import bundle, indicator, share_with_b, store

OBJECTS = "/api/v1/intel/objects/"
IMPORT = "/api/v1/intel/import/"
EXPORT = "/api/v1/intel/export/"
MISP_EVENT = Path(__file__).parent / "data" / "misp_event.json"
SECRET_NAME = "Atlantis beacon 5J"


def api(user) -> APIClient:
    client = APIClient()
    key = portal_services.rotate_api_token(actor=user).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def stored_counts() -> tuple[int, int, int]:
    return StixObject.objects.count(), StixVersion.objects.count(), AuditEvent.objects.count()


def shared_indicator(world, **extra):
    (obj,) = store(world, indicator(name=SECRET_NAME, **extra))
    share_with_b(world, obj)
    return obj


# --- Reading --------------------------------------------------------------------------------


def test_the_owner_lists_and_reads_its_object_with_its_stix_and_versions(intel):
    first = indicator(name=SECRET_NAME)
    (obj,) = store(intel, first)
    store(intel, dict(first, modified="2026-12-01T08:00:00.250000Z", name="Renamed beacon"))
    client = api(intel.a_member)

    listing = client.get(OBJECTS).json()
    detail = client.get(f"{OBJECTS}{obj.pk}/")

    (row,) = listing["results"]
    assert row["stix_id"] == first["id"] and row["name"] == "Renamed beacon"
    assert (row["type"], row["tlp"], row["owner"]) == ("indicator", "amber", intel.a.slug)
    assert row["stix"] is None and row["versions"] is None  # lists carry the facts only
    assert detail.status_code == 200
    body = detail.json()
    assert body["stix"]["name"] == "Renamed beacon"
    assert body["stix"]["created_by_ref"] == intel.a_identity
    assert body["versions"] == ["2026-12-01T08:00:00.250000Z", "2026-11-30T10:00:00.000000Z"]


def test_the_partner_it_was_shared_with_lists_and_reads_it(intel):
    obj = shared_indicator(intel)
    client = api(intel.b_member)

    assert [r["id"] for r in client.get(OBJECTS).json()["results"]] == [obj.pk]
    detail = client.get(f"{OBJECTS}{obj.pk}/")
    assert detail.status_code == 200 and detail.json()["stix"]["id"] == obj.stix_id


def test_an_unrelated_nation_cannot_learn_that_the_object_exists(intel):
    obj = shared_indicator(intel)
    outsider = api(intel.c_member)
    missing = StixObject.objects.order_by("-pk").first().pk + 1000

    for path in ("", "stix/", "correlations/", "shares/", "sightings/"):
        hidden = outsider.get(f"{OBJECTS}{obj.pk}/{path}")
        absent = outsider.get(f"{OBJECTS}{missing}/{path}")
        assert hidden.status_code == absent.status_code == 404, path
        assert hidden.json() == absent.json() == {"message": "Not found.", "code": "not_found"}
    for post in ("share/", "sightings/", f"shares/{obj.shares.get().pk}/revoke/"):
        assert outsider.post(f"{OBJECTS}{obj.pk}/{post}", {}, format="json").status_code == 404
    listing = outsider.get(OBJECTS)
    assert listing.json()["count"] == 0
    assert outsider.get(OBJECTS, {"search": "Atlantis"}).json()["count"] == 0
    assert outsider.get(OBJECTS, {"search": "198.51.100.7"}).json()["count"] == 0
    exported = outsider.get(EXPORT)
    for response in (listing, exported):
        assert SECRET_NAME not in response.content.decode()
        assert obj.stix_id not in response.content.decode()


def test_clear_objects_are_listed_for_everyone(intel):
    store(intel, indicator("203.0.113.9", name="Public scanner"), default_tlp="clear")
    store(intel, indicator(name=SECRET_NAME))

    listing = api(intel.c_member).get(OBJECTS).json()

    assert [r["name"] for r in listing["results"]] == ["Public scanner"]


def test_list_filters_and_search(intel):
    shared_indicator(intel)
    store(intel, indicator("203.0.113.9", name="Green scanner"), default_tlp="green")
    store(
        intel,
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": f"malware--{uuid.uuid4()}",
            "created": "2026-11-30T10:00:00.000Z",
            "modified": "2026-11-30T10:00:00.000Z",
            "name": "Lockbit sample",
            "is_family": False,
        },
    )
    client = api(intel.a_member)

    def names(query):
        response = client.get(OBJECTS, query)
        assert response.status_code == 200, response.json()
        return sorted(r["name"] for r in response.json()["results"])

    assert names({"type": "malware"}) == ["Lockbit sample"]
    assert names({"tlp": "green"}) == ["Green scanner"]
    assert names({"owner": intel.a.slug}) == [SECRET_NAME, "Green scanner", "Lockbit sample"]
    assert names({"owner": intel.b.slug}) == []
    assert names({"agreement": intel.ab_agreement.pk}) == [SECRET_NAME]
    # The reference, as the list page and the TAXII collections name an agreement.
    assert names({"agreement": intel.ab_agreement.reference}) == [SECRET_NAME]
    assert names({"data_category": "threat_intelligence"}) == [
        SECRET_NAME,
        "Green scanner",
        "Lockbit sample",
    ]
    assert names({"data_category": "incidents"}) == []
    assert names({"search": "203.0.113.9"}) == ["Green scanner"]  # an observable value
    assert names({"search": "phishing"}) == [SECRET_NAME, "Green scanner"]  # the description
    assert names({"search": "ipv4-addr:value = '198.51"}) == [SECRET_NAME]  # the pattern
    assert len(names({"added_since": "2026-01-01"})) == 3
    tomorrow = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).isoformat()
    assert names({"added_since": tomorrow}) == []
    assert names({"added_since": "9999-12-31T23:59:59-14:00"}) == []  # past the last UTC day
    assert client.get(OBJECTS, {"tlp": "purple"}).status_code == 400
    unknown = client.get(OBJECTS, {"agreement": 10**6})
    assert unknown.status_code == 400
    assert unknown.json()["message"] == f"agreement: You are party to no agreement “{10**6}”."


def test_the_list_costs_the_same_queries_for_one_object_and_for_thirty(intel):
    client = api(intel.a_member)
    store(intel, indicator("198.51.100.1"))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(OBJECTS)
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    one = queries()
    store(intel, *(indicator(f"198.51.100.{n}") for n in range(2, 31)))
    many = queries()

    assert (one[1], many[1]) == (1, 30)
    assert many[0] == one[0]


def test_the_stix_of_every_version_comes_as_a_bundle(intel):
    first = indicator()
    (obj,) = store(intel, first)
    store(intel, dict(first, modified="2026-12-01T08:00:00.000Z", name="Second"))

    response = api(intel.a_member).get(
        f"{OBJECTS}{obj.pk}/stix/", HTTP_ACCEPT="application/stix+json;version=2.1"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/stix+json")
    body = json.loads(response.content)
    assert body["type"] == "bundle"
    assert [o["modified"] for o in body["objects"]] == [
        "2026-11-30T10:00:00.000Z",
        "2026-12-01T08:00:00.000Z",
    ]


# --- Import -----------------------------------------------------------------------------------


def test_a_good_bundle_is_stored_and_the_same_one_again_changes_nothing(intel):
    objects = [indicator(), indicator("203.0.113.5")]
    client = api(intel.a_pm)

    created = client.post(
        IMPORT, {"bundle": bundle(*objects), "default_tlp": "green"}, format="json"
    )
    again = client.post(
        IMPORT, {"bundle": json.dumps(bundle(*objects)), "default_tlp": "green"}, format="json"
    )

    assert created.status_code == 201, created.json()
    ids = sorted(o["id"] for o in objects)
    assert sorted(created.json()["stored"]) == ids and created.json()["unchanged"] == []
    assert {o["tlp"] for o in created.json()["objects"]} == {"green"}
    assert sorted(StixObject.objects.values_list("stix_id", flat=True)) == ids
    assert again.status_code == 201
    assert again.json()["stored"] == [] and sorted(again.json()["unchanged"]) == ids
    assert StixVersion.objects.count() == 2


def _spoofed(world):
    return indicator(created_by_ref=stix.identity_id(world.b))


BAD_INPUT = {
    "malformed JSON": (
        lambda world: '{"type": "bundle", "objects": [',
        "This is not valid JSON",
    ),
    "spec_version 2.0": (lambda world: indicator(spec_version="2.0"), "only 2.1 is read"),
    "invalid pattern": (
        lambda world: indicator(pattern="[ipv4-addr:value = '198.51.100.7'"),
        "Pattern failed to validate",
    ),
    "unknown marking": (
        lambda world: indicator(
            object_marking_refs=["marking-definition--00000000-1111-4222-8333-444444444444"]
        ),
        "marking-definition--00000000-1111-4222-8333-444444444444, which is not a TLP marking",
    ),
    "spoofed created_by_ref": (_spoofed, "which is not your organisation's identity"),
    # PostgreSQL stores no NUL: refused with the others, not a server error.
    "NUL character": (lambda world: indicator(description="bad\x00byte"), "NUL character"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_a_bad_bundle_is_refused_whole_with_its_reason_and_nothing_is_stored(intel, case):
    make, reason = BAD_INPUT[case]
    bad = make(intel)
    good = indicator("203.0.113.77")
    payload = bad if isinstance(bad, str) else bundle(good, bad)
    client = api(intel.a_pm)
    before = stored_counts()

    response = client.post(IMPORT, {"bundle": payload}, format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid_bundle"
    (problem,) = body["problems"]
    assert reason in problem
    if isinstance(bad, dict):
        assert problem.startswith(f"{bad['id']}: ")  # the bad object, by its id
        if case == "spoofed created_by_ref":
            assert stix.identity_id(intel.b) in problem
    assert body["message"] == f"Nothing was stored: {problem}"
    assert stored_counts() == before


def test_a_bundle_over_the_size_limit_is_refused(intel, settings):
    settings.INTEL_MAX_BUNDLE_BYTES = 2_000
    client = api(intel.a_pm)
    before = stored_counts()

    response = client.post(
        IMPORT,
        {"bundle": bundle(*(indicator(f"198.51.100.{n}") for n in range(10)))},
        format="json",
    )

    assert response.status_code == 400
    (problem,) = response.json()["problems"]
    assert problem.startswith("The bundle is ") and problem.endswith("the limit is 0.0 MB.")
    assert stored_counts() == before


def test_every_bad_object_is_named_once(intel):
    bad = [indicator(spec_version="2.0"), indicator(pattern="[nonsense")]

    response = api(intel.a_pm).post(IMPORT, {"bundle": bundle(indicator(), *bad)}, format="json")

    assert response.status_code == 400
    problems = response.json()["problems"]
    assert [p.split(": ", 1)[0] for p in problems] == [o["id"] for o in bad]
    assert response.json()["message"] == "Nothing was stored: 2 problems, one per bad object."


def test_invalid_options_are_refused_per_field(intel):
    response = api(intel.a_pm).post(
        IMPORT, {"bundle": bundle(indicator()), "default_tlp": "purple"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"] == 'default_tlp: "purple" is not a valid choice.'
    assert not StixObject.objects.exists()


def test_only_programme_managers_add_intelligence(intel):
    response = api(intel.a_member).post(IMPORT, {"bundle": bundle(indicator())}, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == (
        "Only programme managers add intelligence; anyone reports sightings."
    )
    assert not StixObject.objects.exists()


def test_a_misp_event_is_imported_through_the_same_path(intel):
    response = api(intel.a_pm).post(
        IMPORT, {"bundle": MISP_EVENT.read_text(), "format": "misp"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert "indicator--6a1b2c3d-1111-4222-8333-944455556661" in response.json()["stored"]
    assert StixObject.objects.filter(owner=intel.a, type="indicator").exists()


# --- Sharing ----------------------------------------------------------------------------------


def test_share_then_the_partner_sees_it_and_revoke_then_it_is_gone(intel):
    (obj,) = store(intel, indicator(name=SECRET_NAME))
    partner = api(intel.b_member)
    assert partner.get(f"{OBJECTS}{obj.pk}/").status_code == 404

    shared = api(intel.a_pm).post(
        f"{OBJECTS}{obj.pk}/share/",
        {"agreement": intel.ab_agreement.pk, "recipient": intel.b.slug},
        format="json",
    )

    assert shared.status_code == 201, shared.json()
    (share,) = shared.json()
    assert (share["recipient"], share["status"], share["live"]) == (intel.b.slug, "active", True)
    assert share["agreement"] == intel.ab_agreement.pk
    assert partner.get(f"{OBJECTS}{obj.pk}/").status_code == 200

    revoked = api(intel.a_pm).post(
        f"{OBJECTS}{obj.pk}/shares/{share['id']}/revoke/", {"reason": "Too early"}, format="json"
    )

    assert revoked.status_code == 200, revoked.json()
    assert revoked.json()["status"] == "revoked" and revoked.json()["live"] is False
    assert partner.get(f"{OBJECTS}{obj.pk}/").status_code == 404
    assert partner.get(OBJECTS).json()["count"] == 0


def test_shares_are_listed_for_the_owner_and_shared_only_by_its_programme_managers(intel):
    obj = shared_indicator(intel)
    url = f"{OBJECTS}{obj.pk}/shares/"

    listed = api(intel.a_member).get(url)

    assert listed.status_code == 200
    assert [s["recipient"] for s in listed.json()["results"]] == [intel.b.slug]
    assert api(intel.b_member).get(url).status_code == 403
    refused = api(intel.a_member).post(
        f"{OBJECTS}{obj.pk}/share/",
        {"agreement": intel.ab_agreement.pk, "recipient": intel.c.slug},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "Only a programme manager of the owner organisation can do this."
    )


def test_a_share_is_revoked_only_through_its_own_object(intel):
    mine = shared_indicator(intel)
    (other,) = store(intel, indicator("203.0.113.1"))
    share = share_with_b(intel, other)

    response = api(intel.a_pm).post(f"{OBJECTS}{mine.pk}/shares/{share.pk}/revoke/")

    assert response.status_code == 404
    assert response.json()["message"] == "This object has no such share."
    share.refresh_from_db()
    assert share.status == ShareStatus.ACTIVE


def test_amber_strict_needs_the_password_and_a_refused_share_says_which_rule(intel):
    (strict,) = store(intel, indicator(), default_tlp="amber_strict")
    client = api(intel.a_pm)
    url = f"{OBJECTS}{strict.pk}/share/"
    request = {"agreement": intel.ab_agreement.pk, "recipient": intel.b.slug}

    no_password = client.post(url, request, format="json")
    ceiling = client.post(url, {**request, "password": PASSWORD}, format="json")

    assert no_password.status_code == 400
    assert no_password.json()["message"] == (
        "password: Confirm your password to share material marked like this."
    )
    assert ceiling.status_code == 400
    assert ceiling.json()["message"] == (
        f"{intel.ab_agreement.label} caps TLP at AMBER; this object is AMBER+STRICT."
    )
    assert not IntelShare.objects.exists()


def test_a_report_shares_its_references_along_when_asked(intel):
    ref = indicator()
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": "2026-11-30T10:00:00.000Z",
        "modified": "2026-11-30T10:00:00.000Z",
        "name": "Campaign report",
        "published": "2026-11-30T10:00:00.000Z",
        "object_refs": [ref["id"]],
    }
    store(intel, ref, report)
    obj = StixObject.objects.get(type="report")

    response = api(intel.a_pm).post(
        f"{OBJECTS}{obj.pk}/share/",
        {"agreement": intel.ab_agreement.pk, "recipient": intel.b.slug, "with_references": True},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert len(response.json()) == 2
    assert api(intel.b_member).get(OBJECTS).json()["count"] == 2


# --- Sightings and correlation ----------------------------------------------------------------


def test_a_partners_sighting_reaches_the_owners_summary(intel):
    obj = shared_indicator(intel)

    reported = api(intel.b_member).post(
        f"{OBJECTS}{obj.pk}/sightings/",
        {
            "count": 3,
            "first_seen": "2026-11-30T11:00:00Z",
            "last_seen": "2026-11-30T12:00:00Z",
        },
        format="json",
    )

    assert reported.status_code == 201, reported.json()
    assert reported.json()["type"] == "sighting"
    assert reported.json()["stix"]["sighting_of_ref"] == obj.stix_id
    summary = api(intel.a_member).get(f"{OBJECTS}{obj.pk}/sightings/")
    assert summary.status_code == 200
    assert summary.json() == [
        {
            "organisation": intel.b.slug,
            "organisation_name": intel.b.name,
            "sightings": 1,
            "count": 3,
            "first_seen": "2026-11-30T11:00:00Z",
            "last_seen": "2026-11-30T12:00:00Z",
        }
    ]
    assert api(intel.b_member).get(f"{OBJECTS}{obj.pk}/sightings/").status_code == 403


def test_a_sighting_of_a_hidden_object_fails_exactly_like_one_of_no_object(intel):
    (hidden,) = store(intel, indicator(name=SECRET_NAME))  # not shared with B
    partner = api(intel.b_member)
    missing = StixObject.objects.order_by("-pk").first().pk + 1000

    on_hidden = partner.post(f"{OBJECTS}{hidden.pk}/sightings/", {"count": 1}, format="json")
    on_missing = partner.post(f"{OBJECTS}{missing}/sightings/", {"count": 1}, format="json")

    assert on_hidden.status_code == on_missing.status_code == 404
    assert on_hidden.json() == on_missing.json()

    def sighting_of(ref):
        return {
            "type": "sighting",
            "spec_version": "2.1",
            "id": f"sighting--{uuid.uuid4()}",
            "created": "2026-11-30T10:00:00.000Z",
            "modified": "2026-11-30T10:00:00.000Z",
            "sighting_of_ref": ref,
        }

    nowhere = f"indicator--{uuid.uuid4()}"
    before = stored_counts()
    imports = [
        partner.post(IMPORT, {"bundle": bundle(sighting_of(ref))}, format="json")
        for ref in (hidden.stix_id, nowhere)
    ]

    assert [r.status_code for r in imports] == [400, 400]
    shapes = [
        r.json()["problems"][0].split(": ", 1)[1].replace(ref, "<ref>")
        for r, ref in zip(imports, (hidden.stix_id, nowhere), strict=True)
    ]
    assert (
        shapes[0] == shapes[1] == "sighting_of_ref names <ref>, which is not an object you can see."
    )
    assert stored_counts() == before


def test_correlations_name_only_sources_the_viewer_can_see(intel):
    obj = shared_indicator(intel)
    store(intel, indicator(), actor=intel.b_pm)  # B holds the same address, unshared

    as_b = api(intel.b_member).get(f"{OBJECTS}{obj.pk}/correlations/")
    as_a = api(intel.a_member).get(f"{OBJECTS}{obj.pk}/correlations/")

    assert as_b.status_code == 200
    assert as_b.json() == [{"slug": intel.b.slug, "name": intel.b.name}]
    assert as_a.json() == []  # B's identical indicator is hidden from A: no hint of it


# --- Export -----------------------------------------------------------------------------------


def test_the_export_holds_only_visible_objects_and_the_marking_definitions(intel):
    shared = shared_indicator(intel)
    (unshared,) = store(intel, indicator("203.0.113.200", name="Atlantis internal 3Q"))

    response = api(intel.b_member).get(EXPORT, HTTP_ACCEPT="application/stix+json;version=2.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/stix+json")
    body = json.loads(response.content)
    by_type = {}
    for obj in body["objects"]:
        by_type.setdefault(obj["type"], []).append(obj["id"])
    assert by_type["indicator"] == [shared.stix_id]
    assert sorted(by_type["marking-definition"]) == sorted(markings.TLP2_IDS.values())
    assert by_type["identity"] == [stix.identity_id(intel.a)]
    assert set(by_type) == {"indicator", "marking-definition", "identity"}
    assert unshared.stix_id not in response.content.decode()
    assert "Atlantis internal 3Q" not in response.content.decode()


def test_the_export_is_filtered_like_the_list(intel):
    store(intel, indicator(name="Amber one"))
    (green,) = store(intel, indicator("203.0.113.9", name="Green one"), default_tlp="green")

    body = api(intel.a_member).get(EXPORT, {"tlp": "green"}).json()

    assert [o["id"] for o in body["objects"] if o["type"] == "indicator"] == [green.stix_id]


def test_every_export_is_in_the_audit_trail_with_what_was_asked_and_how_much_went(intel):
    store(intel, indicator(name="Amber one"))
    store(intel, indicator("203.0.113.9", name="Green one"), default_tlp="green")
    client = api(intel.a_member)
    client.get(EXPORT, {"tlp": "green"})
    web = APIClient()
    web.force_login(intel.a_member)
    web.get("/intel/export/", {"q": "amber"})

    events = AuditEvent.objects.filter(action="intel.exported").order_by("pk")
    assert [(e.actor_id, e.organisation_id) for e in events] == [
        (intel.a_member.pk, intel.a.pk),
        (intel.a_member.pk, intel.a.pk),
    ]
    # (Each event also carries the client's address, as every event does.)
    api_export, page_export = ({k: v for k, v in e.details.items() if k != "ip"} for e in events)
    assert api_export == {"via": "api", "query": {"tlp": "green"}, "exported": 1}
    assert page_export == {"via": "page", "query": {"q": "amber"}, "exported": 1}
