"""The history in an evidence bundle: the agreement's own chain, whole and in order, proven
offline, and nothing of any other event in the trail (issue 13).

A party used to receive the trail's global ids and hashes: where two of its entries were not
neighbours, the later one's previous hash was that of an event it was never shown, and
guessing that event and hashing it confirmed a refusal on another nations' agreement.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from agreements import evidence, services
from portal import audit, signing
from portal.models import AuditEvent, Role
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import UserFactory, designate_signatories

TRIGGER = "portal_auditevent_append_only"


@pytest.fixture
def two_agreements(people):
    """A-B's agreement and B-C's, their events interleaved in the trail, with a refusal by
    C's member on A-B's in between and one by A's member on B-C's."""
    world = people
    world.extra["c_pm"] = UserFactory(
        organisation=world.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER]
    )
    world.extra["c_signatory"] = UserFactory(
        organisation=world.c, username="cal-signatory", roles=[Role.SIGNATORY]
    )
    ab = draft_between(world, title="A-B indicator exchange")
    bc = services.create_agreement(
        actor=world.b_pm,
        parties=[world.b, world.c],
        title="B-C secret pact",
        kind="mou",
        purpose="Cooperate.",
        body="# Terms",
        effective_from=ab.effective_from,
    )
    designate_signatories(bc)  # C's programme manager designates C's signatory
    services.submit(actor=world.a_pm, agreement=ab)
    services.submit(actor=world.b_pm, agreement=bc)
    _probe(world.c_member, ab)  # C looks for A-B's agreement: a refusal about it
    _probe(world.a_member, bc)  # A looks for B-C's
    sign_by_all(world, bc)
    world.extra["ab"] = sign_by_all(world, ab)
    world.extra["bc"] = bc
    return world


def _probe(user, agreement) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(agreement.get_absolute_url()).status_code == 404


def _payload(bundle: bytes) -> dict:
    return json.loads(bundle)["payload"]


def _reissue(bundle: bytes, change) -> bytes:
    """The bundle with its payload changed by `change` and signed again with the portal's own
    key: what a portal that dropped or altered history would issue. Only the history check
    can catch it."""
    document = json.loads(bundle)
    change(document["payload"])
    document["signature"] = signing.sign(evidence._payload_bytes(document["payload"]))
    return evidence._file_bytes(document)


def _dba(sql: str, params=()) -> None:
    """Raw SQL with table-owner rights, as a forger with the database would run it."""
    on_pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if on_pg:
            # ALTER TABLE refuses while deferred foreign-key checks are queued: run them first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE portal_auditevent DISABLE TRIGGER {TRIGGER}")
        cursor.execute(sql, params)
        if on_pg:
            cursor.execute(f"ALTER TABLE portal_auditevent ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- Nothing of other events ------------------------------------------------------------------


def test_the_bundle_shows_no_hash_id_or_count_of_any_event_it_omits(two_agreements):
    world = two_agreements
    bundle = evidence.build_bundle(world.ab)
    text, timeline = bundle.decode(), _payload(bundle)["timeline"]

    own = AuditEvent.objects.filter(history=audit.history_key(world.ab))
    assert [e["hash"] for e in timeline] == list(
        own.order_by("id").values_list("history_hash", flat=True)
    )
    for event in AuditEvent.objects.exclude(pk__in=own.values("pk")):
        for value in (event.hash, event.history_hash):
            assert not value or value not in text, f"the bundle shows a hash of {event}"
    for event in own:
        assert event.hash not in text  # the global chain stays out, its own events' too
    # Each entry links only to the one before it in this history, never to an unseen event.
    links = [e["prev_hash"] for e in timeline]
    assert links == [audit.GENESIS_HASH] + [e["hash"] for e in timeline[:-1]]
    assert all(
        set(entry) == {"at", "action", "actor", "actor_organisation", "prev_hash", "hash"}
        for entry in timeline
    )


def test_a_refusal_by_a_non_party_is_not_in_the_timeline_or_the_evidence(two_agreements):
    world = two_agreements
    assert AuditEvent.objects.filter(
        action="access.refused", actor=world.c_member, object_id=str(world.ab.pk)
    ).exists()

    payload = _payload(evidence.build_bundle(world.ab))

    assert "access.refused" not in [e["action"] for e in payload["timeline"]]
    assert world.c_member.username not in json.dumps(payload)
    assert world.c.slug not in [e["actor_organisation"] for e in payload["timeline"]]


# --- A genuine history verifies, offline ------------------------------------------------------


def test_a_genuine_history_verifies_and_the_summary_says_it_is_complete(two_agreements):
    bundle = evidence.build_bundle(two_agreements.ab)
    payload = _payload(bundle)

    report = evidence.verify_bundle(bundle, public_key_pem=signing.public_key_pem())

    assert report.ok, report.summary
    assert payload["history"] == {
        "key": audit.history_key(two_agreements.ab),
        "head": payload["timeline"][-1]["hash"],
    }
    assert (
        f"complete history of {len(payload['timeline'])} events ending at "
        f"{payload['history']['head']}" in report.summary
    )


# --- Any entry removed, reordered or changed is caught ----------------------------------------


def _drop(index):
    return lambda payload: payload["timeline"].pop(index)


def _swap(payload):
    timeline = payload["timeline"]
    timeline[1], timeline[2] = timeline[2], timeline[1]


def _edit(payload):
    payload["timeline"][1]["actor"] = "someone-else"


def _rehash_after_edit(payload):
    """A forger who changes an entry and recomputes its hash: the next link breaks."""
    entry = payload["timeline"][1]
    entry["action"] = "agreement.withdrawn"
    entry["hash"] = audit.history_hash(payload["history"]["key"], entry["prev_hash"], entry)


FOLLOW = "does not follow the entry before it"
CHANGED = "was changed: its content does not match its hash"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # The history: created, party_edited (B designates its signatory), submitted, signed…
        (_drop(1), ("timeline entry 2 (agreement.submitted at", FOLLOW, "removed")),
        (_drop(0), ("timeline entry 1 (agreement.party_edited at", "does not start at its first")),
        (_drop(-1), ("the timeline does not end at the history's head",)),
        (_swap, ("timeline entry 2 (agreement.submitted at", FOLLOW, "reordered")),
        (_edit, ("timeline entry 2 (agreement.party_edited at", CHANGED)),
        (_rehash_after_edit, ("timeline entry 3 (agreement.submitted at", FOLLOW)),
    ],
    ids=["middle-removed", "first-removed", "last-removed", "reordered", "edited", "rehashed"],
)
def test_a_changed_history_fails_even_when_signed_by_the_portal(signed_ab, change, expected):
    tampered = _reissue(signed_ab, change)

    report = evidence.verify_bundle(tampered, public_key_pem=signing.public_key_pem())

    assert not report.ok
    assert not any("signature does not verify" in p for p in report.problems)
    assert any(all(part in p for part in expected) for p in report.problems), report.problems


def test_a_changed_history_in_a_file_edited_by_hand_fails_twice(signed_ab):
    """Without re-signing, the signature fails too; the history check still says where."""
    document = json.loads(signed_ab)
    document["payload"]["timeline"].pop(1)

    report = evidence.verify_bundle(evidence._file_bytes(document))

    assert any("signature does not verify" in p for p in report.problems)
    assert any(FOLLOW in p for p in report.problems)


def test_a_history_edited_by_hand_fails_offline_in_the_command(signed_ab, tmp_path):
    """A partner's own machine: no database, only the file and the published key."""
    tampered, key = tmp_path / "tampered.json", tmp_path / "portal.pem"
    tampered.write_bytes(_reissue(signed_ab, _drop(1)))
    key.write_text(signing.public_key_pem())
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/no_database",  # nothing listens
    }

    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            Path(settings.BASE_DIR) / "manage.py",
            "verify_evidence",
            tampered,
            "--public-key",
            key,
        ],
        env=env,
        capture_output=True,
    )

    assert result.returncode != 0
    assert "an entry was removed, inserted or reordered" in result.stderr.decode()


