"""The project pages: the list, the project page with its timeline, and the pages that plan,
submit and review the work.

Each test states what a person would notice: what they see, what they can do, and what they
can never learn.
"""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services as agreement_services
from portal.models import Organisation, Role
from projects import gantt, services
from projects.models import (
    Deliverable,
    ItemStatus,
    Milestone,
    Participant,
    Project,
    ProjectStatus,
    WorkPackage,
)
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import UserFactory
from tests.resources.conftest import new_resource

DAY = datetime.timedelta(days=1)


def acronyms(response) -> list[str]:
    return [p.acronym for p in response.context["object_list"]]


def page(client, project) -> str:
    response = client.get(project.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def item_url(project, item, action: str) -> str:
    kind = "milestone" if isinstance(item, Milestone) else "deliverable"
    return f"/projects/{project.pk}/{kind}/{item.pk}/{action}/"


def new_project(world, acronym: str, *, kind="research", partners=(), **fields) -> Project:
    today = timezone.localdate()
    values = {"start_date": today - 10 * DAY, "end_date": today + 300 * DAY}
    values.update(fields)
    return services.create_project(
        actor=world.a_pm,
        acronym=acronym,
        title=f"{acronym} project",
        kind=kind,
        agreement=world.rd_agreement,
        partners=partners,
        **values,
    )


def plan(world, project, *, lead=None, due_in_days: int, code="MS1") -> Milestone:
    """A work package led by `lead` (the coordinator by default) with one milestone."""
    lead = lead or project.participants.get(role="coordinator")
    wp = services.add_work_package(
        actor=world.a_pm,
        project=project,
        number=project.work_packages.count() + 1,
        title="Work",
        lead=lead,
        start_date=project.start_date,
        end_date=project.end_date,
    )
    return services.add_milestone(
        actor=world.a_pm,
        work_package=wp,
        code=code,
        title=f"{code} reached",
        due_date=timezone.localdate() + due_in_days * DAY,
    )


def activate(world, project=None) -> Project:
    return services.activate(actor=world.a_pm, project=project or world.project)


# --- The list -------------------------------------------------------------------------------


def test_list_filters_by_status_kind_participant_health_and_search(consortium, client):
    world = consortium
    drill = new_project(world, "DRILL", kind="exercise")
    plan(world, drill, due_in_days=5)  # due soon and still planned: at risk
    overdue = new_project(world, "OVERDUE")
    plan(world, overdue, due_in_days=-3)  # past its due date: late
    activate(world, overdue)

    client.force_login(world.b_member)
    assert acronyms(client.get("/projects/")) == ["SENTINEL"]  # B takes part only there

    client.force_login(world.a_member)
    listing = client.get("/projects/")
    assert acronyms(listing) == ["DRILL", "OVERDUE", "SENTINEL"]
    body = listing.content.decode()
    assert 'class="badge badge-late">Late<' in body
    assert 'class="badge badge-at_risk">At risk<' in body
    assert "Propose a project" not in body  # a member without the programme manager role
    assert acronyms(client.get("/projects/?status=active")) == ["OVERDUE"]
    assert acronyms(client.get("/projects/?kind=exercise")) == ["DRILL"]
    assert acronyms(client.get(f"/projects/?participant={world.b.slug}")) == ["SENTINEL"]
    assert acronyms(client.get("/projects/?health=late")) == ["OVERDUE"]
    assert acronyms(client.get("/projects/?health=at_risk")) == ["DRILL"]
    assert acronyms(client.get("/projects/?health=on_track")) == ["SENTINEL"]
    assert acronyms(client.get("/projects/?q=sensor+network")) == ["SENTINEL"]  # title
    assert acronyms(client.get("/projects/?q=early-warning")) == ["SENTINEL"]  # summary
    assert acronyms(client.get("/projects/?q=drill")) == ["DRILL"]  # acronym
    assert acronyms(client.get("/projects/?sort=end&health=late")) == ["OVERDUE"]

    client.force_login(world.a_pm)
    assert "Propose a project" in client.get("/projects/").content.decode()


def test_list_shows_coordinator_health_and_the_next_item_due(consortium, client):
    client.force_login(consortium.b_member)
    body = client.get("/projects/").content.decode()
    assert consortium.a.slug in body  # the coordinator
    assert "MS1" in body and "Architecture agreed" in body  # due first, before D2.1
    assert 'class="badge badge-on_track">On track<' in body


def test_outsider_sees_no_project_and_gets_404_everywhere(consortium, client):
    world = consortium
    client.force_login(world.c_member)
    listing = client.get("/projects/?q=SENTINEL")
    assert listing.context["paginator"].count == 0
    assert world.project.title not in listing.content.decode()
    assert client.get(f"/projects/?participant={world.a.slug}").context["paginator"].count == 0
    assert client.get(world.project.get_absolute_url()).status_code == 404
    assert client.get(item_url(world.project, world.ms1, "submit")).status_code == 404
    assert client.get(f"/projects/{world.project.pk}/activate/").status_code == 404

    client.force_login(world.staff)  # the operator does not bypass the grants either
    assert client.get(world.project.get_absolute_url()).status_code == 404


def test_list_query_count_does_not_grow_with_the_rows(consortium, client):
    world = consortium
    client.force_login(world.a_member)
    client.get("/projects/")  # warms per-process caches (permission ids, content types)
    with CaptureQueriesContext(connection) as one:
        response = client.get("/projects/?sort=start")
    assert len(response.context["object_list"]) == 1

    for n in range(29):
        project = new_project(world, f"P{n:02d}", partners=[world.b])
        if n % 3 == 0:
            plan(world, project, due_in_days=n - 10)
    with CaptureQueriesContext(connection) as first_page:
        response = client.get("/projects/?sort=start")
    assert len(response.context["object_list"]) == 25
    with CaptureQueriesContext(connection) as second_page:
        response = client.get("/projects/?sort=start&page=2")
    assert len(response.context["object_list"]) == 5
    assert len(first_page) == len(one), [q["sql"] for q in first_page.captured_queries]
    assert len(second_page) == len(one)


# --- The project page -------------------------------------------------------------------------


def test_project_page_shows_consortium_work_packages_and_items(consortium, client):
    world = consortium
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_1)
    client.force_login(world.b_member)
    body = page(client, world.project)
    for text in (
        "Atlantis National CSIRT",
        "Borealis Cyber Centre",
        'class="badge badge-coordinator">Coordinator<',
        'class="badge badge-partner">Partner<',
        world.reviewer_1.get_full_name(),
        "Architecture",
        "Pilot deployment",
        "Architecture agreed",
        "Pilot report",
        'class="badge badge-planned">Planned<',
        "Signed architecture document",
        world.rd_agreement.title,
    ):
        assert text in body, text
    assert 'role="img"' in body and "Timeline of SENTINEL" in body  # the Gantt
    # A member without a role acts on nothing.
    assert f"/projects/{world.project.pk}/activate/" not in body
    assert "/due-date/" not in body and "/submit/" not in body
    assert "Who can see this, and why" in body and "History" in body


