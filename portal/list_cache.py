"""A list's rendered results, kept per person and query until a table they were read from
changes: the same partner polling the same page during an incident is served from the
"fragments" cache (Redis) instead of the access layer, the count and the rows again.

What makes a kept list safe is that it can never outlive what it was read from:
- Every table has an epoch in the cache. Every statement that writes a table (the ORM's,
  a bulk update, a raw cursor's: each passes through the connection's execute wrapper
  installed here) bumps that table's epoch once its transaction commits. A grant, a share,
  a revocation or an edit is a write, so each one bumps the epochs of its tables.
- A kept list records the tables its queries read and their epochs, read *before* the
  queries ran: a write that commits while the list is built bumps an epoch the entry
  already holds, so the entry is dead on arrival rather than stale.
- It is only served while every one of those epochs is unchanged, and never inside a
  transaction that has itself written one of its tables (that work is not committed).
- Its key holds who asks (the person, their organisation and roles), the language, the
  day (grants lapse by the day), the host and the whole query; the HTML never holds a
  form token or a script nonce (an entry that would is not kept).

What it cannot see is a write that does not pass through Django (psql, another program
on the database): such a change shows once settings.LIST_CACHE_SECONDS have passed.

The cache is shared by every worker only through Redis, so it is on with `REDIS_URL`
(settings.LIST_CACHE) and off in the embedded default, where each process has its own
memory and one worker's write could not reach another's entries.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import logging
import re
import time
from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language

from portal import mfa, notifications

logger = logging.getLogger(__name__)

#: Tables no list is read from, written on nearly every request: their epochs would only
#: cost a round trip to Redis.
UNWATCHED = frozenset({"django_session", "portal_cache"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WRITE_WORDS = re.compile(r"\b(insert|update|delete|merge|truncate)\b", re.IGNORECASE)
#: The one table an INSERT, UPDATE or DELETE writes (a subquery's tables are only read).
_TARGET = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
#: The tables read while a list is being built (None when nothing is recorded).
_reading: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "list_cache_reading", default=None
)
#: The parts of tables read meanwhile (reading_as), each with its epoch from before.
_parts_read: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "list_cache_parts_read", default=None
)


def enabled() -> bool:
    return settings.LIST_CACHE


def _cache():
    return caches["fragments"]


# --- Which tables a statement names ---------------------------------------------------------


_known: frozenset[str] | None = None


def _tables() -> frozenset[str]:
    global _known
    if _known is None:
        names = {m._meta.db_table.lower() for m in apps.get_models(include_auto_created=True)}
        _known = frozenset(names - UNWATCHED)
    return _known


def tables_in(sql: str) -> set[str]:
    """The portal's tables a statement names (quoted or not)."""
    known = _tables()
    return {word for word in map(str.lower, _WORD.findall(sql)) if word in known}


def written_by(sql: str) -> set[str]:
    """The portal's tables a writing statement writes (every one it names, when it is not a
    plain INSERT, UPDATE or DELETE)."""
    target = _TARGET.match(sql)
    if target is None:
        return tables_in(sql)
    table = target.group(1).lower()
    return {table} if table in _tables() else set()


