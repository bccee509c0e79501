"""A partner polling one agreement's TAXII collection, in process with the test client.

The subject is the world's `intel_poll` (bench/seed.py): a programme manager of a partner
whose view of the agreement's collection holds `scale.poll_objects` objects they see, plus
RED ones named to a colleague that every page must skip. The poll is what a partner's tool
runs: `GET /taxii2/api/collections/<id>/objects/?limit=500` with the person's API token
(`Authorization: Token ...`; no browser session, so none of its bookkeeping), then `next`
until `more` is false.

- **Pages:** one warm-up walk, then timed walks (at least `scale.iterations` pages in all):
  p50, p95 and p99 per page; one more walk counts each page's queries, which must be the
  same for every page. Every walk must return each visible object exactly once, and no
  hidden one, or the measure is void.
- **added_after:** the owner adds a few objects to the collection through the services after
  a timestamp; a poll with that `added_after` must return exactly them. Their shares are
  revoked afterwards, so the view is the seeded one again for the next run.
- **Against the SQL floor:** the first, middle and last page as the TAXII code reads them
  (`intel.taxii.paging.page`), as guardian's generic tables would
  (the same paging with `get_objects_for_user` as the visibility), and as one hand-written
  SQL query; every variant must return the same entries.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.latency import summarise
from bench.scales import Scale

LIMIT = 500
ACCEPT = "application/taxii+json;version=2.1"
#: Objects the owner adds for the added_after poll.
NEW_OBJECTS = 20


@dataclass
class PollSubject:
    user: object
    collection: object  # intel.collections.Collection
    owner_pm: object
    visible: set[str]  # the STIX ids the poll must return, markings aside
    hidden: int  # entries of the view the user may not see (last versions)

    @property
    def url(self) -> str:
        return f"/taxii2/api/collections/{self.collection.id}/objects/"


def unavailable() -> str | None:
    """Why the poll cannot be measured on this code or world; None when it can."""
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("taxii:objects", kwargs={"collection_id": "x"})
    except NoReverseMatch:
        return "the TAXII views are not in this code yet"
    return None


def pick_subject(world: dict) -> PollSubject:
    from django.contrib.auth import get_user_model

    from intel import collections
    from intel.models import CollectionEntry, StixObject
    from portal import access

    poll = world.get("intel_poll")
    if not poll:
        raise RuntimeError("the world has no polled collection: seed it again (--reseed)")
    users = get_user_model().objects.select_related("membership__organisation")
    user = users.get(username=poll["username"])
    found = collections.find(user, collections.agreement_collection_id(poll["reference"]))
    if found is None:
        raise RuntimeError(f"{user.username} has no collection for {poll['reference']}")
    owner_pm = (
        users.filter(
            membership__organisation_id=poll["owner_id"], membership__programme_manager=True
        )
        .order_by("pk")
        .first()
    )
    view = CollectionEntry.objects.filter(
        collection=found.key, viewer=found.viewer, version__is_last=True
    )
    visible_objects = access.visible_to(user, StixObject.objects.all()).values("pk")
    visible = set(view.filter(object__in=visible_objects).values_list("object__stix_id", flat=True))
    hidden = view.count() - len(visible)  # (a NOT IN over the visibility plans badly)
    return PollSubject(user, found, owner_pm, visible, hidden)


def run(scale: Scale, world: dict, log: Callable[[str], None]) -> dict:
    subject = pick_subject(world)
    log(
        f"  {subject.user.username} polls {subject.collection.title}: "
        f"{len(subject.visible):,} objects visible, {subject.hidden:,} hidden from them"
    )
    # As a partner's tool polls: with the person's API token, no browser session.
    from portal.services import rotate_api_token

    token = rotate_api_token(actor=subject.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    result: dict = {
        "username": subject.user.username,
        "collection": subject.collection.title,
        "visible_objects": len(subject.visible),
        "hidden_entries": subject.hidden,
        "limit": LIMIT,
    }
    _walk(client, subject, pages=scale.warmup)  # warm-up
    samples: list[float] = []
    walks = 0
    while len(samples) < max(scale.iterations, 1) or walks < 2:
        walk = _walk(client, subject)
        _check_complete(walk, subject)
        samples += walk.seconds
        walks += 1
    counted = _walk(client, subject, count=True)
    _check_complete(counted, subject)
    result["pages"] = len(counted.seconds)
    result["walks"] = walks
    result["page"] = summarise(samples)
    result["queries_per_page"] = counted.queries
    result["queries_identical"] = len(set(counted.queries)) == 1
    # A page whose count differs from the usual one: which, and what it ran.
    usual = max(set(counted.queries), key=counted.queries.count)
    result["odd_pages"] = [
        {"page": n + 1, "queries": counted.sql[n]}
        for n, count in enumerate(counted.queries)
        if count != usual
    ]
    for odd in result["odd_pages"]:
        log(f"  page {odd['page']} ran {len(odd['queries'])} queries:")
        for sql in odd["queries"]:
            log(f"    {sql[:120]}")
    page = result["page"]
    log(
        f"  {result['pages']} pages of {LIMIT}, {walks} walks: p50 {page['p50_ms']} ms, "
        f"p95 {page['p95_ms']} ms, p99 {page['p99_ms']} ms; queries per page "
        f"{sorted(set(counted.queries))}"
    )
    result["added_after"] = _added_after(client, subject, scale, log)
    log("  comparison: ours, naive guardian (generic tables), hand-written SQL")
    result["comparison"] = _compare(scale, subject, counted.cursors, log)
    return result


# --- Walking the collection -------------------------------------------------------------------


@dataclass
class _Walk:
    ids: list[str]
    seconds: list[float]
    queries: list[int]
    cursors: list[str | None]  # the `next` each page was asked with (None: the first)
    sql: list[list[str]] = field(default_factory=list)  # when counted: each page's queries


def _walk(client, subject: PollSubject, *, pages: int | None = None, count=False, **params):
    """Poll from the first page, following `next`, and time each page."""
    walk = _Walk([], [], [], [])
    cursor = None
    while True:
        query = {"limit": LIMIT, **params}
        if cursor:
            query["next"] = cursor
        started = time.perf_counter()
        if count:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(subject.url, query, HTTP_ACCEPT=ACCEPT)
            walk.queries.append(len(queries.captured_queries))
            walk.sql.append([q["sql"][:160] for q in queries.captured_queries])
        else:
            response = client.get(subject.url, query, HTTP_ACCEPT=ACCEPT)
        walk.seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{subject.url} answered {response.status_code}")
        # Not response.json(): the test client's response sits in a reference cycle, so the
        # parsed page it caches would wait for a full collection, which then lands, 100 ms
        # long, on some later page. A server's response is freed as soon as it is sent.
        body = json.loads(response.content)
        walk.cursors.append(cursor)
        walk.ids += [o["id"] for o in body.get("objects", [])]
        if not body.get("more") or (pages is not None and len(walk.seconds) >= pages):
            return walk
        cursor = body["next"]


def _check_complete(walk: _Walk, subject: PollSubject) -> None:
    """Each visible object once, no hidden one, and the TLP marking definitions."""
    from intel import markings

    marking_ids = set(markings.TLP2_IDS.values())
    objects = [i for i in walk.ids if i not in marking_ids]
    if len(objects) != len(set(objects)):
        raise RuntimeError("the poll returned an object twice")
    if set(objects) != subject.visible:
        missing = len(subject.visible - set(objects))
        extra = len(set(objects) - subject.visible)
        raise RuntimeError(f"the poll missed {missing} visible objects and returned {extra} others")
    if marking_ids - set(walk.ids):
        raise RuntimeError("the poll did not return the TLP marking definitions")


# --- added_after ----------------------------------------------------------------------------


def _added_after(client, subject: PollSubject, scale: Scale, log) -> dict:
    """A few objects added after a timestamp reach the poller, and nothing older does."""
    from django.utils import timezone

    from intel import services, stix
    from portal.reauth import Reauthentication

    since = timezone.now()
    time.sleep(0.001)  # the new entries are strictly after it
    stored = services.import_objects(
        actor=subject.owner_pm,
        raw=[_indicator(n) for n in range(NEW_OBJECTS)],
        default_tlp="green",
        via="bench",
    ).stored
    shares = []
    for obj in stored:
        shares += services.share_object(
            actor=subject.owner_pm,
            obj=obj,
            agreement=subject.collection.agreement,
            recipient=subject.collection.viewer,
            reauthentication=Reauthentication(timezone.now(), "password"),
        )
    new = {obj.stix_id for obj in stored}
    params = {"added_after": stix.timestamp(since)}
    try:
        walk = _walk(client, subject, count=True, **params)
        returned = set(walk.ids)
        samples = []
        for _ in range(scale.warmup):
            _walk(client, subject, **params)
        for _ in range(scale.iterations):
            samples += _walk(client, subject, **params).seconds
        outcome = {
            "added": len(new),
            "returned": len(walk.ids),
            "new_returned": len(returned & new),
            "older_returned": len(returned - new),
            "pages": len(walk.seconds),
            "queries": walk.queries,
            "only_new": returned == new and len(walk.ids) == len(new),
            "since": params["added_after"],
            **summarise(samples),
        }
    finally:
        for share in shares:
            services.revoke_share(actor=subject.owner_pm, share=share, reason="Bench clean-up")
    log(
        f"  added_after: {outcome['new_returned']} of {outcome['added']} new objects, "
        f"{outcome['older_returned']} older; p50 {outcome['p50_ms']} ms, p95 "
        f"{outcome['p95_ms']} ms, {outcome['queries']} queries"
    )
    return outcome


def _indicator(n: int) -> dict:
    from django.utils import timezone

    from intel import stix

    now = stix.timestamp(timezone.now())
    value = f"203.0.113.{n % 254 + 1}"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": f"New C2 server {value}",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": now,
    }


# --- Against naive guardian and the SQL floor ----------------------------------------------------


def _compare(scale: Scale, subject: PollSubject, cursors: list, log) -> list[dict]:
    from bench.latency import measure, measure_side_by_side

    # Full pages, as the library's comparison uses, from the start, the middle and the end;
    # then the last page, which holds what is left: its few entries measure the fixed cost
    # of a request's query, so it is shown, not held to the floor's ratio.
    middle = len(cursors) // 2
    pages = {
        "TAXII poll, page 1": cursors[0],
        f"TAXII poll, page {middle + 1}": cursors[middle],
        f"TAXII poll, page {len(cursors) - 1} (last full)": cursors[-2],
        f"TAXII poll, page {len(cursors)} (rest)": cursors[-1],
    }
    rows = []
    for name, cursor in pages.items():
        variants = {
            "ours": _ours(subject, cursor),
            "naive": _naive(subject, cursor),
            "floor": _floor(subject, cursor),
        }
        expected = variants["ours"]()
        for variant, call in variants.items():
            if call() != expected:
                raise RuntimeError(f"{name}: {variant} returned other entries than ours")
        # Ours and the floor in turns, so their ratio is read from the same moments; naive
        # guardian takes most of a second a page, and a few runs say enough.
        results = measure_side_by_side({v: variants[v] for v in ("ours", "floor")}, scale)
        naive_runs = replace(scale, warmup=1, iterations=5)
        results["naive"] = measure(variants["naive"], naive_runs, lambda _ids: None)
        ours = results["ours"]["p50_ms"]
        row = {
            "page": name,
            "entries": len(expected),
            "full": len(_paging().page(subject.user, subject.collection, _query(cursor)).entries)
            == LIMIT,
            **{f"{v}_p50_ms": r["p50_ms"] for v, r in results.items()},
            **{f"{v}_p95_ms": r["p95_ms"] for v, r in results.items()},
            "naive_over_ours": round(results["naive"]["p50_ms"] / ours, 1),
            "ours_over_floor": round(ours / results["floor"]["p50_ms"], 2),
        }
        rows.append(row)
        log(
            f"  {name:<30} ours {ours:>8.2f} ms  naive guardian {row['naive_p50_ms']:>8.2f} ms "
            f"({row['naive_over_ours']}x)  SQL floor {row['floor_p50_ms']:>8.2f} ms "
            f"(ours {row['ours_over_floor']}x)"
        )
    return rows


def _paging():
    """intel.taxii.paging, imported when the TAXII code is there (see `unavailable`)."""
    from intel.taxii import paging

    return paging


def _query(cursor):
    from django.http import QueryDict

    paging = _paging()
    params = QueryDict(mutable=True)
    params["limit"] = str(LIMIT)
    if cursor:
        params["next"] = cursor
    return paging.read_query(params, scope="objects")


def _entry_ids(page) -> list[int]:
    return [e.place[1] for e in page.entries if e.place[0] == "e"]


def _ours(subject: PollSubject, cursor):
    paging = _paging()
    query = _query(cursor)

    def call():
        return _entry_ids(paging.page(subject.user, subject.collection, query))

    return call


def _naive(subject: PollSubject, cursor):
    """The same paging, with guardian's get_objects_for_user over its generic tables as the
    visibility in place of the access layer's."""
    paging = _paging()
    query = _query(cursor)

    def call():
        with generic_visibility():
            return _entry_ids(paging.page(subject.user, subject.collection, query))

    return call


