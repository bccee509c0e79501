"""The one access layer: every "who may see or do what" question is answered here.

Grants are django-guardian object permissions stored in each protected model's direct-FK
tables and given to organisation groups (named users only where the domain names people).
Apps declare a `Policy` per protected model in their `policies.py`; the policy says which
domain facts produce which grants (`sources`) and which role or state rules guard the
actions beyond seeing (`rules`).

- `visible_to(user, queryset, action)` filters a queryset through the grant tables;
  `visible_through(user, field, model)` filters rows that point at protected objects.
- `can(user, action, obj)` answers for one object; `require(...)` raises 404 or 403.
- `sync_object(obj)` and `sync_membership(user)` make the stored grants equal the facts;
  services call them inside their transaction. `reconcile()` does it for everything.

An object a user may not see is a 404, never a 403, so its existence is not revealed.
"""

from __future__ import annotations

import datetime
import enum
import functools
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_migrate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from portal import audit, mfa


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # visible, but not this action: 403
    HIDE = "hide"  # not visible at all: 404


@dataclass(frozen=True)
class Grant:
    """One desired guardian grant: an action on an object, for a group or a named user."""

    action: str
    group_id: int | None = None
    user_id: int | None = None
    #: The last day the grant holds, when the fact behind it ends on a known date (an
    #: agreement's expiry or termination); None: until the facts change.
    until: datetime.date | None = None
    #: Why the grant exists, for the "who can see this, and why" panel; not part of identity.
    reason: str = field(default="", compare=False)
    #: Who the principal is, in the panel's words, when the source knows it already ("Members
    #: of ..."); otherwise the panel looks the group or user up.
    who: str = field(default="", compare=False)


#: Produces the grants an object should carry, from the domain facts.
GrantSource = Callable[[Model], Iterable[Grant]]
#: Answers whether a user who can see obj may take an action on it.
RuleCheck = Callable[[object, Model], bool]


@dataclass(frozen=True)
class Rule:
    check: RuleCheck
    message: str
    #: The role the rule stands for, if any. A role that needs two-factor authentication
    #: (portal.mfa) is refused, with a message saying how to enrol, until the person enrols.
    role: str = ""

    def refusal(self, user, obj: Model) -> str | None:
        """Why user may not take the action on obj (which they can see); None if they may."""
        if not self.check(user, obj):
            return self.message
        if self.role and not mfa.may_act_as(user, self.role):
            return mfa.enrolment_message(self.role)
        return None


@dataclass
class Policy:
    """How one protected model is guarded."""

    model: type[Model]
    group_grants: type[Model]
    user_grants: type[Model] | None = None
    #: Actions answered from the grant tables. Being refused one of them is a 404.
    grant_actions: frozenset[str] = frozenset({"view"})
    #: Rows every signed-in user may view without a grant (a directory, TLP:CLEAR).
    everyone: Callable[[object], Q] | None = None
    sources: list[GrantSource] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    #: Says who "everyone" is, for the "who can see this, and why" panel.
    everyone_reason: str = ""
    #: What each grant action lets people do, in words, for the same panel.
    action_labels: dict[str, str] = field(default_factory=dict)
    #: The objects whose facts name a person (a RED share's recipients, a project's
    #: reviewers): their grants are re-derived whenever that person's standing changes.
    naming: Callable[[object], QuerySet] | None = None
    #: Fields of the object copied onto its group grant rows (which have fields of the same
    #: names), so a list filtered on them narrows the grants in the index (`narrow` below).
    grant_copies: tuple[str, ...] = ()

    def codename(self, action: str) -> str:
        return f"view_{self.model._meta.model_name}" if action == "view" else action


_registry: dict[type[Model], Policy] = {}
_permission_ids: dict[tuple[str, str], int] = {}

#: Answers of `_holds` within one request (set by portal.middleware). A page asks "may this
#: user see this object?" many times; the grants cannot change in between unless a service
#: syncs them, and syncing clears this.
request_cache: ContextVar[dict | None] = ContextVar("access_request_cache", default=None)


# --- Registry -------------------------------------------------------------------------------


def register(policy: Policy) -> Policy:
    """Declare how a model is guarded; apps call this from their policies module."""
    if policy.model in _registry:
        raise ValueError(f"{policy.model._meta.label} already has an access policy")
    _registry[policy.model] = policy
    return policy


def add_grant_source(model: type[Model], source: GrantSource) -> None:
    """Let a later app add grants to an earlier app's model (agreements open member lists)."""
    policy_for(model).sources.append(source)


