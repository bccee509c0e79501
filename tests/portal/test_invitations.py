"""Invitations an admin can follow up: pending until accepted, resent with a new link (the old
one stops working) or revoked; the username suggested from the name; each role described;
and deactivation that says what it ends before it happens."""

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from portal import invitations, services
from portal.models import AuditEvent, Invitation, Membership, Role
from tests.factories import PASSWORD, UserFactory

LINK = re.compile(r"http://testserver(/accounts/password/reset/key/\S+/)")


def invite(world, **overrides):
    data = {
        "actor": world.a_admin,
        "organisation": world.a,
        "username": "kadri.kask",
        "email": "kadri@atl.example",
        "first_name": "Kadri",
        "last_name": "Kask",
        "roles": [Role.REVIEWER],
        "base_url": "http://testserver/",
    }
    data.update(overrides)
    return services.invite_member(**data)


def link_in(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def link_works(path: str) -> bool:
    """Whether the emailed link still leads to the set-password form."""
    response = Client().get(path, follow=True)
    return b'name="password1"' in response.content


def members_page(client, world):
    return client.get(f"/organisations/{world.a.slug}/members/").content.decode()


# --- Pending invitations on the members page ----------------------------------------------------


def test_admin_sees_a_pending_invitation_with_its_state_and_age(world, client):
    membership = invite(world)
    Invitation.objects.filter(membership=membership).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    client.force_login(world.a_admin)

    body = members_page(client, world)

    assert "1 invitation waiting to be accepted" in body
    panel = body[body.index('id="pending-invitations"') :]
    assert "Kadri Kask" in panel and "kadri@atl.example" in panel
    assert "Pending" in panel and "2\xa0days ago" in panel
    assert "by " in panel and "Resend" in panel and "Revoke…" in panel
    # In the member list itself the person reads as invited, not yet an active member.
    assert "Invited" in body


def test_an_accepted_invitation_leaves_the_pending_list(world, client):
    membership = invite(world)
    path = link_in(mail.outbox[-1])
    browser = Client()
    response = browser.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    browser.post(
        form_url, {"password1": "a-long-fresh-pass-2026", "password2": "a-long-fresh-pass-2026"}
    )
    client.force_login(world.a_admin)

    assert Invitation.objects.get(membership=membership).state() == "accepted"
    assert "invitation waiting" not in members_page(client, world)


def test_an_expired_link_says_so_and_can_be_resent(world, client):
    membership = invite(world)
    Invitation.objects.filter(membership=membership).update(
        sent_at=timezone.now() - datetime.timedelta(days=4)
    )
    client.force_login(world.a_admin)

    body = members_page(client, world)

    assert "Link expired" in body and "Resend" in body


def test_members_without_the_admin_role_do_not_see_invitations(world, client):
    invite(world)
    client.force_login(world.a_member)

    body = members_page(client, world)

    assert "invitation waiting" not in body and "Resend" not in body


# --- Resend and revoke --------------------------------------------------------------------------


def test_resending_emails_a_new_link_and_the_old_one_stops_working(world, client):
    membership = invite(world)
    old = link_in(mail.outbox[-1])
    assert link_works(old)
    client.force_login(world.a_admin)

    response = client.post(
        f"/organisations/{world.a.slug}/members/{membership.pk}/invitation/resend/", follow=True
    )

    assert "A new link was emailed to kadri@atl.example" in response.content.decode()
    new = link_in(mail.outbox[-1])
    assert mail.outbox[-1].to == ["kadri@atl.example"] and new != old
    assert not link_works(old)
    assert link_works(new)
    invitation = Invitation.objects.get(membership=membership)
    assert invitation.times_sent == 2 and invitation.state() == "pending"
    event = AuditEvent.objects.filter(action="member.invitation_resent").latest("id")
    assert event.actor == world.a_admin and event.organisation == world.a


def test_revoking_asks_first_then_the_link_stops_working(world, client):
    membership = invite(world)
    link = link_in(mail.outbox[-1])
    client.force_login(world.a_admin)
    url = f"/organisations/{world.a.slug}/members/{membership.pk}/invitation/revoke/"

    body = members_page(client, world)
    # The revoke button sits behind a confirmation that says what happens.
    confirm = body[body.index('<details class="confirm">') :]
    confirm = confirm[: confirm.index("</details>")]
    assert "The link sent to kadri@atl.example stops working" in confirm
    assert f'action="{url}"' in confirm and "button-danger" in confirm

    response = client.post(url, follow=True)

    assert "The invitation of kadri.kask was revoked" in response.content.decode()
    assert not link_works(link)
    membership.user.refresh_from_db()
    assert not membership.user.is_active
    assert not membership.user.groups.exists()  # no grant through the organisation
    assert "Invitation revoked" in members_page(client, world)
    assert "invitation waiting" not in members_page(client, world)
    assert AuditEvent.objects.filter(action="member.invitation_revoked").exists()


def test_an_accepted_invitation_can_be_neither_resent_nor_revoked(world):
    with pytest.raises(ValidationError, match="already accepted"):
        services.resend_invitation(
            actor=world.a_admin, membership=world.a_pm.membership, base_url="http://testserver/"
        )
    with pytest.raises(ValidationError, match="already accepted"):
        services.revoke_invitation(actor=world.a_admin, membership=world.a_pm.membership)
    world.a_pm.refresh_from_db()
    assert world.a_pm.is_active and world.a_pm.check_password(PASSWORD)


def test_a_revoked_invitation_cannot_be_resent(world):
    membership = invite(world)
    services.revoke_invitation(actor=world.a_admin, membership=membership)
    with pytest.raises(ValidationError, match="was revoked"):
        services.resend_invitation(
            actor=world.a_admin, membership=membership, base_url="http://testserver/"
        )


def test_only_the_organisations_own_admins_resend_or_revoke(world, client):
    membership = invite(world)
    b_admin = UserFactory(organisation=world.b, username="bor-admin", roles=[Role.ORG_ADMIN])
    mail.outbox.clear()

    for actor in (b_admin, world.a_member):
        with pytest.raises(PermissionDenied):
            services.resend_invitation(
                actor=actor, membership=membership, base_url="http://testserver/"
            )
        with pytest.raises(PermissionDenied):
            services.revoke_invitation(actor=actor, membership=membership)

    client.force_login(b_admin)
    base = f"/organisations/{world.a.slug}/members/{membership.pk}/invitation/"
    # A's directory entry is public, so managing its people is refused, not hidden...
    assert client.post(base + "resend/").status_code == 403
    assert client.post(base + "revoke/").status_code == 403
    # ...and A's invitation does not exist under B's own address.
    own = f"/organisations/{world.b.slug}/members/{membership.pk}/invitation/"
    assert client.post(own + "resend/").status_code == 404
    assert client.post(own + "revoke/").status_code == 404
    # B's admin cannot see A's members page, and so none of its invitations.
    assert client.get(f"/organisations/{world.a.slug}/members/").status_code == 404
    assert mail.outbox == []
    membership.user.refresh_from_db()
    assert membership.user.is_active
    assert Invitation.objects.get(membership=membership).times_sent == 1


# --- The username suggested from the name -------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "email", "expected"),
    [
        ("Kadri", "Kask", "", "kadri.kask"),
        ("Jürgen", "Øster-Møller", "", "jurgen.oster.moller"),
        ("Łukasz", "Żółć", "", "lukasz.zolc"),
        ("Æsa", "Straße", "", "aesa.strasse"),
        ("مريم", "", "maryam.h@atl.example", "maryam.h"),
        ("", "", "", "member"),
    ],
)
def test_username_is_suggested_in_ascii_from_the_name(db, first, last, email, expected):
    assert invitations.suggest_username(first, last, email) == expected


