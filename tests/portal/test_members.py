"""Organisation admins manage their own people: invite, roles, deactivation."""

import re

import pytest
from allauth.usersessions.models import UserSession
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from portal import access, services
from portal.models import AuditEvent, Membership, Role
from tests.factories import PASSWORD, UserFactory


def invite(world, **overrides):
    data = {
        "actor": world.a_admin,
        "organisation": world.a,
        "username": "new-analyst",
        "email": "analyst@atl.example",
        "first_name": "Nora",
        "last_name": "Analyst",
        "roles": [Role.REVIEWER],
        "base_url": "http://testserver/",
    }
    data.update(overrides)
    return services.invite_member(**data)


def test_invited_person_sets_a_password_through_the_emailed_link_and_signs_in(world, client):
    membership = invite(world)

    assert membership.organisation == world.a and membership.roles == ["reviewer"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["analyst@atl.example"]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0]
    new_password = "a-long-fresh-passphrase-2026"
    client.post(form_url, {"password1": new_password, "password2": new_password})

    assert (
        client.post(
            "/accounts/login/", {"login": "new-analyst", "password": new_password}
        ).status_code
        == 302
    )
    assert client.get("/").status_code == 200
    # The link is one-time: the password it set changed the token's inputs.
    second = Client().get(link.group(1), follow=True)
    assert b"invalid" in second.content.lower() or b"expired" in second.content.lower()


def test_invitation_is_audited_and_puts_the_person_in_the_organisation_group(world):
    membership = invite(world)

    assert membership.user.groups.filter(pk=world.a.group_id).exists()
    event = AuditEvent.objects.filter(action="member.invited").latest("id")
    assert event.actor == world.a_admin and event.organisation == world.a
    assert event.details["roles"] == ["reviewer"]


def test_admin_cannot_invite_into_another_organisation(world):
    with pytest.raises(PermissionDenied):
        invite(world, organisation=world.b)
    assert not Membership.objects.filter(user__username="new-analyst").exists()
    assert mail.outbox == []


def test_member_without_the_admin_role_cannot_invite(world):
    with pytest.raises(PermissionDenied):
        invite(world, actor=world.a_member)


def test_duplicate_username_or_email_is_refused_and_nothing_is_created(world):
    with pytest.raises(ValidationError, match="username"):
        invite(world, username=world.a_member.username.upper())
    # An address with an account anywhere: no second account, and the admin is answered as
    # if it were new (tests/portal/test_invite_address.py); its owner is told instead.
    assert invite(world, email=world.b_member.email) is None
    assert not Membership.objects.filter(user__username="new-analyst").exists()
    assert [m.to for m in mail.outbox] == [[world.b_member.email]]


def test_unknown_role_is_refused(world):
    with pytest.raises(ValidationError, match="Unknown roles: emperor"):
        invite(world, roles=["emperor"])


def test_roles_change_is_audited_with_before_and_after(world):
    membership = world.a_member.membership

    services.change_member_roles(
        actor=world.a_admin, membership=membership, roles=[Role.SIGNATORY, Role.REVIEWER]
    )

    membership.refresh_from_db()
    assert membership.roles == ["signatory", "reviewer"]
    event = AuditEvent.objects.get(action="member.roles_changed")
    assert event.details["before"] == [] and event.details["after"] == ["reviewer", "signatory"]


def test_the_last_active_admin_cannot_drop_the_admin_role(world):
    with pytest.raises(ValidationError, match="at least one active admin"):
        services.change_member_roles(
            actor=world.a_admin, membership=world.a_admin.membership, roles=[]
        )
    world.a_admin.membership.refresh_from_db()
    assert world.a_admin.membership.org_admin