def add_naming(model: type[Model], naming: Callable[[object], QuerySet]) -> None:
    """Let a later app name people in an earlier app's grants (a project's reviewers open
    the resources linked as evidence): their grants follow each change of the person's
    standing, as the model's own namings do."""
    policy = policy_for(model)
    earlier = policy.naming
    policy.naming = naming if earlier is None else (lambda user: earlier(user) | naming(user))


def add_rule(
    model: type[Model], action: str, check: RuleCheck, message: str, *, role: str = ""
) -> None:
    policy_for(model).rules[action] = Rule(check, message, role)


def policy_for(model: type[Model]) -> Policy:
    try:
        return _registry[model]
    except KeyError:
        raise LookupError(f"{model._meta.label} has no access policy") from None


def registered_models() -> list[type[Model]]:
    return list(_registry)


# --- Questions ------------------------------------------------------------------------------


def visible_to(
    user, queryset: QuerySet, action: str = "view", *, narrow: dict | None = None
) -> QuerySet:
    """The rows of queryset on which user holds the grant for action (view by default).

    `narrow` ({field: value} of the policy's `grant_copies`) says what the caller's own
    filter keeps anyway: the grants are then read narrowed by it, in the index."""
    policy = _grant_policy(queryset.model, action)
    if not _is_signed_in(user):
        return queryset.none()
    return queryset.filter(_visible(user, policy, action, narrow=narrow))


def visible_parts(
    user, queryset: QuerySet, action: str = "view", *, narrow: dict | None = None
) -> list[QuerySet]:
    """`visible_to` as disjoint parts whose union is exactly its rows: everyone's rows, and
    the other rows granted to the user.

    Each part is simple for the planner on its own (an index on the "everyone" condition; a
    semi-join from the grant index), where their OR is not: a list that matches a few rows
    of many counts them part by part (portal.pagination).
    """
    policy = _grant_policy(queryset.model, action)
    if not _is_signed_in(user):
        return []
    granted = queryset.filter(_granted(user, policy, action, narrow=narrow))
    everyone = _everyone(user, policy, action)
    if everyone is None:
        return [granted]
    return [queryset.filter(everyone), granted.exclude(everyone)]


def visible_walk(user, queryset: QuerySet, action: str = "view") -> QuerySet:
    """`visible_to`'s rows, decided row by row as the query reaches them: for a page of a
    list known to hold many rows, walked along its order (portal.pagination, past its
    count's cap), or for rows another condition already picks a few of (the shares of the
    last month). A hub holds tens of thousands of grants; hashing them all costs ten times
    the few hundred index probes. For a count or a sparse set, `visible_to` is the shape."""
    policy = _grant_policy(queryset.model, action)
    if not _is_signed_in(user):
        return queryset.none()
    probe = _probe(user, policy, action, "pk")
    everyone = _everyone(user, policy, action)
    return queryset.filter(probe if everyone is None else everyone | probe)


def _visible(user, policy: Policy, action: str, pk=None, *, narrow: dict | None = None) -> Q:
    condition = _granted(user, policy, action, pk, narrow=narrow)
    everyone = _everyone(user, policy, action)
    return condition if everyone is None else condition | everyone


def _grant_policy(model: type[Model], action: str) -> Policy:
    policy = policy_for(model)
    if action not in policy.grant_actions:
        raise ValueError(f"{action!r} is not a grant action of {policy.model._meta.label}")
    return policy


def visible_through(user, field: str, model: type[Model], action: str = "view") -> Q:
    """A filter on another model's rows: those whose `field` points at an object of model
    that `visible_to` would give the user, decided row by row.

    `visible_to` suits a list of the protected model itself. A walk along another table's
    index (a TAXII poll over collection entries, from a cursor) wants the opposite shape:
    for each row it reaches, probe the grant indexes for that one object, so a page costs
    the same however many grants the user holds. One EXISTS over a UNION ALL gives that:
    PostgreSQL never turns such an EXISTS into a hash of all the user's grants, as it does
    with `field IN (granted)`, and it stops at the first branch that holds.
    """
    policy = _grant_policy(model, action)
    if not _is_signed_in(user):
        return Q(pk__in=[])
    probes = _grant_rows(user, policy, action, content_object_id=OuterRef(field))
    everyone = _everyone(user, policy, action)
    if everyone is not None:
        probes.append(model.objects.filter(everyone, pk=OuterRef(field)).values("pk"))
    first, *others = probes
    return Q(Exists(first.union(*others, all=True) if others else first))


