"""Access policy for projects: participants' members and assigned reviewers see everything in
a project; the coordinator's programme managers steer it; the partner that leads a work
package submits its items; assigned reviewers review."""

from django.conf import settings

from portal import access
from projects.models import (
    Participant,
    ParticipantRole,
    Project,
    ProjectGroupObjectPermission,
    ProjectUserObjectPermission,
    ReviewerAssignment,
)


def participant_grants(project: Project):
    for participant in project.participants.select_related("organisation"):
        yield access.Grant(
            "view",
            group_id=participant.organisation.group_id,
            reason=f"{participant.organisation} is a {participant.get_role_display().lower()}.",
        )


def reviewer_grants(project: Project):
    """Assigned reviewers see the project while they may still review it."""
    for assignment in eligible_reviewers(project):
        yield access.Grant(
            "view", user_id=assignment.user_id, reason="Assigned reviewer of the project."
        )


def eligible_reviewers(project: Project) -> list[ReviewerAssignment]:
    """The project's reviewer assignments whose reviewer may still review it."""
    participants = set(project.participants.values_list("organisation_id", flat=True))
    return [
        assignment
        for assignment in project.reviewers.select_related("user__membership__organisation")
        if is_eligible_reviewer(assignment, participants)
    ]


def is_eligible_reviewer(assignment: ReviewerAssignment, participant_org_ids: set[int]) -> bool:
    """The one rule for an assigned reviewer: active, holding the reviewer role, and from a
    participant or an independent reviewers' panel. Grants and notices both follow it."""
    user = assignment.user
    membership = getattr(user, "membership", None)
    return bool(
        user.is_active
        and membership
        and membership.reviewer
        and membership.organisation.is_active
        and (
            membership.organisation_id in participant_org_ids
            or membership.organisation.slug in settings.PROJECT_REVIEWER_ORGANISATIONS
        )
    )


def _membership(user):
    return getattr(user, "membership", None)


def participant_of(user, project: Project) -> Participant | None:
    m = _membership(user)
    if m is None:
        return None
    return project.participants.filter(organisation_id=m.organisation_id).first()


def is_coordinator_programme_manager(user, project: Project) -> bool:
    m = _membership(user)
    participant = participant_of(user, project)
    return bool(
        m
        and m.programme_manager
        and participant
        and participant.role == ParticipantRole.COORDINATOR
    )


def is_participant_programme_manager(user, project: Project) -> bool:
    """May submit items; the service checks the item's work package is led by their org."""
    m = _membership(user)
    participant = participant_of(user, project)
    return bool(
        m and m.programme_manager and participant and participant.role != ParticipantRole.OBSERVER
    )


def is_assigned_reviewer(user, project: Project) -> bool:
    m = _membership(user)
    return bool(m and m.reviewer and project.reviewers.filter(user_id=user.pk).exists())


def is_participant_member(user, project: Project) -> bool:
    return participant_of(user, project) is not None


COORDINATOR = "Only a programme manager of the coordinating organisation can do this."

access.register(
    access.Policy(
        model=Project,
        group_grants=ProjectGroupObjectPermission,
        user_grants=ProjectUserObjectPermission,
        sources=[participant_grants, reviewer_grants],
        naming=lambda user: Project.objects.filter(reviewers__user=user),
        action_labels={"view": "See the project and everything in it"},
        rules={
            "manage": access.Rule(is_coordinator_programme_manager, COORDINATOR),
            "submit": access.Rule(
                is_participant_programme_manager,
                "Only a programme manager of a participating organisation can submit.",
            ),
            "review": access.Rule(
                is_assigned_reviewer, "Only reviewers assigned to this project can review."
            ),
            "view_history": access.Rule(
                is_participant_member, "Only participants see the history."
            ),
            "view_access": access.Rule(
                is_participant_member, "Only participants see who has access."
            ),
        },
    )
)
