"""API of resources: the same services as the web pages, state changes as POST actions.

A URL that reads with GET and writes with POST (versions, shares) maps each method to its
own viewset action with DRF's `@<action>.mapping.post`, so every viewset action names exactly
one access action in `access_actions`, and the access matrix and meta-tests see both.
"""

from django.db.models import Prefetch
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from portal import reauth
from portal.api.base import AccessViewSet
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
from resources.models import Resource, ResourceVersion, Share

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


class ResourceViewSet(
    mixins.ListModelMixin,
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
        latest = ResourceVersion.objects.select_related("uploaded_by").order_by("-number")[:1]
        return Resource.objects.select_related("owner", "created_by").prefetch_related(
            Prefetch("versions", queryset=latest, to_attr="latest_versions")
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
                raise ValidationError({"version": "A version is a whole number."})
            version = resource.versions.filter(number=int(number)).first()
            if version is None:
                raise NotFound(f"This resource has no version {number}.")
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
            raise NotFound("This resource has no such share.")
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
                {"password": "Confirm your password to share material marked like this."}
            )
        return reauth.reauthenticate(
            self.request.user, password=data["password"], otp=data.get("otp", "")
        )

    def _share_context(self, resource) -> dict:
        live = Share.objects.live().filter(resource=resource).values_list("pk", flat=True)
        return {**self.get_serializer_context(), "live_share_ids": set(live)}
