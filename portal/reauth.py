"""Re-authentication for sensitive actions: signing, declining, sharing RED material, and
changing the password or two-factor settings.

The person proves it is them at the moment of acting: their password, plus a TOTP code when
they have enrolled one. The web forms and the API take the same two fields. Failures count
towards the same brute-force throttle as sign-in, per account, so a stolen session or token
cannot be used to guess the password either.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from portal import audit, throttle

SCOPE = "reauthenticate"


@dataclass(frozen=True)
class Reauthentication:
    at: datetime.datetime
    method: str  # "password" or "password+totp"


def totp_authenticator(user) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


def has_totp(user) -> bool:
    return totp_authenticator(user) is not None


def code_is_valid(authenticator: Authenticator, code: str) -> bool:
    """Whether code is the authenticator's current code, not used before (allauth keeps used
    codes in the shared cache for the code's lifetime, so a replay fails)."""
    return bool(code) and TOTP(authenticator).validate_code(code.strip())


def reauthenticate(user, *, password: str, otp: str = "") -> Reauthentication:
    """Check the password (and TOTP when enrolled) now; a failure is audited and explained.

    A TOTP code is accepted once: allauth remembers used codes in the shared cache.
    """
    ip = audit.client_ip.get()
    throttle.check(SCOPE, user=user, ip=ip)
    if not password or not user.check_password(password):
        _failed(user, ip, "password")
        raise ValidationError({"password": gettext("The password is not correct.")})
    totp = totp_authenticator(user)
    if totp is None:
        throttle.succeeded(SCOPE, user=user, ip=ip)
        return Reauthentication(timezone.now(), "password")
    if not otp:
        raise ValidationError({"otp": gettext("Enter the code from your authenticator app.")})
    if not code_is_valid(totp, otp):
        _failed(user, ip, "otp")
        raise ValidationError({"otp": gettext("The code is not valid, or was already used.")})
    throttle.succeeded(SCOPE, user=user, ip=ip)
    return Reauthentication(timezone.now(), "password+totp")


def require_recent(reauthentication: Reauthentication | None) -> Reauthentication:
    """Refuse unless the person re-authenticated within the configured window (5 minutes)."""
    window = datetime.timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
    if reauthentication is None or timezone.now() - reauthentication.at > window:
        raise PermissionDenied(
            gettext("Confirm your password (and code) again: it has been too long.")
        )
    return reauthentication


def _failed(user, ip: str | None, reason: str) -> None:
    throttle.failed(SCOPE, user=user, ip=ip)
    audit.record(user, "auth.reauthentication_failed", user, reason=reason)
