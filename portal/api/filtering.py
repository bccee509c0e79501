"""The API's filter backend: django-filter's, with the filter set validated once a request.

A list is paged from several querysets (its access parts, and the walk past the count's cap:
portal.api.pagination), each filtered like the list. Building and validating a filter set
for each cost more than the page's SQL (a form per part, each deep-copying its fields and
their choices); one validated set applies its filters to every part instead.
"""

from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend


class FilterOnceBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        cache = view.__dict__.setdefault("_validated_filtersets", {})
        if type(self) not in cache:
            filterset = self.get_filterset(request, queryset, view)
            if filterset is not None and not filterset.is_valid() and self.raise_exception:
                raise utils.translate_validation(filterset.errors)
            cache[type(self)] = filterset
        filterset = cache[type(self)]
        return queryset if filterset is None else filterset.filter_queryset(queryset)
