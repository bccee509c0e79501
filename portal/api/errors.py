"""Every API error is JSON with a human-readable message, and the schema says so."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.views import exception_handler as drf_exception_handler

from portal import throttle
from portal.states import TransitionNotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The object is not in a state that allows this.")
    default_code = "invalid_transition"


def exception_handler(exc, context):
    exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {
            "message": _first_message(errors) or gettext("The request is not valid."),
            "code": "invalid",
            "errors": errors,
        }
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else data
        response.data = {
            "message": str(detail) or gettext("The request failed."),
            "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error"),
        }
    return response


class ErrorSerializer(serializers.Serializer):
    """The body of every refusal, as `exception_handler` writes it."""

    message = serializers.CharField(help_text="What went wrong, in words for people.")
    code = serializers.CharField(help_text="What went wrong, for programs: invalid, not_found, ...")
    errors = serializers.DictField(
        required=False, help_text="Invalid input only: the messages, per field."
    )


class PortalAutoSchema(AutoSchema):
    """Documents the refusals an operation can answer next to its success, so a client (and
    the schema fuzzer) knows every status it may get and the shape of its body."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for code, description in self._refusals(operation):
            operation["responses"].setdefault(
                code,
                self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code
                ),
            )
        return operation

    def _refusals(self, operation):
        located = {parameter["in"] for parameter in operation.get("parameters", [])}
        writes = self.method not in ("GET", "HEAD", "OPTIONS")
        if writes or "query" in located:
            yield "400", "The request is not valid; `errors` says why, per field."
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            yield "401", "No valid credentials were given."
            yield "403", "Not allowed: the object is visible to you, but this action is not yours."
        if located & {"path", "query"}:
            # A page past the end is a 404 too.
            yield "404", "No such object, or one you may not see (they look alike)."
        if writes:
            yield "409", "The object's state does not allow this now; `message` says why."
        if "requestBody" in operation:
            yield "415", "The body is not in a media type this operation reads."
        if self.view.get_throttles():
            yield "429", "Too many attempts; try again later."


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            if message:
                return message if field == "non_field_errors" else f"{field}: {message}"
    elif isinstance(errors, list):
        for value in errors:
            message = _first_message(value)
            if message:
                return message
    elif errors:
        return str(errors)
    return ""


def _from_django(exc):
    """Services speak Django's exceptions; the API answers them with their messages."""
    if isinstance(exc, throttle.Throttled):
        return exceptions.Throttled(wait=exc.retry_after, detail=exc.message)
    if isinstance(exc, TransitionNotAllowed):
        return Conflict(" ".join(exc.messages))
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied) and str(exc):
        return exceptions.PermissionDenied(str(exc))
    return exc
