"""Journey 3: one reviewer accepts a milestone; another requests changes on a second one with a
comment; the coordinator resubmits it."""

import re

import pytest

from projects import services
from projects.models import ItemStatus
from tests.e2e.support import check_accessibility, screenshot, sign_in
from tests.projects.conftest import consortium  # noqa: F401  (the fixture, reused)


@pytest.fixture
def under_review(e2e_world, consortium):  # noqa: F811
    world = consortium
    ms2 = services.add_milestone(
        actor=world.a_pm,
        work_package=world.wp1,
        code="MS2",
        title="Prototype sensors installed",
        due_date=world.ms1.due_date,
        means_of_verification="Site acceptance report",
    )
    for reviewer in (world.reviewer_1, world.reviewer_2):
        services.assign_reviewer(actor=world.a_pm, project=world.project, user=reviewer)
    services.activate(actor=world.a_pm, project=world.project)
    for item in (world.ms1, ms2):
        services.submit_item(actor=world.a_pm, item=item, evidence="Document D-7 on the wiki.")
    world.extra["ms2"] = ms2
    return world


def review(page, project, code: str, decision: str, comment: str = "") -> None:
    page.goto(project.get_absolute_url())
    page.get_by_role("link", name=f"Review {code}").click()
    check_accessibility(page, f"review form {code}")
    page.get_by_label(decision).check()
    if comment:
        page.get_by_label(re.compile("^Comment")).fill(comment)
    page.get_by_role("button", name=re.compile("review", re.I)).click()
    page.wait_for_url(re.compile(r"/projects/\d+/"))


def test_accept_request_changes_and_resubmit(under_review, new_page, clock):
    world = under_review
    project = world.project

    first = new_page()
    sign_in(first, world.reviewer_1, clock)
    review(first, project, "MS1", "Accept")

    second = new_page()
    sign_in(second, world.reviewer_2, clock)
    review(second, project, "MS2", "Request changes", "The acceptance report is unsigned.")

    world.ms1.refresh_from_db()
    world.ms2.refresh_from_db()
    assert world.ms1.status == ItemStatus.ACCEPTED
    assert world.ms2.status == ItemStatus.CHANGES_REQUESTED

    coordinator = new_page()
    sign_in(coordinator, world.a_pm, clock)
    coordinator.goto(project.get_absolute_url())
    assert coordinator.get_by_text("The acceptance report is unsigned.").is_visible()
    screenshot(coordinator, "project-reviews")
    coordinator.get_by_role("link", name="Resubmit MS2").click()
    check_accessibility(coordinator, "resubmit form")
    coordinator.get_by_label(re.compile("^Evidence")).fill("Signed report D-7b on the wiki.")
    coordinator.get_by_role("button", name="Submit for review").click()
    coordinator.wait_for_url(re.compile(r"/projects/\d+/"))

    world.ms2.refresh_from_db()
    assert world.ms2.status == ItemStatus.SUBMITTED
    assert world.ms2.round == 2
    assert world.ms2.evidence == "Signed report D-7b on the wiki."
