#!/usr/bin/env python3
"""Verify a cooperation portal evidence bundle, on your own machine, without the portal.

    python3 verify.py BUNDLE.json --public-key portal-signing-key.pem

It exits 0 and prints "Evidence verified: ..." when the bundle is genuine, and exits 1 and
names every problem it found otherwise. It needs Python 3.9 or newer and the `cryptography`
package (`pip install cryptography`), nothing else, and it never uses the network.

Get the public key from the portal's own address (not from the bundle):
`<portal address>/.well-known/portal-signing-key`. Its key id, printed by this program, is
the first 16 hexadecimal characters of SHA-256 over the raw 32-byte Ed25519 public key; the
certificate of completion names the id too.

Why a program to download rather than a page to upload the bundle to: a verification page
would be the portal vouching for itself, and an auditor checking the portal would have to
trust the very server under audit (and send it the bundle). This file is short enough to be
read before it is run, depends on nothing of the portal's, and runs offline, so the auditor
trusts only the mathematics and the key they fetched. The portal serves this exact file (the
certificate gives its SHA-256), and uses it itself: the portal's own `verify_evidence` command
runs this same code, so the two can never disagree.

What it checks (the format "cooperation-portal-evidence/2"):
- the file is in its one canonical byte form (UTF-8 JSON, sorted keys, two-space indent, no
  ASCII escaping, one final newline), so not a byte was changed;
- the Ed25519 signature covers the payload's compact canonical JSON, by the key given;
- the agreement's content hashes (SHA-256 of its canonical JSON) to the content hash, and
  every signature is on that hash, with as many signatures per party as it requires;
- the timeline is the agreement's whole history as a hash chain from 64 zeros to its head.
Files in the older format "cooperation-portal-evidence/1" verify, with a warning that their
timeline is not proven.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "cooperation-portal-evidence/2"
#: Files issued before the timeline became the agreement's own chain; they still verify.
FORMAT_1 = "cooperation-portal-evidence/1"
#: Where every portal publishes its public key, below its own address.
PUBLIC_KEY_PATH = "/.well-known/portal-signing-key"
#: The hash a history chain starts from.
GENESIS_HASH = "0" * 64
#: The fields of a history entry that its hash covers.
HISTORY_ENTRY_FIELDS = ("at", "action", "actor", "actor_organisation")
KEY_ID_LENGTH = 16


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of checking a bundle: ok only when problems is empty."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def verify(data: bytes, public_key_pem: str | None = None) -> VerificationReport:
    """Check a bundle's bytes alone: canonical form, signature, hashes, history.

    With public_key_pem (the key the portal publishes) the signature must be by that key;
    without it, the embedded key is used and the summary names its id for the reader to
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
    if file_bytes(document) != data:
        problems.append(
            "the file was changed after it was issued: its bytes are not the exact form the "
            "portal writes (even a changed space or line break counts)"
        )
    key_problems, used_key_id = _check_signature(document, public_key_pem)
    problems += key_problems
    problems += _check_hashes(payload)
    problems += _check_every_party_signed(payload)
    if file_format == FORMAT:
        problems += check_timeline(payload)
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


def canonical_json(document) -> str:
    """The compact canonical JSON that hashes and signatures cover."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(document) -> str:
    """SHA-256 over the canonical JSON of an agreement's terms document."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def history_hash(history: str, prev_hash: str, entry: dict) -> str:
    """SHA-256 over the previous entry's hash and the entry's canonical JSON with its
    history key."""
    covered = {**{name: entry.get(name) for name in HISTORY_ENTRY_FIELDS}, "history": history}
    return hashlib.sha256((prev_hash + canonical_json(covered)).encode("utf-8")).hexdigest()


def payload_bytes(payload: dict) -> bytes:
    """The bytes the portal's signature covers."""
    return canonical_json(payload).encode("utf-8")


def file_bytes(document: dict) -> bytes:
    """The one byte form of a bundle file."""
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8")