def test_coordinator_and_partner_see_only_their_buttons(consortium, client):
    world = consortium
    client.force_login(world.a_pm)
    coordinator = page(client, world.project)
    pk = world.project.pk
    for url in (
        f"/projects/{pk}/activate/",
        f"/projects/{pk}/cancel/",
        f"/projects/{pk}/participants/add/",
        f"/projects/{pk}/reviewers/add/",
        f"/projects/{pk}/work-packages/add/",
        f"/projects/{pk}/milestones/add/",
        item_url(world.project, world.d21, "due-date"),  # the coordinator plans everything
    ):
        assert url in coordinator, url
    assert f"/projects/{pk}/suspend/" not in coordinator  # not active yet

    client.force_login(world.b_pm)
    partner = page(client, world.project)
    assert f"/projects/{pk}/activate/" not in partner
    assert f"/projects/{pk}/work-packages/add/" not in partner
    assert f"/projects/{pk}/milestones/add/" in partner  # B leads WP2
    assert item_url(world.project, world.d21, "due-date") in partner
    assert item_url(world.project, world.ms1, "due-date") not in partner  # A leads WP1
    assert client.get(f"/projects/{pk}/activate/").status_code == 403
    assert client.get(item_url(world.project, world.ms1, "due-date")).status_code == 403


def test_reviewer_from_the_panel_sees_the_project_but_not_the_agreement(consortium, client):
    world = consortium
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_1)
    client.force_login(world.reviewer_1)
    body = page(client, world.project)
    assert "Pilot report" in body
    assert world.rd_agreement.reference not in body and world.rd_agreement.title not in body
    assert "Who can see this, and why" not in body  # the panel is not a participant
    client.force_login(world.reviewer_2)  # not assigned
    assert client.get(world.project.get_absolute_url()).status_code == 404


def test_slip_after_a_date_change_shows_with_its_reason(consortium, client):
    world = consortium
    activate(world)
    url = item_url(world.project, world.ms1, "due-date")
    new_date = world.ms1.due_date + 12 * DAY
    client.force_login(world.a_pm)

    refused = client.post(url, {"due_date": new_date.isoformat(), "reason": ""})
    assert refused.status_code == 200
    assert "say why the date moves" in refused.content.decode()

    moved = client.post(url, {"due_date": new_date.isoformat(), "reason": "Vendor delivery late"})
    assert moved.status_code == 302
    assert moved["Location"] == f"{world.project.get_absolute_url()}#milestone-{world.ms1.pk}"
    client.force_login(world.b_member)
    body = page(client, world.project)
    assert "+12 days" in body and 'class="slip"' in body
    assert "Vendor delivery late" in body
    assert world.ms1.due_date.strftime("%-d %b %Y") in body  # the baseline stays visible
    assert 'class="gantt-baseline"' in body
    assert 'class="badge badge-at_risk">At risk<' in body  # slipped against its baseline


