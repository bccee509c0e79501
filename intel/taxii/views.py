"""TAXII 2.1 endpoints. They translate HTTP: who asks (auth), what they may read (through
intel.collections, which applies the access layer), and writes through intel.services.

`access_subjects` names, per method, what a view acts on as (model label, access action), for
the cross-tenant matrix (tests/access/test_matrix.py); "intel.collection" is an agreement's
collection (or an organisation's sightings collection), which is no model of its own.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from intel import collections, services, stix
from intel.models import TaxiiStatus
from intel.taxii import errors, media, paging
from intel.taxii.auth import BasicTokenAuthentication
from portal.api.auth import TokenAuthentication
from portal.api.base import SignedInAPIMixin


class TaxiiView(SignedInAPIMixin, APIView):
    """A TAXII 2.1 endpoint: Basic (username and API token), Token or session; answers in
    application/taxii+json;version=2.1, refusals in the TAXII error format."""

    authentication_classes = [
        BasicTokenAuthentication,  # first: its challenge is the 401's WWW-Authenticate
        TokenAuthentication,
        SessionAuthentication,
    ]
    renderer_classes = [media.TaxiiRenderer]
    parser_classes = []
    content_negotiation_class = media.TaxiiNegotiation
    http_method_names = ["get", "head"]
    schema = None  # TAXII is specified by OASIS, not by the portal's OpenAPI schema
    access_subjects: dict[str, tuple[str, str]] = {}

    def get_exception_handler(self):
        return errors.exception_handler

    def collection(self) -> collections.Collection:
        """The requester's collection named in the URL; 404 for any other."""
        found = collections.find(self.request.user, self.kwargs["collection_id"])
        if found is None:
            raise errors.not_found()
        return found

    def api_root_url(self) -> str:
        return self.request.build_absolute_uri(reverse("taxii:api-root"))


class DiscoveryView(TaxiiView):
    """Server discovery: the one API root."""

    def get(self, request):
        root = self.api_root_url()
        return Response(
            {
                "title": _("Cooperation portal TAXII server"),
                "description": _(
                    "Threat intelligence shared under your organisation's live agreements."
                ),
                "default": root,
                "api_roots": [root],
            }
        )


class ApiRootView(TaxiiView):
    def get(self, request):
        return Response(
            {
                "title": _("Cooperation portal intelligence"),
                "description": _(
                    "One collection per live agreement your organisation is party to, and "
                    "your organisation's own sightings."
                ),
                "versions": [media.TAXII_21],
                "max_content_length": settings.INTEL_MAX_BUNDLE_BYTES,
            }
        )


class CollectionListView(TaxiiView):
    def get(self, request):
        found = collections.collections_for(request.user)
        return Response({"collections": [_collection_resource(c) for c in found]})


class CollectionView(TaxiiView):
    access_subjects = {"GET": ("intel.collection", "view")}

    def get(self, request, collection_id):
        return Response(_collection_resource(self.collection()))


class ManifestView(TaxiiView):
    access_subjects = {"GET": ("intel.collection", "view")}

    def get(self, request, collection_id):
        collection = self.collection()
        query = paging.read_query(request.query_params, scope="manifest")
        found = paging.page(request.user, collection, query)
        body = _envelope(found, "objects", [_manifest_record(e) for e in found.entries])
        return Response(body, headers=found.date_headers())


