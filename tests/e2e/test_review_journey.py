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


@pytest.fixture
def evidence_to_judge(e2e_world, consortium):  # noqa: F811
    """SENTINEL is active with two panel reviewers; B leads WP2 and owns an AMBER report
    that nobody outside B can open."""
    from tests.resources.conftest import new_resource

    world = consortium
    for reviewer in (world.reviewer_1, world.reviewer_2):
        services.assign_reviewer(actor=world.a_pm, project=world.project, user=reviewer)
    services.activate(actor=world.a_pm, project=world.project)
    world.extra["report"] = new_resource(
        world, actor=world.b_pm, title="Borealis pilot calibration log"
    )
    return world


def test_a_reviewer_opens_the_linked_evidence_and_accepts(evidence_to_judge, new_page, clock):
    world = evidence_to_judge
    project, report = world.project, world.report

    # B's programme manager submits the pilot report, linking its own AMBER log. The form
    # says who could not open it, and offers to let the reviewers open it (ticked).
    partner = new_page()
    sign_in(partner, world.b_pm, clock)
    partner.goto(project.get_absolute_url())
    partner.get_by_role("link", name="Submit D2.1").click()
    check_accessibility(partner, "submit form with evidence")
    partner.get_by_label(re.compile("^Evidence")).fill("The calibration log, version 1.")
    picker = partner.get_by_role("combobox", name=re.compile("^Linked resource versions"))
    picker.fill("calibration")
    listbox = partner.get_by_role("listbox", name=re.compile("^Linked resource versions"))
    (choice,) = listbox.get_by_role("option").all_inner_texts()
    assert "Borealis pilot calibration log" in choice
    assert "the reviewers who cannot open it" in choice
    picker.press("Enter")
    assert partner.get_by_label("Let the reviewers open what my organisation owns").is_checked()
    partner.get_by_role("button", name="Submit for review").click()
    partner.wait_for_url(re.compile(r"/projects/\d+/"))

    # The reviewer follows the link to the evidence itself, reads it, and accepts.
    reviewer = new_page()
    sign_in(reviewer, world.reviewer_1, clock)
    reviewer.goto(project.get_absolute_url())
    reviewer.get_by_role("link", name=re.compile("Borealis pilot calibration log")).first.click()
    reviewer.wait_for_url(re.compile(report.get_absolute_url()))
    assert reviewer.get_by_role("heading", name="Borealis pilot calibration log").is_visible()
    screenshot(reviewer, "reviewer-opens-evidence")
    review(reviewer, project, "D2.1", "Accept")

    world.d21.refresh_from_db()
    assert world.d21.status == ItemStatus.ACCEPTED