def test_overdue_item_is_marked_and_the_project_is_late(consortium, client):
    world = consortium
    late = services.add_milestone(
        actor=world.a_pm,
        work_package=world.wp1,
        code="MS0",
        title="Kick-off held",
        due_date=timezone.localdate() - 2 * DAY,
    )
    client.force_login(world.a_member)
    response = client.get(world.project.get_absolute_url())
    assert response.context["health"] == "late"
    body = response.content.decode()
    assert f'id="milestone-{late.pk}" class="item-row item-overdue' in body
    assert '<span class="overdue">Overdue</span>' in body
    assert "gantt-overdue" in body


def test_contribution_totals_per_partner_and_per_kind(consortium, client):
    world = consortium
    coordinator = world.project.participants.get(organisation=world.a)
    partner = world.project.participants.get(organisation=world.b)
    url = f"/projects/{world.project.pk}/contributions/add/"
    client.force_login(world.a_pm)
    for participant, kind, amount, unit in [
        (coordinator, "funding", "120000", "EUR"),
        (coordinator, "person_months", "12", "PM"),
        (partner, "funding", "80000", "EUR"),
        (partner, "funding", "5000", "USD"),
    ]:
        response = client.post(
            url, {"participant": participant.pk, "kind": kind, "amount": amount, "unit": unit}
        )
        assert response.status_code == 302, response.content.decode()

    client.force_login(world.b_pm)  # a partner records its own contribution, not others'
    form = client.get(url).context["form"]
    assert list(form.fields["participant"].queryset) == [partner]
    client.post(
        url, {"participant": partner.pk, "kind": "person_months", "amount": "6.5", "unit": "PM"}
    )
    assert (
        client.post(
            url, {"participant": coordinator.pk, "kind": "funding", "amount": "1", "unit": "EUR"}
        ).status_code
        == 200
    )  # not a choice for B

    response = client.get(world.project.get_absolute_url())
    by_partner = dict(response.context["totals_by_partner"])
    assert by_partner["Atlantis National CSIRT"] == [(Decimal("120000"), "EUR"), (12, "PM")]
    assert by_partner["Borealis Cyber Centre"] == [
        (Decimal("80000"), "EUR"),
        (Decimal("5000"), "USD"),
        (Decimal("6.5"), "PM"),
    ]
    by_kind = dict(response.context["totals_by_kind"])
    assert by_kind["Funding"] == [(Decimal("200000"), "EUR"), (Decimal("5000"), "USD")]
    assert by_kind["Person-months"] == [(Decimal("18.5"), "PM")]
    body = response.content.decode()
    assert "200,000 EUR" in body and "5,000 USD" in body and "18.50 PM" in body
    assert "205,000" not in body  # euros and dollars are never added together


# --- Linked resources -----------------------------------------------------------------------


@pytest.mark.usefixtures("private_storage")
def test_linked_resource_the_viewer_cannot_see_shows_only_that_it_exists(consortium, client):
    world = consortium
    activate(world)
    secret = new_resource(world, actor=world.b_pm, title="Borealis calibration secrets 4Z")
    public = new_resource(world, actor=world.b_pm, title="Borealis open advisory", tlp="clear")
    client.force_login(world.b_pm)

    # B leads WP2: it plans a milestone there and submits both of its items with links.
    response = client.post(
        f"/projects/{world.project.pk}/milestones/add/",
        {
            "work_package": world.wp2.pk,
            "code": "MS2",
            "title": "Sensors calibrated",
            "due_date": (timezone.localdate() + 60 * DAY).isoformat(),
        },
    )
    assert response.status_code == 302
    ms2 = Milestone.objects.get(code="MS2")
    response = client.post(
        item_url(world.project, ms2, "submit"),
        {"evidence": "Calibration log attached.", "resources": [secret.pk, public.pk]},
    )
    assert response.status_code == 302, response.content.decode()
    version = secret.versions.get()
    response = client.post(
        item_url(world.project, world.d21, "submit"),
        {"evidence": "Pilot report written.", "versions": [version.pk]},
    )
    assert response.status_code == 302, response.content.decode()

    partner_view = page(client, world.project)
    assert "Borealis calibration secrets 4Z" in partner_view
    assert secret.get_absolute_url() in partner_view

    client.force_login(world.a_member)
    coordinator_view = page(client, world.project)
    hidden = "A linked resource your organisation cannot see (not shared with you)"
    assert coordinator_view.count(hidden) == 2  # the milestone's and the deliverable's link
    assert "Borealis calibration secrets" not in coordinator_view
    assert secret.get_absolute_url() not in coordinator_view  # never a broken link
    assert "Borealis open advisory" in coordinator_view  # TLP:CLEAR: everyone sees it
    assert public.get_absolute_url() in coordinator_view


