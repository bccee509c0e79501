"""Grants follow the facts about a person at once: a role removed, an organisation deactivated.

Nothing here waits for `reconcile_grants`: each change is made through its service and the
next request already answers by the new facts, in the UI and the API.
"""

import pytest
from rest_framework.test import APIClient

from portal import access
from portal import services as portal_services
from portal.models import Role
from projects import services
from resources import services as resource_services
from resources.models import Resource
from tests.agreements.conftest import fresh_reauth
from tests.factories import UserFactory
from tests.resources.conftest import new_resource


@pytest.fixture
def reviewed(consortium):
    services.assign_reviewer(
        actor=consortium.a_pm, project=consortium.project, user=consortium.reviewer_1
    )
    panel_admin = UserFactory(
        organisation=consortium.panel, username="panel-admin", roles=[Role.ORG_ADMIN]
    )
    consortium.extra["panel_admin"] = panel_admin
    return consortium


def opens_project(world, user) -> tuple[int, int]:
    client, api = APIClient(), APIClient()
    client.force_login(user)
    api.force_authenticate(user)
    project = world.project
    return (
        client.get(project.get_absolute_url()).status_code,
        api.get(f"/api/v1/projects/{project.pk}/").status_code,
    )


def test_removing_the_reviewer_role_ends_project_access_at_once(reviewed):
    reviewer = reviewed.reviewer_1
    assert opens_project(reviewed, reviewer) == (200, 200)

    portal_services.change_member_roles(
        actor=reviewed.panel_admin, membership=reviewer.membership, roles=[]
    )
    reviewer.refresh_from_db()
    assert opens_project(reviewed, reviewer) == (404, 404)
    assert access.reconcile(repair=False).clean


def test_giving_the_role_back_restores_the_assignment_access(reviewed):
    reviewer = reviewed.reviewer_1
    membership = reviewer.membership
    portal_services.change_member_roles(actor=reviewed.panel_admin, membership=membership, roles=[])
    portal_services.change_member_roles(
        actor=reviewed.panel_admin, membership=membership, roles=[Role.REVIEWER]
    )
    reviewer.refresh_from_db()
    assert opens_project(reviewed, reviewer) == (200, 200)
    assert access.reconcile(repair=False).clean


def test_deactivating_an_organisation_cuts_its_members_off(reviewed):
    resource = new_resource(reviewed, title="Shared with Borealis")
    resource_services.share_resource(
        actor=reviewed.a_pm,
        resource=resource,
        agreement=reviewed.rd_agreement,
        recipient=reviewed.b,
        reauthentication=fresh_reauth(),
    )
    b_member = reviewed.b_member
    assert access.can(b_member, "view", resource)

    for organisation in (reviewed.b, reviewed.panel):
        portal_services.update_organisation(
            actor=reviewed.staff, organisation=organisation, is_active=False
        )
    b_member.refresh_from_db()
    reviewer = reviewed.reviewer_1
    reviewer.refresh_from_db()
    # The partner's members lose what was shared with their organisation and the project;
    # the panel's reviewer loses the project they were assigned to.
    assert not access.visible_to(b_member, Resource.objects.filter(pk=resource.pk)).exists()
    assert opens_project(reviewed, b_member) == (404, 404)
    assert opens_project(reviewed, reviewer) == (404, 404)
    assert access.reconcile(repair=False).clean

    portal_services.update_organisation(
        actor=reviewed.staff, organisation=reviewed.panel, is_active=True
    )
    reviewer.refresh_from_db()
    assert opens_project(reviewed, reviewer) == (200, 200)
