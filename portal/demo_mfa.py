"""Known TOTP secrets for the demo's signatories, org admins and staff.

Each secret is derived from the username, so every run of `seed_demo` prints the same ones and
a script can compute codes without reading the database. Demo only: `seed_demo` and
`demo_code` refuse to run with DEBUG off.
"""

import base64
import hashlib

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)


def demo_totp_secret(username: str) -> str:
    digest = hashlib.sha256(f"cooperation-portal-demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def enrol_demo_totp(user) -> None:
    """Give the demo person their authenticator app, unless they already have one."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, demo_totp_secret(user.get_username()))


def has_demo_totp(user) -> bool:
    """Whether the person's authenticator app is still the one seed_demo gave them."""
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return totp is not None and (
        get_mfa_adapter().decrypt(totp.data["secret"]) == demo_totp_secret(user.get_username())
    )


def current_code(username: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    middle = counters[len(counters) // 2]  # the current period, whatever the tolerance
    return format_hotp_value(hotp_value(demo_totp_secret(username), middle))