@pytest.mark.usefixtures("private_storage")
def test_submit_form_offers_only_resources_the_submitter_can_see(consortium, client):
    world = consortium
    activate(world)
    own = new_resource(world, actor=world.b_pm, title="Borealis pilot data")
    other = new_resource(world, actor=world.a_pm, title="Atlantis internal notes")
    client.force_login(world.b_pm)
    form = client.get(item_url(world.project, world.d21, "submit")).context["form"]
    titles = {v.resource.title for v in form.fields["versions"].queryset}
    assert "Borealis pilot data" in titles and "Atlantis internal notes" not in titles
    response = client.post(
        item_url(world.project, world.d21, "submit"),
        {"evidence": "Done.", "versions": [other.versions.get().pk]},
    )
    assert response.status_code == 200  # not a choice: nothing linked, nothing submitted
    assert Deliverable.objects.get(pk=world.d21.pk).status == ItemStatus.PLANNED
    assert own.pk


# --- Exercises --------------------------------------------------------------------------------


@pytest.fixture
def exercise(consortium):
    """A cross-border exercise among A (the control team), B and C under an MoU in force."""
    world = consortium
    world.extra.update(
        c_signatory=UserFactory(
            organisation=world.c, username="cal-signatory", roles=[Role.SIGNATORY]
        ),
        c_pm=UserFactory(organisation=world.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER]),
    )
    mou = draft_between(world, world.a, world.b, world.c, kind="mou", title="Exercise MoU")
    agreement_services.submit(actor=world.a_pm, agreement=mou)
    mou = sign_by_all(world, mou)
    now = timezone.now()
    world.extra["drill"] = services.create_project(
        actor=world.a_pm,
        acronym="COASTAL-26",
        title="Coastal cyber storm",
        kind="exercise",
        agreement=mou,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + 30 * DAY,
        partners=[world.b, world.c],
        scenario="A ransomware wave hits **port authorities**.",
        exercise_start=now,
        exercise_end=now + 2 * DAY,
    )
    return world


