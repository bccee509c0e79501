"""The resources API: the same services as the pages, exact bytes, 404 for outsiders."""

import datetime
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_filters import FilterSet
from rest_framework.test import APIClient

from agreements import services as agreement_services
from portal import services as portal_services
from portal.models import AuditEvent, Role
from resources.models import Resource, ResourceVersion, Share, ShareStatus
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import PASSWORD, UserFactory
from tests.resources.conftest import PDF_BYTES, new_resource, share_with_b, upload

EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120


def api(user) -> APIClient:
    client = APIClient()
    key = portal_services.rotate_api_token(actor=user).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def payload(**overrides):
    values = {
        "title": "Ransomware campaign 2026-Q2",
        "description": "What we saw, and the indicators.",
        "kind": "report",
        "data_category": "threat_intelligence",
        "tlp": "amber",
        "tags": ["ransomware", "q2"],
        "file": upload(),
    }
    values.update(overrides)
    return values


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def stored_files(world) -> list:
    root = world.storage_root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def active_agreement(world, **terms):
    """Another A-B agreement in force, with its own terms (a TLP ceiling, say)."""
    agreement = draft_between(world, **terms)
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    return sign_by_all(world, agreement)


# --- Upload ----------------------------------------------------------------------------------


def test_upload_keeps_the_exact_bytes_and_detects_the_type_from_them(sharing):
    response = api(sharing.a_pm).post(
        "/api/v1/resources/",
        payload(file=upload("x.txt", PDF_BYTES, "text/plain")),
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == sharing.a.slug and body["created_by"] == sharing.a_pm.username
    assert body["tags"] == ["ransomware", "q2"]
    version = body["latest_version"]
    assert version["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert version["content_type"] == "application/pdf"  # the bytes decide, not ".txt"
    assert version["original_name"] == "x.txt" and version["size"] == len(PDF_BYTES)
    stored = ResourceVersion.objects.get(resource_id=body["id"])
    assert hashlib.sha256(stored.file.read()).hexdigest() == version["sha256"]


@pytest.mark.parametrize(
    ("file", "metadata", "message"),
    [
        (upload("empty.pdf", b""), {}, "file: The file is empty."),
        (
            upload("report.pdf", EXE_BYTES),
            {"kind": "report"},
            "file: Files of type application/x-msdownload are refused unless the resource is "
            "a tool.",
        ),
        # Nothing but control characters: Django's parser drops such a name and the file.
        (upload("\x07\x1b", PDF_BYTES), {}, "file: No file was submitted."),
    ],
    ids=["empty", "executable-as-report", "control-characters-only"],
)
def test_bad_uploads_are_refused_with_a_message_and_nothing_is_kept(
    sharing, file, metadata, message
):
    response = api(sharing.a_pm).post(
        "/api/v1/resources/", payload(file=file, **metadata), format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["message"] == message
    assert not Resource.objects.exists()
    assert stored_files(sharing) == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("../../etc/report.pdf", "report.pdf"), ("re\x07port\u202e.pdf", "report.pdf")],
)
def test_a_path_or_control_characters_in_the_name_never_reach_the_stored_name(sharing, sent, kept):
    # Over HTTP, Django's multipart parser keeps only the last path segment and drops
    # unprintable characters before any code of ours runs; the service refuses such names
    # outright when they reach it by another road (tests/resources/test_services.py).
    response = api(sharing.a_pm).post(
        "/api/v1/resources/", payload(file=upload(sent)), format="multipart"
    )

    assert response.status_code == 201
    version = ResourceVersion.objects.get()
    assert version.original_name == kept
    assert "report" not in version.file.name  # stored under a generated name


def test_only_programme_managers_add_resources(sharing):
    response = api(sharing.a_member).post("/api/v1/resources/", payload(), format="multipart")

    assert response.status_code == 403
    assert response.json()["message"] == "Only programme managers add resources."
    assert not Resource.objects.exists()


# --- Reading ---------------------------------------------------------------------------------


def test_every_look_at_a_resource_through_the_api_is_recorded(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)

    response = api(sharing.b_member).get(f"/api/v1/resources/{resource.pk}/")

    assert response.status_code == 200 and response.json()["title"] == resource.title
    event = AuditEvent.objects.get(action="resource.viewed", actor=sharing.b_member)
    assert event.object_id == str(resource.pk)
    assert event.details["via"] == "api"
    assert event.details["agreement"] == sharing.ab_agreement.label


def test_download_streams_the_exact_bytes_as_an_attachment_that_is_never_sniffed(sharing):
    resource = new_resource(sharing, file=upload("x.txt", PDF_BYTES, "text/plain"))
    share_with_b(sharing, resource)

    response = api(sharing.b_member).get(f"/api/v1/resources/{resource.pk}/download/")

    assert response.status_code == 200
    assert content_of(response) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="x.txt"'
    event = AuditEvent.objects.get(action="resource.downloaded", actor=sharing.b_member)
    assert event.details["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()


def test_download_of_an_earlier_version_and_of_one_that_does_not_exist(sharing):
    resource = new_resource(sharing)
    client = api(sharing.a_pm)
    added = client.post(
        f"/api/v1/resources/{resource.pk}/versions/",
        {"file": upload("v2.txt", b"second edition\n"), "note": "Typos fixed"},
        format="multipart",
    )
    assert added.status_code == 201 and added.json()["number"] == 2
    url = f"/api/v1/resources/{resource.pk}/download/"

    assert content_of(client.get(url)) == b"second edition\n"
    assert content_of(client.get(url, {"version": 1})) == PDF_BYTES
    missing = client.get(url, {"version": 9})
    assert missing.status_code == 404
    assert missing.json()["message"] == "This resource has no version 9."
    assert client.get(url, {"version": "one"}).status_code == 400


def test_download_answers_a_client_that_accepts_only_the_file_type(sharing):
    resource = new_resource(sharing)

    response = api(sharing.a_pm).get(
        f"/api/v1/resources/{resource.pk}/download/", HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 200 and content_of(response) == PDF_BYTES


def test_an_unrelated_nation_cannot_learn_that_the_resource_exists(sharing):
    resource = new_resource(sharing, title="Atlantis AMBER findings 7Z")
    share_with_b(sharing, resource)
    outsider = api(sharing.c_member)
    url = f"/api/v1/resources/{resource.pk}/"

    for path in ("", "download/", "versions/", "shares/", "access-log/"):
        response = outsider.get(url + path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Not found.", "code": "not_found"}
    assert outsider.patch(url, {"title": "Mine"}, format="json").status_code == 404
    assert outsider.get("/api/v1/resources/").json()["count"] == 0
    assert outsider.get("/api/v1/resources/?search=Atlantis").json()["count"] == 0
    assert "Atlantis" not in outsider.get("/api/v1/resources/?search=AMBER").content.decode()


def test_clear_resources_are_listed_for_everyone_and_amber_ones_are_not(sharing):
    new_resource(sharing, title="Public advisory", tlp="clear")
    new_resource(sharing, title="Partners only", tlp="amber")

    listing = api(sharing.c_member).get("/api/v1/resources/").json()

    assert [r["title"] for r in listing["results"]] == ["Public advisory"]


def test_list_filters_search_and_ordering(sharing):
    new_resource(sharing, title="Beta dataset", kind="dataset", tlp="green")
    new_resource(sharing, title="Alpha report", kind="report", tlp="amber")
    client = api(sharing.a_member)

    def titles(query):
        response = client.get("/api/v1/resources/", query)
        assert response.status_code == 200, response.json()
        return [r["title"] for r in response.json()["results"]]

    assert titles({"kind": "dataset"}) == ["Beta dataset"]
    assert titles({"tlp": "amber"}) == ["Alpha report"]
    assert titles({"data_category": "threat_intelligence", "ordering": "title"}) == [
        "Alpha report",
        "Beta dataset",
    ]
    assert titles({"owner": sharing.a.slug, "ordering": "-title"}) == [
        "Beta dataset",
        "Alpha report",
    ]
    assert titles({"owner": sharing.b.slug}) == []
    assert titles({"search": "alpha"}) == ["Alpha report"]
    assert client.get("/api/v1/resources/", {"tlp": "purple"}).status_code == 400


def test_a_filter_is_validated_once_a_request_and_narrows_every_part_of_the_list(
    sharing, monkeypatch
):
    # The list is read in parts (what everyone sees, what the grants add: portal.access), and
    # each part is filtered; one validated filter set serves them all (portal.api.filtering).
    new_resource(sharing, title="Open dataset", kind="dataset", tlp="clear")
    new_resource(sharing, title="Granted dataset", kind="dataset", tlp="green")
    new_resource(sharing, title="Granted report", kind="report", tlp="green")
    validated = []
    is_valid = FilterSet.is_valid
    monkeypatch.setattr(
        FilterSet, "is_valid", lambda self: validated.append(self) or is_valid(self)
    )

    response = api(sharing.a_member).get("/api/v1/resources/", {"kind": "dataset"})

    assert response.status_code == 200
    assert sorted(r["title"] for r in response.json()["results"]) == [
        "Granted dataset",
        "Open dataset",
    ]
    assert response.json()["count"] == 2
    assert len(validated) == 1


def test_the_list_costs_the_same_queries_for_one_resource_and_for_many(sharing):
    client = api(sharing.a_pm)
    new_resource(sharing, title="First")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/resources/")
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    one = queries()
    for n in range(6):
        new_resource(sharing, title=f"More {n}")
    many = queries()

    assert one[1] == 1 and many[1] == 7
    assert many[0] == one[0]


# --- Metadata and versions -------------------------------------------------------------------


def test_metadata_update_cannot_change_owner_creator_or_file(sharing):
    resource = new_resource(sharing)

    response = api(sharing.a_pm).patch(
        f"/api/v1/resources/{resource.pk}/",
        {
            "title": "Renamed report",
            "tags": ["renamed"],
            "owner": sharing.c.slug,
            "created_by": sharing.c_member.username,
            "id": 999,
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    resource.refresh_from_db()
    assert resource.title == "Renamed report" and resource.tags == ["renamed"]
    assert resource.owner == sharing.a and resource.created_by == sharing.a_pm
    assert resource.pk != 999 and resource.versions.count() == 1
    assert AuditEvent.objects.filter(action="resource.updated", object_id=str(resource.pk))


def test_only_the_owners_programme_managers_change_it(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)

    for user in (sharing.a_member, sharing.b_member):
        response = api(user).patch(
            f"/api/v1/resources/{resource.pk}/", {"title": "Hijacked"}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["message"] == (
            "Only a programme manager of the owner organisation can do this."
        )
    resource.refresh_from_db()
    assert resource.title != "Hijacked"


def test_versions_are_listed_newest_first_and_only_owners_add_them(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    url = f"/api/v1/resources/{resource.pk}/versions/"
    api(sharing.a_pm).post(url, {"file": upload("v2.pdf")}, format="multipart")

    listed = api(sharing.b_member).get(url)
    refused = api(sharing.b_member).post(url, {"file": upload("v3.pdf")}, format="multipart")

    assert listed.status_code == 200
    assert [v["number"] for v in listed.json()["results"]] == [2, 1]
    assert refused.status_code == 403
    assert resource.versions.count() == 2


# --- Sharing ---------------------------------------------------------------------------------


def test_share_through_the_api_then_the_partner_can_download(sharing):
    resource = new_resource(sharing)
    partner = api(sharing.b_member)
    download = f"/api/v1/resources/{resource.pk}/download/"
    assert partner.get(download).status_code == 404

    response = api(sharing.a_pm).post(
        f"/api/v1/resources/{resource.pk}/shares/",
        {"agreement": sharing.ab_agreement.pk, "recipient": sharing.b.slug},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["recipient"] == sharing.b.slug and body["live"] is True
    assert body["agreement_label"] == sharing.ab_agreement.label
    assert partner.get(download).status_code == 200


def test_revoking_through_the_api_ends_the_partners_access_at_once(sharing):
    resource = new_resource(sharing)
    share = share_with_b(sharing, resource)
    partner = api(sharing.b_member)
    assert partner.get(f"/api/v1/resources/{resource.pk}/download/").status_code == 200

    response = api(sharing.a_pm).post(
        f"/api/v1/resources/{resource.pk}/shares/{share.pk}/revoke/",
        {"reason": "Shared by mistake"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "revoked" and response.json()["live"] is False
    assert partner.get(f"/api/v1/resources/{resource.pk}/download/").status_code == 404
    assert partner.get(f"/api/v1/resources/{resource.pk}/").status_code == 404
    share.refresh_from_db()
    assert share.end_reason == "Shared by mistake"


def test_a_share_is_revoked_only_through_its_own_resource(sharing):
    mine = new_resource(sharing, title="Mine")
    other = new_resource(sharing, title="Other")
    share = share_with_b(sharing, other)

    response = api(sharing.a_pm).post(f"/api/v1/resources/{mine.pk}/shares/{share.pk}/revoke/")

    assert response.status_code == 404
    assert response.json()["message"] == "This resource has no such share."
    share.refresh_from_db()
    assert share.status == ShareStatus.ACTIVE


def test_shares_are_listed_for_the_owners_programme_managers_only(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    url = f"/api/v1/resources/{resource.pk}/shares/"

    listed = api(sharing.a_pm).get(url)

    assert listed.status_code == 200
    assert [s["recipient"] for s in listed.json()["results"]] == [sharing.b.slug]
    assert api(sharing.b_member).get(url).status_code == 403
    assert api(sharing.a_member).get(url).status_code == 403
    assert api(sharing.c_member).get(url).status_code == 404


def test_red_is_shared_with_named_people_only_and_needs_the_password(sharing):
    agreement = active_agreement(sharing, title="Red channel", tlp_ceiling="red")
    resource = new_resource(sharing, tlp="red")
    client = api(sharing.a_pm)
    url = f"/api/v1/resources/{resource.pk}/shares/"
    base = {"agreement": agreement.pk, "recipient": sharing.b.slug}

    no_password = client.post(url, {**base, "recipient_users": ["bor-member"]}, format="json")
    wrong = client.post(
        url, {**base, "recipient_users": ["bor-member"], "password": "nope"}, format="json"
    )
    no_people = client.post(url, {**base, "password": PASSWORD}, format="json")
    outsider = client.post(
        url, {**base, "recipient_users": ["cal-member"], "password": PASSWORD}, format="json"
    )

    assert no_password.status_code == 400 and "password" in no_password.json()["errors"]
    assert wrong.json()["message"] == "password: The password is not correct."
    assert no_people.status_code == 400
    assert no_people.json()["message"] == (
        "recipient_users: TLP:RED is shared with named people only: choose at least one."
    )
    assert outsider.status_code == 400
    assert "cal-member" in outsider.json()["message"]
    assert not Share.objects.exists()

    shared = client.post(
        url, {**base, "recipient_users": ["bor-member"], "password": PASSWORD}, format="json"
    )

    assert shared.status_code == 201, shared.json()
    assert shared.json()["recipient_users"] == ["bor-member"]
    download = f"/api/v1/resources/{resource.pk}/download/"
    assert api(sharing.b_member).get(download).status_code == 200
    assert api(sharing.b_pm).get(download).status_code == 404  # B, but not named


def test_a_share_refused_by_a_rule_says_which_rule(sharing):
    green_only = active_agreement(sharing, title="Green channel", tlp_ceiling="green")
    resource = new_resource(sharing, tlp="amber")

    response = api(sharing.a_pm).post(
        f"/api/v1/resources/{resource.pk}/shares/",
        {"agreement": green_only.pk, "recipient": sharing.b.slug},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        f"{green_only.label} caps TLP at GREEN; this resource is AMBER."
    )
    assert not Share.objects.exists()


def test_an_agreement_the_sharer_cannot_see_looks_like_none_at_all(sharing):
    c_pm = UserFactory(organisation=sharing.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    today = timezone.localdate()
    c_and_b = agreement_services.create_agreement(
        actor=c_pm,
        parties=[sharing.c, sharing.b],
        title="Caldera-Borealis pact",
        kind="data_sharing",
        purpose="Exchange incidents.",
        effective_from=today,
        expires_on=today + datetime.timedelta(days=30),
        data_categories=["threat_intelligence"],
        tlp_ceiling="amber",
    )
    resource = new_resource(sharing)
    url = f"/api/v1/resources/{resource.pk}/shares/"
    client = api(sharing.a_pm)

    hidden = client.post(url, {"agreement": c_and_b.pk, "recipient": "bor-ncsc"}, format="json")
    missing = client.post(url, {"agreement": 987654, "recipient": "bor-ncsc"}, format="json")

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["errors"]["agreement"] == [
        f'Invalid pk "{c_and_b.pk}" - object does not exist.'
    ]
    assert c_and_b.title not in hidden.content.decode()


# --- Access log ------------------------------------------------------------------------------


def test_access_log_shows_who_from_which_organisation_and_nation_downloaded(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    api(sharing.b_member).get(f"/api/v1/resources/{resource.pk}/download/")
    url = f"/api/v1/resources/{resource.pk}/access-log/"

    response = api(sharing.a_pm).get(url, {"action": "resource.downloaded"})

    assert response.status_code == 200, response.json()
    (row,) = response.json()["results"]
    assert row["user"] == "bor-member"
    assert row["organisation"] == "Borealis Cyber Centre"
    assert (row["country"], row["country_name"]) == ("FI", "Finland")
    assert row["action"] == "resource.downloaded" and row["resource"] == resource.title
    assert row["version"] == 1 and row["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert row["agreement"] == sharing.ab_agreement.label
    assert row["time"].endswith("Z")


def test_access_log_refuses_bad_filters_and_readers_without_the_role(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    url = f"/api/v1/resources/{resource.pk}/access-log/"

    bad = api(sharing.a_pm).get(url, {"date_from": "2026-13-45"})
    backwards = api(sharing.a_pm).get(url, {"date_from": "2026-05-02", "date_to": "2026-05-01"})

    assert bad.status_code == 400 and bad.json()["message"] == "date_from: Enter a valid date."
    assert backwards.json()["message"] == "date_to: The end date is before the start date."
    assert api(sharing.a_admin).get(url).status_code == 200
    assert api(sharing.a_member).get(url).status_code == 403
    assert api(sharing.b_member).get(url).status_code == 403


def test_the_schema_describes_the_resources_api(sharing):
    client = APIClient()
    client.force_login(sharing.a_pm)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/resources/",
        "/api/v1/resources/{id}/download/",
        "/api/v1/resources/{id}/versions/",
        "/api/v1/resources/{id}/shares/",
        "/api/v1/resources/{id}/shares/{share_pk}/revoke/",
        "/api/v1/resources/{id}/access-log/",
    ):
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/v1/resources/"]["post"]["requestBody"]["content"]
    assert set(paths["/api/v1/resources/{id}/versions/"]) >= {"get", "post"}
