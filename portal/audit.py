"""The audit trail: append-only, hash-chained events.

Each event's SHA-256 covers the previous event's hash and the event's canonical JSON, so any
row altered, removed or reordered breaks the chain from that point on. Appends take a lock
(a PostgreSQL advisory lock; SQLite's IMMEDIATE transactions serialise writers), so concurrent
writers still produce one linear chain.

A chain that was rewritten from some point on, every hash recomputed, verifies again; a
signed chain head (`signed_head`) kept outside the portal is what catches that: `verify_head`
checks that the event it names still has the hash it had when it was signed. A head carries
a seal of that hash, not the hash: from a raw chain hash anyone could hash a guessed next
event and confirm it, but a seal cannot be chained on.

Each object's history (its timeline: an agreement, a resource, a project, an organisation and
its memberships) is also a chain of its own, written under the same lock: an entry's
`history_hash` covers the previous entry of that history and what the timeline shows of the
event (time, action, actor and their organisation). Evidence carries exactly one history from
its first entry, so a party checks it complete and in order offline, and learns nothing of the
events around it. Refusals never join a history: the object's audience must not learn who
outside it tried to open it.
"""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext

from portal import list_cache, signing
from portal.models import AuditEvent, Organisation
from portal.notifications import notify

GENESIS_HASH = "0" * 64
#: The action of a refused access (portal.access.require); it never joins an object's history.
REFUSAL = "access.refused"
HEAD_FORMAT = "cooperation-portal-audit-head/2"
#: The fields of a chain head that its signature covers (everything but the signature).
HEAD_FIELDS = ("format", "event_id", "seal", "created_at", "signed_at", "key_id")
#: Heads kept before the seal, which showed the raw hash; they still verify.
HEAD_FORMAT_1 = "cooperation-portal-audit-head/1"
HEAD_FIELDS_1 = ("format", "event_id", "hash", "created_at", "signed_at", "key_id")
# Fixed for good: a kept head's seal must still be recomputed the same way years later.
_SEAL_PREFIX = "cooperation-portal-audit-head/2:"
# Any constant works: it only has to be the same for every writer of the chain.
_CHAIN_LOCK_KEY = 0x0A0D17

#: The client address of the request being served, set by portal.middleware.
client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def record(
    actor,
    action: str,
    obj: Model | None = None,
    *,
    organisation: Organisation | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction if there is one."""
    return _append(
        actor,
        action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        organisation=organisation,
        details=details,
    )


def record_refusal(
    actor, model: type[Model], object_id, *, requested_action: str, outcome: str, shown=None
) -> AuditEvent:
    """Record a refused access to `model` `object_id`, which may not even exist.

    A refusal answered "not found" records the same row for an object that exists and one
    that does not: the id as asked, no name. So the refusal costs the same either way, and
    the people who read it (the actor's organisation's admins, the operator) learn nothing of
    a hidden object that its audience did not tell them. `shown` is the object the actor may
    see but not act on ("forbidden"), whose name is recorded.
    """
    return _append(
        actor,
        REFUSAL,
        object_type=model._meta.label_lower,
        object_id=str(object_id)[:64],
        object_repr=str(shown)[:200] if shown is not None else "",
        organisation=None,
        details={"requested_action": requested_action, "outcome": outcome},
    )


def _without_nul(value):
    """Details with U+0000 taken out of every string: PostgreSQL's jsonb cannot hold it, and
    the trail must record what a request sent (a query string, a name) whatever it sent."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _append(
    actor,
    action: str,
    *,
    object_type: str,
    object_id: str,
    object_repr: str,
    organisation: Organisation | None,
    details: dict,
) -> AuditEvent:
    actor = actor if getattr(actor, "is_authenticated", False) else None
    actor_organisation = _organisation_of(actor) if actor is not None else None
    if organisation is None:
        organisation = actor_organisation
    ip = client_ip.get()
    if ip and "ip" not in details:
        details["ip"] = ip
    # Store exactly what is hashed: a JSON round trip turns dates, UUIDs and tuples into the
    # plain values the database gives back.
    clean_details = _without_nul(
        json.loads(json.dumps(details, cls=DjangoJSONEncoder), parse_float=_json_number)
    )
    with transaction.atomic():
        _lock_chain()
        prev_hash = (
            AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
            or GENESIS_HASH
        )
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor,
            actor_label=actor.get_username() if actor else details.get("login", "")[:150],
            actor_organisation=actor_organisation,
            organisation=organisation,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            details=clean_details,
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event, prev_hash)
        event.history = history_of(event)
        if event.history:
            event.history_prev_hash = (
                AuditEvent.objects.filter(history=event.history)
                .order_by("-id")
                .values_list("history_hash", flat=True)
                .first()
                or GENESIS_HASH
            )
            event.history_hash = history_hash(
                event.history,
                event.history_prev_hash,
                history_entry(event, actor_organisation.slug if actor_organisation else None),
            )
        event.save()
        if event.history:
            # The pages that show this history read it as its own part (audit_words.history).
            list_cache.changed(f"{HISTORY_PART}{event.history}")
    return event


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over the previous hash and the event's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical_json(event)).encode()).hexdigest()


