"""Request-wide middleware of the portal."""

import time

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext

from portal import access, audit

#: Session keys: when the person signed in, and when we last saw a request from them.
SIGNED_IN_AT = "portal_signed_in_at"
LAST_SEEN_AT = "portal_last_seen_at"
#: Recording "last seen" at most this often keeps a page view from always writing the session.
LAST_SEEN_RESOLUTION = 60


class RequestScopeMiddleware:
    """Gives each request what the audit trail and the access layer need for its duration:
    the client address for audit events, and a fresh cache of access answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip_token = audit.client_ip.set(get_adapter(request).get_client_ip(request))
        cache_token = access.request_cache.set({})
        try:
            return self.get_response(request)
        finally:
            audit.client_ip.reset(ip_token)
            access.request_cache.reset(cache_token)


class ResponseHeadersMiddleware:
    """Partner data must never sit in a browser or proxy cache, so no response is stored;
    and no page may use the browser features listed in PERMISSIONS_POLICY.

    Static files never get here: whitenoise answers them earlier with long cache lifetimes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class SessionTimeoutMiddleware:
    """Ends a web session after SESSION_IDLE_TIMEOUT seconds without a request, and
    SESSION_ABSOLUTE_TIMEOUT seconds after sign-in however busy it was.

    The request then goes on signed out, so a page sends the person to sign in (with a note
    saying why) and the API answers 401, exactly as for anyone else without a session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._enforce(request)
        return self.get_response(request)

    def _enforce(self, request) -> None:
        session, now = request.session, time.time()
        signed_in_at = session.setdefault(SIGNED_IN_AT, now)
        last_seen_at = session.get(LAST_SEEN_AT, signed_in_at)
        if now - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT:
            reason, note = "absolute_timeout", gettext("Your session reached its maximum length.")
        elif now - last_seen_at > settings.SESSION_IDLE_TIMEOUT:
            reason, note = (
                "idle_timeout",
                gettext("You were signed out after a period of inactivity."),
            )
        else:
            if now - last_seen_at >= LAST_SEEN_RESOLUTION or LAST_SEEN_AT not in session:
                session[LAST_SEEN_AT] = now
            return
        request.sign_out_reason = reason
        logout(request)
        messages.info(request, f"{note} {gettext('Please sign in again.')}")
