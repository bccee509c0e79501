"""Who may review a project is one rule (projects.policies.is_eligible_reviewer), used for
the grants, the notices of submissions and assignment alike: a reviewer who lost the role is
neither let in nor told of submissions."""

import pytest

from portal import services as portal_services
from portal.models import Notification, Role
from projects import policies, services

from .test_services import activate, submit


@pytest.fixture
def reviewed(consortium):
    services.assign_reviewer(
        actor=consortium.a_pm, project=consortium.project, user=consortium.reviewer_1
    )
    return consortium


def test_a_reviewer_who_lost_the_role_is_not_told_of_submissions(reviewed):
    world = reviewed
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_2)
    activate(world)
    portal_services.change_member_roles(
        actor=world.staff, membership=world.reviewer_2.membership, roles=[Role.SIGNATORY]
    )

    submit(world, world.ms1)

    told = set(
        Notification.objects.filter(kind="project.item_submitted").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"panel-rev-1"}


def test_one_rule_decides_who_is_an_eligible_reviewer(reviewed):
    world = reviewed
    participants = set(world.project.participants.values_list("organisation_id", flat=True))
    assignment = world.project.reviewers.get(user=world.reviewer_1)
    assert policies.is_eligible_reviewer(assignment, participants)
    portal_services.deactivate_member(actor=world.staff, membership=world.reviewer_1.membership)
    assignment.user.refresh_from_db()
    assert not policies.is_eligible_reviewer(assignment, participants)
