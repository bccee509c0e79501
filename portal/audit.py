"""The audit trail: append-only, hash-chained events.

Each event's SHA-256 covers the previous event's hash and the event's canonical JSON, so any
row altered, removed or reordered breaks the chain from that point on. Appends take a lock
(a PostgreSQL advisory lock; SQLite's IMMEDIATE transactions serialise writers), so concurrent
writers still produce one linear chain.
"""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from portal.models import AuditEvent, Organisation

GENESIS_HASH = "0" * 64
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
    actor = actor if getattr(actor, "is_authenticated", False) else None
    actor_organisation = _organisation_of(actor) if actor is not None else None
    if organisation is None:
        organisation = actor_organisation
    ip = client_ip.get()
    if ip and "ip" not in details:
        details["ip"] = ip
    # Store exactly what is hashed: a JSON round trip turns dates, UUIDs and tuples into the
    # plain values the database gives back.
    clean_details = json.loads(json.dumps(details, cls=DjangoJSONEncoder), parse_float=_json_number)
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
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:200] if obj is not None else "",
            details=clean_details,
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event, prev_hash)
        event.save()
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


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: how many events, and the first bad one if any."""

    checked: int
    bad_event_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.bad_event_id is None


def verify_chain() -> ChainReport:
    """Walk every event in order and recompute the chain; stop at the first break."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            return ChainReport(
                checked,
                event.pk,
                "its previous-hash link does not match the event before it "
                "(an event was removed, inserted or reordered)",
            )
        if event_hash(event, event.prev_hash) != event.hash:
            return ChainReport(checked, event.pk, "its content does not match its hash (altered)")
        expected_prev = event.hash
        checked += 1
    return ChainReport(checked)


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


def timeline(obj: Model, *, also=None, limit: int | None = 50):
    """The latest events about obj (plus any `also` condition), newest first; all of them
    when limit is None.

    Callers decide who may see it: views ask `access.can(user, "view_history", obj)` first.
    """
    from django.db.models import Q

    condition = Q(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    if also is not None:
        condition |= also
    return (
        AuditEvent.objects.filter(condition)
        .select_related("actor_organisation")
        .order_by("-id")[:limit]
    )
