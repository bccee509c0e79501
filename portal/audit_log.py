"""An organisation's audit log as its admins read it: the events that concern it, with what
they may not see withheld, for the page and its CSV export alike.

An event can concern an organisation and still name an object that organisation may not see:
when a member of A probes nation B's hidden agreement, the refusal is A's event, but the
title and id it records are B's. So an event's object (name, id, hash and most details) is
shown only when the reader could see the object itself, decided in bulk per object type.

No chain hash is shown, not even of the organisation's own events: with the hashes of two
events that are not neighbours in the trail, a reader could confirm a guess of another
nation's event between them, as evidence bundles once allowed. The trail's own checks
(`verify_audit`, signed heads, evidence) prove it intact instead.

Callers decide who may read the log: the view requires "view_history" on the organisation.
"""

from __future__ import annotations

import datetime
import html
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.html import strip_tags

from portal import access, audit_words, csv_export, ids
from portal.models import AuditEvent, Membership, Organisation

HIDDEN_OBJECT = "(an object you cannot see)"

#: Details of an event about a hidden object that describe the request, not the object, and
#: so are kept: an admin looking into a refused probe needs the action, outcome and address.
#: Everything else (titles, labels, names in `reason`, ...) may be the hidden object's.
REQUEST_DETAILS = frozenset({"requested_action", "outcome", "ip"})

#: No event id: ids number every nation's events in one sequence, so two of them would tell
#: how much others did in between. The time and, where shown, the hash name an event.
CSV_HEADER = [
    "time_utc",
    "actor",
    "actor_organisation",
    "organisation",
    "action",
    "object_type",
    "object_id",
    "object",
    "ip",
    "details",
    "description",
]


def concerning(organisation: Organisation) -> QuerySet[AuditEvent]:
    """Every event about the organisation or done by its members, newest first.

    Refusals answered "not found" are left out. A 404 is recorded only for an object that
    exists, so an admin who made a member request another nation's ids would otherwise learn
    which exist from which requests left a row. They stay in the trail for `verify_audit`
    and the operator's investigations.
    """
    return (
        AuditEvent.objects.filter(Q(organisation=organisation) | Q(actor_organisation=organisation))
        .exclude(action="access.refused", details__outcome="not_found")
        .select_related("actor", "actor_organisation", "organisation")
        .order_by("-id")
    )


@dataclass(frozen=True)
class Entry:
    """One event as the reader may see it."""

    event: AuditEvent
    #: False when the event names an object the reader may not see.
    object_visible: bool
    object_type_label: str
    object_id: str
    object_repr: str
    details: dict
    #: The event in words (portal.audit_words), as HTML with links the reader may follow.
    sentence: str = ""
    #: More than 1 when the line stands for a run of the reader's own views of one object.
    count: int = 1
    first_at: datetime.datetime | None = None

    @property
    def ip(self) -> str:
        return str(self.details.get("ip", ""))

    @property
    def other_details(self) -> list[tuple[str, str]]:
        """The details but the address, as (key, value) text pairs for the page."""
        return [(key, _text(value)) for key, value in sorted(self.details.items()) if key != "ip"]


def entries(user, events: Iterable[AuditEvent], *, fold: bool = False) -> list[Entry]:
    """The events as user may read them, each in words; a fixed number of queries (one per
    object type among them, and one per kind of thing their details name), however many
    events there are. With fold, a run of the reader's own views of one object is one
    entry."""
    events = list(events)
    words = audit_words.Words(user, events)
    visible = set(words.objects)
    lines = audit_words.log_lines(words, events) if fold else map(words.line, events)
    return [
        _entry(
            line.event, visible, sentence=line.sentence, count=line.count, first_at=line.first_at
        )
        for line in lines
    ]