def _probe(user, policy: Policy, action: str, field: str) -> Q:
    """EXISTS (the user's grants on the object `field` names): an index probe per row."""
    first, *others = _grant_rows(user, policy, action, content_object_id=OuterRef(field))
    return Q(Exists(first.union(*others, all=True) if others else first))


def _granted(user, policy: Policy, action: str, pk=None, *, narrow: dict | None = None) -> Q:
    """`pk IN (group grants UNION ALL user grants)`, narrowed to one object when pk is given.

    One IN over a UNION ALL lets PostgreSQL plan a semi-join from the grant index with real
    row estimates; an OR of two IN subqueries became two hashed subplans checked against
    every row of the table, with a guessed selectivity that misled the joins above it. The
    user's groups are a subquery too, so no separate lookup is needed.
    """
    unknown = set(narrow or ()) - set(policy.grant_copies)
    if unknown:
        raise ValueError(f"{policy.model._meta.label} grants carry no copy of {unknown}")
    sql, params = _granted_sql(
        policy.model,
        action,
        _permission_id(policy, action),
        user.pk,
        timezone.localdate(),
        tuple(sorted((narrow or {}).items())),
        pk,
    )
    # Django's own compilation of the ORM query below, with its parameters kept apart.
    return Q(pk__in=RawSQL(sql, params))  # noqa: S611


@functools.lru_cache(maxsize=8192)
def _granted_sql(model, action, permission_id, user_id, today, narrow, pk) -> tuple[str, tuple]:
    """The SQL of `_granted`'s subquery, compiled once per set of arguments.

    Building it through the ORM took about 0.9 ms, and a page asks for it several times (its
    count's parts, its page, each object it checks). The SQL holds no grant, only who asks,
    for what, on which day: it is a pure function of these arguments (the permission's id
    among them, which a flush changes), so it never goes stale; the grants are read when
    the query runs."""
    match = {} if pk is None else {"content_object_id": pk}
    first, *others = _grant_rows(
        _UserId(user_id), policy_for(model), action, narrow=dict(narrow), today=today, **match
    )
    union = first.union(*others, all=True) if others else first
    return union.query.sql_with_params()


def _grant_rows(
    user, policy: Policy, action: str, *, narrow: dict | None = None, today=None, **match
) -> list[QuerySet]:
    """The user's grants in force today for action (through their groups, then by name), as
    querysets of the granted objects' ids, narrowed by match; the group grants also by
    `narrow`, on the copies they carry (named-user grants are few)."""
    unknown = set(narrow or ()) - set(policy.grant_copies)
    if unknown:
        raise ValueError(f"{policy.model._meta.label} grants carry no copy of {unknown}")
    permission_id = _permission_id(policy, action)
    # A grant past its last day is ignored at once: access never waits for tick to remove it.
    current = Q(valid_until__isnull=True) | Q(valid_until__gte=today or timezone.localdate())
    memberships = get_user_model().groups.through.objects.filter(user_id=user.pk)
    rows = [
        policy.group_grants.objects.filter(
            current,
            group_id__in=memberships.values("group_id"),
            permission_id=permission_id,
            **match,
            **(narrow or {}),
        ).values("content_object_id")
    ]
    if policy.user_grants is not None:
        rows.append(
            policy.user_grants.objects.filter(
                current, user_id=user.pk, permission_id=permission_id, **match
            ).values("content_object_id")
        )
    return rows


@dataclass(frozen=True)
class _UserId:
    """Who asks, as far as the grant rows are concerned: their id."""

    pk: int


def _everyone(user, policy: Policy, action: str) -> Q | None:
    """The rows every signed-in user may view without a grant, if the policy has any."""
    if action == "view" and policy.everyone is not None:
        return policy.everyone(user)
    return None


def decide(user, action: str, obj: Model) -> Decision:
    """Whether user may take action on obj, and if not, whether obj is hidden from them."""
    policy = policy_for(type(obj))
    if action not in policy.grant_actions and action not in policy.rules:
        raise ValueError(f"{policy.model._meta.label} knows no action {action!r}")
    if not _is_signed_in(user) or not _holds(user, "view", obj, policy):
        return Decision.HIDE
    if (
        action != "view"
        and action in policy.grant_actions
        and not _holds(user, action, obj, policy)
    ):
        return Decision.HIDE
    rule = policy.rules.get(action)
    if rule is not None and rule.refusal(user, obj) is not None:
        return Decision.DENY
    return Decision.ALLOW


