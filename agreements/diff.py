"""What an amendment changes against the version in force: terms, parties and body."""

import difflib

from agreements.content import frozen_or_current
from agreements.models import Agreement
from portal.vocabulary import DataCategory


def against_previous(amendment: Agreement) -> dict:
    """Changed terms as (term, before, after); parties added and removed; body line diff."""
    old, new = frozen_or_current(amendment.supersedes), frozen_or_current(amendment)
    terms = [
        (_label(name), _show(name, old["terms"].get(name)), _show(name, value))
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


def _label(name: str) -> str:
    verbose = str(Agreement._meta.get_field(name).verbose_name)
    return verbose[:1].upper() + verbose[1:]


def _show(name: str, value) -> str:
    """A term's value as people read it: choice labels rather than stored codes."""
    if name == "data_categories":
        labels = dict(DataCategory.choices)
        return ", ".join(str(labels.get(v, v)) for v in value or []) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    choices = dict(Agreement._meta.get_field(name).choices or [])
    return str(choices.get(value, value))


def _line_kind(line: str) -> str:
    if line.startswith(("+++", "---", "@@")):
        return "meta"
    return {"+": "added", "-": "removed"}.get(line[:1], "same")
