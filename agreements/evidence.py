"""Evidence bundles: a signed agreement, its signatures and its history in one signed file.

A partner checks a bundle offline, without trusting the portal's database or its operators:
`verify_bundle` needs only the file's bytes and the portal's published public key.

File format ("cooperation-portal-evidence/2"), UTF-8 JSON in exactly one canonical form
(sorted keys, two-space indent, no ASCII escaping, one final newline):

    {"key_id": ..., "payload": {...}, "public_key": PEM, "signature": base64}

The Ed25519 signature covers the payload's compact canonical JSON (sorted keys, separators
"," and ":", no ASCII escaping, UTF-8). The payload's `content_hash` is SHA-256 over the
canonical JSON of `payload["agreement"]`, the same hash every signatory signed.

The payload's `timeline` is the agreement's whole history (portal.audit), oldest first, as
its own hash chain: each entry's `hash` is SHA-256 over its `prev_hash` and the canonical JSON
of its time, action, actor and actor's organisation with `history["key"]`; the first entry
starts from 64 zeros and the last is `history["head"]`. So a verifier sees that no entry was
left out, added, reordered or changed, and sees nothing of any event outside the history.

Format 1, the first, listed the trail's global event ids and hashes instead, which gave away
the hashes of events about other agreements; its files still verify, with a warning that their
timeline is not proven.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from agreements import content, lifecycle
from agreements.models import Agreement
from portal import audit, signing

FORMAT = "cooperation-portal-evidence/2"
#: Files issued before the timeline became the agreement's own chain; they still verify.
FORMAT_1 = "cooperation-portal-evidence/1"
#: Where partners fetch the key; the path is fixed so they can find it on any portal.
PUBLIC_KEY_PATH = "/.well-known/portal-signing-key"


def build_bundle(agreement: Agreement) -> bytes:
    """The signed evidence file of a signed agreement, in its one canonical byte form."""
    payload = build_payload(agreement)
    document = {
        "payload": payload,
        "signature": signing.sign(_payload_bytes(payload)),
        "key_id": signing.key_id(),
        "public_key": signing.public_key_pem(),
    }
    return _file_bytes(document)


def build_payload(agreement: Agreement) -> dict:
    """What the bundle signs and the certificate shows; refuses an agreement not yet signed."""
    if agreement.status not in lifecycle.SIGNED_STATES:
        raise ValidationError(
            f"{agreement.label} is {agreement.get_status_display().lower()}: evidence is issued "
            "only once every party has signed."
        )
    document = agreement.signed_document
    if document is None or _content_hash(document) != agreement.content_hash:
        # Cannot happen through the services (submit stores both together); refuse rather
        # than issue a bundle whose signatures do not cover its content.
        raise ValidationError(
            f"{agreement.label} has no stored document matching its content hash "
            f"{agreement.content_hash}; no evidence can be issued."
        )
    signatures = agreement.signatures.filter(
        voided_at__isnull=True, content_hash=agreement.content_hash
    ).select_related("user", "organisation")
    key, timeline = history(agreement)
    return {
        "format": FORMAT,
        "issued_at": _utc(timezone.now()),
        "portal": {"name": settings.PORTAL_NAME, "base_url": settings.PORTAL_BASE_URL},
        "agreement": document,
        "content_hash": agreement.content_hash,
        "status": agreement.status,
        "signatures": [
            {
                "user": s.user.get_username(),
                "name": s.user.get_full_name() or s.user.get_username(),
                "organisation": s.organisation.slug,
                "organisation_name": s.organisation.name,
                "country": s.organisation.country.code,
                "signed_at": _utc(s.signed_at),
                "method": s.method,
                "content_hash": s.content_hash,
            }
            for s in signatures
        ],
        "history": {"key": key, "head": timeline[-1]["hash"] if timeline else None},
        "timeline": timeline,
    }


def history(agreement: Agreement) -> tuple[str, list[dict]]:
    """The agreement's history key and whole history, oldest first, as the bundle shows it;
    refuses to issue one whose stored chain does not verify."""
    key = audit.history_key(agreement)
    # timeline() gives the newest first; evidence reads in the order things happened.
    events = list(audit.timeline(agreement, limit=None))[::-1]
    entries = [
        {
            **audit.history_entry(
                event, event.actor_organisation.slug if event.actor_organisation else None
            ),
            "prev_hash": event.history_prev_hash,
            "hash": event.history_hash,
        }
        for event in events
    ]
    head = entries[-1]["hash"] if entries else None
    problems = _check_timeline({"history": {"key": key, "head": head}, "timeline": entries})
    if problems:
        raise ValidationError(
            f"The history of {agreement.label} does not verify ({'; '.join(problems)}): no "
            "evidence can be issued. Run `manage.py verify_audit`."
        )
    return key, entries


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of checking a bundle: ok only when problems is empty."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def verify_bundle(data: bytes, public_key_pem: str | None = None) -> VerificationReport:
    """Check a bundle's bytes alone (no database): canonical form, signature, hashes.

    With public_key_pem (the key the portal publishes) the signature must be by that key;
    without it, the embedded key is used and the summary names its id for the partner to
    compare with the published one. Every problem found is reported, not just the first.
    """
    document, problem = _parse(data)
    if problem:
        return _failed([problem])
    payload = document["payload"]
    problems = []
    file_format = payload.get("format")
    if file_format not in (FORMAT, FORMAT_1):
        problems.append(
            f"it is not in the format {FORMAT} (nor the older {FORMAT_1}): it says {file_format!r}"
        )
    if _file_bytes(document) != data:
        problems.append(
            "the file was changed after it was issued: its bytes are not the exact form the "
            "portal writes (even a changed space or line break counts)"
        )
    key_problems, used_key_id = _check_signature(document, public_key_pem)
    problems += key_problems
    problems += _check_hashes(payload)
    problems += _check_every_party_signed(payload)
    if file_format == FORMAT:
        problems += _check_timeline(payload)
    if problems:
        return _failed(problems)
    agreement = payload["agreement"]
    summary = (
        f"Evidence verified: {agreement.get('reference')} v{agreement.get('version')}, "
        f"content hash {payload['content_hash']}, {len(payload['signatures'])} signatures, "
        f"signed by key {used_key_id}"
    )
    if file_format == FORMAT:
        summary += (
            f", complete history of {len(payload['timeline'])} events ending at "
            f"{payload['history']['head']}"
        )
    else:
        summary += (
            f"\nThis file is in the older format {FORMAT_1}: its signatures and content are "
            "proven, its timeline is not (it is not a chain of its own, so entries could be "
            f"missing). Ask the portal for a new bundle, in {FORMAT}, to prove the history."
        )
    if public_key_pem is None:
        summary += (
            f"\nOnly the key inside the file was used: check that {used_key_id} is the key id "
            f"the portal publishes at {PUBLIC_KEY_PATH} on its own address (not an address "
            "taken from this file), or verify again against that key (--public-key)."
        )
    return VerificationReport(ok=True, problems=[], summary=summary)


# --- Helpers ----------------------------------------------------------------------------------


def _parse(data: bytes) -> tuple[dict | None, str]:
    """The outer document, or why these bytes cannot be an evidence bundle."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the file is not UTF-8 text: it is not an evidence bundle, or it is damaged"
    try:
        document = json.loads(text)
    except ValueError as error:
        return None, f"the file is not valid JSON ({error}), so it is not an evidence bundle"
    shape = {"payload": dict, "signature": str, "key_id": str, "public_key": str}
    if not isinstance(document, dict) or any(
        not isinstance(document.get(name), kind) for name, kind in shape.items()
    ):
        return None, (
            "the file is not an evidence bundle: it needs a payload object and the text "
            "fields signature, key_id and public_key"
        )
    return document, ""


