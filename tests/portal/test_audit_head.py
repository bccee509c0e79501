"""The signed chain head: what lets an organisation prove later that the trail was not
rewritten behind its back.

An admin keeps a head from the API. Later, `verify_audit --head` must pass while the trail
has only grown, and fail, saying what failed, when an earlier event was altered, when history
was rewritten with every hash recomputed, when the head's event was removed, or when the head
itself is forged.
"""

import base64
import datetime
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from portal import audit, signing
from portal.models import AuditEvent, Role
from tests.factories import UserFactory
from tests.portal.test_audit import _execute, dba  # noqa: F401  (dba: raw SQL may tamper)

HEAD_URL = "/api/v1/audit/head/"


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def keep_head(world, tmp_path) -> tuple[dict, str]:
    """What an admin does: fetch the head and keep it in a file."""
    head = api_client(world.a_admin).get(HEAD_URL).json()
    path = tmp_path / "head.json"
    path.write_text(json.dumps(head), encoding="utf-8")
    return head, str(path)


def verify_fails(path: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", head=path)
    return str(failure.value)


def rewrite_history_from(event_id: int) -> None:
    """What a forger with database access does: alter an event, then recompute every hash
    from it on so that the chain verifies again."""
    _execute("""UPDATE portal_auditevent SET details = '{"n": 666}' WHERE id = %s""", [event_id])
    prev = AuditEvent.objects.filter(id__lt=event_id).order_by("-id").first()
    prev_hash = prev.hash if prev else audit.GENESIS_HASH
    for event in AuditEvent.objects.filter(id__gte=event_id).order_by("id"):
        new_hash = audit.event_hash(event, prev_hash)
        _execute(
            "UPDATE portal_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev_hash, new_hash, event.pk],
        )
        prev_hash = new_hash


# --- The API --------------------------------------------------------------------------------


def test_admin_gets_the_latest_event_signed_by_the_portal(world):
    latest = audit.record(world.a_pm, "test.event", n=1)

    response = api_client(world.a_admin).get(HEAD_URL)

    assert response.status_code == 200
    head = response.json()
    assert head["event_id"] == latest.pk
    assert head["seal"] == audit.head_seal(latest.hash)
    assert head["created_at"] == latest.created_at.astimezone(datetime.UTC).isoformat()
    assert head["key_id"] == signing.key_id()
    assert head["format"] == audit.HEAD_FORMAT
    signed = {name: head[name] for name in audit.HEAD_FIELDS}
    assert set(head) == {*audit.HEAD_FIELDS, "signature"}
    assert signing.verify(
        signing.public_key_pem(), signing.canonical_bytes(signed), head["signature"]
    )


def test_admins_of_any_organisation_may_keep_a_head(world):
    b_admin = UserFactory(organisation=world.b, username="bor-admin", roles=[Role.ORG_ADMIN])

    assert api_client(b_admin).get(HEAD_URL).status_code == 200


def test_others_get_403_with_a_message_and_anonymous_401(world):
    for user in (world.a_member, world.a_pm, world.c_member, world.staff):
        response = api_client(user).get(HEAD_URL)
        assert response.status_code == 403, user
        assert response.json()["message"] == "This is for organisation admins."

    anonymous = APIClient().get(HEAD_URL)
    assert anonymous.status_code == 401
    assert anonymous.json()["message"]


def test_an_admin_without_two_factor_authentication_is_told_to_enrol(world):
    admin = UserFactory(
        organisation=world.b, username="bor-admin", roles=[Role.ORG_ADMIN], mfa=False
    )

    response = api_client(admin).get(HEAD_URL)

    assert response.status_code == 403
    assert "two-factor authentication" in response.json()["message"]


def test_the_schema_describes_the_head(world):
    client = api_client(world.a_admin)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    head = client.get(HEAD_URL).json()

    operation = schema["paths"][HEAD_URL]["get"]
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert set(component["properties"]) == set(head)
    assert component["properties"]["event_id"]["type"] == "integer"
    assert component["properties"]["signed_at"]["format"] == "date-time"


# --- verify_audit --head --------------------------------------------------------------------


def test_a_kept_head_verifies_after_the_trail_grew(world, tmp_path, capsys):
    head, path = keep_head(world, tmp_path)
    for n in range(3):
        audit.record(world.a_pm, "test.later", n=n)

    call_command("verify_audit", head=path)

    out = capsys.readouterr().out
    assert (
        f"Chain head verified: event #{head['event_id']} still has the hash sealed as "
        f"{head['seal']}" in out
    )


@pytest.mark.usefixtures("dba")
def test_an_altered_earlier_event_fails_as_a_broken_chain(world, tmp_path):
    earlier = audit.record(world.a_pm, "test.event", n=1)
    audit.record(world.a_pm, "test.event", n=2)
    _, path = keep_head(world, tmp_path)
    _execute("""UPDATE portal_auditevent SET details = '{"n": 9}' WHERE id = %s""", [earlier.pk])

    message = verify_fails(path)

    assert message.startswith(f"Chain broken at event #{earlier.pk}:")
    assert "altered" in message


@pytest.mark.usefixtures("dba")
def test_history_rewritten_with_recomputed_hashes_fails_as_hash_differs(world, tmp_path):
    earlier = audit.record(world.a_pm, "test.event", n=1)
    head, path = keep_head(world, tmp_path)
    rewrite_history_from(earlier.pk)
    assert audit.verify_chain().intact  # the plain check is fooled ...

    message = verify_fails(path)  # ... the kept head is not

    assert message.startswith(f"Hash differs: event #{head['event_id']} now has hash")
    assert "history was rewritten" in message


@pytest.mark.usefixtures("dba")
def test_a_removed_head_event_fails_as_missing(world, tmp_path):
    head, path = keep_head(world, tmp_path)
    _execute("DELETE FROM portal_auditevent WHERE id = %s", [head["event_id"]])

    assert verify_fails(path).startswith(f"Event missing: event #{head['event_id']}")


def test_a_head_edited_after_signing_fails_as_a_bad_signature(world, tmp_path):
    head, path = keep_head(world, tmp_path)
    older = AuditEvent.objects.filter(id__lt=head["event_id"]).order_by("-id").first()
    edited = {**head, "event_id": older.pk, "seal": audit.head_seal(older.hash)}
    (tmp_path / "head.json").write_text(json.dumps(edited), encoding="utf-8")

    assert verify_fails(path).startswith("Bad signature: the head's signature does not verify")


def test_a_head_signed_by_another_key_fails_as_a_bad_signature(world, tmp_path):
    head, path = keep_head(world, tmp_path)
    signed = {name: head[name] for name in audit.HEAD_FIELDS}
    forged = Ed25519PrivateKey.generate().sign(signing.canonical_bytes(signed))
    forged_head = {**head, "signature": base64.b64encode(forged).decode()}
    (tmp_path / "head.json").write_text(json.dumps(forged_head), encoding="utf-8")

    assert verify_fails(path).startswith("Bad signature")


def test_a_head_naming_another_key_fails_as_a_bad_signature(world, tmp_path):
    head, path = keep_head(world, tmp_path)
    (tmp_path / "head.json").write_text(
        json.dumps({**head, "key_id": "0123456789abcdef"}), encoding="utf-8"
    )

    message = verify_fails(path)

    assert message.startswith("Bad signature: the head names key 0123456789abcdef")


def test_a_head_whose_hash_differs_from_the_trail_fails_even_when_signed(world, tmp_path):
    # A genuine signature over a hash the trail never had (e.g. a head from another portal
    # database signed with the same key) must not pass.
    head, path = keep_head(world, tmp_path)
    other = {**{name: head[name] for name in audit.HEAD_FIELDS}, "seal": "a" * 64}
    other["signature"] = signing.sign(signing.canonical_bytes(other))
    (tmp_path / "head.json").write_text(json.dumps(other), encoding="utf-8")

    message = verify_fails(path)

    assert message.startswith(f"Hash differs: event #{head['event_id']}")
    assert "a" * 64 in message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not valid JSON"),
        ("[1, 2]", "Not a chain head: it is not a JSON object."),
        ('{"format": "cooperation-portal-audit-head/1"}', "Not a chain head: it needs the field"),
    ],
)
def test_a_file_that_is_not_a_head_is_refused_clearly(world, tmp_path, content, message):
    path = tmp_path / "head.json"
    path.write_text(content, encoding="utf-8")

    assert message in verify_fails(str(path))


