"""Two-factor authentication: required to act as signatory, org admin or staff; a code works
once; changing credentials needs the password and a code again; every change is audited."""

from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from portal import services
from portal.models import AuditEvent, Role
from tests.agreements.conftest import draft_between
from tests.factories import PASSWORD, UserFactory, enrol_totp, totp_code


@pytest.fixture
def unenrolled_signatory(people):
    from agreements import services as agreement_services

    signatory = UserFactory(
        organisation=people.a, username="atl-new-signatory", roles=[Role.SIGNATORY], mfa=False
    )
    agreement = draft_between(people, title="Pact needing a second factor")
    party = agreement.parties.get(organisation=people.a)
    party.signatories.add(signatory)
    agreement_services.submit(actor=people.a_pm, agreement=agreement)
    people.extra.update(new_signatory=signatory, pending=agreement)
    return people


def sign_in_with_code(client, user, code: str):
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    return client.post("/accounts/2fa/authenticate/", {"code": code})


def test_unenrolled_signatory_sees_how_to_enrol_and_cannot_sign(unenrolled_signatory, client):
    world = unenrolled_signatory
    client.force_login(world.new_signatory)

    page = client.get(world.pending.get_absolute_url()).content.decode()
    assert "Set up two-factor authentication to act as signatory" in page
    assert "/accounts/2fa/" in page

    response = client.post(
        f"{world.pending.get_absolute_url()}sign/", {"password": PASSWORD, "otp": ""}
    )
    assert response.status_code == 403
    assert "needs two-factor authentication" in response.content.decode()
    assert not world.pending.signatures.exists()


def test_signatory_can_sign_once_enrolled(unenrolled_signatory, client):
    world = unenrolled_signatory
    enrol_totp(world.new_signatory)
    client.force_login(world.new_signatory)

    page = client.get(world.pending.get_absolute_url()).content.decode()
    assert "Set up two-factor authentication" not in page
    response = client.post(
        f"{world.pending.get_absolute_url()}sign/",
        {"consent": "on", "password": PASSWORD, "otp": totp_code(world.new_signatory)},
    )
    assert response.status_code == 302
    assert world.pending.signatures.filter(user=world.new_signatory).exists()


def test_unenrolled_signatory_is_refused_through_the_api_too(unenrolled_signatory):
    from rest_framework.test import APIClient

    world = unenrolled_signatory
    api = APIClient()
    api.force_authenticate(world.new_signatory)
    response = api.post(
        f"/api/v1/agreements/{world.pending.pk}/sign/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    assert "two-factor" in response.json()["message"]


def test_unenrolled_org_admin_cannot_manage_members(world):
    admin = UserFactory(
        organisation=world.a, username="atl-admin-2", roles=[Role.ORG_ADMIN], mfa=False
    )
    with pytest.raises(PermissionDenied, match="two-factor"):
        services.change_member_roles(
            actor=admin, membership=world.a_member.membership, roles=[Role.REVIEWER]
        )
    enrol_totp(admin)
    services.change_member_roles(
        actor=admin, membership=world.a_member.membership, roles=[Role.REVIEWER]
    )
    world.a_member.membership.refresh_from_db()
    assert world.a_member.membership.reviewer


def test_members_without_such_roles_see_no_banner(world, client):
    client.force_login(world.a_pm)
    assert "two-factor" not in client.get("/").content.decode().lower()


def test_staff_without_a_second_factor_are_sent_to_enrol_not_into_the_admin(db, client):
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_superuser("operator", "op@portal.example", PASSWORD)
    client.force_login(operator)

    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/2fa/"
    assert "needs two-factor authentication" in response.content.decode()

    enrol_totp(operator)
    assert client.get("/admin/").status_code == 200


def test_the_admin_has_no_password_form_of_its_own(world, client):
    response = client.post(
        "/admin/login/", {"username": world.staff.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_sign_in_asks_for_the_code_and_a_code_works_only_once(world, client):
    code = totp_code(world.a_admin)
    response = sign_in_with_code(client, world.a_admin, code)
    assert response.status_code == 302
    assert client.get("/").status_code == 200

    client.post("/accounts/logout/")
    replay = sign_in_with_code(client, world.a_admin, code)
    assert replay.status_code == 200
    assert "Incorrect code" in replay.content.decode()
    assert client.get("/").status_code == 302


def test_changing_two_factor_settings_needs_password_and_code_again(world, client):
    code = totp_code(world.a_admin)
    sign_in_with_code(client, world.a_admin, code)

    # Signing in with the code is not enough: changing credentials asks again.
    response = client.get("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")

    # The code-only route is not offered, and the password alone is refused.
    assert client.get("/accounts/2fa/reauthenticate/")["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    alone = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert alone.status_code == 200
    assert alone.context["form"].errors["otp"] == ["Enter the code from your authenticator app."]
    # Still not confirmed: the change is still refused.
    assert client.get("/accounts/2fa/totp/deactivate/")["Location"].startswith(
        "/accounts/reauthenticate/"
    )

    # The sign-in used this period's code; wait for the app's next one.
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=True):
        with_code = client.post(
            "/accounts/reauthenticate/", {"password": PASSWORD, "otp": totp_code(world.a_admin)}
        )
        assert with_code.status_code == 302
        client.post("/accounts/2fa/totp/deactivate/")
    assert not Authenticator.objects.filter(user=world.a_admin, type="totp").exists()
    assert AuditEvent.objects.filter(action="auth.mfa_removed", actor=world.a_admin).exists()


def test_password_change_needs_a_fresh_confirmation(world, client):
    client.force_login(world.a_pm)  # no second factor: the password is the proof
    response = client.get("/accounts/password/change/")
    assert response["Location"].startswith("/accounts/reauthenticate/")

    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    new_password = "a-much-longer-new-passphrase-7"
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    world.a_pm.refresh_from_db()
    assert world.a_pm.check_password(new_password)
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=world.a_pm).exists()


def test_enrolling_an_authenticator_app_is_audited(world, client):
    client.force_login(world.a_pm)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    secret = page.context["form"].secret  # what the page shows as text and as a QR code
    assert secret in page.content.decode()

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
    from allauth.mfa.totp.internal.auth import yield_hotp_counters_from_time as counters

    now = list(counters())
    code = format_hotp_value(hotp_value(secret, now[len(now) // 2]))
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        action="auth.mfa_added", actor=world.a_pm, details__type="totp"
    ).exists()


def test_the_two_factor_page_offers_apps_passkeys_and_recovery_codes(world, client):
    client.force_login(world.a_pm)
    page = client.get("/accounts/2fa/").content.decode()
    assert "Authenticator App" in page
    assert "Security Keys" in page  # passkeys (WebAuthn)
    assert "Recovery Codes" in page


def test_the_profile_says_whether_two_factor_is_on_and_who_needs_it(world, client):
    signatory = UserFactory(
        organisation=world.a, username="atl-sig-3", roles=[Role.SIGNATORY], mfa=False
    )
    client.force_login(signatory)
    page = client.get("/profile/").content.decode()
    assert "Required to act as signatory" in page
    assert "Set up two-factor authentication" in page

    enrol_totp(signatory)
    page = client.get("/profile/").content.decode()
    assert "Manage two-factor authentication" in page
