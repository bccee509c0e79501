"""The demo has projects of every kind the brief names, with items in every state, overdue
and slipped items, an exercise with injects, and the independent panel reviewing."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from portal import access
from projects.models import (
    Contribution,
    DateChange,
    Deliverable,
    Inject,
    ItemStatus,
    Milestone,
    Project,
    ProjectKind,
    ProjectStatus,
    ReviewerAssignment,
)


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    with override_settings(DEBUG=True):
        call_command("seed_demo")
        call_command("seed_demo")  # idempotent


def test_demo_projects_cover_every_kind_state_and_schedule_problem(demo):
    kinds = set(Project.objects.values_list("kind", flat=True))
    assert Project.objects.count() >= 4
    assert {
        ProjectKind.RESEARCH,
        ProjectKind.PILOT,
        ProjectKind.EXERCISE,
        ProjectKind.STANDARDS,
    } <= kinds
    items = [*Milestone.objects.all(), *Deliverable.objects.all()]
    assert {item.status for item in items} == set(ItemStatus.values)
    today = timezone.localdate()
    assert any(i.due_date < today and i.status != ItemStatus.ACCEPTED for i in items)
    slipped = [i for i in items if i.baseline_due_date and i.due_date > i.baseline_due_date]
    assert slipped and DateChange.objects.count() >= len(slipped)
    assert all(change.reason for change in DateChange.objects.all())
    active = Project.objects.filter(status=ProjectStatus.ACTIVE)
    assert all(project.baseline_frozen_at for project in active)

    for project in active:
        reviewers = ReviewerAssignment.objects.filter(project=project)
        assert {a.user.membership.organisation.slug for a in reviewers} == {"int-irp"}
    exercise = Project.objects.get(kind=ProjectKind.EXERCISE)
    injects = Inject.objects.filter(project=exercise)
    assert injects.filter(release_at__lte=timezone.now()).exists()
    assert injects.filter(release_at__gt=timezone.now()).exists()
    assert Contribution.objects.values("kind").distinct().count() >= 4
    assert access.reconcile(repair=False).clean


def test_demo_people_find_their_project_work_on_the_dashboard(demo, client):
    users = get_user_model().objects
    client.force_login(users.get(username="int-irp-reviewer"))
    reviewer_page = client.get("/").content.decode()
    assert "Awaiting your review" in reviewer_page
    assert "ICS-WATCH D2.1" in reviewer_page and "CSIRT-TAXO D1.0" in reviewer_page

    client.force_login(users.get(username="ee-csirt-pm"))
    manager_page = client.get("/").content.decode()
    assert "Overdue items" in manager_page and "ICS-WATCH MS3" in manager_page
    assert "Portfolio health" in manager_page
    # de-bmds takes part in no project: none of the projects' items show.
    client.force_login(users.get(username="de-bmds-pm"))
    outsider_page = client.get("/").content.decode()
    assert "ICS-WATCH" not in outsider_page and "None of your projects is active." in outsider_page
