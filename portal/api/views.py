"""API of the core: who am I, the organisation directory, and the audit trail's signed head."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import audit, services
from portal.api.base import (
    AccessViewSet,
    KeptListModelMixin,
    RoleRequiredAPIMixin,
    SignedInAPIMixin,
)
from portal.api.docs import describe
from portal.api.errors import ErrorSerializer
from portal.api.serializers import (
    AuditHeadSerializer,
    MemberSerializer,
    MeSerializer,
    OrganisationSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from portal.base_views import PublicMixin
from portal.filters import OrganisationFilter
from portal.models import Organisation, Role


class TokenView(PublicMixin, APIView):
    """Create (or rotate) your API token with your username, password and, once you have set
    up an authenticator app, its code. Public by nature: it is how a partner system signs in.

    Failed attempts are throttled per account and address and per address (429 with a
    Retry-After header); every failure is in the audit trail. Any earlier token stops working.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    http_method_names = ["post", "options"]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            201: TokenResponseSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Wrong credentials or code, or invalid input."
            ),
            415: OpenApiResponse(ErrorSerializer, description="The body is not JSON or a form."),
            429: OpenApiResponse(
                ErrorSerializer, description="Too many failed attempts; see Retry-After."
            ),
        },
        auth=[],
    )
    @describe(
        "Creates your API token from your username, password and, once you have set up an "
        "authenticator app, its code; any earlier token stops working. Failed attempts are "
        "throttled per account and address and recorded in the audit trail.",
        who="anyone with an active account: this is how a partner system signs in.",
        answers="201 with the token and your username; 400 for wrong credentials or code; 429 "
        "with Retry-After after too many failures.",
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = services.issue_api_token(request=request._request, **serializer.validated_data)
        payload = {"token": token.key, "username": token.user.get_username()}
        return Response(TokenResponseSerializer(payload).data, status=status.HTTP_201_CREATED)


class MeView(SignedInAPIMixin, APIView):
    """The signed-in user, their organisation and their roles."""

    @extend_schema(responses=MeSerializer)
    @describe(
        "Who the token or session belongs to: the user, their organisation and their roles.",
        who="any signed-in user.",
        answers="your username, name, organisation and role flags.",
    )
    def get(self, request):
        return Response(MeSerializer(request.user).data)


@extend_schema_view(
    list=describe(
        "The organisation directory: name, short name, country and kind; filter by country "
        "and kind, search names and short names.",
        who="any signed-in user.",
        answers="a page of organisations, by name.",
    ),
    retrieve=describe(
        "One organisation's directory entry, by short name.",
        who="any signed-in user.",
        answers="the organisation.",
    ),
    members=describe(
        "The organisation's members and their roles.",
        who="members of the organisation itself, and of organisations with an agreement in "
        "force with it (403 for others).",
        answers="a page of members by username.",
    ),
)
class OrganisationViewSet(KeptListModelMixin, mixins.RetrieveModelMixin, AccessViewSet):
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
    # The directory's filters, search and ordering do not apply to a member list.
    @action(detail=True, methods=["get"], filter_backends=[])
    def members(self, request, slug=None):
        organisation = self.get_object()
        memberships = organisation.memberships.select_related("user").order_by("user__username")
        page = self.paginate_queryset(memberships)
        return self.get_paginated_response(MemberSerializer(page, many=True).data)


class AuditHeadView(RoleRequiredAPIMixin, APIView):
    """The audit trail's latest event id and a seal of its hash, signed now with the portal's
    key.

    For organisation admins of any organisation: kept outside the portal, a head lets them
    prove later (`manage.py verify_audit --head FILE`) that the trail up to it was not
    rewritten. It names no object and no actor, and seals the hash, so it shows nothing of any
    partner's content and confirms no guess about it.
    """

    required_role = Role.ORG_ADMIN

    @extend_schema(
        responses={
            200: AuditHeadSerializer,
            403: OpenApiResponse(
                description="Not an organisation admin, or not yet enrolled in two-factor "
                "authentication; the message says which."
            ),
            404: OpenApiResponse(description="The audit trail has no events yet."),
        }
    )
    @describe(
        "The audit trail's latest event id and a seal of its hash and time, signed now with "
        "the portal's Ed25519 key. Keep it outside the portal: `manage.py verify_audit --head "
        "FILE` later proves the trail up to it was not rewritten. It names no object or actor.",
        who="organisation admins of any organisation, enrolled in two-factor authentication.",
        answers="the signed head; 404 while the trail is empty.",
    )
    def get(self, request):
        head = audit.signed_head()
        if head is None:
            raise NotFound(_("The audit trail has no events yet."))
        return Response(AuditHeadSerializer(head).data)


class SchemaView(SignedInAPIMixin, SpectacularAPIView):
    """The OpenAPI 3 schema, for signed-in callers."""


@method_decorator(csp_update({"style-src": [UNSAFE_INLINE]}), name="dispatch")
class SwaggerView(SignedInAPIMixin, SpectacularSwaggerSplitView):
    """Swagger UI with assets from the sidecar package: it works with no network. It is shown
    in the portal's layout (templates/portal/api_docs.html), with the top bar and a way back.

    Swagger UI sets style attributes as it renders, so this one page allows inline styles;
    scripts stay locked to our origin.
    """

    template_name = "portal/api_docs.html"
    title = _("API documentation")
