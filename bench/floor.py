"""The Django floor: each list page served by a bare view, in the same run, with the same rows.

For a list page and a user, our page is requested once under the test client with the
template context captured; its rows' keys (the context's `object_list`, or the API's
`results`) and the list's ordering are kept. A bare view then serves the same URL from its
own URLconf (`bench.floor_urls`) through a handler of its own whose middleware is only what
a page cannot do without:

- sessions and authentication: the page is for the signed-in person and reads their session;
- messages: the base template shows them;
- and, first, one that points the request at the floor's URLconf.

No security headers, CSRF, CSP, htmx, allauth, request scope, session timeout or user
sessions middleware. The bare view has no access layer: it reads
`Model.objects.filter(pk__in=ids)` with the list's own select_related, prefetches and
annotations (the real view's `get_base_queryset`, which is what the template shows) in the
list's ordering, pages it with Django's plain `Paginator` (the page of those rows, counted
with COUNT), and renders the same template with the same context: the real view's
`get_context_data` (title, the per-row values a project list computes, ...), the filter bar
with an unbound filterset. For the API it is the real viewset's serializer and renderer,
DRF's plain `PageNumberPagination` of the same size, session authentication and
IsAuthenticated, and no filter backends.

Both are timed side by side (`latency.measure_side_by_side`); before that, the floor's page
must show exactly our rows in our order (the keys of its context or results, and a link to
every row in the HTML), or the comparison is void.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import resolve

from bench.latency import Subject, measure_side_by_side
from bench.scales import Scale

MIDDLEWARE = [
    "bench.floor.FloorURLConfMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
URLCONF = "bench.floor_urls"

#: The list pages the floor serves: name in the latency table, URL, and the real view.
PAGES = {
    "agreement list": "/agreements/",
    "project list": "/projects/",
    "resource library, first page": "/resources/",
    "resource library, filtered": "/resources/?tlp=amber&kind=report",
    "API resources": "/api/v1/resources/",
    "API agreements": "/api/v1/agreements/",
    "API projects": "/api/v1/projects/",
    "API organisations": "/api/v1/organisations/",
}


@dataclass
class Rows:
    """What our page showed, for the floor to show the same."""

    ids: list
    ordering: list
    context: dict


#: The rows of each URL (path and query) for the subject being measured.
ROWS: dict[str, Rows] = {}


class FloorURLConfMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.urlconf = URLCONF
        return self.get_response(request)


def _rows(request) -> Rows:
    try:
        return ROWS[request.get_full_path()]
    except KeyError:
        raise LookupError(f"the floor has no rows for {request.get_full_path()}") from None


#: The floor always shows page 1 of the rows it was given, whatever the URL's page says.
PAGE_PARAM = "floor_page"


def html_view(view_class):
    """A bare list view rendering `view_class`'s template with its context."""

    class FloorList(view_class):
        paginator_class = Paginator
        page_kwarg = PAGE_PARAM
        keep_page = False  # the floor builds its page every time

        def get_queryset(self):
            rows = _rows(self.request)
            self.search = ""
            self.sort = self.default_sort
            self.filterset = None
            if self.filterset_class is not None:
                # Unbound: the filter bar renders, nothing is filtered by it.
                base = self.model._default_manager.none()
                self.filterset = self.filterset_class(None, queryset=base, request=self.request)
            return self.get_base_queryset().filter(pk__in=rows.ids).order_by(*rows.ordering)

        def get_paginator(self, queryset, per_page, **kwargs):
            return Paginator(queryset, per_page, **kwargs)

        def get_context_data(self, **kwargs):
            context = super().get_context_data(**kwargs)
            # What our page said of its filters (an unbound form would say "filtered").
            context.update(_rows(self.request).context)
            return context

    FloorList.__name__ = FloorList.__qualname__ = f"Floor{view_class.__name__}"
    return FloorList.as_view()


