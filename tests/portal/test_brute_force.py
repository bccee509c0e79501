"""Password guessing is throttled per account and address and per address, on the web
sign-in and on API token creation; the cool-off always ends and the refusal says when."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portal.models import AuditEvent
from tests.factories import PASSWORD, totp_code


@pytest.fixture
def limits(settings):
    settings.THROTTLE_PER_ACCOUNT = (5, 15 * 60)
    settings.THROTTLE_PER_ADDRESS = (8, 15 * 60)
    return settings


def sign_in(client, login: str, password: str, ip: str = "198.51.100.7"):
    return client.post("/accounts/login/", {"login": login, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_account_from_that_address(world, client, limits):
    for _ in range(5):
        assert "not correct" in sign_in(client, "bor-member", "guess").content.decode()

    refused = sign_in(client, "bor-member", PASSWORD)
    assert refused.status_code == 200
    assert "Too many failed attempts" in refused.content.decode()
    assert "try again in 15 minutes" in refused.content.decode()
    assert client.get("/").status_code == 302  # not signed in

    # The owner, from their own address, is not locked out by someone else's guessing.
    assert sign_in(client, "bor-member", PASSWORD, ip="203.0.113.20").status_code == 302


def test_the_cool_off_ends(world, client, limits):
    for _ in range(5):
        sign_in(client, "bor-member", "guess")
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert sign_in(client, "bor-member", PASSWORD).status_code == 302


def test_guessing_across_many_accounts_locks_the_address(world, client, limits):
    for n in range(8):
        sign_in(client, f"someone-{n}", "guess", ip="192.0.2.99")

    refused = sign_in(client, "bor-member", PASSWORD, ip="192.0.2.99")
    assert "Too many failed attempts" in refused.content.decode()
    assert sign_in(client, "bor-member", PASSWORD, ip="192.0.2.100").status_code == 302


def test_a_success_clears_the_account_count_but_not_the_address_count(world, client, limits):
    for _ in range(4):
        sign_in(client, "bor-member", "guess")
    assert sign_in(client, "bor-member", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    # Four more wrong guesses for the account do not lock it: its count started again ...
    for _ in range(3):
        sign_in(client, "bor-member", "guess")
    assert sign_in(client, "bor-member", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    # ... but the address has now failed 7 + 1 = 8 times and is locked.
    sign_in(client, "bor-member", "guess")
    assert "Too many failed attempts" in sign_in(client, "c-any", "guess").content.decode()


def test_failed_sign_ins_are_audited_for_the_targeted_organisation(world, client, limits):
    sign_in(client, "bor-member", "guess")
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.organisation == world.b
    assert event.details["ip"] == "198.51.100.7"


# --- API token creation -----------------------------------------------------------------------


def token_request(username: str, password: str, otp: str = "", ip: str = "198.51.100.7"):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password, "otp": otp},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_a_partner_system_gets_a_token_with_its_credentials(world):
    response = token_request("bor-member", PASSWORD)
    assert response.status_code == 201
    key = response.json()["token"]
    assert Token.objects.get(user=world.b_member).key == key

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").json()["username"] == "bor-member"


def test_an_account_with_an_authenticator_needs_its_code_once(world):
    missing = token_request("atl-admin", PASSWORD)
    assert missing.status_code == 400
    assert "otp" in missing.json()["errors"]

    code = totp_code(world.a_admin)
    assert token_request("atl-admin", PASSWORD, code).status_code == 201
    replay = token_request("atl-admin", PASSWORD, code)
    assert replay.status_code == 400
    assert "already used" in replay.json()["message"]


def test_token_guessing_is_throttled_with_retry_after(world, limits):
    for _ in range(5):
        response = token_request("bor-member", "guess")
        assert response.status_code == 400
        assert response.json()["message"] == "The username or password is not correct."

    refused = token_request("bor-member", PASSWORD)
    assert refused.status_code == 429
    assert 840 <= int(refused["Retry-After"]) <= 900
    assert "try again in 15 minutes" in refused.json()["message"]
    assert not Token.objects.filter(user=world.b_member).exists()


def test_web_and_api_guesses_count_together(world, client, limits):
    for _ in range(3):
        sign_in(client, "bor-member", "guess")
    for _ in range(2):
        token_request("bor-member", "guess")
    assert token_request("bor-member", PASSWORD).status_code == 429
    assert "Too many failed attempts" in sign_in(client, "bor-member", PASSWORD).content.decode()


def test_a_deactivated_account_gets_no_token(world):
    from portal import services

    services.deactivate_member(actor=world.a_admin, membership=world.a_member.membership)
    response = token_request("atl-member-9f3k", PASSWORD)
    assert response.status_code == 400
    assert not Token.objects.filter(user=world.a_member).exists()


def test_one_account_is_one_count_whichever_identifier_is_typed(world, client, limits):
    """Guesses by username and by email, in any case and with stray spaces, add up."""
    email = world.b_member.email
    for login in ("bor-member", f"  {email.upper()} ", "BOR-MEMBER ", email, email.title()):
        assert "not correct" in sign_in(client, login, "guess").content.decode()

    for login in ("bor-member", email):
        refused = sign_in(client, login, PASSWORD)
        assert "Too many failed attempts" in refused.content.decode()
    assert client.get("/").status_code == 302  # not signed in