def can(user, action: str, obj: Model) -> bool:
    return decide(user, action, obj) is Decision.ALLOW


def require(user, action: str, obj: Model) -> None:
    """Raise Http404 when obj is hidden from user, PermissionDenied when the action is not
    theirs; either refusal is recorded in the audit trail, a hidden object without its name."""
    decision = decide(user, action, obj)
    if decision is Decision.ALLOW:
        return
    hidden = decision is Decision.HIDE
    audit.record_refusal(
        user,
        type(obj),
        obj.pk,
        requested_action=action,
        outcome="not_found" if hidden else "forbidden",
        shown=None if hidden else obj,
    )
    if hidden:
        raise Http404
    raise PermissionDenied(policy_for(type(obj)).rules[action].refusal(user, obj))


def get_object_or_404(user, queryset: QuerySet, action: str = "view", **lookup) -> Model:
    """Fetch one object and require action on it. A missing and a hidden object look alike:
    the same query finds neither, and the same refusal is recorded for both, so neither the
    answer, nor its time, nor the trail tells them apart."""
    policy = policy_for(queryset.model)
    obj = visible_to(user, queryset).filter(**lookup).first()
    if obj is not None:
        # The query that found it asked the view grant already: `require` need not ask again.
        _remember(user, "view", obj, policy, True)
    if obj is None:
        audit.record_refusal(
            user,
            queryset.model,
            _asked_key(lookup),
            requested_action=action,
            outcome="not_found",
        )
        raise Http404
    require(user, action, obj)
    return obj


def _asked_key(lookup: dict) -> str:
    """The key the request named, as it named it: all a refusal may say about the object."""
    if len(lookup) == 1:
        return str(next(iter(lookup.values())))
    return ",".join(f"{name}={value}" for name, value in sorted(lookup.items()))


# --- Synchronising grants with the domain facts ------------------------------------------------


def desired_grants(obj: Model) -> set[Grant]:
    """The grants obj's facts call for: one per action and principal, lasting as long as the
    longest-lived fact behind it (two shares of one resource with one partner, say)."""
    policy = policy_for(type(obj))
    merged: dict[tuple, Grant] = {}
    for source in policy.sources:
        for grant in source(obj):
            key = (grant.action, grant.group_id, grant.user_id)
            kept = merged.get(key)
            if kept is None or _outlasts(grant, kept):
                merged[key] = grant
    unknown = {key[0] for key in merged} - policy.grant_actions
    if unknown:
        raise ValueError(f"grant sources produced unknown actions {unknown}")
    return set(merged.values())


def _outlasts(grant: Grant, other: Grant) -> bool:
    if other.until is None:
        return False
    return grant.until is None or grant.until > other.until


def stored_grants(obj: Model) -> set[Grant]:
    policy = policy_for(type(obj))
    actions = _actions_by_permission_id(policy)
    stored = {
        Grant(actions.get(pid, f"?{pid}"), group_id=gid, until=until)
        for gid, pid, until in policy.group_grants.objects.filter(
            content_object_id=obj.pk
        ).values_list("group_id", "permission_id", "valid_until")
    }
    if policy.user_grants is not None:
        stored |= {
            Grant(actions.get(pid, f"?{pid}"), user_id=uid, until=until)
            for uid, pid, until in policy.user_grants.objects.filter(
                content_object_id=obj.pk
            ).values_list("user_id", "permission_id", "valid_until")
        }
    return stored


@dataclass(frozen=True)
class GrantDrift:
    obj: Model
    missing: frozenset[Grant]
    extra: frozenset[Grant]
    #: Group grant rows whose copies of the object's fields (policy `grant_copies`) differ.
    stale_copies: int = 0

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.stale_copies)

    def describe(self) -> str:
        stale = f", {self.stale_copies} with stale copies" if self.stale_copies else ""
        return (
            f"{self.obj._meta.label} #{self.obj.pk} ({self.obj}): "
            f"{len(self.missing)} missing, {len(self.extra)} extra{stale}"
        )


def sync_object(obj: Model) -> GrantDrift:
    """Make obj's stored grants equal its desired grants; returns what had to change."""
    policy = policy_for(type(obj))
    _forget_request_answers()
    desired = desired_grants(obj)
    stored = stored_grants(obj)
    missing, extra = desired - stored, stored - desired
    if extra:
        _delete_grants(policy, obj, extra)
    if missing:
        _create_grants(policy, obj, missing)
    stale = _stale_copies(policy, obj)
    return GrantDrift(
        obj, frozenset(missing), frozenset(extra), stale.update(**_copies(policy, obj))
    )


