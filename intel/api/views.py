"""API of intelligence: the same services as the web pages, state changes as POST actions.

- `StixObjectViewSet`: the objects the caller may see, each with its STIX, shares,
  sightings and correlations. An object the caller may not see is a 404, like a missing one.
- `ImportViewSet`: STIX bundles and MISP events in, through the one import path.
- `ExportViewSet`: a STIX bundle of everything the caller may see, filtered like the list.

A URL that reads with GET and writes with POST (sightings) maps each method to its own
viewset action, so each names exactly one access action in `access_actions`.
"""

from __future__ import annotations

import json
import uuid

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
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
from rest_framework.filters import SearchFilter
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from intel import correlation, misp, services, stix
from intel.api.serializers import (
    MISP_FORMAT,
    BundleRefusalSerializer,
    BundleSerializer,
    CorrelatedOrganisationSerializer,
    ImportRequestSerializer,
    ImportResultSerializer,
    IntelShareRequestSerializer,
    IntelShareSerializer,
    SightingRequestSerializer,
    SightingSummarySerializer,
    StixObjectSerializer,
)
from intel.filters import StixObjectFilter
from intel.models import IntelShare, StixObject, StixVersion
from portal import reauth
from portal.api.base import AccessViewSet, KeptListModelMixin, SignedInAPIMixin
from portal.api.docs import describe
from portal.api.filtering import FilterOnceBackend
from resources.api.serializers import RevokeSerializer
from resources.services import REAUTH_TLP

SHARE_PK_PARAMETER = OpenApiParameter("share_pk", OpenApiTypes.INT, OpenApiParameter.PATH)
SEARCH_FIELDS = ["name", "pattern", "description", "observable_values"]


class StixJSONRenderer(JSONRenderer):
    """STIX 2.1 content for clients that ask for it (`Accept: application/stix+json`)."""

    media_type = "application/stix+json"
    format = "json"  # it is JSON: ?format=json keeps it, and Accept chooses


BUNDLE_RENDERERS = [JSONRenderer, StixJSONRenderer]


VISIBLE = (
    "your organisation's members for its own objects; everyone signed in for TLP:CLEAR; "
    "members of a recipient organisation of a live share for GREEN and AMBER; only the named "
    "people for RED. Anyone else gets 404."
)
OWNER_PM = "a programme manager of the owner organisation (403 for others who see it)."
OWNER = "members of the owner organisation (403 for others who see it)."


