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

Checking a bundle is `agreements.verifier`'s job: a standalone file (the standard library and
`cryptography`) that the portal also serves for download, so a partner runs the very code
the portal runs, and the rules above are written once.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from agreements import lifecycle, verifier
from agreements.models import Agreement
from agreements.verifier import FORMAT, FORMAT_1, PUBLIC_KEY_PATH, VerificationReport
from portal import audit, signing

__all__ = [
    "FORMAT",
    "FORMAT_1",
    "PUBLIC_KEY_PATH",
    "VerificationReport",
    "build_bundle",
    "build_payload",
    "history",
    "verifier_sha256",
    "verifier_source",
    "verify_bundle",
]


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
            gettext(
                "%(agreement)s is %(status)s: evidence is issued only once every party has signed."
            )
            % {"agreement": agreement.label, "status": agreement.get_status_display().lower()}
        )
    document = agreement.signed_document
    if document is None or _content_hash(document) != agreement.content_hash:
        # Cannot happen through the services (submit stores both together); refuse rather
        # than issue a bundle whose signatures do not cover its content.
        raise ValidationError(
            gettext(
                "%(agreement)s has no stored document matching its content hash "
                "%(content_hash)s; no evidence can be issued."
            )
            % {"agreement": agreement.label, "content_hash": agreement.content_hash}
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
            gettext(
                "The history of %(agreement)s does not verify (%(problems)s): no "
                "evidence can be issued. Run `manage.py verify_audit`."
            )
            % {"agreement": agreement.label, "problems": "; ".join(problems)}
        )
    return key, entries


@functools.cache
def verifier_source() -> bytes:
    """The standalone verifier's exact bytes, as the portal serves them for download."""
    return Path(verifier.__file__).read_bytes()


def verifier_sha256() -> str:
    """SHA-256 of the verifier served for download, for a reader to compare."""
    return hashlib.sha256(verifier_source()).hexdigest()


def verify_bundle(data: bytes, public_key_pem: str | None = None) -> VerificationReport:
    """Check a bundle's bytes alone (no database): canonical form, signature, hashes and
    history, with the standalone verifier partners download (see agreements.verifier)."""
    return verifier.verify(data, public_key_pem=public_key_pem)


# --- Helpers ----------------------------------------------------------------------------------


def _check_timeline(payload: dict) -> list[str]:
    return verifier.check_timeline(payload)


def _content_hash(document) -> str:
    """The hash signatories sign: the same rule as agreements.content.content_hash."""
    return verifier.content_hash(document)


def _payload_bytes(payload: dict) -> bytes:
    return verifier.payload_bytes(payload)


def _file_bytes(document: dict) -> bytes:
    return verifier.file_bytes(document)


def _utc(moment) -> str:
    return moment.astimezone(UTC).isoformat()
