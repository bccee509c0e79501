"""Who is asking: HTTP Basic with a username and that person's API token (what TAXII clients
send), the API's `Authorization: Token ...` header, or a signed-in browser session.

The API token is the one a person creates on their profile page or at /api/v1/auth/token/; a
password is never accepted here. Wrong Basic credentials are counted by the portal's throttle
(portal/throttle.py) in a scope of their own, so that a poller with a stale token locks only
its own TAXII access for a while, never the person's web sign-in, and each is in the audit
trail like a failed sign-in. The Token header is checked as on the rest of the API.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth.signals import user_login_failed
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

from portal import audit, throttle

#: The throttle's scope for TAXII credentials.
SCOPE = "taxii"
REALM = "TAXII 2.1"


class BasicTokenAuthentication(BaseAuthentication):
    """`Authorization: Basic base64(username:token)`."""

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != b"basic":
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed(_("The Basic credentials are malformed."))
        try:
            username, sep, key = base64.b64decode(auth[1], validate=True).decode().rpartition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed(
                _("The Basic credentials are malformed.")
            ) from None
        if not sep or not username:
            raise exceptions.AuthenticationFailed(_("The Basic credentials are malformed."))
        return self._check(request, username, key)

    def authenticate_header(self, request):
        return f'Basic realm="{REALM}"'

    def _check(self, request, username: str, key: str):
        token = (
            Token.objects.select_related("user__membership__organisation")
            .filter(user__username=username)
            .first()
        )
        user = token.user if token is not None else None
        # The account's counter when the username names one, else what was typed.
        counter = {"login": username, "ip": audit.client_ip.get(), "user": user}
        try:
            throttle.check(SCOPE, **counter)
        except throttle.Throttled as refused:
            raise exceptions.Throttled(wait=refused.retry_after, detail=refused.message) from None
        if token is None or not constant_time_compare(token.key, key) or not user.is_active:
            throttle.failed(SCOPE, **counter)
            user_login_failed.send(
                sender=__name__,
                credentials={"username": username},
                request=request._request,
                reason="taxii_token",
            )
            raise exceptions.AuthenticationFailed(_("The username or API token is not correct."))
        throttle.succeeded(SCOPE, **counter)
        return user, token
