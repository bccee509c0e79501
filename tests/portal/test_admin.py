"""Platform staff run organisations and accounts in the admin, through the services."""

from django.core import mail

from portal.models import AuditEvent, Membership, Organisation


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
