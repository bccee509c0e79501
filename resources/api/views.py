"""API of resources: the same services as the web pages, state changes as POST actions.

A URL that reads with GET and writes with POST (versions, shares) maps each method to its
own viewset action with DRF's `@<action>.mapping.post`, so every viewset action names exactly
one access action in `access_actions`, and the access matrix and meta-tests see both.
"""

from django.http import FileResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from portal import reauth
from portal.api.base import AccessViewSet, KeptListModelMixin
from portal.api.docs import describe
from resources import reports, services
from resources.api.serializers import (
    AccessLogRowSerializer,
    ResourceCreateSerializer,
    ResourceSerializer,
    RevokeSerializer,
    ShareRequestSerializer,
    ShareSerializer,
    VersionSerializer,
    VersionUploadSerializer,
)
from resources.filters import ResourceFilter
from resources.models import Resource, Share

VERSION_PARAMETER = OpenApiParameter(
    "version", OpenApiTypes.INT, description="A version number; the latest when omitted."
)
SHARE_PK_PARAMETER = OpenApiParameter("share_pk", OpenApiTypes.INT, OpenApiParameter.PATH)
REPORT_PARAMETERS = [
    OpenApiParameter(
        "action", OpenApiTypes.STR, enum=list(reports.ACTION_LABELS), description="Event kind."
    ),
    OpenApiParameter("organisation", OpenApiTypes.STR, description="Short name of the actor's."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="First day (UTC), inclusive."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day (UTC), inclusive."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Part of a username or a title."),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=[key for key, _ in reports.SORT_CHOICES]),
]


VISIBLE = (
    "your organisation's members for its own resources; everyone signed in for TLP:CLEAR; "
    "members of a recipient organisation of a live share for GREEN and AMBER; only the named "
    "people for RED. Anyone else gets 404."
)
OWNER_PM = "a programme manager of the owner organisation (403 for others who see it)."