class ObjectListView(TaxiiView):
    """GET: the collection's objects. POST: an envelope of objects to add (202 and a status)."""

    http_method_names = ["get", "head", "post"]
    access_subjects = {
        "GET": ("intel.collection", "view"),
        "POST": ("intel.collection", "add_objects"),
    }

    def get(self, request, collection_id):
        collection = self.collection()
        query = paging.read_query(request.query_params, scope="objects")
        found = paging.page(request.user, collection, query)
        body = media.Envelope(found.more, found.next, [e.json for e in found.entries])
        return Response(body, headers=found.date_headers())

    def post(self, request, collection_id):
        collection = self.collection()
        if not collection.can_write:
            raise exceptions.PermissionDenied(
                _("You may read this collection, but not add objects to it.")
            )
        if not media.is_taxii_content(request.META.get("CONTENT_TYPE", "")):
            raise exceptions.UnsupportedMediaType(
                request.META.get("CONTENT_TYPE", ""),
                detail=_("Send the envelope as %(type)s.") % {"type": media.TAXII_21},
            )
        body = _read_body(request)
        try:
            posted = services.add_to_collection(
                actor=request.user, raw=body, agreement=collection.agreement
            )
        except stix.BundleRefused as refused:
            raise errors.BadQuery(" ".join(refused.problems)) from None
        return Response(_status_resource(posted), status=status.HTTP_202_ACCEPTED)


class ObjectView(TaxiiView):
    """One object's versions in the collection (the newest by default)."""

    access_subjects = {"GET": ("intel.stixobject", "view")}

    def get(self, request, collection_id, object_id):
        collection = self.collection()
        query = paging.read_query(request.query_params, scope="object", object_id=object_id)
        found = paging.page(request.user, collection, query)
        if not found.entries and not paging.exists(request.user, collection, object_id):
            raise errors.not_found()
        body = media.Envelope(found.more, found.next, [e.json for e in found.entries])
        return Response(body, headers=found.date_headers())


class ObjectVersionsView(TaxiiView):
    access_subjects = {"GET": ("intel.stixobject", "view")}

    def get(self, request, collection_id, object_id):
        collection = self.collection()
        query = paging.read_query(request.query_params, scope="versions", object_id=object_id)
        found = paging.page(request.user, collection, query)
        if not found.entries and not paging.exists(request.user, collection, object_id):
            raise errors.not_found()
        versions = [stix.timestamp(e.version) for e in found.entries]
        return Response(_envelope(found, "versions", versions), headers=found.date_headers())


class StatusView(TaxiiView):
    """The outcome of one of the requester's own POSTs; anyone else's is a 404."""

    access_subjects = {"GET": ("intel.taxiistatus", "view")}

    def get(self, request, status_id):
        try:
            key = uuid.UUID(str(status_id))
        except ValueError:
            raise errors.not_found() from None
        found = TaxiiStatus.objects.filter(uuid=key, requested_by=request.user).first()
        if found is None:
            raise errors.not_found()
        return Response(_status_resource(found))


# --- Helpers --------------------------------------------------------------------------------


def _collection_resource(collection: collections.Collection) -> dict:
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "can_read": True,
        "can_write": collection.can_write,
        "media_types": [media.STIX_21],
    }


def _envelope(found: paging.Page, key: str, items: list) -> dict:
    body = {"more": found.more}
    if found.next:
        body["next"] = found.next
    if items:
        body[key] = items
    return body


def _manifest_record(entry: paging.Entry) -> dict:
    return {
        "id": entry.stix_id,
        "date_added": stix.timestamp(entry.date_added),
        "version": stix.timestamp(entry.version),
        "media_type": media.STIX_21,
    }


def _status_resource(posted: TaxiiStatus) -> dict:
    return {
        "id": str(posted.uuid),
        "status": "complete",
        "request_timestamp": stix.timestamp(posted.requested_at),
        "total_count": len(posted.successes) + len(posted.failures),
        "success_count": len(posted.successes),
        "successes": posted.successes,
        "failure_count": len(posted.failures),
        "failures": posted.failures,
        "pending_count": 0,
    }


def _read_body(request) -> bytes:
    """The raw body, refused with a 413 past max_content_length before more of it is read.

    Read from the stream, not request.body: Django's own upload limit (2.5 MB) is lower than
    the API root's max_content_length and would answer a 400 in its place.
    """
    limit = settings.INTEL_MAX_BUNDLE_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise errors.TooLarge()
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise errors.TooLarge()
    return body
