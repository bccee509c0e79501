"""Correlation: the same observable value or pattern, held by more than one organisation.

Each object carries normalised keys ("ipv4-addr:value:198.51.100.7", "pattern:[...]"). An
object's page names the other owners whose objects share a key, among the objects the
viewer may see. The query filters through the access layer inside the database, so a hidden
partner's identical indicator changes neither the answer nor the queries that compute it.
"""

from __future__ import annotations

import re

from portal import access

#: `type:property = 'value'` comparisons inside a STIX pattern.
_COMPARISON = re.compile(r"([a-z0-9-]+):([a-z0-9_.'\-]+)\s*=\s*'((?:[^'\\]|\\.)*)'", re.IGNORECASE)

#: The property of each cyber-observable that identifies it.
_SCO_VALUE = {
    "ipv4-addr": "value",
    "ipv6-addr": "value",
    "domain-name": "value",
    "url": "value",
    "email-addr": "value",
    "mac-addr": "value",
    "mutex": "name",
    "autonomous-system": "number",
    "windows-registry-key": "key",
    "directory": "path",
}


def keys_of(data: dict) -> set[str]:
    """The correlation keys of one STIX object's JSON."""
    keys: set[str] = set()
    stix_type = data.get("type")
    if stix_type == "indicator" and data.get("pattern_type", "stix") == "stix":
        pattern = str(data.get("pattern", ""))
        keys.add("pattern:" + " ".join(pattern.split()))
        for sco_type, prop, value in _COMPARISON.findall(pattern):
            keys.add(_key(sco_type, prop, value.replace("\\'", "'")))
    elif stix_type in _SCO_VALUE and data.get(_SCO_VALUE[stix_type]) is not None:
        keys.add(_key(stix_type, _SCO_VALUE[stix_type], str(data[_SCO_VALUE[stix_type]])))
    if stix_type == "file":
        for name, value in (data.get("hashes") or {}).items():
            keys.add(_key("file", f"hashes.{name}", str(value)))
    return {key[:300] for key in keys}


def observable_values(data: dict) -> str:
    """The observable values an object names, for search: one per line."""
    return "\n".join(
        sorted(
            {
                key.split(":", 2)[2]
                for key in keys_of(data)
                if key.count(":") >= 2 and not key.startswith("pattern:")
            }
        )
    )


def also_reported_by(user, obj) -> list:
    """The other organisations whose objects the user may see carry one of obj's keys."""
    from intel.models import Correlation, StixObject
    from portal.models import Organisation

    visible = access.visible_to(user, StixObject.objects.all())
    owners = (
        Correlation.objects.filter(
            value__in=Correlation.objects.filter(object=obj).values("value"),
            object__in=visible.values("pk"),
        )
        .exclude(object__owner_id=obj.owner_id)
        .values("object__owner_id")
    )
    return list(Organisation.objects.filter(pk__in=owners).order_by("name"))


def _key(sco_type: str, prop: str, value: str) -> str:
    prop = prop.replace("'", "").lower()
    return f"{sco_type.lower()}:{prop}:{value.strip().lower()}"
