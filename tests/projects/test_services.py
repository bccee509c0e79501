"""Projects through their services: consortium, lifecycle, baseline, reviews, injects."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from agreements import services as agreement_services
from portal import access
from portal import services as portal_services
from portal.models import AuditEvent, Role
from portal.states import TransitionNotAllowed
from projects import services
from projects.models import DateChange, ItemStatus, ProjectStatus
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import UserFactory, designate_signatories
from tests.resources.conftest import new_resource

DAY = datetime.timedelta(days=1)


def activate(world):
    return services.activate(actor=world.a_pm, project=world.project)


def submit(world, item, actor=None, **kwargs):
    kwargs.setdefault("evidence", "Document agreed by all partners.")
    return services.submit_item(actor=actor or world.a_pm, item=item, **kwargs)


# --- Consortium and access -----------------------------------------------------------------------


def test_participants_and_assigned_reviewers_see_the_project_nobody_else(consortium):
    w = consortium
    assert access.can(w.a_member, "view", w.project)
    assert access.can(w.b_member, "view", w.project)
    assert not access.can(w.c_member, "view", w.project)
    assert not access.can(w.reviewer_1, "view", w.project)
    assert not access.can(w.staff, "view", w.project)

    services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.reviewer_1)

    assert access.can(w.reviewer_1, "view", w.project)
    assert not access.can(w.reviewer_2, "view", w.project)


def test_the_governing_agreement_must_be_in_force_and_cover_every_participant(consortium):
    w = consortium
    with pytest.raises(ValidationError, match=r"Not parties to .*Caldera Defence Agency"):
        services.add_participant(actor=w.a_pm, project=w.project, organisation=w.c, role="partner")
    with pytest.raises(ValidationError, match="joint R&D agreement or an MoU"):
        services.create_project(
            actor=w.a_pm,
            acronym="WRONG",
            title="Under a data-sharing agreement",
            kind="pilot",
            agreement=_dsa(w),
            start_date=timezone.localdate(),
            end_date=timezone.localdate() + DAY,
        )


def test_outsiders_cannot_learn_the_project_exists(consortium):
    with pytest.raises(Http404):
        services.update_project(actor=consortium.c_member, project=consortium.project, title="x")


def test_only_the_coordinator_steers(consortium):
    with pytest.raises(PermissionDenied, match="coordinating organisation"):
        services.update_project(actor=consortium.b_pm, project=consortium.project, title="Mine")


def test_removing_a_participant_ends_its_access(consortium):
    w = consortium
    c_pm = UserFactory(organisation=w.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    UserFactory(organisation=w.c, username="cal-signatory", roles=[Role.SIGNATORY])
    # C joins the research agreement through an amendment; the project carries over to it.
    amendment = agreement_services.amend(actor=w.a_pm, agreement=w.rd_agreement)
    agreement_services.update_draft(actor=w.a_pm, agreement=amendment, parties=[w.a, w.b, w.c])
    designate_signatories(amendment)  # C's programme manager names C's signatory
    agreement_services.submit(actor=w.a_pm, agreement=amendment)
    sign_by_all(w, amendment)
    w.project.refresh_from_db()
    assert w.project.agreement == amendment
    assert c_pm.membership.organisation == w.c

    observer = services.add_participant(
        actor=w.a_pm, project=w.project, organisation=w.c, role="observer"
    )
    assert access.can(w.c_member, "view", w.project)
    services.remove_participant(actor=w.a_pm, participant=observer)
    assert not access.can(w.c_member, "view", w.project)


def test_the_coordinator_cannot_be_removed(consortium):
    coordinator = consortium.project.participants.get(role="coordinator")
    with pytest.raises(ValidationError, match="coordinator cannot be removed"):
        services.remove_participant(actor=consortium.a_pm, participant=coordinator)


def test_reviewers_come_from_a_participant_or_the_independent_panel(consortium):
    w = consortium
    outsider = UserFactory(organisation=w.c, username="cal-reviewer", roles=[Role.REVIEWER])
    with pytest.raises(ValidationError, match="independent reviewers' panel"):
        services.assign_reviewer(actor=w.a_pm, project=w.project, user=outsider)
    with pytest.raises(ValidationError, match="does not hold the reviewer role"):
        services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.b_member)
    services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.b_reviewer)
    assert access.can(w.b_reviewer, "review", w.project)


# --- Lifecycle and baseline ----------------------------------------------------------------------


def test_lifecycle_and_its_refusals(consortium):
    w = consortium
    with pytest.raises(TransitionNotAllowed, match="can only be suspended when it is active"):
        services.suspend(actor=w.a_pm, project=w.project, reason="x")
    activate(w)
    with pytest.raises(ValidationError, match="Give the reason"):
        services.suspend(actor=w.a_pm, project=w.project, reason="")
    services.suspend(actor=w.a_pm, project=w.project, reason="Funding review")
    services.resume(actor=w.a_pm, project=w.project)
    with pytest.raises(ValidationError, match="Not yet accepted: MS1"):
        services.complete(actor=w.a_pm, project=w.project)
    services.cancel(actor=w.a_pm, project=w.project, reason="Priorities changed")
    w.project.refresh_from_db()
    assert w.project.status == ProjectStatus.CANCELLED
    actions = list(
        AuditEvent.objects.filter(object_id=str(w.project.pk), object_type="projects.project")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "project.activated",
        "project.suspended",
        "project.active",
        "project.cancelled",
    ]


def test_activation_freezes_the_baseline_and_later_changes_need_a_reason(consortium):
    w = consortium
    before = w.ms1.due_date
    services.change_due_date(actor=w.a_pm, item=w.ms1, new_date=before + DAY)  # no baseline yet
    activate(w)
    w.ms1.refresh_from_db()
    assert w.ms1.baseline_due_date == before + DAY

    with pytest.raises(ValidationError, match="say why the date moves"):
        services.change_due_date(actor=w.a_pm, item=w.ms1, new_date=before + 20 * DAY)
    services.change_due_date(
        actor=w.a_pm, item=w.ms1, new_date=before + 20 * DAY, reason="Supplier delay"
    )

    w.ms1.refresh_from_db()
    assert w.ms1.slip_days == 19
    change = DateChange.objects.get()
    assert change.reason == "Supplier delay" and change.new_date == before + 20 * DAY


def test_a_partner_plans_only_what_it_leads(consortium):
    w = consortium
    services.change_due_date(actor=w.b_pm, item=w.d21, new_date=w.d21.due_date + DAY)
    with pytest.raises(PermissionDenied, match="leading this work package"):
        services.change_due_date(actor=w.b_pm, item=w.ms1, new_date=w.ms1.due_date + DAY)


# --- Submission and the multi-reviewer flow ----------------------------------------------------


def test_only_the_responsible_partner_submits_and_only_while_active(consortium):
    w = consortium
    with pytest.raises(TransitionNotAllowed, match="proposed"):
        submit(w, w.ms1)
    activate(w)
    with pytest.raises(PermissionDenied, match="Atlantis National CSIRT leads this work package"):
        submit(w, w.ms1, actor=w.b_pm)
    with pytest.raises(ValidationError, match="Describe the evidence"):
        submit(w, w.ms1, evidence=" ")
    submit(w, w.ms1)
    w.ms1.refresh_from_db()
    assert w.ms1.status == ItemStatus.SUBMITTED and w.ms1.round == 1


def test_a_late_submission_needs_a_justification(consortium):
    w = consortium
    activate(w)
    with time_machine.travel(w.ms1.due_date + 3 * DAY, tick=False):
        with pytest.raises(ValidationError, match="say why it is late"):
            submit(w, w.ms1)
        submit(w, w.ms1, late_justification="Partner holidays")
    w.ms1.refresh_from_db()
    assert w.ms1.late_justification == "Partner holidays"


def test_two_acceptances_needed_and_one_request_for_changes_blocks_until_resubmitted(consortium):
    w = consortium
    services.update_project(actor=w.a_pm, project=w.project, required_acceptances=2)
    for reviewer in (w.reviewer_1, w.reviewer_2):
        services.assign_reviewer(actor=w.a_pm, project=w.project, user=reviewer)
    activate(w)
    submit(w, w.ms1)

    services.review_item(actor=w.reviewer_1, item=w.ms1, decision="accept")
    w.ms1.refresh_from_db()
    assert w.ms1.status == ItemStatus.SUBMITTED  # one of two acceptances

    with pytest.raises(ValidationError, match="Say what must change"):
        services.review_item(actor=w.reviewer_2, item=w.ms1, decision="request_changes")
    services.review_item(
        actor=w.reviewer_2, item=w.ms1, decision="request_changes", comment="Add the threat model"
    )
    w.ms1.refresh_from_db()
    assert w.ms1.status == ItemStatus.CHANGES_REQUESTED
    with pytest.raises(TransitionNotAllowed):
        services.review_item(actor=w.reviewer_1, item=w.ms1, decision="accept")

    submit(w, w.ms1, evidence="Threat model added in section 4.")
    services.review_item(actor=w.reviewer_1, item=w.ms1, decision="accept")
    with pytest.raises(ValidationError, match="already reviewed"):
        services.review_item(actor=w.reviewer_1, item=w.ms1, decision="accept")
    services.review_item(actor=w.reviewer_2, item=w.ms1, decision="accept")
    w.ms1.refresh_from_db()
    assert w.ms1.status == ItemStatus.ACCEPTED and w.ms1.round == 2


def test_only_assigned_reviewers_review(consortium):
    w = consortium
    activate(w)
    submit(w, w.ms1)
    with pytest.raises(Http404):
        services.review_item(actor=w.reviewer_1, item=w.ms1, decision="accept")
    with pytest.raises(PermissionDenied, match="assigned to this project"):
        services.review_item(actor=w.b_member, item=w.ms1, decision="accept")


# --- Linked resources do not bypass sharing ------------------------------------------------------


def test_only_resources_the_submitter_can_see_can_be_linked(consortium, settings, tmp_path):
    w = consortium
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    activate(w)
    b_private = new_resource(w, actor=w.b_pm, title="B's internal design")
    d21_ok = services.submit_item(
        actor=w.b_pm, item=w.d21, evidence="Pilot report", versions=[b_private.versions.get()]
    )
    assert list(d21_ok.linked_versions.all()) == [b_private.versions.get()]
    # A cannot see B's resource: linking it is refused, and A still cannot open it.
    a_private = new_resource(w, title="A's notes")
    with pytest.raises(ValidationError, match="only link resources you can see"):
        services.submit_item(actor=w.a_pm, item=w.ms1, evidence="x", resources=[b_private])
    services.submit_item(actor=w.a_pm, item=w.ms1, evidence="x", resources=[a_private])
    assert not access.can(w.b_member, "view", a_private)


# --- Exercises -----------------------------------------------------------------------------------


def test_injects_reach_their_targets_only_once_released(consortium):
    w = consortium
    now = timezone.now()
    exercise = services.create_project(
        actor=w.a_pm,
        acronym="CYBERSTORM",
        title="Cross-border crisis exercise",
        kind="exercise",
        agreement=w.rd_agreement,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + 10 * DAY,
        partners=[w.b],
        scenario="A ransomware outbreak in the energy sector.",
        exercise_start=now,
        exercise_end=now + 2 * DAY,
    )
    target = exercise.participants.get(organisation=w.b)
    inject = services.add_inject(
        actor=w.a_pm,
        project=exercise,
        release_at=now + datetime.timedelta(hours=2),
        title="Ransom note received",
        description="The grid operator reports a ransom note.",
        targets=[target],
    )
    assert list(services.visible_injects(w.a_member, exercise)) == [inject]  # control team
    assert list(services.visible_injects(w.b_member, exercise)) == []
    with time_machine.travel(now + datetime.timedelta(hours=3), tick=False):
        assert list(services.visible_injects(w.b_member, exercise)) == [inject]
        assert list(services.visible_injects(w.c_member, exercise)) == []
    with pytest.raises(ValidationError, match="Only cross-border exercises"):
        services.add_inject(
            actor=w.a_pm,
            project=w.project,
            release_at=now,
            title="x",
            description="x",
            targets=[w.project.participants.first()],
        )


# --- The agreement governs the project -----------------------------------------------------------


def test_a_project_stops_when_its_agreement_ends(consortium):
    w = consortium
    activate(w)
    agreement_services.terminate(
        actor=w.a_signatory,
        agreement=w.rd_agreement,
        reason="Programme over",
        effective_on=timezone.localdate(),
    )
    w.project.refresh_from_db()
    assert w.project.status == ProjectStatus.SUSPENDED
    with pytest.raises(ValidationError, match="not in force"):
        services.resume(actor=w.a_pm, project=w.project)


def test_contributions_by_the_coordinator_or_the_partner_itself(consortium):
    w = consortium
    partner = w.project.participants.get(organisation=w.b)
    services.add_contribution(
        actor=w.b_pm, participant=partner, kind="person_months", amount=12, unit="PM"
    )
    services.add_contribution(
        actor=w.a_pm, participant=partner, kind="funding", amount=50000, unit="EUR"
    )
    coordinator = w.project.participants.get(organisation=w.a)
    with pytest.raises(PermissionDenied, match="your own organisation"):
        services.add_contribution(
            actor=w.b_pm, participant=coordinator, kind="funding", amount=1, unit="EUR"
        )
    with pytest.raises(ValidationError):
        services.add_contribution(
            actor=w.a_pm, participant=partner, kind="funding", amount=-5, unit="EUR"
        )
    assert partner.contributions.count() == 2


def _dsa(world):
    agreement = draft_between(world, title="A-B data sharing")
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    return sign_by_all(world, agreement)


def test_a_reviewer_whose_organisation_leaves_loses_access(consortium):
    w = consortium
    UserFactory(organisation=w.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    amendment = agreement_services.amend(actor=w.a_pm, agreement=w.rd_agreement)
    agreement_services.update_draft(actor=w.a_pm, agreement=amendment, parties=[w.a, w.b, w.c])
    UserFactory(organisation=w.c, username="cal-signatory", roles=[Role.SIGNATORY])
    party = amendment.parties.get(organisation=w.c)
    agreement_services.update_party(
        actor=w.c.memberships.get(user__username="cal-pm").user,
        party=party,
        signatories=[w.c.memberships.get(user__username="cal-signatory").user],
    )
    agreement_services.submit(actor=w.a_pm, agreement=amendment)
    sign_by_all(w, amendment)
    observer = services.add_participant(
        actor=w.a_pm, project=w.project, organisation=w.c, role="observer"
    )
    c_reviewer = UserFactory(organisation=w.c, username="cal-reviewer", roles=[Role.REVIEWER])
    services.assign_reviewer(actor=w.a_pm, project=w.project, user=c_reviewer)
    assert access.can(c_reviewer, "view", w.project)

    services.remove_participant(actor=w.a_pm, participant=observer)

    assert not access.can(c_reviewer, "view", w.project)


def test_a_deactivated_reviewer_leaves_no_grant_behind(consortium):
    w = consortium
    services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.reviewer_1)
    portal_services.deactivate_member(actor=w.staff, membership=w.reviewer_1.membership)
    assert access.reconcile(repair=False).clean


def test_an_organisation_takes_part_once(consortium):
    w = consortium
    with pytest.raises(ValidationError, match="takes part once"):
        services.create_project(
            actor=w.a_pm,
            acronym="TWICE",
            title="Twice",
            kind="pilot",
            agreement=w.rd_agreement,
            start_date=timezone.localdate(),
            end_date=timezone.localdate() + DAY,
            partners=[w.b],
            observers=[w.b],
        )


def test_an_outsider_learns_nothing_from_completing(consortium):
    with pytest.raises(Http404):
        services.complete(actor=consortium.c_member, project=consortium.project)


def test_a_closed_project_takes_no_more_planning_or_reviews(consortium):
    w = consortium
    services.cancel(actor=w.a_pm, project=w.project, reason="Stopped")
    with pytest.raises(TransitionNotAllowed, match="cancelled"):
        services.add_milestone(
            actor=w.a_pm,
            work_package=w.wp1,
            code="MS9",
            title="Late idea",
            due_date=timezone.localdate() + DAY,
        )
    with pytest.raises(TransitionNotAllowed, match="cancelled"):
        services.change_due_date(actor=w.a_pm, item=w.ms1, new_date=w.ms1.due_date + DAY)


def test_a_participant_with_contributions_stays_on_the_record(consortium):
    w = consortium
    partner = w.project.participants.get(organisation=w.b)
    services.add_contribution(actor=w.b_pm, participant=partner, kind="data", amount=1, unit="TB")
    with pytest.raises(ValidationError, match="recorded contributions"):
        services.remove_participant(actor=w.a_pm, participant=partner)


def test_the_history_does_not_reveal_an_unreleased_inject(consortium):
    w = consortium
    exercise = services.create_project(
        actor=w.a_pm,
        acronym="DRILL",
        title="Drill",
        kind="exercise",
        agreement=w.rd_agreement,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + DAY,
        partners=[w.b],
    )
    target = exercise.participants.get(organisation=w.b)
    services.add_inject(
        actor=w.a_pm,
        project=exercise,
        release_at=timezone.now() + 5 * DAY,
        title="Secret scenario twist",
        description="...",
        targets=[target],
    )
    event = AuditEvent.objects.get(action="project.inject_added")
    assert "Secret scenario twist" not in str(event.details)