def visible_objects(user, references: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (object_type, object_id) references name an object user may see.

    A protected model answers through `access.visible_to`, exactly as its own pages do.
    Users and memberships have no access policy: they are shown to the organisation they
    belong to now, because who belongs to an organisation is told only to it (member lists
    are closed to others), and because the event's own organisation cannot say whose object
    it is: a member's event concerns their organisation whatever it acted on. Any other type
    (an API token, whose name is its secret key, or a type added later) stays hidden until
    someone decides who may see it: failing closed is the safe default.
    """
    visible: set[tuple[str, str]] = set()
    for object_type, object_ids in _by_type(references).items():
        visible |= {(object_type, pk) for pk in _visible_ids(user, object_type, object_ids)}
    return visible


def object_type_label(object_type: str) -> str:
    """The type's name in words ("Agreement"), or the stored label if it is unknown."""
    model = _model(object_type)
    return str(model._meta.verbose_name).capitalize() if model is not None else object_type


def csv_lines(user, events: QuerySet[AuditEvent], *, batch: int = 2000) -> Iterator[str]:
    """The log as CSV text, a header then one line per event, withheld as on the page, safe
    to open in a spreadsheet; streamed in batches so a long log never sits in memory."""

    def batch_rows(chunk):
        return [_csv_values(entry) for entry in entries(user, chunk)]

    return csv_export.stream(CSV_HEADER, events, batch_rows, batch=batch)


# --- Helpers ----------------------------------------------------------------------------------


def _owner_lookups() -> dict[str, str]:
    """Unregistered types shown to their own organisation: the lookup to that organisation."""
    return {
        get_user_model()._meta.label_lower: "membership__organisation",
        Membership._meta.label_lower: "organisation",
    }


def visible_instances(user, references: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Model]:
    """The objects behind the references that user may see, by reference; one query per
    object type, under the same rule as visible_objects."""
    found: dict[tuple[str, str], Model] = {}
    for object_type, object_ids in _by_type(references).items():
        queryset, by_pk = _visible_queryset(user, object_type, object_ids)
        if queryset is None:
            continue
        related = _RELATED.get(object_type)
        if related:
            queryset = queryset.select_related(*related)
        for instance in queryset:
            if instance.pk in by_pk:
                found[(object_type, by_pk[instance.pk])] = instance
    return found


#: What naming an object of these types reads besides the object itself.
_RELATED = {"portal.membership": ("user", "organisation"), "auth.user": ("membership",)}


def _by_type(references: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    by_type: dict[str, set[str]] = defaultdict(set)
    for object_type, object_id in references:
        if object_type and object_id:
            by_type[object_type].add(object_id)
    return by_type


def _visible_ids(user, object_type: str, object_ids: set[str]) -> set[str]:
    queryset, by_pk = _visible_queryset(user, object_type, object_ids)
    if queryset is None:
        return set()
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True) if pk in by_pk}


def _visible_queryset(user, object_type: str, object_ids: set[str]):
    """(the rows of object_ids that user may see, {pk: object_id}), or (None, {})."""
    model = _model(object_type)
    if model is None:
        return None, {}
    by_pk = {}
    for object_id in object_ids:
        try:
            by_pk[model._meta.pk.to_python(object_id)] = object_id
        except ValidationError:
            continue  # not an id this model could have: nothing to show
    if not by_pk:
        return None, {}
    queryset = model._default_manager.filter(pk__in=list(by_pk))
    if model in access.registered_models():
        return access.visible_to(user, queryset), by_pk
    lookup = _owner_lookups().get(object_type)
    organisation = _organisation_of(user)
    if lookup is None or organisation is None:
        return None, {}
    return queryset.filter(**{lookup: organisation}), by_pk


def _model(object_type: str) -> type[Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _organisation_of(user) -> Organisation | None:
    membership = getattr(user, "membership", None)
    return membership.organisation if membership is not None else None


def _entry(event: AuditEvent, visible: set[tuple[str, str]], **words) -> Entry:
    details = event.details if isinstance(event.details, dict) else {}
    has_object = bool(event.object_type)
    if not has_object or (event.object_type, event.object_id) in visible:
        return Entry(
            event=event,
            object_visible=True,
            object_type_label=object_type_label(event.object_type) if has_object else "",
            object_id=event.object_id if _id_counts_nothing(event.object_type) else "",
            object_repr=event.object_repr,
            details=details,
            **words,
        )
    return Entry(
        event=event,
        object_visible=False,
        object_type_label=object_type_label(event.object_type),
        object_id="",
        object_repr=HIDDEN_OBJECT,
        details={key: value for key, value in details.items() if key in REQUEST_DETAILS},
        **words,
    )


def _id_counts_nothing(object_type: str) -> bool:
    # A user's id is sequential (Django's auth model): it would count every nation's accounts.
    model = _model(object_type)
    return model is not None and ids.has_random_ids(model)


def _csv_values(entry: Entry) -> list:
    event = entry.event
    return [
        event.created_at.astimezone(datetime.UTC).isoformat(),
        event.actor_label,
        event.actor_organisation.slug if event.actor_organisation else "",
        event.organisation.slug if event.organisation else "",
        event.action,
        event.object_type,
        entry.object_id,
        entry.object_repr,
        entry.ip,
        json.dumps(entry.details, sort_keys=True, ensure_ascii=False),
        html.unescape(strip_tags(entry.sentence)),
    ]


def _text(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