@contextmanager
def generic_visibility():
    from guardian.shortcuts import get_objects_for_user

    from bench.compare import generic_guardian_tables
    from intel.models import CollectionEntry, StixObject

    paging = _paging()

    def entries(user, collection, *where):
        visible = get_objects_for_user(
            user,
            "intel.view_stixobject",
            StixObject.objects.all(),
            with_superuser=False,
            accept_global_perms=False,
        ) | StixObject.objects.filter(tlp="clear")
        return (
            CollectionEntry.objects.filter(
                *where, collection=collection.key, viewer=collection.viewer
            )
            .filter(object__in=visible.values("pk"))
            .order_by("date_added", "id")
        )

    original = paging.entries
    paging.entries = entries
    try:
        with generic_guardian_tables(StixObject):
            yield
    finally:
        paging.entries = original


def _floor(subject: PollSubject, cursor):
    """One hand-written query (POLL_PAGE_SQL): the page of the view from the cursor's
    position."""
    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from intel import markings

    paging = _paging()
    position = paging._position(subject.user, subject.collection, _query(cursor))
    shown_markings = 0 if position else len(markings.TLP2_IDS)
    if position:
        after = datetime.datetime.fromisoformat(position[1].replace("Z", "+00:00"))
        after_id = int(position[2])
    else:
        after, after_id = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC), 0
    permission = Permission.objects.get(codename="view_stixobject").pk
    groups = list(subject.user.groups.values_list("id", flat=True))
    params = {
        "collection": subject.collection.key,
        "viewer": subject.collection.viewer.pk,
        "after": after,
        "after_id": after_id,
        "groups": groups,
        "user": subject.user.pk,
        "permission": permission,
        "today": timezone.localdate(),
        "limit": LIMIT - shown_markings + 1,
    }
    wanted = LIMIT - shown_markings

    def call():
        with connection.cursor() as db:
            db.execute(POLL_PAGE_SQL, params)
            rows = db.fetchall()
        return [row[0] for row in rows[:wanted]]

    return call


