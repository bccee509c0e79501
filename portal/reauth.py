"""Re-authentication for sensitive actions: signing, declining, sharing RED material.

The person proves it is them at the moment of acting: their password, plus a TOTP code when
they have enrolled one. The web forms and the API take the same two fields.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal import audit


@dataclass(frozen=True)
class Reauthentication:
    at: datetime.datetime
    method: str  # "password" or "password+totp"


def reauthenticate(user, *, password: str, otp: str = "") -> Reauthentication:
    """Check the password (and TOTP when enrolled) now; a failure is audited and explained."""
    if not password or not user.check_password(password):
        audit.record(user, "auth.reauthentication_failed", user, reason="password")
        raise ValidationError({"password": "The password is not correct."})
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        return Reauthentication(timezone.now(), "password")
    if not otp:
        raise ValidationError({"otp": "Enter the code from your authenticator app."})
    if not TOTP(totp).validate_code(otp.strip()):
        audit.record(user, "auth.reauthentication_failed", user, reason="otp")
        raise ValidationError({"otp": "The code is not valid, or was already used."})
    return Reauthentication(timezone.now(), "password+totp")


def require_recent(reauthentication: Reauthentication | None) -> Reauthentication:
    """Refuse unless the person re-authenticated within the configured window (5 minutes)."""
    window = datetime.timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
    if reauthentication is None or timezone.now() - reauthentication.at > window:
        raise PermissionDenied("Confirm your password (and code) again: it has been too long.")
    return reauthentication
