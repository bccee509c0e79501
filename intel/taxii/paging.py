"""TAXII filters and paging over one requester's view of one collection.

A page is read from `intel.collections.entries` (the access layer's filter, applied again on
every request) in (date_added, id) order, from a keyset position: no server-side snapshot, so
any worker can serve the next page, and grants revoked between two pages count at once.

`next` is a signed cursor (django.core.signing, salted) that names the requester, the
collection and a hash of the query (every parameter but `next`, limit as served), and carries
the position of the last entry served. A cursor changed by hand, or used by someone else, for
another collection or with other filters, is refused with a 400; so is one older than a day.

The five TLP 2.0 marking definitions are in every collection: virtual entries added on
2022-10-01, ordered before every real entry, filtered and paged like them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass

from django.core import signing
from django.db.models import F, Q, TextField

# Django's row-comparison lookup (built for composite primary keys), for the keyset.
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from intel import markings, stix
from intel.collections import Collection, entries
from intel.taxii.errors import BadQuery

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: At most this many values in one match[] filter.
MAX_VALUES = 100
MARKING_DATE = datetime.datetime(2022, 10, 1, tzinfo=datetime.UTC)
SALT = "intel.taxii.next"
#: A walk takes minutes; a cursor kept for days is a stale bookmark, and a client that
#: polls again starts from added_after, not from an old cursor.
CURSOR_MAX_AGE = datetime.timedelta(hours=24)

#: The filters each kind of listing takes (TAXII 2.1, sections 5.3, 5.5, 5.6 and 5.8);
#: others are ignored, as the specification asks.
FILTERS = {
    "objects": {"id", "type", "version", "spec_version"},
    "manifest": {"id", "type", "version", "spec_version"},
    "object": {"version", "spec_version"},
    "versions": {"spec_version"},
}
_VERSION_WORDS = {"first", "last", "all"}


@dataclass(frozen=True)
class Query:
    scope: str
    object_id: str | None
    added_after: datetime.datetime | None
    limit: int
    ids: tuple[str, ...]
    types: tuple[str, ...]
    versions: tuple[str, ...]
    spec_versions: tuple[str, ...]
    next: str | None

    @property
    def digest(self) -> str:
        """Every parameter but `next`, as served (limit capped), so a cursor is bound to it."""
        added_after = stix.timestamp(self.added_after) if self.added_after else None
        key = [
            self.scope,
            self.object_id,
            added_after,
            self.limit,
            self.ids,
            self.types,
            self.versions,
            self.spec_versions,
        ]
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Entry:
    """One object version in the page: a collection entry or a marking definition.

    An objects listing carries the version's JSON text as stored (it holds the id and the
    version), spliced into the envelope as it is, never parsed and dumped again; the
    manifest and versions listings carry the facts instead.
    """

    date_added: datetime.datetime
    #: Where it stands in the walk: ("e", the entry's id) or ("m", the marking's index).
    place: tuple[str, int]
    json: str | None = None
    stix_id: str | None = None
    version: datetime.datetime | None = None
    spec_version: str | None = None

    @property
    def position(self) -> list:
        """The cursor's record of it (worked out for the page's last entry only)."""
        kind, key = self.place
        return ["e", stix.timestamp(self.date_added), key] if kind == "e" else ["m", key]


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    more: bool
    next: str | None

    def date_headers(self) -> dict[str, str]:
        if not self.entries:
            return {}
        return {
            "X-TAXII-Date-Added-First": stix.timestamp(self.entries[0].date_added),
            "X-TAXII-Date-Added-Last": stix.timestamp(self.entries[-1].date_added),
        }


def read_query(params, *, scope: str, object_id: str | None = None) -> Query:
    """The filters of a request's query string; BadQuery (400) for a value that is not valid."""
    supported = FILTERS[scope]
    versions = _values(params, "version") if "version" in supported else ()
    for value in versions:
        if value not in _VERSION_WORDS:
            _timestamp(value, "match[version]")
    if not versions and scope != "versions":
        versions = ("last",)
    added_after = params.get("added_after")
    return Query(
        scope=scope,
        object_id=object_id,
        added_after=_timestamp(added_after, "added_after") if added_after else None,
        limit=_limit(params.get("limit")),
        ids=_values(params, "id") if "id" in supported else (),
        types=_values(params, "type") if "type" in supported else (),
        versions=versions,
        spec_versions=_values(params, "spec_version") if "spec_version" in supported else (),
        next=params.get("next") or None,
    )


def page(user, collection: Collection, query: Query) -> Page:
    """One page of the requester's view of the collection, from the cursor in the query."""
    position = _position(user, collection, query)
    virtual = [] if position and position[0] == "e" else _markings(query, position)
    real = _real(user, collection, query, position)
    shown = virtual[: query.limit]
    wanted = query.limit - len(shown)
    # Always one query, whatever the page: the same work for page 1 and page 300.
    rows = [_entry(row, query.scope) for row in real[: wanted + 1]]
    if len(virtual) > query.limit:
        more = True
    else:
        shown += rows[:wanted]
        more = len(rows) > wanted
    cursor = _cursor(user, collection, query, shown[-1].position) if more and shown else None
    return Page(entries=shown, more=more and cursor is not None, next=cursor)


def exists(user, collection: Collection, object_id: str) -> bool:
    """Whether the requester's view of the collection holds any version of the object."""
    if object_id in markings.TLP2_IDS.values():
        return True
    return entries(user, collection, Q(object__stix_id=object_id)).exists()


# --- Helpers --------------------------------------------------------------------------------


