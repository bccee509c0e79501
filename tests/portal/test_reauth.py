"""Re-authentication at the moment of acting: the password, and the TOTP code once enrolled;
a code works once, and repeated failures are throttled."""

import pytest
from django.core.exceptions import ValidationError

from portal import reauth, throttle
from portal.models import AuditEvent
from tests.factories import PASSWORD, totp_code


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
    with pytest.raises(ValidationError, match="Enter the code"):
        reauth.reauthenticate(world.a_admin, password=PASSWORD)
    with pytest.raises(ValidationError, match="not valid"):
        reauth.reauthenticate(world.a_admin, password=PASSWORD, otp="000000")

    code = totp_code(world.a_admin)
    assert reauth.reauthenticate(world.a_admin, password=PASSWORD, otp=code).method == (
        "password+totp"
    )
    with pytest.raises(ValidationError, match="already used"):
        reauth.reauthenticate(world.a_admin, password=PASSWORD, otp=code)


def test_repeated_wrong_passwords_lock_reauthentication_for_a_while(world, settings):
    settings.THROTTLE_PER_ACCOUNT = (3, 600)
    for _ in range(3):
        with pytest.raises(ValidationError):
            reauth.reauthenticate(world.a_pm, password="guess")

    # Even the right password is refused now, with the time to wait.
    with pytest.raises(throttle.Throttled, match="try again in 10 minutes"):
        reauth.reauthenticate(world.a_pm, password=PASSWORD)