@pytest.fixture
def signed_ab(two_agreements) -> bytes:
    return evidence.build_bundle(two_agreements.ab)


# --- The portal refuses to sign a history that its own trail does not prove --------------------


def test_no_evidence_is_issued_for_a_history_altered_in_the_database(two_agreements):
    world = two_agreements
    signed = AuditEvent.objects.filter(
        history=audit.history_key(world.ab), action="agreement.signed"
    ).first()
    _dba("UPDATE portal_auditevent SET actor_label = %s WHERE id = %s", ["forged", signed.pk])

    with pytest.raises(ValidationError, match="does not verify"):
        evidence.build_bundle(world.ab)
    client = Client()
    client.force_login(world.a_pm)
    page = client.get(reverse("agreements:evidence", args=[world.ab.pk]), follow=True)
    assert page.status_code == 200  # the agreement's page, saying why, not a crash
    assert f"The history of {world.ab.label} does not verify" in page.content.decode()
    with pytest.raises(CommandError, match=f"event #{signed.pk}:"):
        call_command("verify_audit")


# --- The older format --------------------------------------------------------------------------


def test_a_bundle_in_the_old_format_verifies_its_signatures_and_says_its_timeline_is_not_proven(
    signed_ab,
):
    def as_format_1(payload):
        payload["format"] = evidence.FORMAT_1
        del payload["history"]
        payload["timeline"] = [
            {
                "id": n,
                "at": e["at"],
                "action": e["action"],
                "actor": e["actor"],
                "actor_organisation": e["actor_organisation"],
                "hash": "ab" * 32,
                "prev_hash": "cd" * 32,
            }
            for n, e in enumerate(json.loads(signed_ab)["payload"]["timeline"], start=1)
        ]

    report = evidence.verify_bundle(_reissue(signed_ab, as_format_1))

    assert report.ok, report.summary
    assert f"in the older format {evidence.FORMAT_1}" in report.summary
    assert "its timeline is not" in report.summary
    assert evidence.FORMAT in report.summary  # what to ask for instead


def test_an_unknown_format_is_refused_by_name(signed_ab):
    def as_format_9(payload):
        payload["format"] = "cooperation-portal-evidence/9"

    report = evidence.verify_bundle(_reissue(signed_ab, as_format_9))

    assert not report.ok
    assert any("'cooperation-portal-evidence/9'" in p for p in report.problems)
