"""Property: after any sequence of domain operations, what each person can see is exactly what
the policy says, computed from scratch, and the stored grants equal the derived ones.

Hypothesis draws sequences of real operations through the services: sharing and revoking
(RED to named people), changing roles, deactivating and reactivating people and whole
organisations, assigning and unassigning reviewers, removing and re-adding a participant,
terminating the agreement, moving the clock past its last day, and running tick (or not).
After each step every person's view of every object is compared with `expected_view`, which
reads the facts directly and shares no code with the access layer or the grant sources.

Each example runs in a transaction that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

import contextlib
import datetime
import io
from dataclasses import dataclass

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from agreements import services as agreement_services
from agreements.models import Agreement, AgreementStatus
from portal import access
from portal import services as portal_services
from portal.models import Organisation, Role
from projects import services as project_services
from projects.models import Participant, Project, ReviewerAssignment
from resources import services as resource_services
from resources.models import Resource, Share, ShareStatus
from tests.agreements.conftest import draft_between, fresh_reauth, sign_by_all
from tests.factories import OrganisationFactory, UserFactory
from tests.resources.conftest import new_resource

User = get_user_model()
TLPS = ["clear", "green", "amber", "red"]
ROLE_SETS = [(), (Role.REVIEWER,), (Role.PROGRAMME_MANAGER,)]


@dataclass
class Cast:
    people: list  # everyone whose view is checked
    resources: list
    project: Project
    agreement: Agreement
    admins: dict  # organisation pk -> an org admin who changes its members' roles


@pytest.fixture
def cast(people, settings, tmp_path) -> Cast:
    """A and B under a data-sharing agreement in force, a joint project between them, and an
    independent reviewers' panel; resources of A at every TLP; people of every kind."""
    world = people
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }
    today = timezone.localdate()
    agreement = draft_between(
        world,
        kind="joint_rd",
        expires_on=today + datetime.timedelta(days=20),
        data_categories=["threat_intelligence"],
        tlp_ceiling="red",
    )
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    agreement = sign_by_all(world, agreement)
    panel = OrganisationFactory(name="Reviewers' Panel", slug="int-irp", country="LU")
    b_reviewer = UserFactory(organisation=world.b, username="bor-reviewer", roles=[Role.REVIEWER])
    panel_reviewer = UserFactory(organisation=panel, username="irp-rev", roles=[Role.REVIEWER])
    admins = {
        world.b.pk: UserFactory(organisation=world.b, username="bor-admin", roles=[Role.ORG_ADMIN]),
        panel.pk: UserFactory(organisation=panel, username="irp-admin", roles=[Role.ORG_ADMIN]),
    }
    project = project_services.create_project(
        actor=world.a_pm,
        acronym="PROP",
        title="Property project",
        kind="research",
        agreement=agreement,
        start_date=today,
        end_date=today + datetime.timedelta(days=100),
        partners=[world.b],
    )
    resources = [new_resource(world, title=f"{tlp} report", tlp=tlp) for tlp in TLPS]
    cast = Cast(
        people=[world.a_member, world.b_member, b_reviewer, world.c_member, panel_reviewer],
        resources=resources,
        project=project,
        agreement=agreement,
        admins=admins,
    )
    # Start where most grants exist, so that few steps reach the states that can go wrong.
    for index in range(len(TLPS)):
        share(cast, world, index, None)
    for reviewer in (b_reviewer, panel_reviewer):
        project_services.assign_reviewer(actor=world.a_pm, project=project, user=reviewer)
    return cast


# --- The policy, from scratch ----------------------------------------------------------------


def in_force(agreement: Agreement, today: datetime.date) -> bool:
    """DESIGN.md's live agreement: fully signed, within its dates, not ended."""
    return (
        agreement.status in (AgreementStatus.SIGNED, AgreementStatus.ACTIVE)
        and agreement.effective_from <= today
        and (agreement.expires_on is None or agreement.expires_on >= today)
        and (
            agreement.termination_effective_on is None or agreement.termination_effective_on > today
        )
    )


def standing(user) -> Organisation | None:
    """The organisation a person acts for, if they and it are active."""
    user = User.objects.select_related("membership__organisation").get(pk=user.pk)
    membership = getattr(user, "membership", None)
    if not user.is_active or membership is None or not membership.organisation.is_active:
        return None
    return membership.organisation


def expected_view(user, obj, today: datetime.date) -> bool:
    organisation = standing(user)
    if organisation is None:
        return False
    if isinstance(obj, Resource):
        if obj.owner_id == organisation.pk or obj.tlp == "clear":
            return True
        for share in Share.objects.filter(resource=obj, status=ShareStatus.ACTIVE):
            if share.recipient_id != organisation.pk or not in_force(share.agreement, today):
                continue
            if obj.tlp != "red" or share.recipient_users.filter(pk=user.pk).exists():
                return True
        return False
    if isinstance(obj, Project):
        if Participant.objects.filter(project=obj, organisation=organisation).exists():
            return True
        assigned = ReviewerAssignment.objects.filter(project=obj, user=user).exists()
        participant_orgs = set(
            Participant.objects.filter(project=obj).values_list("organisation_id", flat=True)
        )
        return bool(
            assigned
            and user.membership.reviewer
            and (
                organisation.pk in participant_orgs
                or organisation.slug in settings.PROJECT_REVIEWER_ORGANISATIONS
            )
        )
    if isinstance(obj, Organisation):  # its member list
        if obj.pk == organisation.pk:
            return True
        shared = Agreement.objects.filter(parties__organisation=obj).filter(
            parties__organisation=organisation
        )
        return any(in_force(agreement, today) for agreement in shared)
    raise TypeError(obj)


