"""The agreements API: the same services as the pages, JSON errors, 404 for outsiders."""

import datetime

from django.utils import timezone
from rest_framework.test import APIClient

from agreements.models import Agreement, AgreementStatus, Signature
from portal import services as portal_services
from tests.factories import PASSWORD, totp_code


def api(user) -> APIClient:
    client = APIClient()
    key = portal_services.rotate_api_token(actor=user).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def new_agreement_payload(world, **overrides):
    today = timezone.localdate()
    payload = {
        "title": "API drafted exchange",
        "kind": "data_sharing",
        "purpose": "Exchange incidents.",
        "body": "# Terms",
        "parties": [world.a.slug, world.b.slug],
        "effective_from": today.isoformat(),
        "expires_on": (today + datetime.timedelta(days=200)).isoformat(),
        "data_categories": ["incidents"],
        "tlp_ceiling": "green",
    }
    payload.update(overrides)
    return payload


def test_full_lifecycle_through_the_api(people):
    pm = api(people.a_pm)
    created = pm.post("/api/v1/agreements/", new_agreement_payload(people), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and sorted(body["parties"]) == [people.a.slug, people.b.slug]
    url = f"/api/v1/agreements/{body['id']}/"

    patched = pm.patch(url, {"title": "API drafted exchange v2"}, format="json")
    assert patched.status_code == 200 and patched.json()["title"] == "API drafted exchange v2"

    # B designates who signs for it, through its own programme manager.
    b_party = Agreement.objects.get(pk=body["id"]).parties.get(organisation=people.b)
    designated = api(people.b_pm).post(
        f"{url}parties/{b_party.pk}/", {"signatories": ["bor-signatory"]}, format="json"
    )
    assert designated.status_code == 200, designated.json()

    submitted = pm.post(url + "submit/")
    assert submitted.json()["status"] == "awaiting_signatures"
    assert len(submitted.json()["content_hash"]) == 64

    for signatory in (people.a_signatory, people.b_signatory):
        proof = {"password": PASSWORD, "otp": totp_code(signatory)}
        signed = api(signatory).post(url + "sign/", proof, format="json")
        assert signed.status_code == 200, signed.json()
    final = pm.get(url).json()
    assert final["status"] == "active"
    assert {s["organisation"] for s in final["signatures"]} == {people.a.slug, people.b.slug}

    evidence = pm.get(url + "evidence/")
    assert evidence.status_code == 200 and evidence["Content-Type"] == "application/json"

    amended = api(people.b_pm).post(url + "amend/")
    assert amended.status_code == 201 and amended.json()["version"] == 2

    ended = api(people.b_signatory).post(
        url + "terminate/",
        {"reason": "Programme closed", "effective_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"


def test_outsiders_get_404_everywhere_and_never_see_it_listed(active, people):
    outsider = api(people.c_member)
    url = f"/api/v1/agreements/{active.pk}/"
    assert outsider.get(url).status_code == 404
    assert outsider.post(url + "sign/", {"password": PASSWORD}, format="json").status_code == 404
    assert outsider.get(url + "evidence/").status_code == 404
    listing = outsider.get("/api/v1/agreements/").json()
    assert listing["count"] == 0
    assert outsider.get(f"/api/v1/agreements/?search={active.reference}").json()["count"] == 0


def test_wrong_password_is_a_clear_400_and_no_signature(draft, people):
    api(people.a_pm).post(f"/api/v1/agreements/{draft.pk}/submit/")
    response = api(people.b_signatory).post(
        f"/api/v1/agreements/{draft.pk}/sign/", {"password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "password: The password is not correct."
    assert not Signature.objects.exists()


def test_wrong_state_is_a_409_with_the_reason(active, people):
    response = api(people.a_pm).patch(
        f"/api/v1/agreements/{active.pk}/", {"title": "Rewrite history"}, format="json"
    )
    assert response.status_code == 409
    assert "is active; it can only be edited when it is draft" in response.json()["message"]
    active.refresh_from_db()
    assert active.title != "Rewrite history"


def test_role_refusal_is_a_403_with_the_reason(draft, people):
    response = api(people.b_member).post(f"/api/v1/agreements/{draft.pk}/submit/")
    assert response.status_code == 403
    assert response.json()["message"] == "Only a programme manager of a party can do this."


def test_lifecycle_fields_posted_by_a_client_are_ignored(people):
    payload = new_agreement_payload(people, status="active", content_hash="f" * 64, reference="X")
    created = api(people.a_pm).post("/api/v1/agreements/", payload, format="json").json()
    agreement = Agreement.objects.get(pk=created["id"])
    assert agreement.status == AgreementStatus.DRAFT and agreement.content_hash == ""
    assert agreement.reference.startswith("AGR-")


def test_invalid_input_is_refused_field_by_field(people):
    response = api(people.a_pm).post(
        "/api/v1/agreements/",
        new_agreement_payload(people, parties=["no-such-org"], tlp_ceiling="purple"),
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "parties" in errors and "tlp_ceiling" in errors
    assert not Agreement.objects.exists()


def test_decline_through_the_api_needs_reason_and_password(draft, people):
    api(people.a_pm).post(f"/api/v1/agreements/{draft.pk}/submit/")
    signatory = api(people.b_signatory)
    missing = signatory.post(f"/api/v1/agreements/{draft.pk}/decline/", {"password": PASSWORD})
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    declined = signatory.post(
        f"/api/v1/agreements/{draft.pk}/decline/",
        {"password": PASSWORD, "otp": totp_code(people.b_signatory), "reason": "Scope too wide"},
        format="json",
    )
    assert declined.status_code == 200 and declined.json()["status"] == "draft"


def test_list_filters_by_status_and_expiry(active, draft, people):
    client = api(people.a_member)
    assert client.get("/api/v1/agreements/?status=draft").json()["count"] == 1
    assert client.get("/api/v1/agreements/?expiring_within=400").json()["count"] == 1
    assert client.get("/api/v1/agreements/?expiring_within=10").json()["count"] == 0
