import functools

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from portal.pagination import CappedPaginator


class PortalPagination(PageNumberPagination):
    """Page-numbered lists whose `count` is exact up to 1,000 rows (portal.pagination);
    beyond that `count_capped` is true and `count` is the cap. Follow `next` to the end."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        parts = view.visible_parts() if hasattr(view, "visible_parts") else None
        # Built only if a page past the cap needs it; a list of something else (a
        # resource's versions) has no walk.
        walk = view.visible_walk if parts is not None else None
        self.django_paginator_class = functools.partial(CappedPaginator, parts=parts, walk=walk)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": min(paginator.count, paginator.cap),
                "count_capped": paginator.is_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            "The number of results, counted up to 1,000."
        )
        response["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "True when there are more results than `count` says.",
            "example": False,
        }
        response["required"] = ["count", "count_capped", "results"]
        return response