#: The page after (date_added, id) of one organisation's view of one collection: the last
#: versions of the objects granted to the user's groups or to the user (grants in force
#: today), with what the envelope needs: each version's JSON as text (it holds its id and
#: version), to be written into the envelope as it is. Within a collection every entry its
#: viewer may see carries such a grant (the owner's, or the live share's that put it there,
#: CLEAR included), so the floor needs no "everyone" branch; it must still return exactly
#: the entries ours does.
#:
#: It walks the poll index from the cursor and probes the grant indexes once per entry, so
#: a page costs the same wherever it starts and however many grants the viewer holds.
#: `OFFSET 0` keeps PostgreSQL from turning each EXISTS into a hash of all the viewer's
#: grants, built for every page (about 50,000 rows for the polled partner at `large`).
POLL_PAGE_SQL = """
SELECT e.id, e.date_added, v.data::text
FROM intel_collectionentry e
JOIN intel_stixversion v ON v.id = e.version_id
WHERE e.collection = %(collection)s AND e.viewer_id = %(viewer)s
  AND (e.date_added, e.id) > (%(after)s, %(after_id)s)
  AND v.is_last
  AND (EXISTS (SELECT 1 FROM intel_stixobjectgroupobjectpermission g
               WHERE g.content_object_id = e.object_id AND g.group_id = ANY(%(groups)s)
                 AND g.permission_id = %(permission)s
                 AND (g.valid_until IS NULL OR g.valid_until >= %(today)s)
               OFFSET 0)
       OR EXISTS (SELECT 1 FROM intel_stixobjectuserobjectpermission u
                  WHERE u.content_object_id = e.object_id AND u.user_id = %(user)s
                    AND u.permission_id = %(permission)s
                    AND (u.valid_until IS NULL OR u.valid_until >= %(today)s)
                  OFFSET 0))
ORDER BY e.date_added, e.id
LIMIT %(limit)s
"""
