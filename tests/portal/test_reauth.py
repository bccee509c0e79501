"""Re-authentication before signing: the password, and the TOTP code once enrolled."""

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.cache import cache
from django.core.exceptions import ValidationError

from portal import reauth
from portal.models import AuditEvent
from tests.factories import PASSWORD


def current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def test_password_alone_when_no_second_factor_is_enrolled(world):
    proof = reauth.reauthenticate(world.a_pm, password=PASSWORD)
    assert proof.method == "password"


def test_wrong_password_is_refused_and_audited(world):
    with pytest.raises(ValidationError, match="password is not correct"):
        reauth.reauthenticate(world.a_pm, password="guess")
    assert AuditEvent.objects.filter(
        action="auth.reauthentication_failed", actor=world.a_pm
    ).exists()


def test_enrolled_user_needs_a_valid_unused_code(world):
    cache.clear()
    secret = generate_totp_secret()
    TOTP.activate(world.a_admin, secret)

    with pytest.raises(ValidationError, match="Enter the code"):
        reauth.reauthenticate(world.a_admin, password=PASSWORD)
    with pytest.raises(ValidationError, match="not valid"):
        reauth.reauthenticate(world.a_admin, password=PASSWORD, otp="000000")

    code = current_code(secret)
    assert reauth.reauthenticate(world.a_admin, password=PASSWORD, otp=code).method == (
        "password+totp"
    )
    with pytest.raises(ValidationError, match="already used"):
        reauth.reauthenticate(world.a_admin, password=PASSWORD, otp=code)