def _is_write(sql: str) -> bool:
    head = sql[:24].lstrip()[:8].upper()
    if head.startswith("SELECT"):
        return False
    if head.startswith("WITH"):
        return bool(_WRITE_WORDS.search(sql))
    return head.startswith(("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "REPLACE"))


# --- Epochs -----------------------------------------------------------------------------------


def _epoch_key(table: str) -> str:
    return f"epoch:{table}"


class _Bump:
    """The on-commit bump of one table's epoch (an object, so a transaction's pending bumps
    can be told apart from its other callbacks)."""

    def __init__(self, table: str):
        self.table = table

    def __call__(self) -> None:
        cache, key = _cache(), _epoch_key(self.table)
        try:
            try:
                cache.incr(key)
            except ValueError:  # unknown (new, or evicted): any fresh value invalidates
                if not cache.add(key, time.time_ns(), timeout=None):
                    cache.incr(key)
        except Exception:
            # The write has committed; the lists read from it stay kept until their timeout
            # (settings.LIST_CACHE_SECONDS). Loud, because that is a stale window.
            logger.exception("Could not bump the list cache's epoch of %s", self.table)


def _pending(connection) -> set[str]:
    """The tables this connection's open transaction has written (bumps not yet run)."""
    return {func.table for _, func, _ in connection.run_on_commit if isinstance(func, _Bump)}


def _watch(execute, sql, params, many, context):
    """Every statement of a connection passes here: a read is recorded while a list is
    built, a write bumps its tables' epochs when its transaction commits."""
    result = execute(sql, params, many, context)
    text = sql if isinstance(sql, str) else str(sql)
    if _is_write(text):
        connection = context["connection"]
        written = written_by(text) - (_pending(connection) if connection.in_atomic_block else set())
        for table in written:
            connection.on_commit(_Bump(table))
    else:
        reading = _reading.get()
        if reading is not None:
            reading.update(tables_in(text))
    return result


def changed(part: str) -> None:
    """Bump the epoch of a part of a table (one object's audit history, say) when the current
    transaction commits: what was read of it through reading_as(part) is not served again."""
    connection = connections["default"]
    if not (connection.in_atomic_block and part in _pending(connection)):
        connection.on_commit(_Bump(part))


@contextlib.contextmanager
def reading_as(part: str, table: str):
    """The statements inside read only `part` of `table` (one object's audit history, whose
    writer calls changed(part)): what is built from them is kept until that part changes,
    not until anything at all is written to the table. The other tables they read (joined
    names) count as usual."""
    parts = _parts_read.get()
    if parts is None:  # nothing is being kept
        yield
        return
    parts.setdefault(part, _epochs([part])[part])  # before the statements run
    outer = _reading.get()
    token = _reading.set(set())
    try:
        yield
    finally:
        inner = _reading.get()
        _reading.reset(token)
        outer.update(inner - {table})


def watch(sender, connection, **kwargs) -> None:
    """Install the watch on a new database connection (the connection_created signal)."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def _epochs(tables) -> dict[str, int]:
    """The current epoch of each table, starting any the cache does not hold."""
    cache = _cache()
    keys = {_epoch_key(t): t for t in tables}
    found = cache.get_many(keys)
    for key in keys.keys() - found.keys():
        cache.add(key, time.time_ns(), timeout=None)
        found[key] = cache.get(key)
    return {keys[k]: v for k, v in found.items()}


# --- Kept lists -----------------------------------------------------------------------------


def _key(request, scope: str, extra: tuple) -> str:
    user = request.user
    membership = getattr(user, "membership", None)
    who = (
        user.pk,
        user.is_staff,
        user.is_superuser,
        membership.organisation_id if membership else None,
        tuple(membership.roles) if membership else (),
        # Some roles act only once enrolled in two-factor authentication (portal.mfa).
        tuple(mfa.roles_awaiting_enrolment(user)),
    )
    parts = (
        scope,
        who,
        get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate().isoformat(),
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        extra,
    )
    return "list:" + hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


#: The tables each scope was last read from, as this process saw them (a hint: the cache's
#: own copy is the one that counts).
_scope_tables_seen: dict[str, frozenset[str]] = {}


def _scope_key(scope: str) -> str:
    return f"list-tables:{scope}"


def _keepable(text: str, request) -> bool:
    """Whether the text holds none of this request's secrets: no form token was handed out
    while it was built (get_token marks the request so), and the script nonce is not in it."""
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    nonce = request.__dict__.get("csp_nonce")
    if type(nonce) is not str:  # isinstance() would make a lazy nonce: read the one made
        nonce = request.__dict__.get("_csp_nonce")
    return not (nonce and nonce in text)


def text_of(
    request, scope: str, build: Callable[[], tuple[str, bool]], *, extra: tuple = ()
) -> tuple[str, bool]:
    """(text, whether it was kept) of a list or a page: kept, or built by `build`, which
    returns it and says whether it may be kept. `scope` names the list (its view); `extra` is
    whatever else of the request the text depends on."""
    if not enabled():
        return build()[0], False
    cache, key = _cache(), _key(request, scope, extra)
    # One round trip in the common case: the entry, the scope's tables and the epochs of the
    # tables this process last knew the scope by, read together (MGET is atomic).
    guess = _scope_tables_seen.get(scope, frozenset())
    found = cache.get_many([key, _scope_key(scope), *map(_epoch_key, guess)])
    entry, scope_tables = found.get(key), found.get(_scope_key(scope), frozenset())
    _scope_tables_seen[scope] = scope_tables
    connection = connections["default"]
    dirty = _pending(connection) if connection.in_atomic_block else set()
    # The epochs of every table this list has been read from, before its queries run.
    wanted = scope_tables | (entry[0].keys() if entry else set())
    before = {t: found[_epoch_key(t)] for t in wanted if _epoch_key(t) in found}
    if wanted - before.keys():
        before.update(_epochs(wanted - before.keys()))
    if entry is not None:
        held, text = entry
        if not (held.keys() & dirty) and all(before.get(t) == e for t, e in held.items()):
            return text, True
    token, parts_token = _reading.set(set()), _parts_read.set({})
    # Whether a form token was handed out before the build is not the build's to answer for.
    handed_out = request.META.pop("CSRF_COOKIE_NEEDS_UPDATE", None)
    try:
        text, keep = build()
        read, parts = _reading.get(), _parts_read.get()
        keep = keep and _keepable(text, request)
    finally:
        _reading.reset(token)
        _parts_read.reset(parts_token)
        if handed_out:
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = handed_out
    if not read <= before.keys():
        # Read from a table not watched before it was read: learn it; keep the next one.
        cache.set(_scope_key(scope), frozenset(scope_tables | read), timeout=None)
    elif keep and not ((read | parts.keys()) & dirty):
        held = {**{t: before[t] for t in read}, **parts}
        cache.set(key, (held, text), timeout=settings.LIST_CACHE_SECONDS)
    return text, False


# --- Kept pages -------------------------------------------------------------------------------
# A whole page is kept as a list is, with what differs on every answer left as holes filled
# in per request: the form token, the script nonce and the unread notifications' count. A
# hole is a mark derived from SECRET_KEY, so no text a partner writes can be taken for one.

HOLES = ("csrf", "nonce", "unread-menu", "unread-notices")
_building_page: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "list_cache_building_page", default=False
)


@functools.cache
def _holes(secret: str) -> dict[str, str]:
    return {
        name: "hole" + salted_hmac("portal.list_cache.hole", name, secret=secret).hexdigest()[:24]
        for name in HOLES
    }


def hole(name: str) -> str:
    return _holes(settings.SECRET_KEY)[name]


def building_page() -> bool:
    """Whether a page to keep is being rendered, so what differs per request is a hole."""
    return _building_page.get()


def page(request, scope: str, build: Callable[[], HttpResponseBase], *, extra: tuple = ()):
    """The response of a GET, kept per person and query (text_of) until a table it was read
    from is written. `build` answers it from the view. A page with a message waiting to be
    shown is built and not kept (a message is shown once), and so is any answer but a 200."""
    if not enabled() or request.method != "GET" or _messages_waiting(request):
        return build()
    built = []

    def build_text() -> tuple[str, bool]:
        response = _render_with_holes(request, build)
        built.append(response)
        if response.streaming:
            return "", False
        keep = response.status_code == 200 and not _messages_waiting(request)
        return response.content.decode(response.charset), keep

    text, _ = text_of(request, scope, build_text, extra=(*extra, *_page_variant(request)))
    response = built[0] if built else HttpResponse()
    if not response.streaming:
        response.content = fill(text, request)
    return response


def fill(text: str, request) -> str:
    """The page's holes filled in for this request."""
    holes = _holes(settings.SECRET_KEY)
    if holes["csrf"] in text:
        text = text.replace(holes["csrf"], get_token(request))
    if holes["nonce"] in text:
        text = text.replace(holes["nonce"], str(request.csp_nonce))
    for kind in ("menu", "notices"):
        if holes[f"unread-{kind}"] in text:
            text = text.replace(holes[f"unread-{kind}"], notifications.unread_badge(request, kind))
    return text


def _render_with_holes(request, build) -> HttpResponseBase:
    nonce = request.__dict__.get("csp_nonce")
    request.csp_nonce = hole("nonce")
    building = _building_page.set(True)
    try:
        response = build()
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
    finally:
        _building_page.reset(building)
        if nonce is None:
            del request.csp_nonce
        else:
            request.csp_nonce = nonce
    return response


def _page_variant(request) -> tuple:
    """What of the request a page shows beyond the list key's: the person's names and their
    organisation's (the layout shows them), and which htmx answer it is."""
    user, membership = request.user, getattr(request.user, "membership", None)
    organisation = membership.organisation if membership else None
    htmx = getattr(request, "htmx", None)
    return (
        user.get_username(),
        user.get_full_name(),
        (organisation.name, organisation.slug, str(organisation.country)) if organisation else (),
        bool(htmx),
        bool(htmx and htmx.boosted),
    )


def _messages_waiting(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0
