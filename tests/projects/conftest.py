"""Project fixtures: a joint R&D agreement in force between A and B, a project coordinated by
A with B as partner, two work packages, and reviewers from an independent panel."""

import datetime

import pytest
from django.utils import timezone

from agreements import services as agreement_services
from portal.models import Role
from projects import services
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture
def private_storage(settings, tmp_path):
    """Uploaded resources land in a throw-away private storage root."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }


@pytest.fixture
def consortium(people):
    world = people
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    agreement = draft_between(
        world, kind="joint_rd", title="A-B joint research", expires_on=today + 700 * day
    )
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    world.extra["rd_agreement"] = sign_by_all(world, agreement)
    panel = OrganisationFactory(name="Independent Reviewers' Panel", slug="int-irp", country="LU")
    world.extra.update(
        panel=panel,
        reviewer_1=UserFactory(organisation=panel, username="panel-rev-1", roles=[Role.REVIEWER]),
        reviewer_2=UserFactory(organisation=panel, username="panel-rev-2", roles=[Role.REVIEWER]),
        b_reviewer=UserFactory(
            organisation=world.b, username="bor-reviewer", roles=[Role.REVIEWER]
        ),
    )
    project = services.create_project(
        actor=world.a_pm,
        acronym="SENTINEL",
        title="Shared sensor network for early warning",
        kind="research",
        agreement=agreement,
        start_date=today - 30 * day,
        end_date=today + 500 * day,
        partners=[world.b],
        summary="Joint research on early-warning sensors.",
    )
    coordinator = project.participants.get(organisation=world.a)
    partner = project.participants.get(organisation=world.b)
    wp1 = services.add_work_package(
        actor=world.a_pm,
        project=project,
        number=1,
        title="Architecture",
        lead=coordinator,
        start_date=today - 30 * day,
        end_date=today + 200 * day,
    )
    wp2 = services.add_work_package(
        actor=world.a_pm,
        project=project,
        number=2,
        title="Pilot deployment",
        lead=partner,
        start_date=today,
        end_date=today + 400 * day,
    )
    ms1 = services.add_milestone(
        actor=world.a_pm,
        work_package=wp1,
        code="MS1",
        title="Architecture agreed",
        due_date=today + 30 * day,
        means_of_verification="Signed architecture document",
    )
    d21 = services.add_deliverable(
        actor=world.a_pm,
        work_package=wp2,
        code="D2.1",
        title="Pilot report",
        type="report",
        tlp="amber",
        due_date=today + 90 * day,
    )
    world.extra.update(project=project, wp1=wp1, wp2=wp2, ms1=ms1, d21=d21)
    return world