def test_injects_reach_their_targets_at_their_release_time(exercise, client):
    world, drill = exercise, exercise.drill
    b_participant = drill.participants.get(organisation=world.b)
    release = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(hours=2)
    client.force_login(world.a_pm)
    response = client.post(
        f"/projects/{drill.pk}/injects/add/",
        {
            "release_at": release.strftime("%Y-%m-%dT%H:%M"),
            "title": "Harbour cranes stop",
            "description": "Operators report frozen crane controllers.",
            "targets": [b_participant.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()

    control = page(client, drill)
    assert "Harbour cranes stop" in control and "Not yet" in control
    assert "<strong>port authorities</strong>" in control  # the scenario, as Markdown

    client.force_login(world.b_member)
    assert "Harbour cranes stop" not in page(client, drill)
    client.force_login(world.c_member)
    assert "Harbour cranes stop" not in page(client, drill)

    with time_machine.travel(release + datetime.timedelta(minutes=5)):
        client.force_login(world.b_member)
        target_view = page(client, drill)
        assert "Harbour cranes stop" in target_view
        assert "frozen crane controllers" in target_view
        assert "Not yet" not in target_view  # release status is for the control team
        client.force_login(world.c_member)
        assert "Harbour cranes stop" not in page(client, drill)  # never a target


def test_injects_are_for_exercises_only(consortium, client):
    client.force_login(consortium.a_pm)
    response = client.get(f"/projects/{consortium.project.pk}/injects/add/", follow=True)
    assert "Only cross-border exercises have injects." in response.content.decode()


# --- Submissions and reviews through the pages -------------------------------------------------


def test_submit_review_resubmit_and_accept_through_the_pages(consortium, client):
    world, project, d21 = consortium, consortium.project, consortium.d21
    client.force_login(world.a_pm)
    for reviewer in (world.reviewer_1, world.reviewer_2):
        response = client.post(
            f"/projects/{project.pk}/reviewers/add/", {"user": reviewer.username}
        )
        assert response.status_code == 302
    client.force_login(world.b_pm)  # B leads WP2, but submitting needs an active project
    response = client.get(item_url(project, d21, "submit"), follow=True)
    assert "SENTINEL is proposed: this is not possible now." in response.content.decode()

    client.force_login(world.a_pm)
    response = client.post(f"/projects/{project.pk}/activate/")
    assert response.status_code == 302
    assert Project.objects.get(pk=project.pk).status == ProjectStatus.ACTIVE
    # A leads WP1, not WP2: it cannot submit B's deliverable.
    assert client.get(item_url(project, d21, "submit")).status_code == 403

    client.force_login(world.b_pm)
    assert item_url(project, d21, "submit") in page(client, project)
    response = client.post(item_url(project, d21, "submit"), {"evidence": ""})
    assert "This field is required." in response.content.decode()
    response = client.post(item_url(project, d21, "submit"), {"evidence": "Report v1 uploaded."})
    assert response.status_code == 302
    assert Deliverable.objects.get(pk=d21.pk).status == ItemStatus.SUBMITTED

    client.force_login(world.reviewer_1)
    assert item_url(project, d21, "review") in page(client, project)
    review_page = client.get(item_url(project, d21, "review")).content.decode()
    assert "Report v1 uploaded." in review_page  # the evidence, next to the decision
    response = client.post(item_url(project, d21, "review"), {"decision": "request_changes"})
    assert "Say what must change." in response.content.decode()
    response = client.post(
        item_url(project, d21, "review"),
        {"decision": "request_changes", "comment": "Add the sensor uptime figures."},
    )
    assert response.status_code == 302
    assert Deliverable.objects.get(pk=d21.pk).status == ItemStatus.CHANGES_REQUESTED

    client.force_login(world.b_pm)
    partner_view = page(client, project)
    assert "Add the sensor uptime figures." in partner_view
    assert ">Resubmit<" in partner_view
    response = client.post(
        item_url(project, d21, "submit"), {"evidence": "Report v2 with uptime figures."}
    )
    assert response.status_code == 302

    client.force_login(world.reviewer_2)
    response = client.post(item_url(project, d21, "review"), {"decision": "accept"})
    assert response.status_code == 302
    assert Deliverable.objects.get(pk=d21.pk).status == ItemStatus.ACCEPTED
    # Nothing left to review: the page explains instead of offering the form.
    response = client.get(item_url(project, d21, "review"), follow=True)
    assert "this is not possible now" in response.content.decode()

    client.force_login(world.a_member)
    body = page(client, project)
    assert 'class="badge badge-accepted">Accepted<' in body
    assert "Report v2 with uptime figures." in body
    assert "Submission 1" in body and "Submission 2" in body  # reviews per round
    assert "Add the sensor uptime figures." in body
    assert 'class="badge badge-request_changes">Request changes<' in body
    assert 'class="badge badge-accept">Accept<' in body


def test_a_reviewer_reviews_each_submission_once(consortium, client):
    world = consortium
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_1)
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_2)
    services.update_project(actor=world.a_pm, project=world.project, required_acceptances=2)
    activate(world)
    d21 = Deliverable.objects.get(pk=world.d21.pk)  # its project is active now
    services.submit_item(actor=world.b_pm, item=d21, evidence="Done.")
    client.force_login(world.reviewer_1)
    client.post(item_url(world.project, world.d21, "review"), {"decision": "accept"})
    assert item_url(world.project, world.d21, "review") not in page(client, world.project)
    response = client.get(item_url(world.project, world.d21, "review"), follow=True)
    assert "You already reviewed this submission." in response.content.decode()
    assert Deliverable.objects.get(pk=world.d21.pk).status == ItemStatus.SUBMITTED  # 1 of 2


def test_assigned_reviewer_only_reviews(consortium, client):
    world = consortium
    activate(world)
    d21 = Deliverable.objects.get(pk=world.d21.pk)  # its project is active now
    services.submit_item(actor=world.b_pm, item=d21, evidence="Done.")
    client.force_login(world.a_pm)  # sees the project, but is no reviewer of it
    assert client.get(item_url(world.project, world.d21, "review")).status_code == 403


def test_items_are_found_only_within_their_project(consortium, client):
    world = consortium
    other = new_project(world, "OTHER")
    foreign = plan(world, other, due_in_days=20)
    client.force_login(world.a_pm)
    url = f"/projects/{world.project.pk}/milestone/{foreign.pk}/due-date/"
    assert client.get(url).status_code == 404
    assert (
        client.get(f"/projects/{world.project.pk}/task/{world.ms1.pk}/due-date/").status_code == 404
    )
    assert client.get(item_url(other, foreign, "due-date")).status_code == 200


# --- Planning and the consortium -------------------------------------------------------------


def test_programme_manager_proposes_a_project_through_the_form(consortium, client):
    world = consortium
    data_sharing = draft_between(world, title="Only for data, not for projects")
    agreement_services.submit(actor=world.a_pm, agreement=data_sharing)
    sign_by_all(world, data_sharing)
    client.force_login(world.a_pm)
    form = client.get("/projects/new/").context["form"]
    assert list(form.fields["agreement"].queryset) == [world.rd_agreement]

    today = timezone.localdate()
    response = client.post(
        "/projects/new/",
        {
            "acronym": "lowercase",
            "title": "Threat hunting pilot",
            "kind": "pilot",
            "agreement": world.rd_agreement.pk,
            "start_date": today.isoformat(),
            "end_date": (today - DAY).isoformat(),
            "required_acceptances": 1,
        },
    )
    body = response.content.decode()
    assert "Capital letters, digits and dashes." in body
    assert "The project must end on or after its start." in body

    response = client.post(
        "/projects/new/",
        {
            "acronym": "HUNT",
            "title": "Threat hunting pilot",
            "kind": "pilot",
            "agreement": world.rd_agreement.pk,
            "partners": [world.b.pk, world.c.pk],
            "start_date": today.isoformat(),
            "end_date": (today + 90 * DAY).isoformat(),
            "required_acceptances": 1,
        },
    )
    assert "Not parties to" in response.content.decode()  # C is no party: the service says so
    response = client.post(
        "/projects/new/",
        {
            "acronym": "HUNT",
            "title": "Threat hunting pilot",
            "kind": "pilot",
            "agreement": world.rd_agreement.pk,
            "partners": [world.b.pk],
            "start_date": today.isoformat(),
            "end_date": (today + 90 * DAY).isoformat(),
            "required_acceptances": 1,
        },
    )
    project = Project.objects.get(acronym="HUNT")
    assert response.status_code == 302 and response["Location"] == project.get_absolute_url()
    assert {p.organisation for p in project.participants.all()} == {world.a, world.b}

    client.force_login(world.a_member)
    assert client.get("/projects/new/").status_code == 403


def test_coordinator_plans_work_packages_and_items(consortium, client):
    world = consortium
    client.force_login(world.a_pm)
    empty = new_project(world, "EMPTY")
    response = client.get(f"/projects/{empty.pk}/milestones/add/", follow=True)
    assert "Add a work package first" in response.content.decode()
    pk = world.project.pk
    form = client.get(f"/projects/{pk}/work-packages/add/").context["form"]
    assert form.fields["number"].initial == 3
    today = timezone.localdate()
    response = client.post(
        f"/projects/{pk}/work-packages/add/",
        {
            "number": 3,
            "title": "Dissemination <b>&</b> outreach",
            "lead": world.project.participants.get(organisation=world.b).pk,
            "start_date": today.isoformat(),
            "end_date": (today + 100 * DAY).isoformat(),
        },
    )
    assert response.status_code == 302
    wp3 = WorkPackage.objects.get(project=world.project, number=3)
    response = client.post(
        f"/projects/{pk}/deliverables/add/",
        {
            "work_package": wp3.pk,
            "code": "D3.1",
            "title": "Outreach plan",
            "type": "report",
            "tlp": "green",
            "due_date": (today + 50 * DAY).isoformat(),
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/projects/{pk}/deliverables/add/",
        {
            "work_package": wp3.pk,
            "code": "D3.1",
            "title": "Duplicate",
            "type": "report",
            "tlp": "green",
            "due_date": (today + 50 * DAY).isoformat(),
        },
    )
    assert response.status_code == 200  # the service refuses a second D3.1
    assert Deliverable.objects.filter(project=world.project, code="D3.1").count() == 1
    body = page(client, world.project)
    assert "Dissemination &lt;b&gt;&amp;&lt;/b&gt; outreach" in body  # escaped, in the Gantt too
    assert "<b>&</b>" not in body
    assert "Outreach plan" in body

    client.force_login(world.b_pm)  # a partner plans only the work packages it leads
    form = client.get(f"/projects/{pk}/milestones/add/").context["form"]
    assert set(form.fields["work_package"].queryset) == {world.wp2, wp3}


def test_consortium_changes_through_the_pages(consortium, client):
    world = consortium
    client.force_login(world.a_pm)
    pk = world.project.pk
    # Only parties of the governing agreement that do not take part yet are offered.
    form = client.get(f"/projects/{pk}/participants/add/").context["form"]
    assert list(form.fields["organisation"].queryset) == []
    partner = world.project.participants.get(organisation=world.b)
    response = client.post(f"/projects/{pk}/participants/{partner.pk}/remove/", follow=True)
    assert "leads work packages" in response.content.decode()  # B leads WP2
    assert Participant.objects.filter(pk=partner.pk).exists()

    page = client.get(f"/projects/{pk}/reviewers/add/")
    offered = set(page.context["form"].fields["user"].queryset)
    assert {world.reviewer_1, world.reviewer_2, world.b_reviewer} <= offered
    assert world.a_pm not in offered  # no reviewer role
    # People by username: a user's id is sequential and would count every nation's accounts.
    body = page.content.decode()
    assert f'<option value="{world.b_reviewer.username}"' in body
    assert not re.search(r'<option value="\d+"', body)


def test_a_participant_added_sees_the_project_and_loses_it_when_removed(consortium, client):
    world = consortium
    project = new_project(world, "SOLO")
    client.force_login(world.a_pm)
    form = client.get(f"/projects/{project.pk}/participants/add/").context["form"]
    assert list(form.fields["organisation"].queryset) == [world.b]  # a party, not C
    response = client.post(
        f"/projects/{project.pk}/participants/add/",
        {"organisation": world.b.pk, "role": "observer"},
    )
    assert response.status_code == 302
    observer = project.participants.get(organisation=world.b)

    client.force_login(world.b_member)
    assert "SOLO" in acronyms(client.get("/projects/"))
    assert client.get(project.get_absolute_url()).status_code == 200

    client.force_login(world.a_pm)
    assert f"/participants/{observer.pk}/remove/" in page(client, project)
    response = client.post(f"/projects/{project.pk}/participants/{observer.pk}/remove/")
    assert response.status_code == 302

    client.force_login(world.b_member)
    assert "SOLO" not in acronyms(client.get("/projects/"))
    assert client.get(project.get_absolute_url()).status_code == 404


def test_lifecycle_through_the_pages(consortium, client):
    world = consortium
    pk = world.project.pk
    client.force_login(world.a_pm)
    assert client.post(f"/projects/{pk}/activate/").status_code == 302
    response = client.post(f"/projects/{pk}/suspend/", {"reason": ""})
    assert "This field is required." in response.content.decode()
    client.post(f"/projects/{pk}/suspend/", {"reason": "Agreement under review"})
    assert Project.objects.get(pk=pk).status == ProjectStatus.SUSPENDED
    body = page(client, world.project)
    assert f"/projects/{pk}/resume/" in body and f"/projects/{pk}/suspend/" not in body
    assert "/submit/" not in body  # nothing can be submitted while suspended
    client.post(f"/projects/{pk}/resume/")
    response = client.post(f"/projects/{pk}/complete/")
    assert "Not yet accepted" in response.content.decode()
    assert Project.objects.get(pk=pk).status == ProjectStatus.ACTIVE
    response = client.get(f"/projects/{pk}/activate/", follow=True)
    assert "SENTINEL is active: this is not possible now." in response.content.decode()


def test_editing_records_only_what_changed(consortium, client):
    world = consortium
    client.force_login(world.a_pm)
    url = f"/projects/{world.project.pk}/edit/"
    form = client.get(url).context["form"]
    assert "scenario" not in form.fields  # not an exercise
    data = {
        "title": "Shared sensor network, phase one",
        "summary": world.project.summary,
        "start_date": world.project.start_date.isoformat(),
        "end_date": world.project.end_date.isoformat(),
        "required_acceptances": 2,
    }
    assert client.post(url, data).status_code == 302
    project = Project.objects.get(pk=world.project.pk)
    assert project.title == "Shared sensor network, phase one"
    assert project.required_acceptances == 2
    from portal.models import AuditEvent

    event = AuditEvent.objects.filter(action="project.updated").latest("id")
    assert event.details["fields"] == ["required_acceptances", "title"]


# --- Query counts of the project page ---------------------------------------------------------


def test_project_page_query_count_does_not_grow_with_the_items(consortium, client):
    world = consortium
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_1)
    activate(world)
    services.add_milestone(
        actor=world.a_pm,
        work_package=world.wp1,
        code="MS2",
        title="Milestone 2",
        due_date=timezone.localdate() + 40 * DAY,
    )
    services.change_due_date(
        actor=world.a_pm, item=world.ms1, new_date=world.ms1.due_date + DAY, reason="Slip"
    )
    client.force_login(world.a_pm)
    client.get(world.project.get_absolute_url())  # warms per-process caches
    with CaptureQueriesContext(connection) as two:
        response = client.get(world.project.get_absolute_url())
    assert len(response.context["milestones"]) == 2

    for n in range(3, 13):
        item = services.add_milestone(
            actor=world.a_pm,
            work_package=world.wp1 if n % 2 else world.wp2,
            code=f"MS{n}",
            title=f"Milestone {n}",
            due_date=timezone.localdate() + n * DAY,
        )
        if n % 3 == 0:
            services.change_due_date(
                actor=world.a_pm, item=item, new_date=item.due_date + DAY, reason="Slip"
            )
    with CaptureQueriesContext(connection) as twelve:
        response = client.get(world.project.get_absolute_url())
    assert len(response.context["milestones"]) == 12
    assert len(twelve) == len(two), [q["sql"] for q in twelve.captured_queries]


# --- The Gantt chart --------------------------------------------------------------------------


def _chart_world(today):
    """Unsaved objects are enough: the chart reads attributes and asks the database nothing."""
    project = Project(
        pk=7,
        acronym="GANTT",
        title="Chart",
        status=ProjectStatus.ACTIVE,
        start_date=today - 60 * DAY,
        end_date=today + 120 * DAY,
    )
    lead = Participant(organisation=Organisation(name="Lead <org>"))
    wp = WorkPackage(
        pk=1,
        number=1,
        title="<script>alert('wp')</script>",
        lead=lead,
        start_date=today - 60 * DAY,
        end_date=today + 90 * DAY,
    )
    on_time = Milestone(
        pk=1, work_package=wp, code="MS1", title="On time", due_date=today + 10 * DAY
    )
    overdue = Milestone(
        pk=2, work_package=wp, code="MS2", title="Overdue", due_date=today - 5 * DAY
    )
    slipped = Deliverable(
        pk=3,
        work_package=wp,
        code="D1.1",
        title='Report "final" & <b>',
        due_date=today + 40 * DAY,
        baseline_due_date=today + 20 * DAY,
        type="report",
        tlp="amber",
    )
    accepted_late = Milestone(
        pk=4,
        work_package=wp,
        code="MS3",
        title="Accepted",
        due_date=today - 20 * DAY,
        status=ItemStatus.ACCEPTED,
    )
    return project, [wp], [on_time, overdue, slipped, accepted_late]


def test_gantt_draws_a_today_line_and_a_month_axis():
    today = datetime.date(2026, 3, 15)
    project, wps, items = _chart_world(today)
    svg = str(gantt.render_gantt(project, items, wps, today))
    assert 'role="img"' in svg
    assert '<title id="gantt-7-title">Timeline of GANTT</title>' in svg
    assert '<desc id="gantt-7-desc">' in svg and "Today is 15 Mar 2026" in svg
    assert 'class="gantt-today"' in svg and ">Today<" in svg
    assert ">Jan 2026<" in svg and ">Mar<" in svg  # months, with the year at the start
    assert svg.count('class="gantt-wp"') == 1
    assert svg.count('<polygon class="gantt-item') == 4  # one diamond per item
    assert "style=" not in svg  # the strict CSP forbids style attributes


def test_gantt_marks_overdue_items_red_but_not_accepted_ones():
    today = datetime.date(2026, 3, 15)
    project, wps, items = _chart_world(today)
    svg = str(gantt.render_gantt(project, items, wps, today))
    overdue = re.search(r'<polygon class="([^"]*gantt-overdue[^"]*)"[^>]*fill="([^"]+)"', svg)
    assert overdue and "gantt-milestone" in overdue.group(1)
    assert overdue.group(2) == gantt.OVERDUE_FILL
    assert svg.count("gantt-overdue") == 1  # MS3 is past due but accepted
    assert "MS2 Overdue: due 10 Mar 2026, planned, overdue" in svg
    # A closed project has nothing overdue.
    project.status = ProjectStatus.CANCELLED
    assert "gantt-overdue" not in str(gantt.render_gantt(project, items, wps, today))


def test_gantt_shows_the_baseline_of_a_slipped_item():
    today = datetime.date(2026, 3, 15)
    project, wps, items = _chart_world(today)
    svg = str(gantt.render_gantt(project, items, wps, today))
    assert svg.count('class="gantt-baseline"') == 1 and svg.count('class="gantt-slip"') == 1
    baseline = re.search(r'class="gantt-baseline" points="([\d.]+),', svg).group(1)
    due = re.search(r'class="gantt-item gantt-deliverable[^"]*" points="([\d.]+),', svg).group(1)
    assert float(baseline) < float(due)  # the hollow marker sits at the earlier, planned date
    assert "baseline 4 Apr 2026" in svg


def test_gantt_escapes_every_text():
    today = datetime.date(2026, 3, 15)
    project, wps, items = _chart_world(today)
    html = str(gantt.render_gantt(project, items, wps, today))
    assert "<script>" not in html and "<b>" not in html and "Lead <org>" not in html
    assert "&lt;script&gt;alert(&#x27;wp&#x27;)&lt;/script&gt;" in html
    assert "Report &quot;final&quot; &amp; &lt;b&gt;" in html
    assert "Lead &lt;org&gt;" in html


def test_gantt_repeats_its_data_in_a_table_for_screen_readers():
    today = datetime.date(2026, 3, 15)
    project, wps, items = _chart_world(today)
    html = str(gantt.render_gantt(project, items, wps, today))
    table = html[html.index('<div class="visually-hidden"><table>') :]
    for text in ("MS1 On time", "MS2 Overdue", "D1.1", "25 Mar 2026", "Planned, overdue"):
        assert text in table, text
    assert "4 Apr 2026" in table  # the baseline of the slipped deliverable


def test_gantt_of_an_empty_plan_says_so():
    today = datetime.date(2026, 3, 15)
    project, _, _ = _chart_world(today)
    assert "No work packages" in str(gantt.render_gantt(project, [], [], today))
