"""Reading STIX 2.1 input: bundles, envelopes and single objects, checked object by object.

Validation is stix2-validator's (the OASIS schemas, patterns, vocabularies) and stix2's
parser; on top of them, the portal's own rules: spec_version 2.1, known TLP markings, the
owner's identity as creator, and a size limit. A problem is reported per object, with its id.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass

import stix2
from django.conf import settings
from stix2validator import ValidationOptions, validate_instance

from intel import markings
from portal.models import Organisation

#: The portal's namespace for the identities it derives (organisations, collections).
NAMESPACE = uuid.UUID("5b1f6a52-93f1-4c39-9d8a-4a8c1e0f7c21")

SDO_TYPES = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
    }
)
SRO_TYPES = frozenset({"relationship", "sighting"})
SCO_TYPES = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
STORED_TYPES = SDO_TYPES | SRO_TYPES | SCO_TYPES

_VALIDATION = ValidationOptions(version="2.1")


class BundleRefused(ValueError):
    """The input cannot be stored; `problems` says why, one line per bad object."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Checked:
    """One object that passed every check, with the TLP it is stored under."""

    data: dict
    tlp: str

    @property
    def stix_id(self) -> str:
        return self.data["id"]


def max_bytes() -> int:
    return settings.INTEL_MAX_BUNDLE_BYTES


def identity_id(organisation: Organisation) -> str:
    """The organisation's STIX identity id: stable, and derived from nothing it can change."""
    return f"identity--{uuid.uuid5(NAMESPACE, f'organisation:{organisation.pk}')}"


def identity_of(organisation: Organisation) -> dict:
    """The organisation's STIX identity object, as every collection and export carries it."""
    created = _timestamp(organisation.created_at) if hasattr(organisation, "created_at") else None
    created = created or "2024-01-01T00:00:00.000Z"
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(organisation),
        "created": created,
        "modified": created,
        "name": organisation.name,
        "identity_class": "organization",
    }


def read_objects(raw: bytes | str | dict | list, *, envelope: bool = False) -> list:
    """The objects of a bundle, a TAXII envelope, a list or a single object (with
    envelope=True, as TAXII POSTs them: of an envelope only).

    Raises BundleRefused for input that is not JSON, is too large, or has no objects.
    """
    if isinstance(raw, bytes | str):
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > max_bytes():
            raise BundleRefused(
                [f"The bundle is {_megabytes(size)}; the limit is {_megabytes(max_bytes())}."]
            )
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise BundleRefused([f"This is not valid JSON: {error}."]) from None
    is_bundle = isinstance(raw, dict) and raw.get("type") == "bundle"
    is_envelope = isinstance(raw, dict) and "objects" in raw and "type" not in raw
    if envelope and not is_envelope:
        raise BundleRefused(["A TAXII envelope is a JSON object with a list of objects."])
    if is_bundle or is_envelope:
        objects = raw.get("objects")
    elif isinstance(raw, dict):
        objects = [raw]
    else:
        objects = raw
    if not isinstance(objects, list) or not objects:
        raise BundleRefused(["There are no STIX objects in it."])
    if len(objects) > settings.INTEL_MAX_BUNDLE_OBJECTS:
        raise BundleRefused(
            [
                f"It holds {len(objects)} objects; at most "
                f"{settings.INTEL_MAX_BUNDLE_OBJECTS} are read at once."
            ]
        )
    return objects


def check(stix, *, owner: Organisation, default_tlp: str, other_identities: set[str]) -> Checked:
    """One object, checked and completed for storing; raises ValueError saying why not.

    Completed: an object without a creator is created by the owner; one without a TLP
    marking is marked with the TLP chosen at import.
    """
    if not isinstance(stix, dict):
        raise ValueError("An object is not a JSON object.")
    stix_type = stix.get("type")
    if not isinstance(stix_type, str) or not isinstance(stix.get("id"), str):
        raise ValueError("An object has no type or no id.")
    if _holds_nul(stix):
        # PostgreSQL stores no NUL in text or jsonb: refused here, not a server error there.
        raise ValueError("it holds a NUL character (\\u0000), which cannot be stored.")
    if stix.get("spec_version", "2.1") != "2.1":
        raise ValueError(f"spec_version is {stix.get('spec_version')!r}; only 2.1 is read.")
    if stix_type not in STORED_TYPES:
        raise ValueError(f"objects of type {stix_type!r} are not held here.")
    owner_identity = identity_id(owner)
    if stix_type == "identity" and stix["id"] in other_identities:
        raise ValueError("it is another organisation's identity.")
    creator = stix.get("created_by_ref")
    if creator is not None and creator != owner_identity:
        raise ValueError(
            f"created_by_ref names {creator}, which is not your organisation's identity "
            f"({owner_identity})."
        )
    try:
        tlp = markings.tlp_of(stix)
    except markings.UnknownMarking as unknown:
        raise ValueError(
            f"it carries the marking {unknown.marking_id}, which is not a TLP marking this "
            "portal knows."
        ) from None
    data = dict(stix)
    if stix_type not in SCO_TYPES:
        data["created_by_ref"] = owner_identity
    if tlp is None:
        tlp = default_tlp
        data["object_marking_refs"] = [*data.get("object_marking_refs", []), markings.TLP2_IDS[tlp]]
    _validate(data)
    return Checked(data, tlp)


def _validate(data: dict) -> None:
    results = validate_instance(data, _VALIDATION)
    if not results.is_valid:
        raise ValueError(" ".join(_without_id(str(error), data["id"]) for error in results.errors))
    try:
        stix2.parse(data, allow_custom=True, version="2.1")
    except Exception as error:  # stix2 raises many kinds; each says what is wrong
        raise ValueError(str(error)) from None


def validate_pattern(pattern: str) -> list[str]:
    """What is wrong with a STIX pattern, in the validator's words; empty when it is valid."""
    from stix2patterns.validator import run_validator

    try:
        return [error.removeprefix("FAIL: ") for error in run_validator(pattern, "2.1")]
    except Exception as error:  # the parser raises on input it cannot tokenise at all
        return [str(error)]


def timestamp(value: datetime.datetime) -> str:
    """A STIX/TAXII timestamp, UTC, with microseconds."""
    return _timestamp(value)


def parse_timestamp(text: str) -> datetime.datetime:
    """A STIX timestamp as an aware datetime; raises ValueError for anything else."""
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        raise ValueError(f"{text!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z).")
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def _timestamp(value) -> str:
    if value is None:
        return ""
    utc = value.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _without_id(message: str, stix_id: str) -> str:
    return message.removeprefix(f"{stix_id}: ")


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"
