"""Sessions end after 30 idle minutes and 12 hours in all, get a new key at sign-in, and can
be ended everywhere at once."""

from datetime import timedelta

import time_machine
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from portal import services
from portal.models import AuditEvent
from tests.factories import PASSWORD


def sign_in(client: Client, username: str) -> None:
    response = client.post("/accounts/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_a_new_session_key_at_sign_in(world, client):
    fixated = client.session  # a session that exists before sign-in, e.g. planted
    fixated["planted"] = "by an attacker"
    fixated.save()
    before = fixated.session_key

    sign_in(client, "bor-member")
    assert client.session.session_key != before


def test_idle_session_ends_after_thirty_minutes(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, "bor-member")
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
        response = client.get("/agreements/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        login_page = client.get(response["Location"]).content.decode()
        assert "signed out after a period of inactivity" in login_page
    event = AuditEvent.objects.filter(action="auth.signed_out").latest("id")
    assert event.details["reason"] == "idle_timeout"


def test_busy_session_still_ends_after_twelve_hours(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, "bor-member")
    for minutes in range(20, 12 * 60, 20):  # a request every 20 minutes all day
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/").status_code == 200, f"ended early, at {minutes} minutes"
    with time_machine.travel(start + timedelta(hours=12, minutes=5), tick=False):
        assert client.get("/").status_code == 302
    event = AuditEvent.objects.filter(action="auth.signed_out").latest("id")
    assert event.details["reason"] == "absolute_timeout"


def test_timeouts_are_configurable(world, client, settings):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, "bor-member")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert client.get("/").status_code == 302


def test_an_expired_session_cannot_call_the_api(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, "bor-member")
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        assert client.get("/api/v1/me/").status_code == 401


def test_sign_out_everywhere_ends_every_session(world):
    laptop, phone = Client(), Client()
    sign_in(laptop, "bor-member")
    sign_in(phone, "bor-member")
    Token.objects.create(user=world.b_member)
    assert UserSession.objects.filter(user=world.b_member).count() == 2

    response = laptop.post("/profile/sign-out-everywhere/")
    assert response.status_code == 302

    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    assert not UserSession.objects.filter(user=world.b_member).exists()
    signed_in_as = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(world.b_member.pk) not in signed_in_as
    event = AuditEvent.objects.get(action="auth.signed_out_everywhere")
    assert event.details["ended_sessions"] == 2
    # The API token is a separate credential, revoked on its own.
    assert Token.objects.filter(user=world.b_member).exists()


def test_deactivation_ends_the_persons_sessions_and_token_at_once(world):
    browser = Client()
    sign_in(browser, "atl-member-9f3k")
    token = Token.objects.create(user=world.a_member)

    services.deactivate_member(actor=world.a_admin, membership=world.a_member.membership)

    assert browser.get("/").status_code == 302
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").status_code == 401