def api_view(viewset_class):
    """A bare list endpoint with `viewset_class`'s serializer and renderer."""
    from rest_framework import mixins
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.pagination import PageNumberPagination
    from rest_framework.permissions import IsAuthenticated

    from portal.api.pagination import PortalPagination

    class Pagination(PageNumberPagination):
        page_size = PortalPagination.page_size
        page_query_param = PAGE_PARAM

    class FloorViewSet(viewset_class):
        authentication_classes = [SessionAuthentication]
        permission_classes = [IsAuthenticated]
        filter_backends = []
        pagination_class = Pagination

        def get_queryset(self):
            rows = _rows(self.request)
            return self.get_base_queryset().filter(pk__in=rows.ids).order_by(*rows.ordering)

        def list(self, request, *args, **kwargs):
            # DRF's own list, not ours that keeps its JSON (portal.api.base).
            return mixins.ListModelMixin.list(self, request, *args, **kwargs)

    FloorViewSet.__name__ = FloorViewSet.__qualname__ = f"Floor{viewset_class.__name__}"
    return FloorViewSet.as_view({"get": "list"})


def urlpatterns() -> list:
    """The floor's routes: the same paths as ours, found before ours in bench.floor_urls."""
    from django.urls import path

    from agreements.api.views import AgreementViewSet
    from agreements.views import AgreementListView
    from portal.api.views import OrganisationViewSet
    from projects.api.views import ProjectViewSet
    from projects.views import ProjectListView
    from resources.api.views import ResourceViewSet
    from resources.views import ResourceListView

    return [
        path("agreements/", html_view(AgreementListView), name="floor-agreements"),
        path("projects/", html_view(ProjectListView), name="floor-projects"),
        path("resources/", html_view(ResourceListView), name="floor-resources"),
        path("api/v1/resources/", api_view(ResourceViewSet), name="floor-api-resources"),
        path("api/v1/agreements/", api_view(AgreementViewSet), name="floor-api-agreements"),
        path("api/v1/projects/", api_view(ProjectViewSet), name="floor-api-projects"),
        path(
            "api/v1/organisations/",
            api_view(OrganisationViewSet),
            name="floor-api-organisations",
        ),
    ]


def floor_client(cookies) -> Client:
    """A test client whose handler runs the floor's middleware, built once."""
    client = Client()
    with override_settings(MIDDLEWARE=MIDDLEWARE):
        client.handler.load_middleware()
    client.cookies = cookies
    return client


@contextmanager
def captured_context():
    """Have the test client record template contexts (as setup_test_environment does,
    without its other changes to settings)."""
    from django.template import Template
    from django.test.utils import instrumented_test_render

    original = Template._render
    Template._render = instrumented_test_render
    try:
        yield
    finally:
        Template._render = original


def page_rows(response) -> tuple[list, list, dict]:
    """Keys of the rows our page showed, the list's ordering, and the context the floor
    copies."""
    if _is_api(response):
        view = _api_view_class(response)
        ordering = list(getattr(view, "ordering", None) or view.queryset.model._meta.ordering)
        return [row["id"] for row in response.json()["results"]], ordering, {}
    context = response.context
    if context is None:
        raise RuntimeError("no template context was captured")
    view = context["view"]
    ordering = list(view.object_list.query.order_by)
    kept = {key: context[key] for key in ("is_filtered", "filter_problems") if key in context}
    return [obj.pk for obj in context["object_list"]], ordering, kept


def row_links(html: str, urls: list[str]) -> dict[str, int]:
    """How many times each row's link appears as an href in the page."""
    return {url: len(re.findall(rf'href="{re.escape(url)}"', html)) for url in urls}