def _check_signature(document: dict, public_key_pem: str | None) -> tuple[list[str], str]:
    """Problems with the signature and keys, and the id of the key the check used."""
    embedded = document["public_key"]
    try:
        embedded_id = signing.key_id(embedded)
    except ValueError as error:
        embedded_id = ""
        problems = [f"the public key embedded in the file is unusable: {error}"]
    else:
        problems = []
        # The outer key_id is not covered by the signature: a forger could copy the portal's
        # id next to their own key, so it must match the key it names.
        if document["key_id"] != embedded_id:
            problems.append(
                f"the key id written in the file ({document['key_id']}) is not the id of the "
                f"public key embedded in it ({embedded_id})"
            )
    if public_key_pem is None:
        if not embedded_id:
            return problems, ""
        key, key_id, whose = embedded, embedded_id, "the public key embedded in the file"
    else:
        try:
            key_id = signing.key_id(public_key_pem)
        except ValueError as error:
            return [*problems, f"the public key you gave is unusable: {error}"], ""
        key, whose = public_key_pem, "the public key you gave"
        if embedded_id and embedded_id != key_id:
            problems.append(
                f"the file embeds a different public key (key id {embedded_id}) from the one "
                f"you gave (key id {key_id})"
            )
    if not signing.verify(key, _payload_bytes(document["payload"]), document["signature"]):
        problems.append(
            f"the signature does not verify against {whose} (key id {key_id}): the content "
            "was changed after it was signed, or another key signed it"
        )
    return problems, key_id