def check(cast: Cast, world) -> None:
    today = timezone.localdate()
    project = Project.objects.get(pk=cast.project.pk)
    objects = [
        *(Resource.objects.get(pk=r.pk) for r in cast.resources),
        project,
        *Organisation.objects.filter(pk__in=[world.a.pk, world.b.pk]),
    ]
    for person in cast.people:
        user = User.objects.select_related("membership__organisation").get(pk=person.pk)
        for obj in objects:
            action = "view_members" if isinstance(obj, Organisation) else "view"
            seen = access.visible_to(user, type(obj).objects.filter(pk=obj.pk), action).exists()
            assert seen == expected_view(user, obj, today), (user.username, str(obj), action)


# --- Operations --------------------------------------------------------------------------------


def share(cast, world, index, _):
    resource = Resource.objects.get(pk=cast.resources[index % len(cast.resources)].pk)
    named = [world.b_member] if resource.tlp == "red" else []
    resource_services.share_resource(
        actor=world.a_pm,
        resource=resource,
        agreement=Agreement.objects.get(pk=cast.agreement.pk),
        recipient=world.b,
        recipient_users=named,
        reauthentication=fresh_reauth(),
    )


def revoke(cast, world, index, _):
    resource = cast.resources[index % len(cast.resources)]
    live = Share.objects.filter(resource=resource, status=ShareStatus.ACTIVE)
    for item in live:
        resource_services.revoke_share(actor=world.a_pm, share=item, reason="Property step")


def set_roles(cast, world, index, roles):
    person = User.objects.get(pk=cast.people[index].pk)
    admin = cast.admins.get(person.membership.organisation_id)
    if admin is not None:
        portal_services.change_member_roles(
            actor=admin, membership=person.membership, roles=list(roles)
        )


def deactivate(cast, world, index, _):
    person = User.objects.get(pk=cast.people[index].pk)
    portal_services.deactivate_member(actor=world.staff, membership=person.membership)


def reactivate(cast, world, index, _):
    person = User.objects.get(pk=cast.people[index].pk)
    portal_services.reactivate_member(actor=world.staff, membership=person.membership)


def organisation_active(cast, world, index, active):
    person = User.objects.get(pk=cast.people[index].pk)
    organisation = person.membership.organisation
    if organisation.pk != world.a.pk:  # A runs the operations
        portal_services.update_organisation(
            actor=world.staff, organisation=organisation, is_active=bool(active)
        )


def assign(cast, world, index, _):
    project_services.assign_reviewer(
        actor=world.a_pm, project=cast.project, user=User.objects.get(pk=cast.people[index].pk)
    )


def unassign(cast, world, index, _):
    for assignment in ReviewerAssignment.objects.filter(
        project=cast.project, user_id=cast.people[index].pk
    ):
        project_services.unassign_reviewer(actor=world.a_pm, assignment=assignment)


def remove_partner(cast, world, index, _):
    for participant in Participant.objects.filter(project=cast.project, organisation=world.b):
        project_services.remove_participant(actor=world.a_pm, participant=participant)


def add_partner(cast, world, index, _):
    project_services.add_participant(
        actor=world.a_pm, project=cast.project, organisation=world.b, role="partner"
    )


def terminate_later(cast, world, index, _):
    agreement_services.terminate(
        actor=world.a_signatory,
        agreement=Agreement.objects.get(pk=cast.agreement.pk),
        reason="Property step",
        effective_on=timezone.localdate() + datetime.timedelta(days=1 + index),
    )


def tick(cast, world, index, _):
    call_command("tick", stdout=io.StringIO())


OPERATIONS = {
    f.__name__: f
    for f in (
        share,
        revoke,
        set_roles,
        deactivate,
        reactivate,
        organisation_active,
        assign,
        unassign,
        remove_partner,
        add_partner,
        terminate_later,
        tick,
    )
}
#: A step: an operation, an index into the people or resources, an argument, and how many
#: days the clock moves afterwards (0 most often; 25 goes past the agreement's expiry).
steps = st.tuples(
    st.sampled_from(sorted(OPERATIONS)),
    st.integers(0, 4),
    st.sampled_from([*ROLE_SETS, 0, 1]),
    st.sampled_from([0, 0, 0, 1, 3, 25]),
)


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(steps, min_size=1, max_size=8))
def test_what_people_see_always_equals_the_policy(cast, people, sequence):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock, transaction.atomic():
        for name, index, argument, days in sequence:
            if name == "set_roles" and not isinstance(argument, tuple):
                argument = ()
            if name == "organisation_active" and isinstance(argument, tuple):
                argument = 0
            # Refused by the rules: nothing changed, which the check confirms.
            with contextlib.suppress(ValidationError, PermissionDenied, Http404):
                OPERATIONS[name](cast, people, index, argument)
            if days:
                clock.shift(datetime.timedelta(days=days))
            check(cast, people)
        transaction.set_rollback(True)