def canonical_json(event: AuditEvent) -> str:
    """The event's content as sorted, compact JSON, independent of the database backend."""
    payload = {
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "actor_organisation_id": event.actor_organisation_id,
        "organisation_id": event.organisation_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "details": event.details,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- Object histories -----------------------------------------------------------------------

#: Events about these are in their organisation's history, as its page shows them.
_ORGANISATION_CHILDREN = frozenset({"portal.membership"})


#: The name an object's history goes by in the list cache (portal.list_cache.reading_as).
HISTORY_PART = "audit-history:"


def history_key(obj: Model) -> str:
    """The key of obj's history, as the events about it carry it."""
    return f"{obj._meta.label_lower}:{obj.pk}"


def history_of(event: AuditEvent) -> str:
    """The history the event belongs to, from its own hashed fields alone, so `verify_chain`
    can tell an event filed under the wrong history (or taken out of its own)."""
    if not event.object_type or event.action == REFUSAL:
        return ""
    if event.object_type in _ORGANISATION_CHILDREN:
        if event.organisation_id is None:
            return ""
        return f"portal.organisation:{event.organisation_id}"
    return f"{event.object_type}:{event.object_id}"


def history_entry(event: AuditEvent, actor_organisation: str | None) -> dict:
    """What a history shows of the event, and all its hash covers: the time, the action, the
    actor's username and their organisation's short name. Details (addresses, reasons) stay
    in the trail."""
    return {
        "at": _utc(event.created_at),
        "action": event.action,
        "actor": event.actor_label,
        "actor_organisation": actor_organisation,
    }


def history_hash(history: str, prev_hash: str, entry: dict) -> str:
    """SHA-256 over the previous entry's hash and the entry's canonical JSON with its history
    key; a verifier holding only the entries recomputes it (agreements.evidence)."""
    content = {**{name: entry.get(name) for name in HISTORY_ENTRY_FIELDS}, "history": history}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


#: The fields of a history entry that its hash covers.
HISTORY_ENTRY_FIELDS = ("at", "action", "actor", "actor_organisation")


def timeline(obj: Model, *, limit: int | None = 50):
    """The latest entries of obj's history, newest first; all of them when limit is None.

    Refusals are never in it, so no one learns from an object's history who outside its
    audience tried to open it. Callers decide who may see it: views ask
    `access.can(user, "view_history", obj)` first.
    """
    return (
        AuditEvent.objects.filter(history=history_key(obj))
        .select_related("actor_organisation")
        .order_by("-id")[:limit]
    )


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: how many events, and the first bad one if any."""

    checked: int
    bad_event_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.bad_event_id is None


def verify_chain(through: int | None = None) -> ChainReport:
    """Walk every event in order (up to and including event `through`, if given) and
    recompute the chain and every object history's chain; stop at the first break."""
    expected_prev = GENESIS_HASH
    history_heads: dict[str, str] = {}
    # A short name is never changed once given, so the entries hashed then still read so.
    slugs = dict(Organisation.objects.values_list("pk", "slug"))
    checked = 0
    events = AuditEvent.objects.order_by("id")
    if through is not None:
        events = events.filter(id__lte=through)
    for event in events.iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            return ChainReport(
                checked,
                event.pk,
                "its previous-hash link does not match the event before it "
                "(an event was removed, inserted or reordered)",
            )
        if event_hash(event, event.prev_hash) != event.hash:
            return ChainReport(checked, event.pk, "its content does not match its hash (altered)")
        problem = _history_problem(event, history_heads, slugs)
        if problem:
            return ChainReport(checked, event.pk, problem)
        expected_prev = event.hash
        checked += 1
    return ChainReport(checked)


def _history_problem(event: AuditEvent, heads: dict[str, str], slugs: dict) -> str:
    """Why the event's link in its object's history is wrong, or "" (and heads moves on)."""
    expected = history_of(event)
    if event.history != expected:
        return (
            f"it is filed under the history {event.history or '(none)'!r}, but belongs to "
            f"{expected or 'no history'!r} (moved between histories)"
        )
    if not expected:
        if event.history_prev_hash or event.history_hash:
            return "it carries a history link but belongs to no history (altered)"
        return ""
    if event.history_prev_hash != heads.get(expected, GENESIS_HASH):
        return (
            f"its link in the history {expected!r} does not match the entry before it there "
            "(an entry was removed, inserted or reordered)"
        )
    entry = history_entry(event, slugs.get(event.actor_organisation_id))
    if history_hash(expected, event.history_prev_hash, entry) != event.history_hash:
        return f"its entry in the history {expected!r} does not match its hash (altered)"
    heads[expected] = event.history_hash
    return ""


def raise_chain_alarm(report: ChainReport) -> AuditEvent | None:
    """Record `audit.chain_broken` for the report's bad event and tell every active staff
    user, in the portal and by email; once per bad event, so a repeated check stays quiet.
    Returns the alert, or None when this break was already raised (or there is none)."""
    if report.intact:
        return None
    with transaction.atomic():
        # Under the chain's lock, two checks running at once cannot both raise it.
        _lock_chain()
        if AuditEvent.objects.filter(
            action="audit.chain_broken", details__bad_event_id=report.bad_event_id
        ).exists():
            return None
        alert = record(
            None,
            "audit.chain_broken",
            bad_event_id=report.bad_event_id,
            reason=report.reason,
            intact_before=report.checked,
        )
        staff = get_user_model().objects.filter(is_staff=True, is_active=True)
        notify(
            staff,
            kind="audit.chain_broken",
            title=gettext("Audit trail broken at event #%(event)s")
            % {"event": report.bad_event_id},
            body=gettext(
                "The audit trail's hash chain no longer verifies at event "
                "#%(event)s: %(reason)s. Someone changed the trail outside "
                "the portal. Run `manage.py verify_audit`, and compare with a kept chain head "
                "(`manage.py verify_audit --head FILE`) to see whether history was rewritten."
            )
            % {"event": report.bad_event_id, "reason": report.reason},
        )
    return alert


# --- Signed chain heads ---------------------------------------------------------------------


def signed_head() -> dict | None:
    """The latest event's id, hash seal and time, signed now with the portal's Ed25519 key;
    None while the trail is empty. The signature covers the canonical JSON of HEAD_FIELDS."""
    event = AuditEvent.objects.order_by("-id").only("id", "hash", "created_at").first()
    if event is None:
        return None
    head = {
        "format": HEAD_FORMAT,
        "event_id": event.pk,
        "seal": head_seal(event.hash),
        "created_at": _utc(event.created_at),
        "signed_at": _utc(timezone.now()),
        "key_id": signing.key_id(),
    }
    return {**head, "signature": signing.sign(signing.canonical_bytes(head))}


def head_seal(chain_hash: str) -> str:
    """A one-way image of an event's chain hash: the portal can show later that the event
    still has that hash, but no one holding it can hash a guessed next event onto it, so
    kept heads (often the latest event is another nation's) confirm nothing about events."""
    return hashlib.sha256(f"{_SEAL_PREFIX}{chain_hash}".encode()).hexdigest()


@dataclass(frozen=True)
class HeadReport:
    """The outcome of checking a kept chain head against the trail: ok, and what was found."""

    ok: bool
    message: str


def verify_head(document) -> HeadReport:
    """Check a kept chain head: signed by the portal's key, its event still there with the
    same hash, and the chain intact up to and including it. Names the first check that fails."""
    problem = _head_shape_problem(document)
    if problem:
        return HeadReport(False, f"Not a chain head: {problem}.")
    fields = HEAD_FIELDS if document["format"] == HEAD_FORMAT else HEAD_FIELDS_1
    signed = {name: document[name] for name in fields}
    portal_key_id = signing.key_id()
    if document["key_id"] != portal_key_id:
        return HeadReport(
            False,
            f"Bad signature: the head names key {document['key_id']}, not this portal's key "
            f"{portal_key_id}.",
        )
    if not signing.verify(
        signing.public_key_pem(), signing.canonical_bytes(signed), document["signature"]
    ):
        return HeadReport(
            False,
            f"Bad signature: the head's signature does not verify against the portal's key "
            f"{portal_key_id}; the file was changed after it was signed, or another key "
            "signed it.",
        )
    event_id = document["event_id"]
    stored = AuditEvent.objects.filter(pk=event_id).values_list("hash", flat=True).first()
    if stored is None:
        return HeadReport(
            False,
            f"Event missing: event #{event_id}, the head signed at {document['signed_at']}, "
            "no longer exists; events were removed from the trail.",
        )
    if "seal" in fields and head_seal(stored) != document["seal"]:
        return HeadReport(
            False,
            f"Hash differs: event #{event_id} now has hash sealed as {head_seal(stored)}, but "
            f"the head signed at {document['signed_at']} seals {document['seal']}; history "
            "was rewritten.",
        )
    if "hash" in fields and stored != document["hash"]:
        return HeadReport(
            False,
            f"Hash differs: event #{event_id} now has hash {stored}, but the head signed at "
            f"{document['signed_at']} says {document['hash']}; history was rewritten.",
        )
    report = verify_chain(through=event_id)
    if not report.intact:
        return HeadReport(
            False,
            f"Chain broken at event #{report.bad_event_id}: {report.reason}. "
            f"{report.checked} events before it are intact.",
        )
    kept = f"the hash sealed as {document['seal']}" if "seal" in fields else f"hash {stored}"
    return HeadReport(
        True,
        f"Chain head verified: event #{event_id} still has {kept}, signed at "
        f"{document['signed_at']} by key {portal_key_id}; the {report.checked} events up to "
        "it are intact.",
    )


def _head_shape_problem(document) -> str:
    if not isinstance(document, dict):
        return "it is not a JSON object"
    fields = HEAD_FIELDS_1 if document.get("format") == HEAD_FORMAT_1 else HEAD_FIELDS
    shape = {name: str for name in (*fields, "signature")}
    shape["event_id"] = int
    for name, kind in shape.items():
        value = document.get(name)
        # bool is an int in Python, but never an event id.
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"it needs the field {name} ({'a number' if kind is int else 'text'})"
    if document["format"] not in (HEAD_FORMAT, HEAD_FORMAT_1):
        return f"its format is {document['format']!r}, not {HEAD_FORMAT!r}"
    return ""


def _utc(moment) -> str:
    return moment.astimezone(UTC).isoformat()


def _json_number(text: str) -> int | float:
    # PostgreSQL's jsonb keeps numbers as decimals, so 1e16 comes back as the integer
    # 10000000000000000 and would no longer match its hash: store whole numbers as integers.
    number = float(text)
    return int(number) if number.is_integer() else number


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def _organisation_of(user) -> Organisation | None:
    membership = getattr(user, "membership", None)  # staff may have none
    return membership.organisation if membership is not None else None