def _copies(policy: Policy, obj: Model) -> dict:
    return {name: getattr(obj, name) for name in policy.grant_copies}


def _stale_copies(policy: Policy, obj: Model) -> QuerySet:
    """obj's group grant rows whose copies of its fields differ from obj's own."""
    if not policy.grant_copies:
        return policy.group_grants.objects.none()
    rows = policy.group_grants.objects.filter(content_object_id=obj.pk)
    return rows.exclude(**_copies(policy, obj))


def explain(obj: Model) -> list[dict]:
    """Who can see obj and why, computed from the same facts that produce the grants."""
    policy = policy_for(type(obj))
    rows = []
    if (
        policy.everyone is not None
        and policy.model._default_manager.filter(policy.everyone(None), pk=obj.pk).exists()
    ):
        rows.append(
            {
                "who": gettext("Every signed-in user"),
                "action": "view",
                "why": policy.everyone_reason,
            }
        )
    grants = sorted(desired_grants(obj), key=lambda g: (g.action, g.group_id or 0, g.user_id or 0))
    unnamed = [g for g in grants if not g.who]
    groups = Group.objects.select_related("organisation").in_bulk(
        {g.group_id for g in unnamed if g.group_id}
    )
    users = get_user_model().objects.in_bulk({g.user_id for g in unnamed if g.user_id})
    for grant in grants:
        if grant.who:
            who = grant.who
        elif grant.group_id:
            group = groups[grant.group_id]
            organisation = getattr(group, "organisation", None)
            who = (
                gettext("Members of %(organisation)s") % {"organisation": organisation}
                if organisation
                else group.name
            )
        else:
            who = users[grant.user_id].get_full_name() or users[grant.user_id].get_username()
        label = policy.action_labels.get(grant.action, grant.action)
        rows.append({"who": who, "action": label, "why": grant.reason})
    return rows


def reasons_for(user, obj: Model) -> list[str]:
    """Why this person may see obj, in the words of the facts behind their own grants (the
    rest of the "who can see this" panel is the owner's to read)."""
    groups = organisation_groups_of(user)
    return sorted(
        {
            grant.reason
            for grant in desired_grants(obj)
            if grant.reason and (grant.user_id == user.pk or grant.group_id in groups)
        }
    )


def object_drift(obj: Model) -> GrantDrift:
    desired, stored = desired_grants(obj), stored_grants(obj)
    stale = _stale_copies(policy_for(type(obj)), obj).count()
    return GrantDrift(obj, frozenset(desired - stored), frozenset(stored - desired), stale)


def organisation_groups_of(user) -> set[int]:
    """The organisation group the user should be in: theirs while they and it are active."""
    membership = getattr(user, "membership", None)
    if membership is None or not user.is_active or not membership.organisation.is_active:
        return set()
    return {membership.organisation.group_id}


def sync_membership(user) -> tuple[set[int], set[int]]:
    """Put the user in exactly the organisation groups their membership calls for, and
    re-derive every grant that names them. Services call it whenever a fact about the person
    changes: activation, roles, their organisation's activation."""
    org_group_ids = set(
        Group.objects.filter(organisation__isnull=False).values_list("id", flat=True)
    )
    current = set(user.groups.filter(id__in=org_group_ids).values_list("id", flat=True))
    desired = organisation_groups_of(user)
    missing, extra = desired - current, current - desired
    if extra:
        user.groups.remove(*extra)
    if missing:
        user.groups.add(*missing)
    _forget_request_answers()
    _resync_named_grants(user)
    return missing, extra


def _resync_named_grants(user) -> None:
    """Objects granted to this user, or whose facts name them, re-derive their grants: a
    person who is deactivated, moved or loses a role must not keep them, and one who gets
    the role back regains them."""
    for policy in _registry.values():
        if policy.user_grants is None:
            continue
        ids = policy.user_grants.objects.filter(user_id=user.pk).values("content_object_id")
        objects = policy.model._default_manager.filter(pk__in=ids)
        if policy.naming is not None:
            objects = objects | policy.naming(user)
        for obj in objects.distinct():
            sync_object(obj)


@dataclass
class ReconcileReport:
    grant_drift: list[GrantDrift] = field(default_factory=list)
    membership_drift: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.grant_drift and not self.membership_drift


