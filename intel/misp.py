"""MISP events in: converted offline to STIX 2.1 by misp-stix, then stored like any bundle.

The event is the importer's own, so its creator becomes the importer's organisation (MISP's
organisation identity is dropped). TLP comes from the `tlp:` tags: an attribute's own tag,
else the event's, else the TLP chosen at import; every object converted from an attribute
carries that attribute's TLP, so a RED attribute's observable never travels as AMBER. MISP's
false-positive sightings (type 1) arrive as `opinion` objects, as misp-stix converts them.
"""

from __future__ import annotations

import json

from intel import markings, services, stix
from portal.vocabulary import TLP, DataCategory

#: MISP's tlp: tags, TLP 1.0 and 2.0 spellings alike.
_TLP_TAGS = {
    "tlp:clear": TLP.CLEAR,
    "tlp:white": TLP.CLEAR,
    "tlp:green": TLP.GREEN,
    "tlp:amber": TLP.AMBER,
    "tlp:amber+strict": TLP.AMBER_STRICT,
    "tlp:red": TLP.RED,
}


def import_event(
    *,
    actor,
    raw,
    default_tlp: str = TLP.AMBER,
    data_category: str = DataCategory.THREAT_INTELLIGENCE,
) -> services.ImportResult:
    """Convert a MISP event (its JSON export) and import it through intel.services; raises
    stix.BundleRefused, with one message per problem, when it cannot be read or stored."""
    event = _read_event(raw)
    objects = convert(event, default_tlp=default_tlp)
    return services.import_objects(
        actor=actor, raw=objects, default_tlp=default_tlp, data_category=data_category, via="misp"
    )


def convert(event: dict, *, default_tlp: str) -> list[dict]:
    """The event as STIX 2.1 objects, each marked with the TLP its tags give it."""
    from misp_stix_converter import MISPtoSTIX21Parser

    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_misp_event(event)
        objects = json.loads(parser.bundle.serialize())["objects"]
    except Exception as error:  # misp-stix raises whatever its input provokes
        raise stix.BundleRefused([f"This MISP event could not be converted: {error}."]) from None
    body = event.get("Event", event)
    event_tlp = _tlp_of_tags(body.get("Tag")) or default_tlp
    by_attribute = {
        str(attribute.get("uuid")): _tlp_of_tags(attribute.get("Tag")) or event_tlp
        for attribute in _attributes(body)
    }
    for misp_object in body.get("Object") or []:
        levels = [by_attribute[str(a.get("uuid"))] for a in misp_object.get("Attribute") or []]
        by_attribute[str(misp_object.get("uuid"))] = max([event_tlp, *levels], key=TLP.rank)
    creator = f"identity--{(body.get('Orgc') or {}).get('uuid')}"
    converted = []
    for obj in objects:
        if obj.get("type") == "identity" and obj.get("id") == creator:
            continue  # the importer's organisation is the creator now
        if obj.get("type") == "marking-definition":
            continue  # TLP markings are set below, from the tags
        obj.pop("created_by_ref", None)
        tlp = _tlp_for(obj, by_attribute, event_tlp)
        obj["object_marking_refs"] = [markings.TLP2_IDS[tlp]]
        converted.append(obj)
    return converted


def _tlp_for(obj: dict, by_attribute: dict, event_tlp: str) -> str:
    """An object's TLP: its attribute's; a sighting's or opinion's, the most restricted of
    the objects it is about, so feedback never travels wider than what it is about."""

    def of(stix_id) -> str:
        return by_attribute.get(str(stix_id).split("--", 1)[-1], event_tlp)

    about = [obj.get("sighting_of_ref")] if obj["type"] == "sighting" else []
    about += obj.get("object_refs") or [] if obj["type"] == "opinion" else []
    return max([of(obj["id"]), *map(of, filter(None, about))], key=TLP.rank)


def _read_event(raw) -> dict:
    if isinstance(raw, bytes | str):
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > stix.max_bytes():
            raise stix.BundleRefused(["The MISP event is larger than the import limit."])
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise stix.BundleRefused([f"This is not valid JSON: {error}."]) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("Event", raw), dict):
        raise stix.BundleRefused(['This is not a MISP event: expected {"Event": {...}}.'])
    body = raw.get("Event", raw)
    if "info" not in body or not isinstance(body.get("Attribute", []), list):
        raise stix.BundleRefused(["This is not a MISP event: it has no info or attributes."])
    return {"Event": body}


def _attributes(body: dict):
    yield from body.get("Attribute") or []
    for misp_object in body.get("Object") or []:
        yield from misp_object.get("Attribute") or []


def _tlp_of_tags(tags) -> str | None:
    found = [
        _TLP_TAGS[str(tag.get("name", "")).strip().lower()]
        for tag in tags or []
        if isinstance(tag, dict) and str(tag.get("name", "")).strip().lower() in _TLP_TAGS
    ]
    return max(found, key=TLP.rank) if found else None
