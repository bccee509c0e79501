"""Platform staff run organisations and accounts in the admin, through the services."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import NoReverseMatch, reverse
from rest_framework.authtoken.models import Token

from portal import services
from portal.admin_site import PortalAdminSite
from portal.models import AuditEvent, Membership, Organisation
from tests.access.admin_routes import comparable

User = get_user_model()


def test_staff_creates_an_organisation_with_its_group_and_an_audit_event(world, client):
    client.force_login(world.staff)
    response = client.post(
        "/admin/portal/organisation/add/",
        {
            "name": "Danube Regulator",
            "slug": "dan-reg",
            "country": "AT",
            "kind": "regulator",
            "website": "",
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    organisation = Organisation.objects.get(slug="dan-reg")
    assert organisation.group.name == "org:dan-reg"
    assert AuditEvent.objects.filter(
        action="organisation.created", object_id=str(organisation.pk)
    ).exists()


def test_an_invalid_country_code_is_refused_with_a_message(world, client):
    client.force_login(world.staff)
    response = client.post(
        "/admin/portal/organisation/add/",
        {"name": "Nowhere", "slug": "nowhere", "country": "XX", "kind": "regulator"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Organisation.objects.filter(slug="nowhere").exists()


def test_staff_invites_an_account_into_an_organisation(world, client):
    client.force_login(world.staff)
    response = client.post(
        "/admin/portal/membership/add/",
        {
            "organisation": world.b.pk,
            "username": "bor-signatory",
            "email": "signatory@bor.example",
            "first_name": "Signe",
            "last_name": "Borg",
            "job_title": "Director",
            "roles": ["signatory"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    membership = Membership.objects.get(user__username="bor-signatory")
    assert membership.organisation == world.b and membership.signatory
    assert mail.outbox[0].to == ["signatory@bor.example"]


def test_staff_changes_roles_through_the_service(world, client):
    client.force_login(world.staff)
    membership = world.b_member.membership
    response = client.post(f"/admin/portal/membership/{membership.pk}/change/", {"reviewer": "on"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.roles == ["reviewer"]
    assert AuditEvent.objects.filter(action="member.roles_changed", actor=world.staff).exists()


def test_partners_cannot_enter_the_admin(world, client):
    client.force_login(world.a_admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_exposes_no_tokens_no_audit_and_no_grants(world, client):
    client.force_login(world.staff)
    index = client.get("/admin/").content.decode()
    assert "/admin/portal/organisation/" in index
    for hidden in ("authtoken", "auditevent", "groupobjectpermission", "authenticator"):
        assert hidden not in index.lower(), hidden


# --- No impersonation: staff never hold a partner's credentials --------------------------------


def test_there_is_no_set_password_page_for_any_account(world, client):
    client.force_login(world.staff)
    with pytest.raises(NoReverseMatch):
        reverse("admin:auth_user_password_change", args=[world.a_member.pk])

    response = client.get(f"/admin/auth/user/{world.a_member.pk}/password/", follow=True)

    page = response.content.decode()
    assert 'name="password1"' not in page and 'name="password2"' not in page
    assert not response.context or "adminform" not in response.context


def test_an_account_page_shows_no_password_hash_and_cannot_change_identity(world, client):
    client.force_login(world.staff)
    member = world.a_member
    url = f"/admin/auth/user/{member.pk}/change/"
    hashed = member.password.split("$")[-1]

    page = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "first_name": "Renamed",
            "last_name": "Person",
            "email": "operator@evil.example",
            "username": "taken-over",
            "password": "md5$x$y",
            "is_superuser": "on",
        },
    )

    assert hashed[:6] not in page and "algorithm" not in page
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.first_name, member.last_name) == ("Renamed", "Person")
    assert member.email == "atl-member-9f3k@atl-csirt.example"
    assert member.username == "atl-member-9f3k" and not member.is_superuser
    assert member.password.split("$")[-1] == hashed
    event = AuditEvent.objects.get(action="account.updated", object_id=str(member.pk))
    assert event.actor == world.staff and event.organisation == world.a


def test_staff_cannot_create_or_delete_accounts_in_the_admin(world, client):
    client.force_login(world.staff)
    assert client.get("/admin/auth/user/add/").status_code == 403
    assert client.post(f"/admin/auth/user/{world.a_member.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=world.a_member.pk).exists()


def test_staff_send_a_reset_link_that_only_the_mailbox_owner_completes(world, client):
    client.force_login(world.staff)
    member = world.a_member

    response = client.post(
        "/admin/auth/user/",
        {"action": "send_password_reset", "_selected_action": [member.pk], "index": 0},
    )

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [[member.email]]
    event = AuditEvent.objects.get(action="account.password_reset_sent")
    assert (event.actor, event.organisation, event.object_id) == (
        world.staff,
        world.a,
        str(member.pk),
    )
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    # The owner opens the link in their mailbox and chooses a password; then it is theirs.
    owner = Client()
    form = owner.get(link.group(1), follow=True)
    new_password = "a-new-passphrase-for-atlantis"
    done = owner.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    member.refresh_from_db()
    assert member.check_password(new_password)


def test_no_reset_link_goes_to_a_deactivated_account(world, client):
    services.deactivate_member(actor=world.staff, membership=world.a_member.membership)
    client.force_login(world.staff)

    client.post(
        "/admin/auth/user/",
        {"action": "send_password_reset", "_selected_action": [world.a_member.pk], "index": 0},
    )

    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="account.password_reset_sent").exists()


def test_staff_deactivate_an_account_and_it_is_audited_for_its_organisation(world, client):
    member = world.b_member
    services.rotate_api_token(actor=member)
    client.force_login(world.staff)

    response = client.post(
        "/admin/auth/user/",
        {"action": "deactivate", "_selected_action": [member.pk], "index": 0},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert not Token.objects.filter(user=member).exists()
    event = AuditEvent.objects.get(action="member.deactivated")
    assert (event.actor, event.organisation) == (world.staff, world.b)


def test_organisation_changes_concern_that_organisation(world, client):
    client.force_login(world.staff)
    data = {"name": "Borealis Cyber Centre", "country": "FI", "kind": "regulator"}
    client.post(f"/admin/portal/organisation/{world.b.pk}/change/", data)

    event = AuditEvent.objects.get(action="organisation.updated")
    assert (event.actor, event.organisation) == (world.staff, world.b)


# --- The site itself ----------------------------------------------------------------------------


def test_the_admin_holds_only_the_portals_own_admins():
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.models import UserSession
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import TokenProxy

    assert set(admin.site._registry) == {Organisation, Membership, User}
    for declined in (UserSession, TokenProxy, EmailAddress, Authenticator, Group):
        assert declined in admin.site.declined, declined


def test_staff_cannot_give_an_account_an_address_of_their_own(world, client):
    """allauth's reset page sends a link to every address of an account: an address staff
    added would be a way in."""
    client.force_login(world.staff)
    assert client.get("/admin/account/emailaddress/add/").status_code == 404


def test_view_on_site_tells_staff_nothing_of_objects_outside_the_admin(world, client):
    from tests.agreements.conftest import draft_between

    agreement = draft_between(world, title="Hidden from staff")
    content_type = ContentType.objects.get_for_model(agreement).pk
    client.force_login(world.staff)

    existing = client.get(f"/admin/r/{content_type}/{agreement.pk}/")
    missing = client.get(f"/admin/r/{content_type}/{agreement.pk + 1000}/")

    assert existing.status_code == missing.status_code == 404
    assert comparable(existing) == comparable(missing)


def test_the_site_passes_its_own_secret_checks():
    errors = [e for e in admin.site.check(None) if e.id.startswith("portal.")]
    assert errors == []


def test_an_admin_that_names_a_secret_stops_the_site_at_startup():
    site = PortalAdminSite(name="probe")

    class LeakyUserAdmin(admin.ModelAdmin):
        list_display = ["username", "password"]
        search_fields = ["auth_token__key"]
        list_filter = ["usersession__session_key"]
        ordering = ["-auth_token"]
        readonly_fields = ["show_token"]

        def save_model(self, request, obj, form, change):
            raise AssertionError("never saved here")

    site.register(User, LeakyUserAdmin)
    messages = [e.msg for e in site.check(None) if e.id == "portal.E100"]

    for name in (
        "password",
        "auth_token__key",
        "usersession__session_key",
        "auth_token",
        "show_token",
    ):
        assert any(repr(name) in message for message in messages), (name, messages)


def test_an_admin_whose_default_form_would_show_a_secret_stops_the_site_at_startup():
    from projects.models import CalendarFeed

    site = PortalAdminSite(name="probe")

    class FeedAdmin(admin.ModelAdmin):
        def has_add_permission(self, request):
            return False

    site.register(CalendarFeed, FeedAdmin)
    messages = [e.msg for e in site.check(None) if e.id == "portal.E100"]

    assert any("'token'" in message for message in messages), messages


def test_an_admin_that_saves_without_a_service_stops_the_site_at_startup():
    site = PortalAdminSite(name="probe")

    class DirectAdmin(admin.ModelAdmin):
        fields = ["name"]

    site.register(Organisation, DirectAdmin)

    assert [e.id for e in site.check(None) if e.id.startswith("portal.")] == ["portal.E102"]


def test_a_secret_asked_for_at_request_time_is_refused_too(world):
    site = PortalAdminSite(name="probe")

    class SneakyAdmin(admin.ModelAdmin):
        def get_search_fields(self, request):
            return ["usersession__session_key"]

        def save_model(self, request, obj, form, change):
            raise AssertionError("never saved here")

    site.register(User, SneakyAdmin)
    with pytest.raises(ImproperlyConfigured):
        site._registry[User].get_search_fields(None)
