"""Base classes for every HTML view, so no view can forget the access layer.

- `SignedInMixin`: the user must be signed in. Views that show only the user's own things.
- `ObjectAccessMixin`: loads `self.object` through `access.get_object_or_404` before any
  handler runs, for GET and POST alike: hidden is 404, visible-but-not-allowed is 403.
- `AccessListView`: a list whose queryset always passes through `access.visible_to`;
  `ChildListView`: the children of an object loaded by `ObjectAccessMixin`. Both have a
  filter bar, search, sorting and pagination.

tests/access/test_meta.py fails for any routed view that does not derive from these.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.paginator import InvalidPage
from django.db.models import Model, Q, QuerySet
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext
from django.views.generic import ListView

from portal import access, list_cache
from portal.models import Role
from portal.pagination import PAGE_PARAMS, CappedPaginator, link_queries


class SignedInMixin(LoginRequiredMixin):
    """Every portal page needs a signed-in, active user."""


class RoleRequiredMixin(SignedInMixin):
    """A page for holders of one role in their organisation, e.g. drafting an agreement.

    Pages about one object use ObjectAccessMixin and the object's policy instead.
    """

    required_role: str = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            membership = getattr(request.user, "membership", None)
            if membership is None or not membership.has_role(self.required_role):
                raise PermissionDenied(self.role_denied_message)
        return super().dispatch(request, *args, **kwargs)

    @property
    def role_denied_message(self) -> str:
        return gettext("This page is for %(role)ss.") % {
            "role": Role(self.required_role).label.lower()
        }


class PublicMixin:
    """A deliberately public route that carries no partner data (e.g. the portal's public
    signing key). Each use must say in its docstring why it is public."""


class ObjectAccessMixin(SignedInMixin):
    """Resolve the URL's object through the access layer before the handler runs."""

    model: type[Model] | None = None
    access_action: str = "view"
    slug_field = "slug"
    slug_url_kwarg = "slug"
    pk_url_kwarg = "pk"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        # A kept page (KeptPageMixin) loads its object while it is built, like everything else
        # it shows, so that it is kept only as long as what the access check read.
        if not (request.method == "GET" and getattr(self, "keep_page", False)):
            self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    def get_access_queryset(self) -> QuerySet:
        """The unfiltered rows the URL may name; access is applied by get_object."""
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must set model")
        return self.model._default_manager.all()

    def get_object(self, queryset=None):
        if self.slug_url_kwarg in self.kwargs:
            lookup = {self.slug_field: self.kwargs[self.slug_url_kwarg]}
        else:
            lookup = {"pk": self.kwargs[self.pk_url_kwarg]}
        return access.get_object_or_404(
            self.request.user, self.get_access_queryset(), self.access_action, **lookup
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("object", self.object)
        return super().get_context_data(**kwargs)


class CursorPaginationMixin:
    """Previous and Next by cursor, for a ListView whose paginator pages by cursor
    (portal.pagination): `?after=<cursor>&page=N` is the page after a row, `?before=` the page
    before one, with N only its label; `?page=N` alone still pages by offset, for old links.

    A cursor that cannot be followed (altered, made for another sort, stale after the secret
    key changed, or past rows that are gone) shows the list's first page with a message that
    says so, the same for every such cursor: a link is not worth a 404, and what the cursor
    named is never told.
    """

    def paginate_queryset(self, queryset, page_size):
        params = self.request.GET
        if "after" not in params and "before" not in params:
            return super().paginate_queryset(queryset, page_size)
        paginator = self.get_paginator(
            queryset,
            page_size,
            orphans=self.get_paginate_orphans(),
            allow_empty_first_page=self.get_allow_empty(),
        )
        try:
            if "after" in params and "before" in params:
                raise InvalidPage("A page is after a row or before one, not both")
            page = paginator.cursor_page(
                params.get("after", params.get("before")),
                backwards="before" in params,
                number=params.get("page"),
            )
        except InvalidPage:
            self.cursor_refused = True  # the page says so: not a page to keep
            messages.info(
                self.request,
                gettext("That page link no longer leads anywhere, so this is the first page."),
            )
            page = paginator.page(1)
        return (paginator, page, page.object_list, page.has_other_pages())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context.get("page_obj") is not None:
            context.update(link_queries(context["page_obj"], self.request.GET))
        return context


class KeptPageMixin:
    """A GET kept per person and query until a table it was read from is written
    (portal.list_cache.page), when `keep_page` is set: for pages that depend only on who
    asks, the query and the data, and that write nothing when they are read."""

    keep_page = True

    def get(self, request, *args, **kwargs):
        view = super().get
        if not self.keep_page:
            return view(request, *args, **kwargs)
        scope = f"{type(self).__module__}.{type(self).__qualname__}"
        return list_cache.page(request, scope, lambda: view(request, *args, **kwargs))


class ListControlsMixin(KeptPageMixin, CursorPaginationMixin):
    """Filter bar, search, sorting, pagination and htmx partial rendering for a list.

    Subclasses set `filterset_class` (optional), `search_fields`, `sort_options` (the public
    sort key mapped to an order_by expression) and `results_template` (the table rows).
    """

    paginate_by = 25
    paginator_class = CappedPaginator
    filterset_class = None
    search_fields: tuple[str, ...] = ()
    sort_options: dict[str, str] = {}
    #: What the sort select says for each public sort key (translated).
    sort_labels: dict[str, str] = {}
    default_sort: str = ""
    results_template: str = ""
    template_name = "components/list_page.html"
    results_partial = "components/list_results.html"
    #: Whether the filter bar is the same for everyone who sends the same query (its choices
    #: are fixed, not drawn from the person's data as an audit log's actions are), so that
    #: it is rendered once and kept in the "fragments" cache.
    shared_filter_bar = False
    #: Lists whose page depends only on who asks, the query and the data set it
    #: (KeptPageMixin): no form in a row.
    keep_page = False

    def apply_controls(self, queryset: QuerySet) -> QuerySet:
        """The filters, search and sort of the request on queryset. A list may apply them to
        several querysets (the parts it counts, and the whole); the filters are read once."""
        params = self.request.GET
        filterset = self.read_filters(queryset)
        if filterset is not None:
            # A filter that cannot be read shows nothing, not everything: its message says why.
            queryset = (
                filterset.filter_queryset(queryset) if filterset.is_valid() else queryset.none()
            )
        # PostgreSQL cannot compare text with a NUL byte; like DRF's search, drop them.
        self.search = params.get("q", "").replace("\x00", "").strip()[:200]
        if self.search and self.search_fields:
            condition = Q()
            for field_name in self.search_fields:
                condition |= Q(**{f"{field_name}__icontains": self.search})
            queryset = queryset.filter(condition)
        self.sort = params.get("sort", self.default_sort)
        if self.sort not in self.sort_options:
            self.sort = self.default_sort
        if self.sort:
            queryset = queryset.order_by(self.sort_options[self.sort], "pk")
        return queryset

    def read_filters(self, queryset: QuerySet):
        """The request's filter bar, bound and validated once per request."""
        if not hasattr(self, "filterset"):
            self.filterset = None
            if self.filterset_class is not None:
                self.filterset = self.filterset_class(
                    self.request.GET, queryset=queryset, request=self.request
                )
                self.filterset.is_valid()
        return self.filterset

    def exact_filters(self) -> dict:
        """{field: value} of the filters in use that keep only rows whose field equals value."""
        filterset = self.filterset
        if filterset is None or not filterset.is_valid():
            return {}
        exact = {}
        for name, value in filterset.form.cleaned_data.items():
            spec = filterset.filters[name]
            if value in (None, "") or spec.method or spec.exclude or spec.lookup_expr != "exact":
                continue
            exact[spec.field_name] = value
        return exact

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:
            return [self.results_partial]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for name in PAGE_PARAMS:
            query.pop(name, None)
        filtered = bool(self.search) or bool(
            self.filterset is not None
            and (
                not self.filterset.form.is_valid() or any(self.filterset.form.cleaned_data.values())
            )
        )
        context.update(
            filter_problems=self._filter_problems(),
            filterset=self.filterset,
            search=self.search,
            sort=self.sort,
            sort_choices=[(key, self.sort_labels[key]) for key in self.sort_options],
            query_without_page=query.urlencode(),
            results_template=self.results_template,
            is_filtered=filtered,
            filter_bar_key=self._filter_bar_key(),
        )
        return context

    def _filter_bar_key(self) -> str | None:
        """What the filter bar's HTML depends on: the page, the language and the query (not
        the page number). None when it may not be shared: a bar showing the person's own
        choices, or an error, which may depend on what the person may see."""
        if not self.shared_filter_bar or self._filter_problems():
            return None
        query = sorted((k, v) for k, v in self.request.GET.lists() if k not in PAGE_PARAMS)
        return f"{get_language()}|{self.request.path}|{urlencode(query, doseq=True)}"

    def _filter_problems(self) -> list[str]:
        """Why the filters cannot be read, field by field. The filter bar shows each error by
        its field; htmx refreshes only the results, so they say it too."""
        if self.filterset is None or self.filterset.form.is_valid():
            return []
        form = self.filterset.form
        return [
            f"{form.fields[name].label if name in form.fields else 'Filters'}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        ]


class AccessListView(SignedInMixin, ListControlsMixin, ListView):
    """A list of a protected model, always filtered by `access.visible_to`."""

    access_action = "view"

    def get_base_queryset(self) -> QuerySet:
        return self.model._default_manager.all()

    def get_queryset(self) -> QuerySet:
        user, base, action = self.request.user, self.get_base_queryset(), self.access_action
        self.read_filters(base)
        # A filter on a field the grants carry a copy of narrows the grants themselves.
        copies = access.policy_for(self.model).grant_copies
        narrow = {k: v for k, v in self.exact_filters().items() if k in copies}
        # The same controls on each disjoint part of what the user may see, for the
        # paginator's count; on all of it, for the page and the filter bar; and as a walk
        # along the list's order, for a page of a list too long to count.
        self.visible_parts = [
            self.apply_controls(part)
            for part in access.visible_parts(user, base, action, narrow=narrow)
        ]
        self.visible_walk = lambda: self.apply_controls(access.visible_walk(user, base, action))
        return self.apply_controls(access.visible_to(user, base, action, narrow=narrow))

    def get_paginator(self, queryset, per_page, **kwargs):
        return super().get_paginator(
            queryset, per_page, parts=self.visible_parts, walk=self.visible_walk, **kwargs
        )


class ChildListView(ObjectAccessMixin, ListControlsMixin, ListView):
    """Rows that belong to a parent object (`self.object`) and are visible through it."""

    def get_child_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        return self.apply_controls(self.get_child_queryset())
