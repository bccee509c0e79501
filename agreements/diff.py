"""What an amendment changes against the version in force: terms, parties and body."""

import difflib

from agreements.content import frozen_or_current
from agreements.models import Agreement


def against_previous(amendment: Agreement) -> dict:
    """Changed terms as (term, before, after); parties added and removed; body line diff."""
    old, new = frozen_or_current(amendment.supersedes), frozen_or_current(amendment)
    labels = {f.name: str(f.verbose_name).capitalize() for f in Agreement._meta.fields}
    terms = [
        (labels.get(name, name), _show(old["terms"].get(name)), _show(value))
        for name, value in new["terms"].items()
        if old["terms"].get(name) != value
    ]
    old_parties = {p["organisation"]: p for p in old["parties"]}
    new_parties = {p["organisation"]: p for p in new["parties"]}
    body = [
        (_line_kind(line), line)
        for line in difflib.unified_diff(
            old["body"].splitlines(),
            new["body"].splitlines(),
            fromfile=amendment.supersedes.label,
            tofile=amendment.label,
            lineterm="",
        )
    ]
    return {
        "terms": terms,
        "parties_added": sorted(
            new_parties[k]["name"] for k in new_parties.keys() - old_parties.keys()
        ),
        "parties_removed": sorted(
            old_parties[k]["name"] for k in old_parties.keys() - new_parties.keys()
        ),
        "parties_changed": sorted(
            new_parties[k]["name"]
            for k in new_parties.keys() & old_parties.keys()
            if new_parties[k] != old_parties[k]
        ),
        "body": body,
        "unchanged": not terms and not body and old["parties"] == new["parties"],
    }


def _show(value) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "—"
    if value is None or value == "":
        return "—"
    return str(value)


def _line_kind(line: str) -> str:
    if line.startswith(("+++", "---", "@@")):
        return "meta"
    return {"+": "added", "-": "removed"}.get(line[:1], "same")
