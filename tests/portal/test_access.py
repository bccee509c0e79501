"""The access layer: grants, decisions, drift and repair."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.http import Http404

from portal import access
from portal.models import Organisation, OrganisationGroupObjectPermission


def test_visible_to_gives_member_lists_only_to_the_organisation_itself(world):
    own = access.visible_to(world.a_member, Organisation.objects.all(), "view_members")
    assert list(own) == [world.a]
    assert not access.visible_to(
        world.c_member, Organisation.objects.filter(pk=world.a.pk), "view_members"
    ).exists()


def test_directory_is_public_to_signed_in_users_but_hides_inactive_organisations(world):
    from portal import services

    services.update_organisation(actor=world.staff, organisation=world.c, is_active=False)

    seen_by_a = set(access.visible_to(world.a_member, Organisation.objects.all()))
    assert {world.a, world.b} <= seen_by_a and world.c not in seen_by_a
    # Its own members hold none of its grants any more, not even their own member list.
    world.c_member.refresh_from_db()
    assert world.c not in access.visible_to(world.c_member, Organisation.objects.all())
    assert not world.c_member.groups.exists()


def test_anonymous_and_deactivated_users_see_nothing(world, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert not access.visible_to(AnonymousUser(), Organisation.objects.all()).exists()
    world.a_member.is_active = False
    assert not access.visible_to(world.a_member, Organisation.objects.all()).exists()


def test_staff_hold_no_grant_bypass(world):
    assert access.decide(world.staff, "view_members", world.a) is access.Decision.HIDE
    assert access.decide(world.staff, "manage_members", world.a) is access.Decision.DENY


def test_require_raises_404_for_hidden_and_403_with_a_reason_for_refused(world):
    with pytest.raises(Http404):
        access.require(world.c_member, "view_members", world.a)
    with pytest.raises(PermissionDenied, match="Only this organisation's admins"):
        access.require(world.a_member, "manage_members", world.a)
    access.require(world.a_admin, "manage_members", world.a)


def test_an_unknown_action_is_a_programming_error_not_a_silent_yes(world):
    with pytest.raises(ValueError, match="knows no action 'launch'"):
        access.can(world.a_admin, "launch", world.a)


def test_visibility_is_one_query_and_follows_group_changes_at_once(
    world, django_assert_num_queries
):
    from resources.models import Resource

    # Loaded as every request loads the signed-in user (portal.auth_backends).
    user = (
        type(world.a_member)
        .objects.select_related("membership__organisation")
        .get(pk=world.a_member.pk)
    )
    resource = Resource.objects.create(
        owner=world.b,
        title="Borealis notes",
        kind="report",
        data_category="incidents",
        tlp="amber",
        created_by=world.b_member,
    )
    access.sync_object(resource)
    with django_assert_num_queries(1):  # the user's groups are part of the one query
        assert list(access.visible_to(user, Resource.objects.all())) == []
    user.groups.add(world.b.group_id)  # as a membership change would
    assert list(access.visible_to(user, Resource.objects.all())) == [resource]


def test_hidden_and_missing_objects_answer_with_the_same_page(world, client):
    client.force_login(world.c_member)
    hidden = client.get(f"/organisations/{world.a.slug}/members/")
    missing = client.get("/organisations/no-such-org/members/")
    assert hidden.status_code == missing.status_code == 404
    assert _without_per_request_tokens(hidden) == _without_per_request_tokens(missing)


def _without_per_request_tokens(response) -> str:
    """The CSP nonce and the CSRF token differ on every response; nothing else may."""
    body = response.content.decode()
    body = re.sub(r'nonce="[^"]+"', 'nonce=""', body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', body)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_reconcile_reports_a_removed_grant_and_repairs_it(world, capsys):
    OrganisationGroupObjectPermission.objects.filter(content_object=world.a).delete()
    assert not access.can(world.a_member, "view_members", world.a)

    with pytest.raises(CommandError, match="drifted"):
        call_command("reconcile_grants", "--check")
    assert "Atlantis National CSIRT" in capsys.readouterr().out

    call_command("reconcile_grants")
    call_command("reconcile_grants", "--check")
    assert access.can(world.a_member, "view_members", world.a)


def test_reconcile_removes_a_grant_nobody_decided(world):
    # Someone hand-grants C the member list of A, outside every service.
    permission = Permission.objects.get(codename="view_members")
    OrganisationGroupObjectPermission.objects.create(
        content_object=world.a, group=world.c.group, permission=permission
    )
    assert access.can(world.c_member, "view_members", world.a)

    report = access.reconcile(repair=True)

    assert [d.obj for d in report.grant_drift] == [world.a]
    assert not access.can(
        type(world.c_member).objects.get(pk=world.c_member.pk), "view_members", world.a
    )


def test_reconcile_puts_a_member_back_into_their_organisation_group(world):
    world.a_member.groups.clear()
    report = access.reconcile(repair=False)
    assert any("atl-member" in line for line in report.membership_drift)

    access.reconcile(repair=True)

    assert world.a_member.groups.filter(pk=world.a.group_id).exists()
    assert access.reconcile(repair=False).clean


def test_later_apps_can_add_grant_sources(world):
    """The registry lets e.g. agreements open member lists to partners."""

    def partners_of_a(organisation):
        if organisation == world.a:
            yield access.Grant("view_members", group_id=world.b.group_id, reason="test partner")

    policy = access.policy_for(Organisation)
    policy.sources.append(partners_of_a)
    try:
        access.sync_object(world.a)
        assert access.can(world.b_member, "view_members", world.a)
        assert {
            "who": "Members of Borealis Cyber Centre",
            "action": "See the member list",
            "why": "test partner",
        } in access.explain(world.a)
    finally:
        policy.sources.remove(partners_of_a)
        access.sync_object(world.a)
    assert not access.can(world.b_member, "view_members", world.a)


def test_who_can_see_panel_explains_the_directory_and_the_member_list(world, client):
    client.force_login(world.a_member)
    body = client.get(world.a.get_absolute_url()).content.decode()
    assert "Who can see this, and why" in body
    assert "Every signed-in user" in body and "Members of Atlantis National CSIRT" in body

    client.force_login(world.c_member)
    assert (
        "Who can see this, and why" not in client.get(world.a.get_absolute_url()).content.decode()
    )