def test_a_suggested_username_is_made_unique(world):
    UserFactory(organisation=world.a, username="kadri.kask")
    UserFactory(organisation=world.b, username="Kadri.Kask2")

    assert invitations.suggest_username("Kadri", "Kask") == "kadri.kask3"


def test_without_script_an_empty_username_is_suggested_when_the_invitation_is_sent(world, client):
    UserFactory(organisation=world.b, username="kadri.kask")
    client.force_login(world.a_admin)

    response = client.post(
        f"/organisations/{world.a.slug}/members/invite/",
        {"first_name": "Kadri", "last_name": "Kask", "email": "kadri@atl.example"},
        follow=True,
    )

    assert "kadri.kask2 was invited" in response.content.decode()
    assert Membership.objects.get(user__username="kadri.kask2").organisation == world.a


def test_the_invite_form_is_given_a_free_username_for_the_name_being_typed(world, client):
    UserFactory(organisation=world.b, username="kadri.kask")
    client.force_login(world.a_admin)
    url = f"/organisations/{world.a.slug}/members/invite/username/"

    answer = client.get(url, {"first_name": "Kadri", "last_name": "Kask"})

    assert answer.json() == {"username": "kadri.kask2"}
    assert client.get(url, {"email": "mari@atl.example"}).json() == {"username": "mari"}