def _check_hashes(payload: dict) -> list[str]:
    """The agreement must hash to the content hash, and every signature must be on it."""
    problems = []
    expected = payload.get("content_hash")
    actual = _content_hash(payload.get("agreement"))
    if actual != expected:
        problems.append(
            f"the agreement's content does not match its content hash: it hashes to {actual}, "
            f"the file says {expected}"
        )
    signatures = payload.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        return [*problems, "the file lists no signatures"]
    for signature in signatures:
        if not isinstance(signature, dict):
            problems.append("a signature entry is not an object")
        elif signature.get("content_hash") != expected:
            problems.append(
                f"the signature of {signature.get('user')} ({signature.get('organisation')}) "
                f"is on content hash {signature.get('content_hash')}, not on the agreement's "
                f"{expected}"
            )
    return problems


def _check_timeline(payload: dict) -> list[str]:
    """The timeline must be the agreement's whole history chain: starting from the genesis
    hash, each entry linked to the one before it and matching its own hash, ending at the
    head. Names each entry that breaks it, by its position, time and action."""
    history, entries = payload.get("history"), payload.get("timeline")
    if not isinstance(history, dict) or not isinstance(history.get("key"), str):
        return ["the file has no history key, so its timeline cannot be checked"]
    if not isinstance(entries, list) or not entries:
        return ["the file's timeline is empty: an agreement's history starts when it is drafted"]
    key, problems, prev = history["key"], [], audit.GENESIS_HASH
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(name), str) for name in ("at", "action", "prev_hash", "hash")
        ):
            problems.append(f"timeline entry {number} is not a complete entry")
            prev = None
            continue
        where = f"timeline entry {number} ({entry['action']} at {entry['at']})"
        if prev is not None and entry["prev_hash"] != prev:
            problems.append(
                f"{where} does not follow the entry before it"
                + (" (the history does not start at its first event)" if number == 1 else "")
                + ": an entry was removed, inserted or reordered"
            )
        if audit.history_hash(key, entry["prev_hash"], entry) != entry["hash"]:
            problems.append(f"{where} was changed: its content does not match its hash")
        prev = entry["hash"]
    last = entries[-1]
    if not isinstance(last, dict) or history.get("head") != last.get("hash"):
        problems.append(
            f"the timeline does not end at the history's head {history.get('head')}: entries "
            "were removed from its end, or added after it"
        )
    return problems


def _check_every_party_signed(payload: dict) -> list[str]:
    """Each party must show as many signatures as the agreement requires of it."""
    agreement, signatures = payload.get("agreement"), payload.get("signatures")
    if not isinstance(agreement, dict) or not isinstance(agreement.get("parties"), list):
        return ["the file has no agreement with a list of parties"]
    if not isinstance(signatures, list):
        return []  # already reported by _check_hashes
    signed = [s.get("organisation") for s in signatures if isinstance(s, dict)]
    problems = []
    for party in agreement["parties"]:
        if not isinstance(party, dict):
            problems.append("a party entry is not an object")
            continue
        needed, given = party.get("required_signatures"), signed.count(party.get("organisation"))
        if not isinstance(needed, int) or given < needed:
            problems.append(
                f"{party.get('name')} ({party.get('organisation')}) needs {needed} "
                f"signature(s); the file shows {given}"
            )
    return problems


def _content_hash(document) -> str:
    """The hash signatories sign: the same rule as agreements.content.content_hash."""
    return hashlib.sha256(content.canonical_json(document).encode("utf-8")).hexdigest()


def _payload_bytes(payload: dict) -> bytes:
    return content.canonical_json(payload).encode("utf-8")


def _file_bytes(document: dict) -> bytes:
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )


def _failed(problems: list[str]) -> VerificationReport:
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    lines = "\n".join(f"- {problem}" for problem in problems)
    return VerificationReport(
        ok=False, problems=problems, summary=f"Evidence NOT verified ({count}):\n{lines}"
    )


def _utc(moment) -> str:
    return moment.astimezone(UTC).isoformat()