def key_id(public_key_pem: str) -> str:
    """The id of an Ed25519 public key; ValueError when it is not one."""
    from cryptography.hazmat.primitives import serialization

    raw = _load_public_key(public_key_pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def signature_is_valid(public_key_pem: str, data: bytes, signature_b64: str) -> bool:
    """True only if signature_b64 is that key's valid Ed25519 signature of data."""
    from cryptography.exceptions import InvalidSignature

    try:
        public = _load_public_key(public_key_pem)
        public.verify(base64.b64decode(signature_b64, validate=True), data)
    except (ValueError, TypeError, binascii.Error, InvalidSignature):
        return False
    return True


def check_timeline(payload: dict) -> list[str]:
    """The timeline must be the agreement's whole history chain: starting from the genesis
    hash, each entry linked to the one before it and matching its own hash, ending at the
    head. Names each entry that breaks it, by its position, time and action."""
    history, entries = payload.get("history"), payload.get("timeline")
    if not isinstance(history, dict) or not isinstance(history.get("key"), str):
        return ["the file has no history key, so its timeline cannot be checked"]
    if not isinstance(entries, list) or not entries:
        return ["the file's timeline is empty: an agreement's history starts when it is drafted"]
    key, problems, prev = history["key"], [], GENESIS_HASH
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
        if history_hash(key, entry["prev_hash"], entry) != entry["hash"]:
            problems.append(f"{where} was changed: its content does not match its hash")
        prev = entry["hash"]
    last = entries[-1]
    if not isinstance(last, dict) or history.get("head") != last.get("hash"):
        problems.append(
            f"the timeline does not end at the history's head {history.get('head')}: entries "
            "were removed from its end, or added after it"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    """The command line: exit 0 when the bundle verifies, 1 when it does not, 2 on misuse."""
    parser = argparse.ArgumentParser(
        prog="verify.py",
        description=(
            "Verify a cooperation portal evidence bundle offline: its exact bytes, its "
            "Ed25519 signature, its content hashes and its history chain."
        ),
    )
    parser.add_argument("bundle", help="the evidence bundle (.json) downloaded from the portal")
    parser.add_argument(
        "--public-key",
        metavar="PEM_FILE",
        help=f"the portal's public key, fetched from its own address at {PUBLIC_KEY_PATH}",
    )
    arguments = parser.parse_args(argv)
    try:
        data = Path(arguments.bundle).read_bytes()
        key = (
            Path(arguments.public_key).read_text(encoding="utf-8") if arguments.public_key else None
        )
    except (OSError, UnicodeDecodeError) as error:
        print(f"Cannot read {error.filename or 'the file'}: {error}", file=sys.stderr)
        return 2
    report = verify(data, public_key_pem=key)
    print(report.summary, file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


# --- Helpers ----------------------------------------------------------------------------------


def _load_public_key(public_key_pem: str):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = serialization.load_pem_public_key(public_key_pem.encode())
    except (ValueError, TypeError, AttributeError) as error:
        raise ValueError("it is not a public key in PEM form") from error
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("it is not an Ed25519 public key")
    return public


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
        embedded_id = key_id(embedded)
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
        key, used_id, whose = embedded, embedded_id, "the public key embedded in the file"
    else:
        try:
            used_id = key_id(public_key_pem)
        except ValueError as error:
            return [*problems, f"the public key you gave is unusable: {error}"], ""
        key, whose = public_key_pem, "the public key you gave"
        if embedded_id and embedded_id != used_id:
            problems.append(
                f"the file embeds a different public key (key id {embedded_id}) from the one "
                f"you gave (key id {used_id})"
            )
    if not signature_is_valid(key, payload_bytes(document["payload"]), document["signature"]):
        problems.append(
            f"the signature does not verify against {whose} (key id {used_id}): the content "
            "was changed after it was signed, or another key signed it"
        )
    return problems, used_id


def _check_hashes(payload: dict) -> list[str]:
    """The agreement must hash to the content hash, and every signature must be on it."""
    problems = []
    expected = payload.get("content_hash")
    actual = content_hash(payload.get("agreement"))
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


def _failed(problems: list[str]) -> VerificationReport:
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    lines = "\n".join(f"- {problem}" for problem in problems)
    return VerificationReport(
        ok=False, problems=problems, summary=f"Evidence NOT verified ({count}):\n{lines}"
    )


if __name__ == "__main__":
    sys.exit(main())