def _check_same_rows(name: str, kind: str, ours, floor, model) -> int:
    ours_ids, _, _ = page_rows(ours)
    floor_ids, _, _ = page_rows(floor)
    if ours_ids != floor_ids:
        raise RuntimeError(
            f"{name} for {kind}: the floor showed other rows ({floor_ids[:5]}...) "
            f"than ours ({ours_ids[:5]}...)"
        )
    if not _is_api(ours) and ours_ids:
        objects = model._default_manager.in_bulk(ours_ids)
        urls = [objects[pk].get_absolute_url() for pk in ours_ids]
        ours_links = row_links(ours.content.decode(), urls)
        floor_links = row_links(floor.content.decode(), urls)
        missing = [url for url in urls if not floor_links[url] or not ours_links[url]]
        if missing or ours_links != floor_links:
            raise RuntimeError(f"{name} for {kind}: row links differ, e.g. {missing[:3]}")
    return len(ours_ids)


def run(scale: Scale, subjects: list[Subject], log: Callable[[str], None]) -> list[dict]:
    from django.conf import settings

    kept = settings.LIST_CACHE
    results = []
    for subject in subjects:
        ours = Client()
        ours.force_login(subject.user)
        floor = floor_client(ours.cookies)
        ROWS.clear()
        checked = {}
        for name, url in PAGES.items():
            with captured_context(), override_settings(LIST_CACHE=False):
                first = ours.get(url)
                _ok(first, url, "ours")
                ids, ordering, context = page_rows(first)
                ROWS[url] = Rows(ids, ordering, context)
                second = floor.get(url)
                _ok(second, url, "the floor")
            model = _model_of(first)
            checked[name] = _check_same_rows(name, subject.kind, first, second, model)
        for name, url in PAGES.items():

            def ours_call(url=url, client=ours):
                return _ok(client.get(url), url, "ours")

            def built_call(url=url, client=ours):
                # Ours with nothing kept: the page built from the database (list_cache off).
                settings.LIST_CACHE = False
                try:
                    return _ok(client.get(url), url, "ours, built")
                finally:
                    settings.LIST_CACHE = kept

            def floor_call(url=url, client=floor):
                return _ok(client.get(url), url, "the floor")

            calls = {"ours": ours_call, "built": built_call, "floor": floor_call}
            timed = measure_side_by_side(calls, scale)
            queries = {}
            for side, call in calls.items():
                with CaptureQueriesContext(connection) as captured:
                    call()
                queries[side] = len(captured.captured_queries)
            row = {
                "path": name,
                "url": url,
                "user": subject.kind,
                "rows": checked[name],
                **{f"{side}_{k}": v for side, r in timed.items() for k, v in r.items()},
                **{f"{side}_queries": n for side, n in queries.items()},
                "ratio_p50": round(timed["ours"]["p50_ms"] / timed["floor"]["p50_ms"], 2),
                "ratio_p95": round(timed["ours"]["p95_ms"] / timed["floor"]["p95_ms"], 2),
                "built_ratio_p50": round(timed["built"]["p50_ms"] / timed["floor"]["p50_ms"], 2),
                "built_ratio_p95": round(timed["built"]["p95_ms"] / timed["floor"]["p95_ms"], 2),
            }
            results.append(row)
            log(
                f"  {subject.kind:<7} {name:<30} ours {row['ours_p50_ms']:>7.1f} ms  "
                f"built {row['built_p50_ms']:>7.1f} ms  floor {row['floor_p50_ms']:>7.1f} ms  "
                f"ours/floor {row['ratio_p50']:>5.2f}x built/floor {row['built_ratio_p50']:>5.2f}x "
                f"queries {queries['ours']}/{queries['built']}/{queries['floor']}"
            )
    ROWS.clear()
    return results


def _ok(response, url: str, side: str):
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code} ({side})")
    return response


def _is_api(response) -> bool:
    return response["Content-Type"].startswith("application/json")


def _api_view_class(response):
    """The viewset that answered (ours answers with the JSON it keeps, not a DRF Response)."""
    return resolve(response.wsgi_request.path).func.cls


def _model_of(response):
    if _is_api(response):
        return _api_view_class(response).queryset.model
    return response.context["view"].model