@extend_schema_view(
    list=describe(
        "Lists the resources you may see, newest first: your organisation's and those shared "
        "with it; filter by scope (ours or shared with us), kind, TLP, data category and "
        "owner, search the title and description.",
        who="any signed-in member; the list holds only what your grants allow.",
        answers="a page of resources with their latest version's facts.",
    ),
    retrieve=describe(
        "One resource's metadata and latest version. The view is recorded in the owner's "
        "access report.",
        who=VISIBLE,
        answers="the resource.",
    ),
    create=describe(
        "Uploads a new resource (multipart: the file and its metadata, with its TLP and data "
        "category). The file's type is detected from its bytes and its SHA-256 kept; "
        "executables are refused except for tools.",
        who="programme managers; the resource belongs to their organisation.",
        answers="201 with the resource and its first version.",
    ),
    update=describe(
        "Replaces a resource's metadata (title, description, kind, data category, TLP, tags).",
        who=OWNER_PM,
        answers="the resource as it is now.",
    ),
    partial_update=describe(
        "Changes some of a resource's metadata.",
        who=OWNER_PM,
        answers="the resource as it is now.",
    ),
    download=describe(
        "Downloads the latest version, or the one named by `version`. The live sharing rule "
        "is checked again (the agreement must still be in force) and the download audited.",
        who=VISIBLE + " A recipient whose share or agreement ended gets 403.",
        answers="the file, as an attachment, with the type detected at upload.",
    ),
    versions=describe(
        "Lists a resource's versions, newest first.",
        who=VISIBLE,
        answers="a page of versions: number, size, SHA-256, type, note, who uploaded it.",
    ),
    shares=describe(
        "Lists the resource's shares: recipient, agreement, named people (RED), status.",
        who=OWNER_PM,
        answers="a page of shares, live and revoked.",
    ),
    revoke=describe(
        "Revokes a share of the resource at once, with an optional reason; the recipient "
        "loses access now.",
        who=OWNER_PM,
        answers="the share, revoked.",
    ),
    access_log=describe(
        "The owner's access report: who viewed and downloaded the resource, when and through "
        "which share; filter by period, organisation and action.",
        who="the owner organisation's programme managers and admins.",
        answers="a page of access events.",
    ),
)
class ResourceViewSet(
    KeptListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    AccessViewSet,
):
    """Resources your organisation owns, and those shared with it. Others answer 404."""

    queryset = Resource.objects.all()
    serializer_class = ResourceSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_class = ResourceFilter
    search_fields = ["title", "description"]
    ordering_fields = ["created_at", "updated_at", "title"]
    ordering = ["-created_at", "-pk"]
    access_actions = {
        "update": "change",
        "partial_update": "change",
        "download": "download",
        "versions": "view",
        "upload_version": "change",
        "shares": "share",
        "share": "share",
        "revoke": "share",
        "access_log": "view_access_report",
    }

    def get_base_queryset(self):
        return Resource.objects.select_related(
            "owner", "created_by", "current_version__uploaded_by"
        )

    def get_serializer_class(self):
        return ResourceCreateSerializer if self.action == "create" else ResourceSerializer

    def perform_content_negotiation(self, request, force=False):
        # A download answers whatever the client accepts; only its errors are JSON.
        return super().perform_content_negotiation(
            request, force=force or self.action == "download"
        )

    @extend_schema(
        request={"multipart/form-data": ResourceCreateSerializer},
        responses={201: ResourceSerializer},
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        resource = services.create_resource(
            actor=self.request.user, file=data.pop("file"), note=data.pop("note", ""), **data
        )
        serializer.instance = self.get_base_queryset().get(pk=resource.pk)

    def retrieve(self, request, *args, **kwargs):
        resource = self.get_object()
        # Every look at a resource is evidence for the owner's access report.
        services.record_view(actor=request.user, resource=resource, via="api")
        return Response(self.get_serializer(resource).data)

    def perform_update(self, serializer):
        resource = services.update_resource(
            actor=self.request.user,
            resource=serializer.instance,
            **serializer.validated_data,
        )
        serializer.instance = self.get_base_queryset().get(pk=resource.pk)

    @extend_schema(
        parameters=[VERSION_PARAMETER],
        responses={
            # Any type that passed the upload checks: the one detected from its bytes.
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, as an attachment, with the type detected at upload.",
            )
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        resource = self.get_object()
        version = None
        if "version" in request.query_params:
            number = request.query_params["version"]
            if not number.isdigit():
                raise ValidationError({"version": gettext("A version is a whole number.")})
            version = resource.versions.filter(number=int(number)).first()
            if version is None:
                raise NotFound(
                    gettext("This resource has no version %(number)s.") % {"number": number}
                )
        # Re-checks the live rule (grants may lag an agreement's end) and audits the download.
        version = services.open_download(actor=request.user, resource=resource, version=version)
        response = FileResponse(
            version.file.open("rb"),
            as_attachment=True,
            filename=version.original_name,
            content_type=version.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    # The resource list's filters, search and ordering do not apply to what is under one.
    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def versions(self, request, pk=None):
        resource = self.get_object()
        versions = resource.versions.select_related("uploaded_by").order_by("-number")
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": VersionUploadSerializer},
        responses={201: VersionSerializer},
    )
    @describe(
        "Adds a new version of the file (multipart); earlier versions stay.",
        who=OWNER_PM,
        answers="201 with the new version.",
    )
    @versions.mapping.post
    def upload_version(self, request, pk=None):
        resource = self.get_object()
        data = self._valid(VersionUploadSerializer)
        version = services.add_version(
            actor=request.user, resource=resource, file=data["file"], note=data.get("note", "")
        )
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ShareSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def shares(self, request, pk=None):
        resource = self.get_object()
        shares = resource.shares.select_related(
            "agreement", "recipient", "shared_by"
        ).prefetch_related("recipient_users")
        page = self.paginate_queryset(shares)
        serializer = ShareSerializer(page, many=True, context=self._share_context(resource))
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=ShareRequestSerializer, responses={201: ShareSerializer})
    @describe(
        "Shares the resource with a partner organisation under an agreement in force to which "
        "both are parties, that covers its data category and whose TLP ceiling reaches its "
        "TLP. RED goes to named people (`recipient_users`) only; RED and AMBER+STRICT need "
        "your password (and code) now.",
        who=OWNER_PM,
        answers="201 with the share; 400 saying which rule refused it.",
    )
    @shares.mapping.post
    def share(self, request, pk=None):
        resource = self.get_object()
        data = self._valid(ShareRequestSerializer)
        share = services.share_resource(
            actor=request.user,
            resource=resource,
            agreement=data["agreement"],
            recipient=data["recipient"],
            recipient_users=data["recipient_users"],
            reauthentication=self._reauthenticate(resource, data),
        )
        serializer = ShareSerializer(share, context=self._share_context(resource))
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SHARE_PK_PARAMETER], request=RevokeSerializer, responses=ShareSerializer
    )
    @action(detail=True, methods=["post"], url_path=r"shares/(?P<share_pk>[0-9]+)/revoke")
    def revoke(self, request, pk=None, share_pk=None):
        resource = self.get_object()
        # A share is visible through its resource only: another resource's share is a 404.
        share = resource.shares.filter(pk=share_pk).first()
        if share is None:
            raise NotFound(gettext("This resource has no such share."))
        data = self._valid(RevokeSerializer)
        share = services.revoke_share(
            actor=request.user, share=share, reason=data.get("reason", "")
        )
        return Response(ShareSerializer(share, context=self._share_context(resource)).data)

    @extend_schema(parameters=REPORT_PARAMETERS, responses=AccessLogRowSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="access-log", filter_backends=[])
    def access_log(self, request, pk=None):
        resource = self.get_object()
        form = reports.ReportFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError(
                {
                    "non_field_errors" if name == "__all__" else name: list(errors)
                    for name, errors in form.errors.items()
                }
            )
        events = reports.events(reports.resource_scope(resource), form.cleaned_data)
        page = self.paginate_queryset(events)
        rows = AccessLogRowSerializer(reports.rows(page), many=True)
        return self.get_paginated_response(rows.data)

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _reauthenticate(self, resource, data) -> reauth.Reauthentication | None:
        """Sharing RED or AMBER+STRICT needs the sharer's password (and code) now."""
        if resource.tlp not in services.REAUTH_TLP:
            return None
        if not data.get("password"):
            raise ValidationError(
                {"password": gettext("Confirm your password to share material marked like this.")}
            )
        return reauth.reauthenticate(
            self.request.user, password=data["password"], otp=data.get("otp", "")
        )

    def _share_context(self, resource) -> dict:
        live = Share.objects.live().filter(resource=resource).values_list("pk", flat=True)
        return {**self.get_serializer_context(), "live_share_ids": set(live)}
