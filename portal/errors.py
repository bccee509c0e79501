"""Our own error pages: JSON under /api/, HTML elsewhere, never a stack trace.

A later app that serves another protocol under its own prefix (TAXII under /taxii2/) registers
how a 404 looks there in `not_found_renderers`, so a path nobody routed answers in that
protocol's error format too.
"""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext
from django.views import defaults

#: Path prefix -> a function of the request returning that protocol's 404 response.
not_found_renderers: dict = {}


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a bad host: never say which.
    if _wants_json(request):
        message = gettext("The request could not be read: it is too large or malformed.")
        return JsonResponse({"message": message, "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else gettext("You may not do this.")
    if _wants_json(request):
        return JsonResponse({"message": message, "code": "permission_denied"}, status=403)
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    # The same body for a missing object and a hidden one: existence is never revealed.
    for prefix, render_not_found in not_found_renderers.items():
        if request.path.startswith(prefix):
            return render_not_found(request)
    if _wants_json(request):
        return JsonResponse({"message": "Not found.", "code": "not_found"}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"message": "Server error.", "code": "server_error"}, status=500)
    # No request context: the failure may be in whatever the context processors touch.
    return HttpResponseServerError(loader.get_template("500.html").render())
