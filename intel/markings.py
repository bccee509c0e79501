"""TLP from STIX markings: every marking-definition id partners really send, mapped to TLP 2.0.

The TLP 2.0 marking definitions are the OASIS property extension's; the TLP 1.0 ones are
those of the STIX 2.1 specification (WHITE reads as CLEAR); OpenCTI marks AMBER+STRICT with a
statement marking of its own. Any other marking is unknown, and an object carrying one is
refused: the portal cannot honour a handling rule it does not know.
"""

from __future__ import annotations

from portal.vocabulary import TLP

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

#: TLP 2.0 as published by OASIS (cti-stix-common-objects, extension-definition-specifications).
TLP2_IDS = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

#: Every known marking id, to the TLP it stands for.
TLP_OF_MARKING = {
    **{marking: tlp for tlp, marking in TLP2_IDS.items()},
    # TLP 1.0, from the STIX 2.1 specification (section 7.2.1.4).
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
    # OpenCTI's AMBER+STRICT, a statement marking predating TLP 2.0 in STIX.
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": TLP.AMBER_STRICT,
}

_TLP2_NAMES = {
    TLP.CLEAR: "clear",
    TLP.GREEN: "green",
    TLP.AMBER: "amber",
    TLP.AMBER_STRICT: "amber+strict",
    TLP.RED: "red",
}


class UnknownMarking(ValueError):
    """An object names a marking the portal does not know."""

    def __init__(self, marking_id: str):
        super().__init__(marking_id)
        self.marking_id = marking_id


def tlp_of(stix: dict) -> str | None:
    """The most restrictive TLP among the object's markings; None when it carries none.

    Raises UnknownMarking for a marking that is neither TLP 1.0 nor TLP 2.0.
    """
    refs = list(stix.get("object_marking_refs") or [])
    for granular in stix.get("granular_markings") or []:
        if isinstance(granular, dict) and granular.get("marking_ref"):
            refs.append(granular["marking_ref"])
    found = []
    for ref in refs:
        if ref not in TLP_OF_MARKING:
            raise UnknownMarking(str(ref))
        found.append(TLP_OF_MARKING[ref])
    return max(found, key=TLP.rank) if found else None


def is_known_marking(stix_id: str) -> bool:
    return stix_id in TLP_OF_MARKING


def definition(tlp: str) -> dict:
    """The TLP 2.0 marking-definition object, exactly as OASIS publishes it."""
    label = TLP(tlp).label
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": label,
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": _TLP2_NAMES[tlp]}
        },
    }


def definitions() -> list[dict]:
    """The five TLP 2.0 marking definitions, least restricted first."""
    return [definition(tlp) for tlp in TLP.values]