@extend_schema_view(
    list=describe(
        "Lists the STIX objects you may see, newest first: your organisation's and those "
        "shared with it; filter by type, TLP, data category, owner, agreement and date added, "
        "search names, descriptions, patterns and observable values.",
        who="any signed-in member; the list holds only what your grants allow.",
        answers="a page of objects with their facts (type, name, TLP, owner, dates).",
    ),
    retrieve=describe(
        "One STIX object: its latest content as STIX 2.1 JSON and its versions.",
        who=VISIBLE,
        answers="the object.",
    ),
    stix=describe(
        "Every version of the object as a STIX 2.1 bundle (`application/stix+json` when "
        "asked for).",
        who=VISIBLE,
        answers="the bundle, oldest version first.",
    ),
    correlations=describe(
        "The other organisations whose objects you can see carry the same observable value or "
        'pattern ("also reported by").',
        who=VISIBLE,
        answers="the organisations; only those whose objects you may see are named.",
    ),
    share=describe(
        "Shares the object with a partner organisation under an agreement in force, by the "
        "same rules as resources (parties, data category, TLP ceiling; RED to named people "
        "only; RED and AMBER+STRICT need your password and code now). With "
        "`with_references`, the objects a report or grouping references go along where the "
        "rules allow.",
        who=OWNER_PM,
        answers="201 with the object's share first, then the referenced objects' shares; 400 "
        "saying which rule refused it.",
    ),
    shares=describe(
        "Lists the object's shares: recipient, agreement, named people (RED), status.",
        who=OWNER,
        answers="a page of shares, live and revoked.",
    ),
    revoke=describe(
        "Revokes a share of the object at once, with an optional reason; the recipient "
        "loses access now.",
        who=OWNER_PM,
        answers="the share, revoked.",
    ),
    sightings=describe(
        "Who used this object: per partner organisation (or anonymous), how many sightings, "
        "how many times seen, first and last seen.",
        who=OWNER,
        answers="the summary rows; only sightings that reached the owner count.",
    ),
)
class StixObjectViewSet(KeptListModelMixin, mixins.RetrieveModelMixin, AccessViewSet):
    """Intelligence your organisation holds, and what partners shared with it. Others are a
    404, like objects that do not exist."""

    queryset = StixObject.objects.all()
    serializer_class = StixObjectSerializer
    filterset_class = StixObjectFilter
    search_fields = SEARCH_FIELDS
    ordering_fields = ["added_at", "modified", "name", "type"]
    ordering = ["-added_at", "-id"]
    access_actions = {
        "stix": "view",
        "correlations": "view",
        "share": "share",
        "shares": "view_access",
        "revoke": "share",
        "sightings": "view_access",
        "report_sighting": "sight",
    }
    #: Actions that answer with one object's full STIX (the others show lists' facts only).
    detail_actions = frozenset({"retrieve", "report_sighting"})

    def get_base_queryset(self):
        queryset = StixObject.objects.select_related("owner")
        if self.action in self.detail_actions:
            versions = StixVersion.objects.order_by("-modified")
            queryset = queryset.prefetch_related(
                Prefetch("versions", queryset=versions, to_attr="all_versions")
            )
        return queryset

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "detail": self.action in self.detail_actions}

    @extend_schema(
        responses={
            200: OpenApiResponse(
                BundleSerializer, description="Every version of the object, oldest first."
            )
        }
    )
    @action(detail=True, methods=["get"], filter_backends=[], renderer_classes=BUNDLE_RENDERERS)
    def stix(self, request, pk=None):
        obj = self.get_object()
        versions = obj.versions.order_by("modified").values_list("data", flat=True)
        return Response(_bundle(list(versions)))

    @extend_schema(responses=CorrelatedOrganisationSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def correlations(self, request, pk=None):
        """The other organisations whose objects you can see carry the same observable
        value or pattern ("also reported by")."""
        obj = self.get_object()
        organisations = correlation.also_reported_by(request.user, obj)
        return Response(CorrelatedOrganisationSerializer(organisations, many=True).data)

    # --- Shares ---------------------------------------------------------------------------

    @extend_schema(
        request=IntelShareRequestSerializer,
        responses={
            201: OpenApiResponse(
                IntelShareSerializer(many=True),
                description="The object's share first, then those of the referenced objects "
                "that went along (with_references).",
            )
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def share(self, request, pk=None):
        obj = self.get_object()
        data = self._valid(IntelShareRequestSerializer)
        shares = services.share_object(
            actor=request.user,
            obj=obj,
            agreement=data["agreement"],
            recipient=data["recipient"],
            recipient_users=data["recipient_users"],
            reauthentication=self._reauthenticate(obj, data),
            with_references=data["with_references"],
        )
        serializer = IntelShareSerializer(shares, many=True, context=self._share_context(shares))
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=IntelShareSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def shares(self, request, pk=None):
        obj = self.get_object()
        shares = obj.shares.select_related("agreement", "recipient", "shared_by").prefetch_related(
            "recipient_users"
        )
        page = self.paginate_queryset(shares)
        serializer = IntelShareSerializer(page, many=True, context=self._share_context(page))
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        parameters=[SHARE_PK_PARAMETER], request=RevokeSerializer, responses=IntelShareSerializer
    )
    @action(detail=True, methods=["post"], url_path=r"shares/(?P<share_pk>[0-9]+)/revoke")
    def revoke(self, request, pk=None, share_pk=None):
        obj = self.get_object()
        # A share is visible through its object only: another object's share is a 404.
        share = obj.shares.filter(pk=share_pk).first()
        if share is None:
            raise NotFound(_("This object has no such share."))
        data = self._valid(RevokeSerializer)
        share = services.revoke_share(
            actor=request.user, share=share, reason=data.get("reason", "")
        )
        return Response(IntelShareSerializer(share, context=self._share_context([share])).data)

    # --- Sightings ------------------------------------------------------------------------

    @extend_schema(responses=SightingSummarySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def sightings(self, request, pk=None):
        """Who used this object, for its owner: per partner organisation (or anonymous),
        how many sightings, how many times seen, first and last seen."""
        obj = self.get_object()
        summary = services.sighting_summary(request.user, obj)
        return Response(SightingSummarySerializer(summary, many=True).data)

    @extend_schema(request=SightingRequestSerializer, responses={201: StixObjectSerializer})
    @describe(
        "Reports that your organisation saw what this object describes: a STIX sighting of "
        "it, which reaches the owner.",
        who="members of an active organisation who can see the object.",
        answers="201 with the sighting, as a STIX object of your organisation.",
    )
    @sightings.mapping.post
    def report_sighting(self, request, pk=None):
        """Your organisation saw what this object describes: a STIX sighting of it."""
        obj = self.get_object()
        data = self._valid(SightingRequestSerializer)
        sighting = services.report_sighting(actor=request.user, sighted=obj, **data)
        sighting = self.get_base_queryset().get(pk=sighting.pk)
        return Response(self.get_serializer(sighting).data, status=status.HTTP_201_CREATED)

    # --- Helpers --------------------------------------------------------------------------

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _reauthenticate(self, obj, data) -> reauth.Reauthentication | None:
        """Sharing RED or AMBER+STRICT needs the sharer's password (and code) now."""
        if obj.tlp not in REAUTH_TLP:
            return None
        if not data.get("password"):
            raise ValidationError(
                {"password": _("Confirm your password to share material marked like this.")}
            )
        return reauth.reauthenticate(
            self.request.user, password=data["password"], otp=data.get("otp", "")
        )

    def _share_context(self, shares) -> dict:
        pks = [share.pk for share in shares]
        live = IntelShare.objects.live().filter(pk__in=pks).values_list("pk", flat=True)
        return {**self.get_serializer_context(), "live_share_ids": set(live)}


@extend_schema_view(
    create=describe(
        "Imports STIX 2.1 (a bundle or one object, as JSON or text) or a MISP event "
        "(`format: misp`, converted offline, TLP from its `tlp:` tags) as your organisation's "
        "intelligence; every object is validated, and new versions of objects you already "
        "hold are kept beside the old.",
        who="programme managers add intelligence; any member may send sightings and opinions "
        "about objects they can see.",
        answers="201 with the ids stored and those unchanged; 400 with one problem per bad "
        "object, and nothing stored.",
    )
)
class ImportViewSet(SignedInAPIMixin, GenericViewSet):
    """STIX 2.1 or a MISP event in, as your organisation's intelligence.

    The input is refused whole when one object is bad: 400 with one problem per bad object
    (its id and why), and nothing is stored. Adding intelligence is for programme managers;
    anyone may send sightings and opinions about objects they can see.
    """

    serializer_class = ImportRequestSerializer
    parser_classes = [JSONParser]

    @extend_schema(
        request=ImportRequestSerializer,
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(
                BundleRefusalSerializer,
                description="Invalid input or a refused bundle: nothing was stored; "
                "`problems` has one line per bad object.",
            ),
        },
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        raw = data["bundle"]
        if not isinstance(raw, str):
            # As text, so that the size limit applies to an object as to a string.
            raw = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
        options = {"default_tlp": data["default_tlp"], "data_category": data["data_category"]}
        try:
            if data["format"] == MISP_FORMAT:
                result = misp.import_event(actor=request.user, raw=raw, **options)
            else:
                result = services.import_objects(actor=request.user, raw=raw, via="api", **options)
        except stix.BundleRefused as refused:
            return Response(_refusal(refused.problems), status=status.HTTP_400_BAD_REQUEST)
        body = {
            "stored": result.stored_ids,
            "unchanged": result.unchanged,
            "objects": StixObjectSerializer(result.stored, many=True).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=describe(
        "Exports the newest version of every object you may see as one STIX 2.1 bundle, "
        "filtered and searched like the list, with the TLP marking definitions and the "
        "owners' identities. The export is recorded.",
        who="any signed-in member; the bundle holds only what your grants allow.",
        answers="the bundle (`application/stix+json` when asked for).",
    )
)
class ExportViewSet(AccessViewSet):
    """A STIX 2.1 bundle of the newest version of every object you may see, filtered and
    searched like the list, with the TLP marking definitions and the owners' identities."""

    queryset = StixObject.objects.all()
    filter_backends = [FilterOnceBackend, SearchFilter]
    filterset_class = StixObjectFilter
    search_fields = SEARCH_FIELDS
    pagination_class = None
    renderer_classes = BUNDLE_RENDERERS

    @extend_schema(responses={200: BundleSerializer})
    def list(self, request):
        objects = self.filter_queryset(self.get_queryset())
        bundle = services.export_bundle(
            request.user, objects, via="api", query=request.query_params.dict()
        )
        return Response(bundle)


def _bundle(objects: list) -> dict:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


def _refusal(problems: list[str]) -> dict:
    if len(problems) == 1:
        message = _("Nothing was stored: %(problem)s") % {"problem": problems[0]}
    else:
        message = ngettext(
            "Nothing was stored: %(count)d problem.",
            "Nothing was stored: %(count)d problems, one per bad object.",
            len(problems),
        ) % {"count": len(problems)}
    return {"message": message, "code": "invalid_bundle", "problems": problems}
