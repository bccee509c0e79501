"""Every API error is JSON with a human-readable message."""

from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {
            "message": _first_message(errors) or "The request is not valid.",
            "code": "invalid",
            "errors": errors,
        }
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else data
        response.data = {
            "message": str(detail) or "The request failed.",
            "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error"),
        }
    return response


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