def test_a_missing_file_is_refused_clearly(db, tmp_path):
    assert "Cannot read the chain head" in verify_fails(str(tmp_path / "absent.json"))


# --- A head confirms nothing about other events (issue 13) ------------------------------------


def test_two_heads_in_a_row_give_no_chain_hash_to_hash_a_guessed_event_onto(world):
    """The latest event is often another nation's. From a raw chain hash, a guess of the next
    event could be hashed and compared with the next head; a seal cannot be chained on."""
    client = api_client(world.a_admin)
    first = client.get(HEAD_URL).json()
    other = audit.record(world.c_member, "access.refused", world.c, outcome="not_found")
    second = client.get(HEAD_URL).json()

    previous = AuditEvent.objects.get(pk=first["event_id"])
    assert second["event_id"] == other.pk
    for head in (first, second):
        assert "hash" not in head
        assert previous.hash not in json.dumps(head) and other.hash not in json.dumps(head)
    assert audit.event_hash(other, previous.hash) == other.hash  # what the raw hash allowed


def test_a_head_kept_in_the_first_format_still_verifies(world, tmp_path, capsys):
    latest = audit.record(world.a_pm, "test.event", n=1)
    old = {
        "format": audit.HEAD_FORMAT_1,
        "event_id": latest.pk,
        "hash": latest.hash,
        "created_at": latest.created_at.astimezone(datetime.UTC).isoformat(),
        "signed_at": latest.created_at.astimezone(datetime.UTC).isoformat(),
        "key_id": signing.key_id(),
    }
    old["signature"] = signing.sign(signing.canonical_bytes(old))
    path = tmp_path / "old-head.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    audit.record(world.a_pm, "test.later", n=2)

    call_command("verify_audit", head=str(path))

    assert f"event #{latest.pk} still has hash {latest.hash}" in capsys.readouterr().out
