"""The project page asks the database a fixed number of times, whoever looks at it and however
large the project is: one participant or many, one milestone or many, one reviewer, linked
resource, contribution or date change or many.

The counts are pinned for each kind of viewer. They are made of the framework's queries (the
session, the user, the unread notices; and whether the person has a second factor when one of
their roles needs it), the page's own (the project with its consortium, work packages, items,
their links, reviews and date changes, contributions, and for the owner of linked evidence
which reviewers cannot open it), and the history's (the events, the reader's own folded views,
and what the sentences name: organisations, the agreement, people, member lists).
"""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services as agreement_services
from portal.models import Role
from projects import services
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import OrganisationFactory, UserFactory
from tests.resources.conftest import new_resource

DAY = datetime.timedelta(days=1)

#: Queries of the project page for each kind of viewer, the same at every size.
EXPECTED = {
    # Framework 3; page 12 (its evidence's blocked reviewers among them); history 6.
    "coordinator's programme manager": 21,
    # Framework 3; page 11; history 6.
    "partner's programme manager": 20,
    "partner's member": 20,
    # Framework 4 (the second-factor check of an admin); page 12; history 6.
    "coordinator's admin": 22,
    # Framework 3; page 11; no history (reviewers from a panel do not see it).
    "panel reviewer": 14,
}


def grown_project(world, acronym: str, n: int):
    """A running project with n of everything: partners besides A and B, work packages,
    milestones and deliverables (each submitted with n linked resources, moved after the
    baseline was frozen), reviewers besides the panel's first, and contributions."""
    today = timezone.localdate()
    others = []
    for i in range(n):
        organisation = OrganisationFactory(
            name=f"{acronym} partner {i}", slug=f"{acronym.lower()}-{i}", country="DE"
        )
        UserFactory(
            organisation=organisation,
            username=f"{acronym.lower()}-{i}-pm",
            roles=[Role.PROGRAMME_MANAGER, Role.SIGNATORY],
        )
        others.append(organisation)
    agreement = draft_between(
        world,
        world.a,
        world.b,
        *others,
        kind="joint_rd",
        title=f"{acronym} research",
        expires_on=today + 700 * DAY,
    )
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    agreement = sign_by_all(world, agreement)
    project = services.create_project(
        actor=world.a_pm,
        acronym=acronym,
        title=f"{acronym} project",
        kind="research",
        agreement=agreement,
        start_date=today - 30 * DAY,
        end_date=today + 500 * DAY,
        partners=[world.b, *others],
        summary="Joint *research*.",
    )
    leads = [
        project.participants.get(organisation=world.a),
        project.participants.get(organisation=world.b),
    ]
    packages = [
        services.add_work_package(
            actor=world.a_pm,
            project=project,
            number=i + 1,
            title=f"Work {i}",
            lead=leads[i % 2],
            start_date=today - 30 * DAY,
            end_date=today + 400 * DAY,
        )
        for i in range(n)
    ]
    milestones = [
        services.add_milestone(
            actor=world.a_pm,
            work_package=packages[0],
            code=f"MS{i}",
            title=f"Milestone {i}",
            due_date=today + (10 + i) * DAY,
        )
        for i in range(n)
    ]
    deliverables = [
        services.add_deliverable(
            actor=world.a_pm,
            work_package=packages[0],
            code=f"D{i}",
            title=f"Deliverable {i}",
            type="report",
            tlp="amber",
            due_date=today + (20 + i) * DAY,
        )
        for i in range(n)
    ]
    services.assign_reviewer(actor=world.a_pm, project=project, user=world.reviewer_1)
    for i in range(n - 1):
        reviewer = UserFactory(
            organisation=world.panel, username=f"{acronym.lower()}-rev-{i}", roles=[Role.REVIEWER]
        )
        services.assign_reviewer(actor=world.a_pm, project=project, user=reviewer)
    for participant in project.participants.all():
        services.add_contribution(
            actor=world.a_pm,
            participant=participant,
            kind="funding",
            amount=Decimal(10),
            unit="EUR",
        )
    services.activate(actor=world.a_pm, project=project)
    resources = [
        new_resource(world, title=f"{acronym} evidence {i}", tlp="green") for i in range(n)
    ]
    for milestone in milestones:
        services.change_due_date(
            actor=world.a_pm, item=milestone, new_date=milestone.due_date + DAY, reason="Slip"
        )
        services.submit_item(
            actor=world.a_pm, item=milestone, evidence="Done.", resources=resources
        )
    for deliverable in deliverables:
        services.submit_item(
            actor=world.a_pm,
            item=deliverable,
            evidence="Done.",
            versions=[resource.versions.first() for resource in resources],
        )
    return project


def queries_of_page(client, user, project) -> list[str]:
    client.force_login(user)
    client.get(project.get_absolute_url())  # warms per-process caches (permission ids)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(project.get_absolute_url())
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_project_page_queries_do_not_grow_with_the_project(consortium, client, private_storage):
    world = consortium
    small = grown_project(world, "SMALL", 1)
    large = grown_project(world, "LARGE", 4)
    viewers = {
        "coordinator's programme manager": world.a_pm,
        "partner's programme manager": world.b_pm,
        "partner's member": world.b_member,
        "coordinator's admin": world.a_admin,
        "panel reviewer": world.reviewer_1,
    }
    counts = {}
    for kind, user in viewers.items():
        one = queries_of_page(client, user, small)
        many = queries_of_page(client, user, large)
        assert len(many) == len(one), (kind, many)
        counts[kind] = len(one)
    assert counts == EXPECTED


def test_the_large_project_page_shows_everything_it_holds(consortium, client, private_storage):
    world = consortium
    project = grown_project(world, "LARGE", 4)
    client.force_login(world.a_pm)
    body = client.get(project.get_absolute_url()).content.decode()
    for i in range(4):
        for text in (f"MS{i}", f"D{i}", f"LARGE partner {i}", f"LARGE evidence {i}, version 1"):
            assert text in body
    assert body.count("LARGE evidence 3</a>") == 4  # linked to each of the four milestones
    assert world.reviewer_1.get_full_name() in body
