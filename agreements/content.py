"""An agreement's content as one canonical document, and the hash that signatures cover."""

import hashlib
import json

from agreements.models import Agreement

TERM_FIELDS = [
    "title",
    "kind",
    "purpose",
    "data_categories",
    "tlp_ceiling",
    "permitted_actions",
    "attribution_allowed",
    "encryption_required",
    "affected_parties_notifiable",
    "retention_days",
    "on_termination",
    "effective_from",
    "expires_on",
    "renewal_notice_days",
    "governing_law",
    "prevailing_language",
]


def terms_document(agreement: Agreement) -> dict:
    """Every term, the body and the parties, in plain JSON types and a stable order."""
    terms = {}
    for name in TERM_FIELDS:
        value = getattr(agreement, name)
        if name == "data_categories":
            value = sorted(value or [])
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        terms[name] = value
    parties = [
        {
            "organisation": party.organisation.slug,
            "name": party.organisation.name,
            "country": party.organisation.country.code,
            "required_signatures": party.required_signatures,
            "signatories": sorted(user.get_username() for user in party.signatories.all()),
            "legal_contact": party.legal_contact,
            "technical_contact": party.technical_contact,
            "incident_contact": party.incident_contact,
        }
        for party in agreement.parties.select_related("organisation").prefetch_related(
            "signatories"
        )
    ]
    return {
        "reference": agreement.reference,
        "version": agreement.version,
        "supersedes": agreement.supersedes.label if agreement.supersedes_id else None,
        "terms": terms,
        "body": agreement.body,
        "parties": sorted(parties, key=lambda p: p["organisation"]),
    }


def canonical_json(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(agreement: Agreement) -> str:
    """SHA-256 over the canonical JSON of the agreement's current terms document."""
    return document_hash(terms_document(agreement))


def document_hash(document: dict) -> str:
    """SHA-256 over the canonical JSON of a terms document."""
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def frozen_or_current(agreement: Agreement) -> dict:
    """The document as signed when there is one, else the draft's current content."""
    return agreement.signed_document or terms_document(agreement)
