"""Every write to projects: consortium, plan, baseline, submissions, reviews, contributions.

Each function checks access, validates, mutates inside one transaction, syncs the grants and
records an audit event.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import IntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from agreements import services as agreement_services
from agreements.models import Agreement, AgreementKind
from portal import access, audit, reauth
from portal.models import Membership, Organisation
from portal.notifications import notify
from portal.vocabulary import TLP
from projects import lifecycle
from projects.models import (
    Contribution,
    DateChange,
    Deliverable,
    Inject,
    ItemStatus,
    Milestone,
    Participant,
    ParticipantRole,
    Project,
    ProjectKind,
    ProjectStatus,
    Review,
    ReviewAccess,
    ReviewDecision,
    ReviewerAssignment,
    WorkPackage,
)
from projects.policies import eligible_reviewers, is_eligible_reviewer, participant_of
from resources.models import Resource
from resources.services import REAUTH_TLP

GOVERNING_KINDS = {AgreementKind.JOINT_RD, AgreementKind.MOU}
#: The dates a plan may use. A far-off date is a typing mistake, and at the calendar's very
#: ends the Gantt chart and the calendar feed would fail for everyone who opens the project.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)
PROJECT_FIELDS = {
    "title",
    "summary",
    "start_date",
    "end_date",
    "required_acceptances",
    "scenario",
    "exercise_start",
    "exercise_end",
}


# --- The project and its consortium ------------------------------------------------------------


def create_project(
    *,
    actor,
    acronym: str,
    title: str,
    kind: str,
    agreement: Agreement,
    start_date: datetime.date,
    end_date: datetime.date,
    partners: Iterable[Organisation] = (),
    observers: Iterable[Organisation] = (),
    **details,
) -> Project:
    """Propose a project coordinated by the actor's organisation, under a governing agreement."""
    membership = getattr(actor, "membership", None)
    if not (actor.is_active and membership and membership.programme_manager):
        raise PermissionDenied(gettext("Only programme managers propose projects."))
    if not access.can(actor, "view", agreement):
        raise ValidationError(
            {"agreement": gettext("Choose an agreement your organisation is a party to.")}
        )
    unknown = set(details) - PROJECT_FIELDS
    if unknown:
        raise ValidationError(
            gettext("These fields cannot be set here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    _check_dates(start_date=start_date, end_date=end_date, **details)
    coordinator = membership.organisation
    partners, observers = list(partners), list(observers)
    named = [o.pk for o in [*partners, *observers]]
    if len(named) != len(set(named)):
        raise ValidationError(
            gettext("Each organisation takes part once: as partner or as observer.")
        )
    members = [(coordinator, ParticipantRole.COORDINATOR)]
    members += [(o, ParticipantRole.PARTNER) for o in partners if o != coordinator]
    members += [(o, ParticipantRole.OBSERVER) for o in observers if o != coordinator]
    _check_governing(agreement, [o for o, _ in members])
    with transaction.atomic():
        project = Project(
            acronym=acronym,
            title=title,
            kind=kind,
            agreement=agreement,
            start_date=start_date,
            end_date=end_date,
            created_by=actor,
            **details,
        )
        project.full_clean()
        project.save()
        for organisation, role in members:
            Participant.objects.create(project=project, organisation=organisation, role=role)
        access.sync_object(project)
        audit.record(
            actor,
            "project.created",
            project,
            agreement=agreement.label,
            participants=sorted(o.slug for o, _ in members),
        )
    return project


def update_project(*, actor, project: Project, **changes) -> Project:
    access.require(actor, "manage", project)
    unknown = set(changes) - PROJECT_FIELDS
    if unknown:
        raise ValidationError(
            gettext("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    _check_dates(**changes)
    with transaction.atomic():
        project = _locked(project)
        lifecycle.project_machine.ensure(project, "edit")
        for name, value in changes.items():
            setattr(project, name, value)
        project.full_clean()
        project.save()
        audit.record(actor, "project.updated", project, fields=sorted(changes))
    return project


def add_participant(
    *, actor, project: Project, organisation: Organisation, role: str
) -> Participant:
    access.require(actor, "manage", project)
    if role == ParticipantRole.COORDINATOR:
        raise ValidationError({"role": gettext("A project has exactly one coordinator.")})
    with transaction.atomic():
        project = _locked(project)
        lifecycle.project_machine.ensure(project, "edit")
        current = list(project.participants.values_list("organisation_id", flat=True))
        if organisation.pk in current:
            raise ValidationError(
                gettext("%(organisation)s already takes part in %(project)s.")
                % {"organisation": organisation, "project": project.acronym}
            )
        orgs = [*Organisation.objects.filter(pk__in=current), organisation]
        _check_governing(project.agreement, orgs)
        participant = Participant.objects.create(
            project=project, organisation=organisation, role=role
        )
        access.sync_object(project)
        audit.record(
            actor, "project.participant_added", project, participant=organisation.slug, role=role
        )
    return participant


def remove_participant(*, actor, participant: Participant) -> None:
    """Remove a participant; its members lose access at once."""
    project = participant.project
    access.require(actor, "manage", project)
    if participant.role == ParticipantRole.COORDINATOR:
        raise ValidationError(gettext("The coordinator cannot be removed."))
    lifecycle.project_machine.ensure(project, "edit")
    if participant.contributions.exists():
        raise ValidationError(
            gettext("%(organisation)s has recorded contributions; they stay on the record.")
            % {"organisation": participant.organisation}
        )
    if participant.led_work_packages.exists():
        raise ValidationError(
            gettext("%(organisation)s leads work packages; give them another lead first.")
            % {"organisation": participant.organisation}
        )
    with transaction.atomic():
        slug = participant.organisation.slug
        participant.delete()
        access.sync_object(project)
        _sync_review_evidence(project)
        audit.record(actor, "project.participant_removed", project, participant=slug)


def assign_reviewer(*, actor, project: Project, user) -> ReviewerAssignment:
    """Assign a reviewer from a participant or from an independent reviewers' organisation."""
    access.require(actor, "manage", project)
    lifecycle.project_machine.ensure(_fresh(project), "edit")
    participants = set(project.participants.values_list("organisation_id", flat=True))
    if not is_eligible_reviewer(ReviewerAssignment(project=project, user=user), participants):
        membership = getattr(user, "membership", None)
        if not (user.is_active and membership and membership.reviewer):
            raise ValidationError(
                {
                    "user": gettext("%(username)s does not hold the reviewer role.")
                    % {"username": user.get_username()}
                }
            )
        raise ValidationError(
            {
                "user": gettext(
                    "Reviewers come from a participant or an independent reviewers' panel."
                )
            }
        )
    with transaction.atomic():
        if project.reviewers.filter(user=user).exists():
            raise ValidationError(
                gettext("%(username)s already reviews %(project)s.")
                % {"username": user.get_username(), "project": project.acronym}
            )
        assignment = ReviewerAssignment.objects.create(
            project=project, user=user, assigned_by=actor
        )
        access.sync_object(project)
        _sync_review_evidence(project)
        audit.record(actor, "project.reviewer_assigned", project, reviewer=user.get_username())
        notify(
            [user],
            kind="project.reviewer_assigned",
            title=gettext("You review %(project)s") % {"project": project.acronym},
            body=project.title,
            url=project.get_absolute_url(),
            actor=actor,
        )
    return assignment


def unassign_reviewer(*, actor, assignment: ReviewerAssignment) -> None:
    project = assignment.project
    access.require(actor, "manage", project)
    with transaction.atomic():
        username = assignment.user.get_username()
        assignment.delete()
        access.sync_object(project)
        _sync_review_evidence(project)
        audit.record(actor, "project.reviewer_unassigned", project, reviewer=username)


# --- Lifecycle --------------------------------------------------------------------------------


def activate(*, actor, project: Project) -> Project:
    """Start the project: its agreement must be in force, and its planned dates are frozen."""
    access.require(actor, "manage", project)
    with transaction.atomic():
        project = _locked(project)
        lifecycle.project_machine.ensure(project, "activate")
        _check_governing(project.agreement, _organisations(project))
        for model in (Milestone, Deliverable):
            for item in model.objects.filter(project=project):
                item.baseline_due_date = item.due_date
                item.save(update_fields=["baseline_due_date"])
        project.baseline_frozen_at = timezone.now()
        lifecycle.project_machine.apply(project, "activate")
        project.save()
        _sync_review_evidence(project)
        audit.record(actor, "project.activated", project, baseline_frozen=True)
        _notify_participants(
            project,
            gettext("%(project)s is active") % {"project": project.acronym},
            gettext("Its baseline is frozen."),
            actor=actor,
        )
    return project


def suspend(*, actor, project: Project, reason: str) -> Project:
    return _transition(actor, project, "suspend", reason=reason, required_reason=True)


def resume(*, actor, project: Project) -> Project:
    access.require(actor, "manage", project)
    _check_governing(project.agreement, _organisations(project))
    return _transition(actor, project, "resume")


def complete(*, actor, project: Project) -> Project:
    access.require(actor, "manage", project)  # before saying anything about its items
    open_items = [
        str(item)
        for model in (Milestone, Deliverable)
        for item in model.objects.filter(project=project).exclude(status=ItemStatus.ACCEPTED)
    ]
    if open_items:
        raise ValidationError(
            gettext("Not yet accepted: %(items)s.") % {"items": ", ".join(open_items)}
        )
    return _transition(actor, project, "complete")


def cancel(*, actor, project: Project, reason: str) -> Project:
    return _transition(actor, project, "cancel", reason=reason, required_reason=True)


# --- The plan ---------------------------------------------------------------------------------


def add_work_package(
    *, actor, project: Project, number: int, title: str, lead: Participant, start_date, end_date
) -> WorkPackage:
    access.require(actor, "manage", project)
    lifecycle.project_machine.ensure(_fresh(project), "edit")
    if lead.project_id != project.pk or lead.role == ParticipantRole.OBSERVER:
        raise ValidationError(
            {"lead": gettext("The lead must be a coordinator or partner of this project.")}
        )
    _check_dates(start_date=start_date, end_date=end_date)
    with transaction.atomic():
        wp = WorkPackage(
            project=project,
            number=number,
            title=title,
            lead=lead,
            start_date=start_date,
            end_date=end_date,
        )
        wp.full_clean()
        wp.save()
        audit.record(actor, "project.work_package_added", project, number=number, title=title)
    return wp


def add_milestone(*, actor, work_package: WorkPackage, **fields) -> Milestone:
    return _add_item(actor, Milestone, work_package, fields)


def add_deliverable(*, actor, work_package: WorkPackage, **fields) -> Deliverable:
    return _add_item(actor, Deliverable, work_package, fields)


def change_due_date(*, actor, item, new_date: datetime.date, reason: str = ""):
    """Move a due date; once the baseline is frozen the reason is required and kept."""
    project = Project.objects.get(pk=item.project_id)
    _require_planner(actor, item.work_package)
    lifecycle.project_machine.ensure(project, "edit")
    _check_dates(due_date=new_date)
    reason = (reason or "").strip()
    with transaction.atomic():
        item = type(item).objects.select_for_update().get(pk=item.pk)
        lifecycle.item_machine.ensure(item, "reschedule")
        if project.baseline_frozen_at and not reason:
            raise ValidationError(
                {"reason": gettext("The baseline is frozen: say why the date moves.")}
            )
        old = item.due_date
        item.due_date = new_date
        item.save(update_fields=["due_date"])
        if project.baseline_frozen_at:
            DateChange.objects.create(
                **{_item_field(item): item},
                old_date=old,
                new_date=new_date,
                reason=reason,
                changed_by=actor,
            )
        audit.record(
            actor,
            "project.date_changed",
            project,
            item=item.code,
            old=old,
            new=new_date,
            reason=reason,
        )
    return item


# --- Submissions and reviews ------------------------------------------------------------------


def submit_item(
    *,
    actor,
    item,
    evidence: str,
    resources: Iterable = (),
    versions: Iterable = (),
    late_justification: str = "",
    open_to_reviewers: Iterable = (),
):
    """The responsible partner submits evidence; a late submission says why.

    open_to_reviewers: linked resources of the submitter's organisation that the reviewers
    may open for the review (open_evidence_to_reviewers; not RED or AMBER+STRICT, which
    take a re-authentication of their own). The owners of the other linked resources that
    the reviewers cannot open are asked to, when they take part in the project."""
    project = Project.objects.get(pk=item.project_id)  # the state as it is now
    access.require(actor, "submit", project)
    if item.work_package.lead.organisation_id != actor.membership.organisation_id:
        raise PermissionDenied(
            gettext("%(organisation)s leads this work package.")
            % {"organisation": item.work_package.lead.organisation}
        )
    lifecycle.project_machine.ensure(project, "work")
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError({"evidence": gettext("Describe the evidence of completion.")})
    if timezone.localdate() > item.due_date and not (late_justification or "").strip():
        raise ValidationError(
            {
                "late_justification": gettext(
                    "%(item)s was due on %(due_date)s: say why it is late."
                )
                % {"item": item.code, "due_date": f"{item.due_date:%d %B %Y}"}
            }
        )
    resources, versions = list(resources), list(versions)
    hidden = [r for r in resources if not access.can(actor, "view", r)]
    hidden += [v.resource for v in versions if not access.can(actor, "view", v.resource)]
    if hidden:
        raise ValidationError({"resources": gettext("You can only link resources you can see.")})
    with transaction.atomic():
        item = type(item).objects.select_for_update().get(pk=item.pk)
        lifecycle.item_machine.apply(item, "submit")
        item.evidence = evidence
        item.late_justification = late_justification.strip()
        item.submitted_at = timezone.now()
        item.round += 1
        item.save()
        if isinstance(item, Milestone) and resources:
            item.linked_resources.add(*resources)
        if isinstance(item, Deliverable) and versions:
            item.linked_versions.add(*versions)
        audit.record(actor, "project.item_submitted", project, item=item.code, round=item.round)
        for resource in open_to_reviewers:
            if open_review_access(item=item, resource=resource) is None:
                open_evidence_to_reviewers(actor=actor, item=item, resource=resource)
        _ask_owners_to_open(project, item, actor)
        notify(
            [a.user for a in eligible_reviewers(project)],
            kind="project.item_submitted",
            title=gettext("%(project)s %(item)s awaits your review")
            % {"project": project.acronym, "item": item.code},
            body=item.title,
            url=_item_url(project, item),
            actor=actor,
        )
    return item


def review_item(*, actor, item, decision: str, comment: str = "") -> Review:
    """Accept or request changes. One request for changes sends the item back; acceptance
    needs the project's number of accepting reviews on the same submission."""
    project = Project.objects.get(pk=item.project_id)
    access.require(actor, "review", project)
    lifecycle.project_machine.ensure(project, "work")
    if decision not in ReviewDecision.values:
        raise ValidationError({"decision": gettext("Accept or request changes.")})
    comment = (comment or "").strip()
    if decision == ReviewDecision.REQUEST_CHANGES and not comment:
        raise ValidationError({"comment": gettext("Say what must change.")})
    with transaction.atomic():
        item = type(item).objects.select_for_update().get(pk=item.pk)
        lifecycle.item_machine.ensure(item, "review")
        reviews = item.reviews.filter(round=item.round)
        if reviews.filter(reviewer=actor).exists():
            raise ValidationError(gettext("You already reviewed this submission."))
        review = Review.objects.create(
            **{_item_field(item): item},
            round=item.round,
            reviewer=actor,
            decision=decision,
            comment=comment,
        )
        if decision == ReviewDecision.REQUEST_CHANGES:
            lifecycle.item_machine.apply(item, "request_changes")
        elif reviews.filter(decision=ReviewDecision.ACCEPT).count() >= project.required_acceptances:
            lifecycle.item_machine.apply(item, "accept")
        item.save(update_fields=["status"])
        audit.record(
            actor,
            "project.item_reviewed",
            project,
            item=item.code,
            decision=decision,
            round=item.round,
        )
        lead = item.work_package.lead.organisation
        managers = Membership.objects.filter(organisation=lead, programme_manager=True)
        notify(
            [m.user for m in managers.select_related("user")],
            kind="project.item_reviewed",
            title=gettext("%(project)s %(item)s: %(status)s")
            % {
                "project": project.acronym,
                "item": item.code,
                "status": item.get_status_display().lower(),
            },
            body=comment or item.title,
            url=_item_url(project, item),
            actor=actor,
        )
    return review


# --- The reviewers open the evidence --------------------------------------------------------


def linked_resources(item) -> list[Resource]:
    """The resources a milestone or deliverable links as evidence."""
    if isinstance(item, Milestone):
        return list(item.linked_resources.select_related("owner"))
    return list(
        Resource.objects.filter(pk__in=item.linked_versions.values("resource")).select_related(
            "owner"
        )
    )


def reviewers_who_cannot_open(project: Project, resources: Iterable[Resource]) -> dict:
    """For each resource, the eligible reviewers of the project who cannot open it: one
    query, whatever the number of reviewers and resources (each reviewer's part asked of
    the access layer, the parts read at once)."""
    resources = list(resources)
    blocked: dict[int, list] = {r.pk: [] for r in resources}
    reviewers = [assignment.user for assignment in eligible_reviewers(project)]
    if not resources or not reviewers:
        return blocked
    among = Resource.objects.filter(pk__in=blocked).order_by()
    first, *others = [
        access.visible_to(user, among)
        .annotate(reviewer=Value(index, output_field=IntegerField()))
        .values_list("reviewer", "pk")
        for index, user in enumerate(reviewers)
    ]
    seen = set(first.union(*others, all=True) if others else first)
    for index, user in enumerate(reviewers):
        for pk, names in blocked.items():
            if (index, pk) not in seen:
                names.append(user)
    return blocked


def open_review_access(*, item, resource: Resource) -> ReviewAccess | None:
    return ReviewAccess.objects.filter(
        project_id=item.project_id, resource=resource, ended_at=None
    ).first()


def open_evidence_to_reviewers(
    *,
    actor,
    item,
    resource: Resource,
    reauthentication: reauth.Reauthentication | None = None,
) -> ReviewAccess:
    """The owner lets the project's reviewers open a resource linked to a submission, for
    the time of the review. TLP:RED goes to the reviewers assigned now, by name, after the
    owner re-authenticates, as for a RED share; nobody can pass it on, since only the owner
    shares."""
    project = Project.objects.select_related("agreement").get(pk=item.project_id)
    access.require(actor, "open_evidence", project)
    access.require(actor, "share", resource)
    if resource.pk not in {r.pk for r in linked_resources(item)}:
        raise ValidationError(
            gettext("%(resource)s is not linked to %(item)s.")
            % {"resource": resource, "item": item.code}
        )
    if project.status != ProjectStatus.ACTIVE:
        raise ValidationError(
            gettext("%(project)s is %(status)s: nobody reviews now.")
            % {"project": project.acronym, "status": project.get_status_display().lower()}
        )
    reviewers = [a.user for a in eligible_reviewers(project)]
    if not reviewers:
        raise ValidationError(
            gettext("%(project)s has no reviewer assigned yet.") % {"project": project.acronym}
        )
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.tlp in REAUTH_TLP:
            reauth.require_recent(reauthentication)
        if open_review_access(item=item, resource=resource) is not None:
            raise ValidationError(
                gettext("The reviewers of %(project)s may already open %(resource)s.")
                % {"project": project.acronym, "resource": resource}
            )
        review_access = ReviewAccess.objects.create(
            resource=resource, project=project, granted_by=actor, **{_item_field(item): item}
        )
        if resource.tlp == TLP.RED:
            review_access.named_reviewers.set(reviewers)
        access.sync_object(resource)
        audit.record(
            actor,
            "resource.review_access_granted",
            resource,
            project=project.acronym,
            item=item.code,
            tlp=resource.tlp,
            named_users=sorted(u.get_username() for u in reviewers)
            if resource.tlp == TLP.RED
            else [],
        )
        notify(
            reviewers,
            kind="project.review_access_granted",
            title=gettext("You may open “%(resource)s” for %(project)s %(item)s")
            % {"resource": resource.title, "project": project.acronym, "item": item.code},
            body=gettext("%(owner)s opened it to the reviewers for the review.")
            % {"owner": resource.owner},
            url=resource.get_absolute_url(),
            actor=actor,
        )
    return review_access


def end_review_access(*, actor, review_access: ReviewAccess) -> ReviewAccess:
    """The owner takes the evidence back before the review ends: the reviewers lose it now."""
    access.require(actor, "share", review_access.resource)
    with transaction.atomic():
        review_access = ReviewAccess.objects.select_for_update().get(pk=review_access.pk)
        if review_access.ended_at is not None:
            raise ValidationError(gettext("The reviewers' access already ended."))
        review_access.ended_at, review_access.ended_by = timezone.now(), actor
        review_access.save(update_fields=["ended_at", "ended_by"])
        access.sync_object(review_access.resource)
        audit.record(
            actor,
            "resource.review_access_ended",
            review_access.resource,
            project=review_access.project.acronym,
        )
    return review_access


def _ask_owners_to_open(project: Project, item, actor) -> None:
    """The participants owning evidence that reviewers cannot open hear of it. An owner that
    does not take part in the project is told nothing: it may not learn of the project."""
    blocked = reviewers_who_cannot_open(project, linked_resources(item))
    participants = set(project.participants.values_list("organisation_id", flat=True))
    for resource in linked_resources(item):
        if not blocked[resource.pk] or resource.owner_id not in participants:
            continue
        managers = Membership.objects.filter(
            organisation_id=resource.owner_id, programme_manager=True, user__is_active=True
        ).select_related("user")
        notify(
            [m.user for m in managers],
            kind="project.review_access_asked",
            title=gettext("Reviewers of %(project)s %(item)s cannot open “%(resource)s”")
            % {"project": project.acronym, "item": item.code, "resource": resource.title},
            body=gettext(
                "It is linked as evidence. You may let the reviewers open it for the review."
            ),
            url=f"{project.get_absolute_url()}#{_item_field(item)}-{item.pk}",
            actor=actor,
        )


def _sync_review_evidence(project: Project) -> None:
    """Who reviews, and whether the project runs, decide who opens its evidence."""
    for resource in Resource.objects.filter(review_accesses__project=project).distinct():
        access.sync_object(resource)


# --- Contributions and exercises --------------------------------------------------------------


def add_contribution(*, actor, participant: Participant, **fields) -> Contribution:
    """The coordinator records anyone's contribution; a partner records its own."""
    project = participant.project
    access.require(actor, "view", project)
    lifecycle.project_machine.ensure(_fresh(project), "edit")
    own = actor.membership.organisation_id == participant.organisation_id
    if not (access.can(actor, "manage", project) or (own and actor.membership.programme_manager)):
        raise PermissionDenied(
            gettext("Record contributions for your own organisation, or coordinate.")
        )
    with transaction.atomic():
        contribution = Contribution(project=project, participant=participant, **fields)
        contribution.full_clean()
        contribution.save()
        audit.record(
            actor,
            "project.contribution_added",
            project,
            participant=participant.organisation.slug,
            kind=contribution.kind,
            amount=str(contribution.amount),
            unit=contribution.unit,
        )
    return contribution


def add_inject(
    *, actor, project: Project, release_at, title: str, description: str, targets
) -> Inject:
    access.require(actor, "manage", project)
    lifecycle.project_machine.ensure(_fresh(project), "edit")
    if project.kind != ProjectKind.EXERCISE:
        raise ValidationError(gettext("Only cross-border exercises have injects."))
    _check_dates(release_at=release_at)
    targets = list(targets)
    if not targets or any(t.project_id != project.pk for t in targets):
        raise ValidationError({"targets": gettext("Choose the participants this inject goes to.")})
    with transaction.atomic():
        inject = Inject(
            project=project, release_at=release_at, title=title, description=description
        )
        inject.full_clean()
        inject.save()
        inject.targets.set(targets)
        # Targets read the history too: no title before release, only that an inject exists.
        audit.record(actor, "project.inject_added", project, inject=inject.pk)
    return inject


def visible_injects(user, project: Project):
    """The exercise control team (the coordinator) sees every inject; targets see theirs once
    released."""
    if not access.can(user, "view", project):
        return Inject.objects.none()
    participant = participant_of(user, project)
    injects = project.injects.prefetch_related("targets__organisation")
    if participant is not None and participant.role == ParticipantRole.COORDINATOR:
        return injects
    if participant is None:
        return Inject.objects.none()
    return injects.filter(targets=participant, release_at__lte=timezone.now())


# --- Agreement hooks ----------------------------------------------------------------------------


def suspend_projects_of(agreement: Agreement) -> None:
    """No project runs outside an agreement in force."""
    for project in Project.objects.filter(agreement=agreement, status=ProjectStatus.ACTIVE):
        lifecycle.project_machine.apply(project, "suspend")
        project.save(update_fields=["status"])
        _sync_review_evidence(project)
        audit.record(None, "project.suspended", project, reason=f"{agreement.label} ended")
        _notify_participants(
            project,
            gettext("%(project)s is suspended") % {"project": project.acronym},
            gettext("%(agreement)s ended.") % {"agreement": agreement.label},
        )


def carry_projects_over(old: Agreement, new: Agreement) -> None:
    for project in Project.objects.filter(agreement=old).exclude(
        status__in=[ProjectStatus.COMPLETED, ProjectStatus.CANCELLED]
    ):
        try:
            _check_governing(new, _organisations(project))
        except ValidationError as problem:
            if project.status == ProjectStatus.ACTIVE:
                lifecycle.project_machine.apply(project, "suspend")
            project.save(update_fields=["status"])
            _sync_review_evidence(project)
            audit.record(None, "project.suspended", project, reason=" ".join(problem.messages))
            continue
        project.agreement = new
        project.save(update_fields=["agreement"])
        audit.record(None, "project.agreement_carried_over", project, agreement=new.label)


# --- Helpers --------------------------------------------------------------------------------


def _check_governing(agreement: Agreement, organisations: Iterable[Organisation]) -> None:
    if agreement.kind not in GOVERNING_KINDS:
        raise ValidationError(
            {"agreement": gettext("A project runs under a joint R&D agreement or an MoU.")}
        )
    if not agreement.is_live():
        raise ValidationError(
            {
                "agreement": gettext("%(agreement)s is not in force.")
                % {"agreement": agreement.label}
            }
        )
    parties = set(agreement.parties.values_list("organisation_id", flat=True))
    outside = [o.name for o in organisations if o.pk not in parties]
    if outside:
        raise ValidationError(
            {
                "agreement": gettext("Not parties to %(agreement)s: %(names)s.")
                % {"agreement": agreement.label, "names": ", ".join(sorted(outside))}
            }
        )


def _add_item(actor, model, work_package: WorkPackage, fields: dict):
    _require_planner(actor, work_package)
    project = _fresh(work_package.project)
    lifecycle.project_machine.ensure(project, "edit")
    _check_dates(due_date=fields.get("due_date"))
    with transaction.atomic():
        item = model(project=project, work_package=work_package, **fields)
        if project.baseline_frozen_at:
            item.baseline_due_date = item.due_date  # added later: its plan starts now
        item.full_clean()
        item.save()
        audit.record(actor, f"project.{model._meta.model_name}_added", project, code=item.code)
    return item


def _check_dates(**values) -> None:
    """Refuse plan dates (and times) outside EARLIEST_DATE to LATEST_DATE, by field."""
    errors = {}
    for name, value in values.items():
        day = value.date() if isinstance(value, datetime.datetime) else value
        if isinstance(day, datetime.date) and not EARLIEST_DATE <= day <= LATEST_DATE:
            errors[name] = gettext("Choose a date between %(earliest)s and %(latest)s.") % {
                "earliest": f"{EARLIEST_DATE.day} {EARLIEST_DATE:%B %Y}",
                "latest": f"{LATEST_DATE.day} {LATEST_DATE:%B %Y}",
            }
    if errors:
        raise ValidationError(errors)


def _require_planner(actor, work_package: WorkPackage) -> None:
    """The coordinator plans everything; a partner plans what it leads."""
    project = work_package.project
    access.require(actor, "view", project)
    if access.can(actor, "manage", project):
        return
    membership = getattr(actor, "membership", None)
    if (
        membership
        and membership.programme_manager
        and (work_package.lead.organisation_id == membership.organisation_id)
    ):
        return
    raise PermissionDenied(
        gettext("Only the coordinator, or the partner leading this work package, plans it.")
    )


def _transition(actor, project, name, *, reason="", required_reason=False):
    access.require(actor, "manage", project)
    reason = (reason or "").strip()
    if required_reason and not reason:
        raise ValidationError({"reason": gettext("Give the reason.")})
    with transaction.atomic():
        project = _locked(project)
        lifecycle.project_machine.apply(project, name)
        project.save()
        _sync_review_evidence(project)
        audit.record(actor, f"project.{project.status}", project, reason=reason)
        _notify_participants(
            project,
            gettext("%(project)s is %(status)s")
            % {"project": project.acronym, "status": project.get_status_display().lower()},
            reason,
            actor=actor,
        )
    return project


def _item_url(project: Project, item) -> str:
    """The item's row on the project page, where the notice's reader lands on it."""
    return f"{project.get_absolute_url()}#{type(item)._meta.model_name}-{item.pk}"


def _notify_participants(project: Project, title: str, body: str, *, actor=None) -> None:
    managers = Membership.objects.filter(
        organisation__in=project.participants.values("organisation"), programme_manager=True
    ).select_related("user")
    notify(
        [m.user for m in managers],
        kind="project.status",
        title=title,
        body=body,
        url=project.get_absolute_url(),
        actor=actor,
    )


def _organisations(project: Project) -> list[Organisation]:
    return [p.organisation for p in project.participants.select_related("organisation")]


def _item_field(item) -> str:
    return "milestone" if isinstance(item, Milestone) else "deliverable"


def _fresh(project: Project) -> Project:
    """The project as it is in the database now (callers may hold an older object)."""
    return Project.objects.get(pk=project.pk)


def _locked(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def ending_consequences(agreement: Agreement, viewer) -> list[str]:
    """The projects the viewer sees that the agreement's end suspends."""
    running = access.visible_to(
        viewer, Project.objects.filter(agreement=agreement, status=ProjectStatus.ACTIVE)
    ).order_by("acronym")
    acronyms = [project.acronym for project in running]
    if not acronyms:
        return []
    return [
        ngettext(
            "The project run under it is suspended: %(projects)s.",
            "The %(count)d projects run under it are suspended: %(projects)s.",
            len(acronyms),
        )
        % {"count": len(acronyms), "projects": ", ".join(acronyms)}
    ]


agreement_services.ended_hooks.append(suspend_projects_of)
agreement_services.ending_consequence_hooks.append(ending_consequences)
agreement_services.superseded_hooks.append(carry_projects_over)
