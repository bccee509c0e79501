"""The same first page three ways, on the same data, in the same run:

1. ours: `access.visible_to` over the direct-FK grant tables, paginated as a list page is
   (`portal.pagination.CappedPaginator`: the capped count's keys read part by part from
   `access.visible_parts`, then the page);
2. naive: guardian's `get_objects_for_user` over its generic tables (object_pk as text,
   content type), loaded with the same grants, the way most guardian projects use it, and
   paginated the same way;
3. floor: one hand-written SQL query returning the same rows.

Every variant must return the same primary keys, or the comparison is void.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection

from bench.latency import PAGE_SIZE, Subject, measure
from bench.scales import Scale


def run(scale: Scale, subjects: list[Subject], log: Callable[[str], None]) -> list[dict]:
    rows = []
    for subject in subjects:
        for name, variants in _queries(subject).items():
            expected = None
            results = {}
            for variant, call in variants.items():
                ids = call()
                if expected is None:
                    expected = ids
                elif ids != expected:
                    raise RuntimeError(
                        f"{name} for {subject.kind}: {variant} returned other rows than ours"
                    )
                results[variant] = measure(call, scale, lambda _ids: None)
            ours = results["ours"]["p50_ms"]
            row = {
                "page": name,
                "user": subject.kind,
                **{f"{v}_p50_ms": r["p50_ms"] for v, r in results.items()},
                **{f"{v}_p95_ms": r["p95_ms"] for v, r in results.items()},
                "naive_over_ours": round(results["naive"]["p50_ms"] / ours, 1),
                "ours_over_floor": round(ours / results["floor"]["p50_ms"], 2),
            }
            rows.append(row)
            log(
                f"  {subject.kind:<7} {name:<28} ours {ours:>8.2f} ms  "
                f"naive guardian {row['naive_p50_ms']:>9.2f} ms ({row['naive_over_ours']}x)  "
                f"SQL floor {row['floor_p50_ms']:>8.2f} ms (ours {row['ours_over_floor']}x)"
            )
    return rows


def _queries(subject: Subject) -> dict[str, dict[str, Callable[[], list[int]]]]:
    from django.contrib.auth.models import Permission
    from guardian.shortcuts import get_objects_for_user

    from agreements.models import Agreement
    from portal import access
    from portal.pagination import CappedPaginator
    from resources.models import Resource

    user = subject.user
    order = ("-created_at", "-pk")
    view_resource = Permission.objects.get(codename="view_resource").pk
    view_agreement = Permission.objects.get(codename="view_agreement").pk

    def ours(model, **filters):
        def call():
            # As a list page runs it: the capped count's keys part by part, then the page.
            rows = model.objects.filter(**filters)
            visible = access.visible_to(user, rows).order_by(*order)
            parts = access.visible_parts(user, rows)
            page = CappedPaginator(visible, PAGE_SIZE, parts=parts).page(1)
            return [obj.pk for obj in page.object_list]

        return call

    def naive(model, perm, everyone=None, **filters):
        def call():
            with generic_guardian_tables(model):
                qs = get_objects_for_user(
                    user,
                    perm,
                    model.objects.all(),
                    with_superuser=False,
                    accept_global_perms=False,
                )
                if everyone is not None:
                    qs = qs | model.objects.filter(everyone)
                # Paginated the same way, so only the permission query differs.
                page = CappedPaginator(qs.filter(**filters).order_by(*order), PAGE_SIZE).page(1)
                return [obj.pk for obj in page.object_list]

        return call

    def floor(sql, params):
        def call():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return [row[0] for row in cursor.fetchall()]

        return call

    groups = list(user.groups.values_list("id", flat=True))
    from django.db.models import Q

    clear = Q(tlp="clear")
    return {
        "resource library page 1": {
            "ours": ours(Resource),
            "naive": naive(Resource, "resources.view_resource", clear),
            "floor": floor(RESOURCE_PAGE_SQL.format(extra=""), _rp(groups, user, view_resource)),
        },
        "resource library, AMBER": {
            "ours": ours(Resource, tlp="amber"),
            "naive": naive(Resource, "resources.view_resource", clear, tlp="amber"),
            "floor": floor(
                RESOURCE_PAGE_SQL.format(extra="AND r.tlp = 'amber'"),
                _rp(groups, user, view_resource),
            ),
        },
        "agreement list page 1": {
            "ours": ours(Agreement),
            "naive": naive(Agreement, "agreements.view_agreement"),
            "floor": floor(AGREEMENT_PAGE_SQL, [groups, view_agreement, PAGE_SIZE]),
        },
    }


def _rp(groups, user, permission_id):
    return [groups, permission_id, PAGE_SIZE, user.pk, permission_id, PAGE_SIZE, PAGE_SIZE]


#: Resources the user's groups or the user hold a grant on, plus TLP:CLEAR, newest first:
#: each source gives its own newest page from an index, and the pages are merged.
RESOURCE_PAGE_SQL = """
SELECT id FROM (
    (SELECT r.id, r.created_at FROM resources_resource r
     WHERE r.tlp = 'clear' {extra} ORDER BY r.created_at DESC, r.id DESC LIMIT 25)
    UNION
    (SELECT r.id, r.created_at FROM resources_resource r
     JOIN resources_resourcegroupobjectpermission g ON g.content_object_id = r.id
     WHERE g.group_id = ANY(%s) AND g.permission_id = %s {extra}
     ORDER BY r.created_at DESC, r.id DESC LIMIT %s)
    UNION
    (SELECT r.id, r.created_at FROM resources_resource r
     JOIN resources_resourceuserobjectpermission u ON u.content_object_id = r.id
     WHERE u.user_id = %s AND u.permission_id = %s {extra}
     ORDER BY r.created_at DESC, r.id DESC LIMIT %s)
) page ORDER BY created_at DESC, id DESC LIMIT %s
"""

AGREEMENT_PAGE_SQL = """
SELECT a.id FROM agreements_agreement a
JOIN agreements_agreementgroupobjectpermission g ON g.content_object_id = a.id
WHERE g.group_id = ANY(%s) AND g.permission_id = %s
ORDER BY a.created_at DESC, a.id DESC LIMIT %s
"""


@contextmanager
def generic_guardian_tables(model):
    """Make guardian ignore the model's direct-FK tables (its `enabled` switch), so it reads
    the generic ones."""
    from portal import access

    policy = access.policy_for(model)
    direct = [m for m in (policy.group_grants, policy.user_grants) if m is not None]
    for m in direct:
        m.enabled = False
    try:
        yield
    finally:
        for m in direct:
            del m.enabled
