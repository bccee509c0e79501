"""The cross-tenant check: what one nation's user is shown must not open to the other's.

Every object a response shows must be one the access policy lets the caller see, and its key
(an `id` or a `slug`) is replayed as the other nation's user on every route that takes it:
the object's detail route and its action routes, reads and writes (writes with an empty
body, rolled back). What the other user should get is asked of the access layer itself
(`portal.access.decide`): a hidden object answers 404 on every route, a visible one whose
action is not theirs 403, and a visible one is found.

Which responses carry which keys, and which routes take them, is read from the OpenAPI
schema, so a new endpoint is covered without teaching this module about it. Objects no route
addresses (versions, members, participants) carry no key to replay.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field

import schemathesis
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import resolve
from rest_framework.test import APIClient

from portal import access
from portal.api.base import AccessViewSet

PARAMETER = re.compile(r"\{([^}]+)\}")
METHODS = ("get", "post", "put", "patch", "delete")
#: How many versions of one object (as shown) are replayed: enough to catch an object whose
#: audience changed, bounded so that a list shown fifty times costs once.
REPLAYS_PER_OBJECT = 3
EXPECTATIONS = {
    access.Decision.HIDE: "hidden",
    access.Decision.DENY: "forbidden",
    access.Decision.ALLOW: "allowed",
}


@dataclass(frozen=True)
class Collection:
    """A path under which objects are addressed by one more path parameter, `key`."""

    path: str  # "/api/v1/projects/{id}/milestones/"
    key: str  # "item_pk"
    parents: tuple[str, ...]  # path parameters of `path` itself: ("id",)
    shape: str | None  # the schema component that describes its objects

    def field_of(self, obj: dict) -> str:
        """Which field of a shown object holds its key (`slug` for `{slug}`, else `id`)."""
        return self.key if self.key in obj else "id"


@dataclass
class ApiMap:
    """What the schema says about collections, their objects and the routes that take keys."""

    raw: dict
    collections: list[Collection] = field(init=False)

    def __post_init__(self) -> None:
        found: dict[str, Collection] = {}
        for template in self.raw["paths"]:
            for match in PARAMETER.finditer(template):
                path, key = template[: match.start()], match.group(1)
                if path not in found:
                    found[path] = Collection(
                        path=path,
                        key=key,
                        parents=tuple(PARAMETER.findall(path)),
                        shape=self._shape(path + "{" + key + "}/") or self._shape(path),
                    )
        # Deepest first, so a nested collection wins over its parent.
        self.collections = sorted(found.values(), key=lambda c: -len(c.path))

    def collection_of(self, template: str) -> Collection | None:
        """The collection whose key is the template's last path parameter."""
        for collection in self.collections:
            if template.startswith(collection.path + "{" + collection.key + "}"):
                return collection
        return None

    def routes(self, collection: Collection) -> list[tuple[str, str]]:
        """(method, template) of every route that takes exactly the collection's keys."""
        wanted = {*collection.parents, collection.key}
        prefix = collection.path + "{" + collection.key + "}/"
        return [
            (method, template)
            for template, item in self.raw["paths"].items()
            if template.startswith(prefix) and set(PARAMETER.findall(template)) == wanted
            for method in item
            if method in METHODS
        ]

    def shown_objects(self, template: str, method: str, body) -> list[tuple[Collection, dict]]:
        """The objects of a known collection in a response body, as (collection, object)."""
        shape, wrapper = self._response_shape(template, method)
        collection = next(
            (c for c in self.collections if c.shape == shape and template.startswith(c.path)),
            None,
        )
        if shape is None or collection is None:
            return []
        if wrapper == "page":
            body = body.get("results") if isinstance(body, dict) else None
        items = body if isinstance(body, list) else [body]
        return [
            (collection, item)
            for item in items
            if isinstance(item, dict) and item.get(collection.field_of(item)) is not None
        ]

    def known_keys(self, fetch) -> dict[str, list[dict]]:
        """Path parameters naming real objects, per collection path. Each collection is
        listed with `fetch(url) -> [body, ...]` (one per user), parents before children."""
        keys: dict[str, list[dict]] = {}
        for collection in sorted(self.collections, key=lambda c: len(c.parents)):
            if "get" not in self.raw["paths"].get(collection.path, {}):
                continue
            parent = self.collection_of(collection.path)
            found = keys.setdefault(collection.path, [])
            for parent_keys in keys.get(parent.path, []) if parent else [{}]:
                for body in fetch(_fill(collection.path, parent_keys)):
                    for shown_in, obj in self.shown_objects(collection.path, "get", body):
                        entry = {**parent_keys, collection.key: obj[collection.field_of(obj)]}
                        if shown_in == collection and entry not in found:
                            found.append(entry)
        return keys

    def _shape(self, template: str) -> str | None:
        return self._response_shape(template, "get")[0]

    def _response_shape(self, template: str, method: str) -> tuple[str | None, str | None]:
        """(component, "object" | "list" | "page") of an operation's JSON success."""
        operation = self.raw["paths"].get(template, {}).get(method)
        for status, response in (operation or {}).get("responses", {}).items():
            if not status.startswith("2"):
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("type") == "array":
                return schema.get("items", {}).get("$ref"), "list"
            ref = schema.get("$ref")
            if ref is None:
                return None, None
            results = self._component(ref).get("properties", {}).get("results", {})
            if results.get("type") == "array" and "$ref" in results.get("items", {}):
                return results["items"]["$ref"], "page"
            return ref, "object"
        return None, None

    def _component(self, ref: str) -> dict:
        name = ref.rsplit("/", 1)[-1]
        return self.raw.get("components", {}).get("schemas", {}).get(name, {})


