"""Every TAXII refusal in the TAXII error format: title, description, http_status (a string).

A collection, object or status the requester may not see gets the same 404 as one that does
not exist: the same title, the same description, the same headers.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

from intel.taxii import media
from portal import errors, throttle

TITLES = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Unauthorized"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    413: gettext_lazy("Content too large"),
    415: gettext_lazy("Unsupported media type"),
    429: gettext_lazy("Too many requests"),
}


class BadQuery(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The request's parameters are not valid.")


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The body is larger than this API root's max_content_length.")


def not_found() -> exceptions.NotFound:
    return exceptions.NotFound(_("No such collection, object or status, or not one you may see."))


def exception_handler(exc, context):
    """The TAXII error resource for any refusal; None (a server error) for anything else."""
    if isinstance(exc, throttle.Throttled):
        exc = exceptions.Throttled(wait=exc.retry_after, detail=exc.message)
    elif isinstance(exc, Http404):
        exc = not_found()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.NotFound):
        exc = not_found()  # one description for every 404, whatever raised it
    code = exc.status_code
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    body = {
        "title": str(TITLES.get(code, _("Error"))),
        "description": _describe(exc.detail),
        "http_status": str(code),
    }
    return Response(body, status=code, headers=headers)


def _describe(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_describe(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(_describe(item) for item in detail.values())
    return str(detail)


def unrouted_not_found(request) -> HttpResponse:
    """A path under /taxii2/ that names no endpoint: the same TAXII 404 as a hidden object."""
    body = {"title": str(TITLES[404]), "description": str(not_found().detail), "http_status": "404"}
    return HttpResponse(json.dumps(body), status=404, content_type=media.TAXII_21)


errors.not_found_renderers["/taxii2/"] = unrouted_not_found
