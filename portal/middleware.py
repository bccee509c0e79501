"""Request-wide middleware of the portal."""

from allauth.account.adapter import get_adapter
from django.utils.cache import patch_cache_control

from portal import access, audit


class NoStoreMiddleware:
    """Partner data must never sit in a browser or proxy cache, so no response is stored.

    Static files never get here: whitenoise answers them earlier with long cache lifetimes.
    It also makes the client address known to the audit trail, and gives the access layer
    its per-request cache of answers, for the request's duration.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip_token = audit.client_ip.set(get_adapter(request).get_client_ip(request))
        cache_token = access.request_cache.set({})
        try:
            response = self.get_response(request)
        finally:
            audit.client_ip.reset(ip_token)
            access.request_cache.reset(cache_token)
        patch_cache_control(response, no_store=True, private=True)
        return response