def _limit(raw) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"\d{1,9}", raw) or int(raw) < 1:
        raise BadQuery(_("limit must be a positive whole number."))
    return min(int(raw), MAX_LIMIT)


def _values(params, name: str) -> tuple[str, ...]:
    """A match[] filter's values: comma-separated, in one parameter or several."""
    found = []
    for raw in params.getlist(f"match[{name}]"):
        found += [value.strip() for value in raw.split(",") if value.strip()]
    if len(found) > MAX_VALUES:
        raise BadQuery(
            _("match[%(name)s] takes at most %(count)d values.")
            % {"name": name, "count": MAX_VALUES}
        )
    return tuple(dict.fromkeys(found))


def _timestamp(raw: str, name: str) -> datetime.datetime:
    try:
        return stix.parse_timestamp(raw)
    except ValueError:
        raise BadQuery(
            _("%(name)s must be a timestamp such as 2026-01-31T12:00:00.000000Z.") % {"name": name}
        ) from None


def _position(user, collection: Collection, query: Query) -> list | None:
    """Where the cursor says the previous page ended; BadQuery for a cursor not made for
    this requester, collection and query, or changed since."""
    if query.next is None:
        return None
    refused = BadQuery(_("The next cursor is not valid for this request."))
    try:
        payload = signing.loads(query.next, salt=SALT, max_age=CURSOR_MAX_AGE)
    except signing.SignatureExpired:
        raise BadQuery(_("The next cursor has expired: start again from the first page.")) from None
    except signing.BadSignature:
        raise refused from None
    if not isinstance(payload, dict) or (
        payload.get("u"),
        payload.get("c"),
        payload.get("h"),
    ) != (user.pk, collection.id, query.digest):
        raise refused
    position = payload.get("p")
    if not isinstance(position, list) or not position or position[0] not in ("m", "e"):
        raise refused
    return position


def _cursor(user, collection: Collection, query: Query, position: list) -> str:
    payload = {"u": user.pk, "c": collection.id, "h": query.digest, "p": position}
    return signing.dumps(payload, salt=SALT, compress=True)


def _markings(query: Query, position: list | None) -> list[Entry]:
    """The marking definitions that pass the filters and come after the position."""
    start = position[1] + 1 if position else 0
    found = []
    for index, data in enumerate(markings.definitions()):
        entry = Entry(
            MARKING_DATE,
            ("m", index),
            json=json.dumps(data, separators=(",", ":")),
            stix_id=data["id"],
            version=stix.parse_timestamp(data["created"]),
            spec_version="2.1",
        )
        if index >= start and _marking_passes(entry, query):
            found.append(entry)
    return found


def _marking_passes(entry: Entry, query: Query) -> bool:
    if query.object_id is not None and entry.stix_id != query.object_id:
        return False
    if query.added_after is not None and entry.date_added <= query.added_after:
        return False
    if query.ids and entry.stix_id not in query.ids:
        return False
    if query.types and "marking-definition" not in query.types:
        return False
    if query.spec_versions and entry.spec_version not in query.spec_versions:
        return False
    if query.versions and not _VERSION_WORDS & set(query.versions):
        return any(stix.parse_timestamp(v) == entry.version for v in query.versions)
    return True


def _real(user, collection: Collection, query: Query, position: list | None):
    # The conditions go in at once: each filter() call copies the query, visibility's
    # subqueries included, and that copying cost more than PostgreSQL's work on a page.
    where = []
    if query.object_id is not None:
        where.append(Q(object__stix_id=query.object_id))
    if query.added_after is not None:
        where.append(Q(date_added__gt=query.added_after))
    if query.ids:
        where.append(Q(object__stix_id__in=query.ids))
    if query.types:
        where.append(Q(object__type__in=query.types))
    if query.spec_versions:
        where.append(Q(version__spec_version__in=query.spec_versions))
    if query.versions and "all" not in query.versions:
        wanted = Q()
        if "first" in query.versions:
            wanted |= Q(version__is_first=True)
        if "last" in query.versions:
            wanted |= Q(version__is_last=True)
        times = [stix.parse_timestamp(v) for v in query.versions if v not in _VERSION_WORDS]
        if times:
            wanted |= Q(version__modified__in=times)
        where.append(wanted)
    if position and position[0] == "e":
        try:
            after, entry_id = stix.parse_timestamp(position[1]), int(position[2])
        except (IndexError, TypeError, ValueError):
            raise BadQuery(_("The next cursor is not valid for this request.")) from None
        # One row comparison, (date_added, id) > (after, id): the poll index's range starts
        # at the cursor, and the planner counts the date range once. Spelt as two conditions,
        # it counted it twice, guessed the rest of the view small, and sorted all of it.
        where.append(TupleGreaterThan(Tuple(F("date_added"), F("id")), (after, entry_id)))
    rows = entries(user, collection, *where)
    # Plain tuples: a page of 500 model instances (entry, object, version) costs more in
    # Python than the query does in PostgreSQL.
    if query.scope in ("objects", "object"):
        return rows.annotate(text=Cast("version__data", TextField())).values_list(
            "id", "date_added", "text"
        )
    return rows.values_list(
        "id", "date_added", "object__stix_id", "version__modified", "version__spec_version"
    )


def _entry(row: tuple, scope: str) -> Entry:
    if scope in ("objects", "object"):
        pk, date_added, text = row
        return Entry(date_added, ("e", pk), json=text)
    pk, date_added, stix_id, modified, spec_version = row
    return Entry(
        date_added, ("e", pk), stix_id=stix_id, version=modified, spec_version=spec_version
    )
