"""API of the core: who am I, and the organisation directory."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.base import AccessViewSet, SignedInAPIMixin
from portal.api.serializers import MemberSerializer, MeSerializer, OrganisationSerializer
from portal.filters import OrganisationFilter
from portal.models import Organisation


class MeView(SignedInAPIMixin, APIView):
    """The signed-in user, their organisation and their roles."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class OrganisationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AccessViewSet):
    """The organisation directory, and member lists where your organisation may see them."""

    queryset = Organisation.objects.all()
    serializer_class = OrganisationSerializer
    lookup_field = "slug"
    filterset_class = OrganisationFilter
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "country", "kind"]
    ordering = ["name"]
    access_actions = {"members": "view_members"}

    @extend_schema(responses=MemberSerializer(many=True))
    @action(detail=True, methods=["get"])
    def members(self, request, slug=None):
        organisation = self.get_object()
        memberships = organisation.memberships.select_related("user").order_by("user__username")
        page = self.paginate_queryset(memberships)
        return self.get_paginated_response(MemberSerializer(page, many=True).data)


class SchemaView(SignedInAPIMixin, SpectacularAPIView):
    """The OpenAPI 3 schema, for signed-in callers."""


@method_decorator(csp_update({"style-src": [UNSAFE_INLINE]}), name="dispatch")
class SwaggerView(SignedInAPIMixin, SpectacularSwaggerSplitView):
    """Swagger UI with assets from the sidecar package: it works with no network.

    Swagger UI sets style attributes as it renders, so this one page allows inline styles;
    scripts stay locked to our origin.
    """