@dataclass
class TenancyProbe:
    """Replays what `recorder` is shown as `other`, and counts the replays by expectation."""

    api: ApiMap
    recorder: object
    other: object
    #: Signed in as `other`; one client for every replay, as each new one loads the middleware.
    client: APIClient
    checked: Counter = field(default_factory=Counter)
    _replayed: dict = field(default_factory=dict)

    @property
    def direction(self) -> str:
        return f"{self.recorder.username} -> {self.other.username}"

    def observe(self, template: str, method: str, path_parameters: dict, body) -> list[str]:
        """Check every object the response shows that was not checked yet: the recorder may
        see it, and its routes answer `other` as the policy says. Return what did not."""
        problems = []
        for collection, obj in self.api.shown_objects(template, method.lower(), body):
            parents = {name: path_parameters.get(name) for name in collection.parents}
            if None in parents.values():
                continue
            keys = {**parents, collection.key: obj[collection.field_of(obj)]}
            versions = self._replayed.setdefault(
                (collection.path, json.dumps(keys, sort_keys=True, default=str)), set()
            )
            version = json.dumps(obj, sort_keys=True, default=str)
            if version in versions or len(versions) >= REPLAYS_PER_OBJECT:
                continue
            shown_by = f"{method.upper()} {_fill(template, path_parameters)}"
            routes = [(m, _fill(route, keys)) for m, route in self.api.routes(collection)]
            found = self._hidden_from_recorder(routes, keys, shown_by) + [
                problem for route in routes for problem in self._replay(*route, shown_by)
            ]
            if not found:
                # A failing object stays due, so Hypothesis sees the failure again as it
                # shrinks the example.
                versions.add(version)
            problems.extend(found)
        return problems

    def _hidden_from_recorder(self, routes, keys: dict, shown_by: str) -> list[str]:
        """A list, a search or an action's answer shows the caller nothing hidden from them."""
        if not routes:
            return []
        _, subject = self._subject(*routes[0])
        if self._decide(self.recorder, "view", subject) != "hidden":
            return []
        return [f"{shown_by} showed {keys} to {self.recorder.username}, who may not see it"]

    def _replay(self, method: str, url: str, shown_by: str) -> list[str]:
        action, subject = self._subject(method, url)
        expected = self._decide(self.other, action, subject)
        with transaction.atomic():
            # A replayed write may succeed where it is allowed: the next example must start
            # from the same world.
            response = self.client.generic(
                method.upper(), url, data="{}", content_type="application/json"
            )
            transaction.set_rollback(True)
        self.checked[expected] += 1
        status = response.status_code
        request = f"{method.upper()} {url} answered {status} to {self.other.username}"
        context = f"(shown by {shown_by} to {self.recorder.username})"
        if status >= 500:
            return [f"{request} {context}: a server error"]
        if expected == "hidden" and status != 404:
            return [f"{request} {context}, but the policy hides the object from them: not 404"]
        if expected == "forbidden" and status != 403:
            return [f"{request} {context}, who may see it but not do this: not 403"]
        if expected == "allowed" and method == "get" and status in (401, 403, 404):
            return [f"{request} {context}, but the policy lets them see it"]
        return []

    def _subject(self, method: str, url: str):
        """(access action, protected object) of a route: what the access layer is asked."""
        match = resolve(url)
        viewset = getattr(match.func, "cls", None)
        assert viewset is not None and issubclass(viewset, AccessViewSet), (
            f"{url} takes an object's key but is not served by an AccessViewSet"
        )
        action = viewset().access_action_for(match.func.actions[method])
        lookup = match.kwargs[viewset.lookup_url_kwarg or viewset.lookup_field]
        model = viewset.queryset.model
        return action, model._default_manager.filter(**{viewset.lookup_field: lookup}).first()

    def _decide(self, user, action: str, subject) -> str:
        """ "hidden", "forbidden" or "allowed", as the access layer decides."""
        if subject is None:
            return "hidden"  # nobody may see what does not exist
        # A fresh user: the access layer caches group ids on the instance.
        user = get_user_model().objects.get(pk=user.pk)
        return EXPECTATIONS[access.decide(user, action, subject)]


#: The probe of the running fuzz test; the check does nothing outside one.
current_probe: ContextVar[TenancyProbe | None] = ContextVar("current_probe", default=None)


@schemathesis.check
def no_cross_tenant_leak(ctx, response, case):
    """Objects shown to one nation's user answer the other nation's user as the policy says."""
    probe = current_probe.get()
    if probe is None or not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return None  # not JSON: a file download shows no keys
    problems = probe.observe(case.path, case.method, case.path_parameters or {}, body)
    if problems:
        raise AssertionError("\n".join(problems))
    return True


def _fill(template: str, values: dict) -> str:
    return PARAMETER.sub(lambda m: str(values[m.group(1)]), template)
