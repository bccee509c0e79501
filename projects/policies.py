"""Access policy for projects: participants' members and assigned reviewers see everything in
a project; the coordinator's programme managers steer it; the partner that leads a work
package submits its items; assigned reviewers review."""

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy

from portal import access
from portal.vocabulary import TLP
from projects.models import (
    Participant,
    ParticipantRole,
    Project,
    ProjectGroupObjectPermission,
    ProjectStatus,
    ProjectUserObjectPermission,
    ReviewAccess,
    ReviewerAssignment,
)
from resources import policies as resource_policies
from resources.models import Resource


def participant_grants(project: Project):
    for participant in participants_of(project):
        yield access.Grant(
            "view",
            group_id=participant.organisation.group_id,
            reason=f"{participant.organisation} is a {participant.get_role_display().lower()}.",
            who=f"Members of {participant.organisation}",
        )


def reviewer_grants(project: Project):
    """Assigned reviewers see the project while they may still review it."""
    for assignment in eligible_reviewers(project):
        user = assignment.user
        yield access.Grant(
            "view",
            user_id=assignment.user_id,
            reason="Assigned reviewer of the project.",
            who=user.get_full_name() or user.get_username(),
        )


def participants_of(project: Project) -> list[Participant]:
    """The project's participants with their organisations: the list its queryset read
    (Project.objects.with_consortium()) when there is one, else asked now."""
    read = getattr(project, "participant_list", None)
    if read is not None:
        return read
    return list(project.participants.select_related("organisation"))


def reviewer_assignments_of(project: Project) -> list[ReviewerAssignment]:
    """The project's reviewer assignments with the reviewers' organisations, likewise."""
    read = getattr(project, "reviewer_list", None)
    if read is not None:
        return read
    return list(project.reviewers.select_related("user__membership__organisation"))


def eligible_reviewers(project: Project) -> list[ReviewerAssignment]:
    """The project's reviewer assignments whose reviewer may still review it."""
    participants = {p.organisation_id for p in participants_of(project)}
    return [
        assignment
        for assignment in reviewer_assignments_of(project)
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
    read = getattr(project, "participant_list", None)
    if read is not None:
        return next((p for p in read if p.organisation_id == m.organisation_id), None)
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


def is_participant_programme_manager_of_any_role(user, project: Project) -> bool:
    m = _membership(user)
    return bool(m and m.programme_manager and participant_of(user, project))


def is_assigned_reviewer(user, project: Project) -> bool:
    m = _membership(user)
    if not (m and m.reviewer):
        return False
    read = getattr(project, "reviewer_list", None)
    if read is not None:
        return any(assignment.user_id == user.pk for assignment in read)
    return project.reviewers.filter(user_id=user.pk).exists()


def is_participant_member(user, project: Project) -> bool:
    return participant_of(user, project) is not None


COORDINATOR = gettext_lazy("Only a programme manager of the coordinating organisation can do this.")

access.register(
    access.Policy(
        model=Project,
        group_grants=ProjectGroupObjectPermission,
        user_grants=ProjectUserObjectPermission,
        sources=[participant_grants, reviewer_grants],
        naming=lambda user: Project.objects.filter(reviewers__user=user),
        action_labels={"view": gettext_lazy("See the project and everything in it")},
        rules={
            "manage": access.Rule(is_coordinator_programme_manager, COORDINATOR),
            "submit": access.Rule(
                is_participant_programme_manager,
                gettext_lazy(
                    "Only a programme manager of a participating organisation can submit."
                ),
            ),
            "review": access.Rule(
                is_assigned_reviewer,
                gettext_lazy("Only reviewers assigned to this project can review."),
            ),
            # Letting the reviewers open linked evidence; the service also asks the
            # resource's "share", so only its owner's programme managers get that far.
            "open_evidence": access.Rule(
                is_participant_programme_manager_of_any_role,
                gettext_lazy(
                    "Only a programme manager of a participating organisation can do this."
                ),
            ),
            "view_history": access.Rule(
                is_participant_member, gettext_lazy("Only participants see the history.")
            ),
            "view_access": access.Rule(
                is_participant_member, gettext_lazy("Only participants see who has access.")
            ),
        },
    )
)


# --- The reviewers open the evidence they judge ------------------------------------------------


def review_access_holders(review_access: ReviewAccess) -> list[int]:
    """The ids of the people a review access lets open its resource, now: the project's
    eligible reviewers while it is active and the access has not ended, and for TLP:RED only
    those of them the owner named."""
    project = review_access.project
    if review_access.ended_at is not None or project.status != ProjectStatus.ACTIVE:
        return []
    if not project.agreement.is_live():  # the tick that suspends the project may lag
        return []
    holders = [assignment.user_id for assignment in eligible_reviewers(project)]
    if review_access.resource.tlp == TLP.RED:
        named = {user.pk for user in review_access.named_reviewers.all()}
        holders = [pk for pk in holders if pk in named]
    return holders


def open_review_accesses(resource: Resource):
    return (
        ReviewAccess.objects.filter(resource=resource, ended_at=None)
        .select_related("project__agreement", "milestone", "deliverable", "resource__owner")
        .prefetch_related("named_reviewers")
    )


def review_access_grants(resource: Resource):
    for review_access in open_review_accesses(resource):
        reason = (
            f"Reviewer of {review_access.project.acronym} {review_access.item.code}: "
            f"{resource.owner} lets the reviewers open it for the review."
        )
        for user_id in review_access_holders(review_access):
            yield access.Grant("view", user_id=user_id, reason=reason)


def holds_review_access(user, resource: Resource) -> bool:
    """The download re-check: the facts now, whatever the stored grants say."""
    return any(user.pk in review_access_holders(ra) for ra in open_review_accesses(resource))


access.add_grant_source(Resource, review_access_grants)
access.add_naming(
    Resource,
    lambda user: Resource.objects.filter(
        Q(review_accesses__ended_at=None) & Q(review_accesses__project__reviewers__user=user)
    ),
)
resource_policies.live_access_checks.append(holds_review_access)