def test_deactivation_ends_sessions_and_api_token_at_once(world):
    victim = world.a_pm
    browser = Client()
    browser.post("/accounts/login/", {"login": victim.username, "password": PASSWORD})
    assert browser.get("/").status_code == 200
    assert UserSession.objects.filter(user=victim).exists()
    token = services.rotate_api_token(actor=victim)

    services.deactivate_member(actor=world.a_admin, membership=victim.membership)

    assert browser.get("/").status_code == 302  # back to sign-in
    assert not UserSession.objects.filter(user=victim).exists()
    assert not Token.objects.filter(key=token.key).exists()
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").status_code == 401
    victim.refresh_from_db()
    assert not victim.is_active
    assert not victim.groups.filter(pk=world.a.group_id).exists()
    assert AuditEvent.objects.filter(action="member.deactivated").exists()


def test_deactivated_member_cannot_sign_in_and_can_be_reactivated(world, client):
    services.deactivate_member(actor=world.a_admin, membership=world.a_pm.membership)
    response = client.post("/accounts/login/", {"login": "atl-pm", "password": PASSWORD})
    assert client.get("/").status_code == 302, response

    services.reactivate_member(actor=world.a_admin, membership=world.a_pm.membership)

    assert (
        client.post("/accounts/login/", {"login": "atl-pm", "password": PASSWORD}).status_code
        == 302
    )
    assert client.get("/").status_code == 200


def test_admin_cannot_deactivate_themselves(world):
    with pytest.raises(ValidationError, match="your own account"):
        services.deactivate_member(actor=world.a_admin, membership=world.a_admin.membership)


def test_admin_of_another_organisation_cannot_deactivate(world):
    b_admin = UserFactory(organisation=world.b, roles=[Role.ORG_ADMIN])
    with pytest.raises(PermissionDenied):
        services.deactivate_member(actor=b_admin, membership=world.a_member.membership)
    world.a_member.refresh_from_db()
    assert world.a_member.is_active


def test_admin_filters_members_by_role(world, client):
    client.force_login(world.a_admin)
    response = client.get(f"/organisations/{world.a.slug}/members/?role=programme_manager")
    body = response.content.decode()
    assert "atl-pm" in body and "atl-member-9f3k" not in body
    assert "Programme manager" in body


def test_member_list_queries_do_not_grow_with_members(world, client):
    client.force_login(world.a_member)
    url = f"/organisations/{world.a.slug}/members/"
    client.get(url)  # warm the session and the permission-id cache
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(20):
        UserFactory(organisation=world.a, username=f"extra-{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["paginator"].count == 23
    assert len(many.captured_queries) == len(few.captured_queries)


def test_invite_form_shows_clear_errors_and_creates_nothing(world, client):
    client.force_login(world.a_admin)
    response = client.post(
        f"/organisations/{world.a.slug}/members/invite/",
        {"username": "bad name!", "email": "not-an-email", "roles": ["emperor"]},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid username" in body
    assert "Enter a valid email address" in body
    assert "Select a valid choice" in body
    assert not Membership.objects.filter(user__username="bad name!").exists()


def test_admin_deactivates_through_the_page(world, client):
    client.force_login(world.a_admin)
    url = f"/organisations/{world.a.slug}/members/{world.a_pm.membership.pk}/activation/"
    response = client.post(url, follow=True)
    assert "atl-pm was deactivated" in response.content.decode()
    world.a_pm.refresh_from_db()
    assert not world.a_pm.is_active


def test_member_of_another_organisation_is_not_reachable_through_ours(world, client):
    """A membership id from another organisation under our slug is a 404, not a leak."""
    client.force_login(world.a_admin)
    url = f"/organisations/{world.a.slug}/members/{world.b_member.membership.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url + "activation/").status_code == 404
    world.b_member.refresh_from_db()
    assert world.b_member.is_active


def test_staff_cannot_manage_members_through_the_portal_pages(world, client):
    client.force_login(world.staff)
    assert client.get(f"/organisations/{world.a.slug}/members/invite/").status_code == 403
    assert client.get(f"/organisations/{world.a.slug}/members/").status_code == 404
    with pytest.raises(Http404):
        access.require(world.staff, "view_members", world.a)
