"""Finds every route of the site by walking the URLconf, so new views are covered unasked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

#: Routes the matrix leaves to their own tests, with the reason.
NOT_IN_MATRIX = {
    "admin:": "Django's admin site: staff only, its own matrix in test_admin_matrix.py",
    "static": "whitenoise static files carry no partner data",
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    callback: object

    @property
    def view_class(self):
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def is_api(self) -> bool:
        # TAXII 2.1 is an API too: 401 for anonymous callers, JSON answers.
        return self.pattern.startswith(("api/", "taxii2/"))

    @property
    def viewset_actions(self) -> dict[str, str]:
        """For a DRF viewset route: HTTP method -> viewset action."""
        return dict(getattr(self.callback, "actions", None) or {})

    @property
    def kwarg_names(self) -> list[str]:
        return [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", self.pattern)]

    def url(self, kwargs: dict) -> str:
        path = self.pattern
        for name, value in kwargs.items():
            path = re.sub(rf"\(\?P<{name}>[^)]*\)", str(value), path)
            path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
        path = path.replace("^", "").replace("$", "").replace("\\", "")
        return "/" + path

    def __str__(self) -> str:
        return f"{self.name or '?'} /{self.pattern}"


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, prefix="", namespace=""))


def _walk(patterns, prefix: str, namespace: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield Route(
                f"{namespace}{entry.name or ''}", prefix + str(entry.pattern), entry.callback
            )


def excluded_reason(route: Route) -> str | None:
    for marker, reason in NOT_IN_MATRIX.items():
        if route.name.startswith(marker) or route.pattern.startswith(marker):
            return reason
    return None


def is_allauth(route: Route) -> bool:
    return route.pattern.startswith("accounts/")