def test_the_invite_form_asks_for_suggestions_and_describes_each_role(world, client):
    client.force_login(world.a_admin)

    body = client.get(f"/organisations/{world.a.slug}/members/invite/").content.decode()

    assert f'data-suggest-url="/organisations/{world.a.slug}/members/invite/username/"' in body
    assert "js/username" in body
    assert "Left empty, the portal suggests one" in body
    for role, line in (
        ("org_admin", "Invites people, changes their roles and reads the organisation"),
        ("programme_manager", "Drafts agreements, runs projects"),
        ("signatory", "Signs or declines agreements on behalf of the organisation."),
        ("reviewer", "Accepts the milestones and deliverables of projects they review"),
    ):
        box = re.search(rf'<input type="checkbox" name="roles" value="{role}"[^>]*>', body)
        assert box, role
        described = re.search(r'aria-describedby="([^"]+)"', box.group(0)).group(1)
        assert re.search(rf'id="{described}">{re.escape(line)}', body.replace("&#x27;", "'")), role


def test_username_suggestions_are_for_the_organisations_admins_only(world, client):
    url = f"/organisations/{world.a.slug}/members/invite/username/?first_name=Kadri"
    client.force_login(world.a_member)
    assert client.get(url).status_code == 403
    client.force_login(world.c_member)
    assert client.get(url).status_code == 403


# --- Deactivation says what it ends -------------------------------------------------------------


def test_deactivation_asks_first_and_lists_what_it_ends(world, client):
    victim = world.a_pm
    Client().post("/accounts/login/", {"login": victim.username, "password": PASSWORD})
    services.rotate_api_token(actor=victim)
    client.force_login(world.a_admin)
    url = f"/organisations/{world.a.slug}/members/{victim.membership.pk}/activation/"

    page = client.get(url)

    body = page.content.decode()
    assert page.status_code == 200 and victim.is_active
    assert "Their 1 open session ends" in body
    assert "Their API token is deleted" in body
    assert re.search(r'<button type="submit" class="button button-danger">Deactivate atl-pm', body)
    assert re.search(r'<a class="button button-quiet" href="[^"]+">Cancel</a>', body)
    # The member page leads there rather than deactivating in one click.
    member_page = client.get(f"/organisations/{world.a.slug}/members/{victim.membership.pk}/")
    assert f'href="{url}"' in member_page.content.decode()

    client.post(url)
    victim.refresh_from_db()
    assert not victim.is_active


def test_deactivation_counts_red_shares_reviews_and_the_calendar_feed(db):
    from agreements import services as agreement_services
    from projects import feed
    from projects import services as project_services
    from tests.agreements.conftest import draft_between, sign_by_all
    from tests.conftest import make_world
    from tests.resources.conftest import new_resource, share_with_b

    world = make_world()
    world.extra["b_pm"] = UserFactory(
        organisation=world.b, username="bor-pm", roles=[Role.PROGRAMME_MANAGER]
    )
    world.extra["b_signatory"] = UserFactory(
        organisation=world.b, username="bor-signatory", roles=[Role.SIGNATORY]
    )
    agreement = draft_between(world, tlp_ceiling="red", kind="joint_rd")
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    world.extra["ab_agreement"] = sign_by_all(world, agreement)
    reviewer = UserFactory(organisation=world.b, username="bor-rev", roles=[Role.REVIEWER])
    for title in ("Red one", "Red two"):
        share_with_b(world, new_resource(world, title=title, tlp="red"), recipient_users=[reviewer])
    today = timezone.localdate()
    project = project_services.create_project(
        actor=world.a_pm,
        acronym="WATCH",
        title="Watch",
        kind="research",
        agreement=world.ab_agreement,
        start_date=today,
        end_date=today + datetime.timedelta(days=90),
        partners=[world.b],
    )
    project_services.assign_reviewer(actor=world.a_pm, project=project, user=reviewer)
    feed.create_calendar_feed(actor=reviewer)

    said = invitations.deactivation_summary(reviewer).sentences

    assert "They lose 2 TLP:RED resources shared with them by name." in said
    assert "Their reviewer assignment on 1 project stops giving them access." in said
    assert "Their calendar feed address stops answering." in said
    assert any("no open session" in sentence for sentence in said)