def reconcile(*, repair: bool) -> ReconcileReport:
    """Recompute every grant and organisation-group membership from the facts."""
    report = ReconcileReport()
    user_model = get_user_model()
    for user in user_model.objects.select_related("membership__organisation").iterator():
        if repair:
            missing, extra = sync_membership(user)
        else:
            desired = organisation_groups_of(user)
            current = set(
                user.groups.filter(organisation__isnull=False).values_list("id", flat=True)
            )
            missing, extra = desired - current, current - desired
        if missing or extra:
            report.membership_drift.append(
                f"user {user.get_username()}: {len(missing)} missing, {len(extra)} extra groups"
            )
    for model in registered_models():
        for obj in model._default_manager.order_by("pk").iterator():
            drift = sync_object(obj) if repair else object_drift(obj)
            if drift:
                report.grant_drift.append(drift)
    return report


# --- Helpers --------------------------------------------------------------------------------


def _is_signed_in(user) -> bool:
    """An active account, acting for an active organisation if it belongs to one: the members
    of a deactivated organisation see nothing, not even what is open to everyone."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    membership = getattr(user, "membership", None)
    return membership is None or membership.organisation.is_active


def _holds(user, action: str, obj: Model, policy: Policy) -> bool:
    cache = request_cache.get()
    key = (user.pk, policy.model._meta.label_lower, obj.pk, action)
    if cache is not None and key in cache:
        return cache[key]
    # The grant lookups are narrowed to this object, so the answer is a few index probes
    # rather than every grant the user holds.
    visible = _visible(user, policy, action, pk=obj.pk)
    answer = policy.model._default_manager.filter(visible, pk=obj.pk).exists()
    _remember(user, action, obj, policy, answer)
    return answer


def _remember(user, action: str, obj: Model, policy: Policy, answer: bool) -> None:
    cache = request_cache.get()
    if cache is not None:
        cache[(user.pk, policy.model._meta.label_lower, obj.pk, action)] = answer


def _forget_request_answers() -> None:
    cache = request_cache.get()
    if cache is not None:
        cache.clear()


def _permission_id(policy: Policy, action: str) -> int:
    meta = policy.model._meta
    key = (meta.label_lower, policy.codename(action))
    if key not in _permission_ids:
        _permission_ids[key] = Permission.objects.get(
            content_type__app_label=meta.app_label,
            content_type__model=meta.model_name,
            codename=policy.codename(action),
        ).pk
    return _permission_ids[key]


def _actions_by_permission_id(policy: Policy) -> dict[int, str]:
    return {_permission_id(policy, action): action for action in policy.grant_actions}


def _create_grants(policy: Policy, obj: Model, grants: Iterable[Grant]) -> None:
    group_rows, user_rows = [], []
    for grant in grants:
        permission_id = _permission_id(policy, grant.action)
        if grant.group_id is not None:
            group_rows.append(
                policy.group_grants(
                    content_object=obj,
                    group_id=grant.group_id,
                    permission_id=permission_id,
                    valid_until=grant.until,
                    **_copies(policy, obj),
                )
            )
        else:
            if policy.user_grants is None:
                raise ValueError(f"{policy.model._meta.label} takes no named-user grants")
            user_rows.append(
                policy.user_grants(
                    content_object=obj,
                    user_id=grant.user_id,
                    permission_id=permission_id,
                    valid_until=grant.until,
                )
            )
    policy.group_grants.objects.bulk_create(group_rows)
    if user_rows:
        policy.user_grants.objects.bulk_create(user_rows)


def _delete_grants(policy: Policy, obj: Model, grants: Iterable[Grant]) -> None:
    actions = {action: _permission_id(policy, action) for action in policy.grant_actions}
    for grant in grants:
        # An unknown permission ("?id") is removed by its raw id.
        permission_id = actions.get(grant.action) or int(grant.action.lstrip("?"))
        if grant.group_id is not None:
            table, principal = policy.group_grants, {"group_id": grant.group_id}
        else:
            table, principal = policy.user_grants, {"user_id": grant.user_id}
        table.objects.filter(
            content_object_id=obj.pk, permission_id=permission_id, **principal
        ).delete()


def _forget_permission_ids(**kwargs) -> None:
    # A flush or migrate recreates permission rows with new ids.
    _permission_ids.clear()


post_migrate.connect(_forget_permission_ids, dispatch_uid="portal.access.forget_permission_ids")
