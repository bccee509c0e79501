"""The projects API: the same services as the pages, JSON errors, 404 for outsiders."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from portal import services as portal_services
from projects import services
from projects.models import ItemStatus, Project, ProjectStatus
from projects.policies import COORDINATOR
from tests.resources.conftest import new_resource

DAY = datetime.timedelta(days=1)


def api(user) -> APIClient:
    client = APIClient()
    key = portal_services.rotate_api_token(actor=user).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def project_url(project, suffix="") -> str:
    return f"/api/v1/projects/{project.pk}/{suffix}"


def test_a_project_runs_its_whole_review_cycle_through_the_api(consortium):
    world = consortium
    today = timezone.localdate()
    coordinator = api(world.a_pm)
    created = coordinator.post(
        "/api/v1/projects/",
        {
            "acronym": "HARBOUR",
            "title": "Port security early warning",
            "kind": "pilot",
            "agreement": world.rd_agreement.pk,
            "partners": [world.b.slug],
            "start_date": today.isoformat(),
            "end_date": (today + 300 * DAY).isoformat(),
            "status": "active",  # lifecycle fields sent by a client are ignored
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "proposed"
    assert body["coordinator"] == world.a.slug and body["partners"] == [world.b.slug]
    url = project_url(Project.objects.get(acronym="HARBOUR"))
    edited = coordinator.patch(
        url, {"title": "Port and harbour early warning", "acronym": "HIJACK"}, format="json"
    )
    assert edited.status_code == 200
    assert edited.json()["title"] == "Port and harbour early warning"
    assert edited.json()["acronym"] == "HARBOUR"  # fixed once proposed

    wp = coordinator.post(
        url + "work-packages/",
        {
            "number": 1,
            "title": "Sensors",
            "lead": world.b.slug,
            "start_date": today.isoformat(),
            "end_date": (today + 200 * DAY).isoformat(),
        },
        format="json",
    )
    assert wp.status_code == 201 and wp.json()["lead"] == world.b.slug
    planned = coordinator.post(
        url + "milestones/",
        {
            "work_package": 1,
            "code": "MS1",
            "title": "Sensors installed",
            "due_date": (today + 40 * DAY).isoformat(),
        },
        format="json",
    )
    assert planned.status_code == 201, planned.json()
    milestone = planned.json()
    assert milestone["status"] == "planned" and milestone["baseline_due_date"] is None
    assigned = coordinator.post(url + "reviewers/", {"user": "panel-rev-1"}, format="json")
    assert assigned.status_code == 201 and assigned.json()["organisation"] == "int-irp"

    activated = coordinator.post(url + "activate/")
    assert activated.status_code == 200
    assert activated.json()["status"] == "active" and activated.json()["baseline_frozen_at"]
    frozen = coordinator.get(url + "milestones/").json()["results"][0]
    assert frozen["baseline_due_date"] == milestone["due_date"]

    partner, reviewer = api(world.b_pm), api(world.reviewer_1)
    item_url = url + f"milestones/{milestone['id']}/"
    submitted = partner.post(item_url + "submit/", {"evidence": "Photos"}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted" and submitted.json()["round"] == 1

    sent_back = reviewer.post(
        item_url + "review/",
        {"decision": "request_changes", "comment": "Show the sensors' serial numbers."},
        format="json",
    )
    assert sent_back.status_code == 200 and sent_back.json()["status"] == "changes_requested"
    partner.post(item_url + "submit/", {"evidence": "Photos and serials"}, format="json")
    accepted = reviewer.post(item_url + "review/", {"decision": "accept"}, format="json")
    assert accepted.status_code == 200
    final = accepted.json()
    assert final["status"] == "accepted" and final["round"] == 2
    assert [(r["round"], r["decision"]) for r in final["reviews"]] == [
        (1, "request_changes"),
        (2, "accept"),
    ]


def test_an_organisation_listed_twice_is_refused_clearly(consortium):
    today = timezone.localdate()
    response = api(consortium.a_pm).post(
        "/api/v1/projects/",
        {
            "acronym": "TWICE",
            "title": "Listed twice",
            "kind": "research",
            "agreement": consortium.rd_agreement.pk,
            "partners": [consortium.b.slug],
            "observers": [consortium.b.slug],
            "start_date": today.isoformat(),
            "end_date": (today + 10 * DAY).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"partners: An organisation takes part once: {consortium.b.slug} listed twice."
    )
    assert not Project.objects.filter(acronym="TWICE").exists()


def test_outsiders_get_404_on_the_project_and_every_nested_route(consortium):
    world = consortium
    url = project_url(world.project)
    for outsider in (world.c_member, world.reviewer_2):  # reviewer_2 is not assigned
        client = api(outsider)
        assert client.get(url).status_code == 404
        for nested in (
            "participants",
            "work-packages",
            "milestones",
            "deliverables",
            "contributions",
            "reviewers",
        ):
            assert client.get(url + f"{nested}/").status_code == 404, nested
        assert client.post(url + "activate/").status_code == 404
        submit = client.post(url + f"milestones/{world.ms1.pk}/submit/", {"evidence": "x"})
        assert submit.status_code == 404
        review = client.post(url + f"milestones/{world.ms1.pk}/review/", {"decision": "accept"})
        assert review.status_code == 404
        listing = client.get(f"/api/v1/projects/?search={world.project.acronym}").json()
        assert listing["count"] == 0
        assert world.project.title not in str(listing)


def test_a_partner_trying_to_steer_the_project_gets_403_with_the_reason(consortium):
    world = consortium
    partner = api(world.b_pm)
    url = project_url(world.project)
    assert partner.get(url).status_code == 200
    for response in (
        partner.post(url + "activate/"),
        partner.patch(url, {"title": "Taken over"}, format="json"),
        partner.post(url + "reviewers/", {"user": "panel-rev-2"}, format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["message"] == COORDINATOR
    world.project.refresh_from_db()
    assert world.project.status == ProjectStatus.PROPOSED
    assert world.project.title != "Taken over"


def test_a_wrong_state_is_a_409_with_the_reason(consortium):
    world = consortium
    coordinator = api(world.a_pm)
    url = project_url(world.project)
    early = coordinator.post(url + f"milestones/{world.ms1.pk}/submit/", {"evidence": "Done"})
    assert early.status_code == 409
    assert "it can only be worked on when it is active" in early.json()["message"]

    assert coordinator.post(url + "activate/").status_code == 200
    again = coordinator.post(url + "activate/")
    assert again.status_code == 409
    assert "is active; it can only be activated when it is proposed" in again.json()["message"]
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_1)
    unsubmitted = api(world.reviewer_1).post(
        url + f"milestones/{world.ms1.pk}/review/", {"decision": "accept"}, format="json"
    )
    assert unsubmitted.status_code == 409
    assert "it can only be reviewed when it is submitted" in unsubmitted.json()["message"]


def test_a_reason_is_required_to_suspend_and_is_kept(consortium):
    world = consortium
    coordinator = api(world.a_pm)
    url = project_url(world.project)
    coordinator.post(url + "activate/")
    missing = coordinator.post(url + "suspend/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    suspended = coordinator.post(url + "suspend/", {"reason": "Funding gap"}, format="json")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    resumed = coordinator.post(url + "resume/")
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"


def test_an_item_of_another_project_is_a_404(consortium):
    world = consortium
    other = services.create_project(
        actor=world.a_pm,
        acronym="OTHER",
        title="Another project",
        kind="research",
        agreement=world.rd_agreement,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + 100 * DAY,
    )
    response = api(world.a_pm).post(
        project_url(other, f"milestones/{world.ms1.pk}/submit/"), {"evidence": "x"}
    )
    assert response.status_code == 404
    assert response.json()["message"] == "This project has no such milestone."


def test_linked_resources_the_reader_may_not_see_show_only_that_they_exist(
    consortium, private_storage
):
    world = consortium
    services.activate(actor=world.a_pm, project=world.project)
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=world.reviewer_1)
    a_report = new_resource(world, title="Atlantis internal sensor map")
    b_report = new_resource(world, actor=world.b_pm, title="Borealis pilot logs")
    url = project_url(world.project)
    submitted = api(world.a_pm).post(
        url + f"milestones/{world.ms1.pk}/submit/",
        {"evidence": "Architecture signed", "resources": [a_report.pk]},
        format="json",
    )
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["linked_resources"] == [
        {"id": a_report.pk, "hidden": False, "title": a_report.title, "tlp": "amber"}
    ]
    version = b_report.versions.get()
    delivered = api(world.b_pm).post(
        url + f"deliverables/{world.d21.pk}/submit/",
        {"evidence": "Logs attached", "versions": [version.pk]},
        format="json",
    )
    assert delivered.status_code == 200, delivered.json()

    reviewer = api(world.reviewer_1)
    milestones = reviewer.get(url + "milestones/")
    assert milestones.json()["results"][0]["linked_resources"] == [{"id": None, "hidden": True}]
    assert a_report.title not in milestones.content.decode()
    deliverables = api(world.a_member).get(url + "deliverables/")
    assert deliverables.json()["results"][0]["linked_versions"] == [{"id": None, "hidden": True}]
    assert b_report.title not in deliverables.content.decode()


def test_linking_a_resource_one_cannot_see_is_refused_like_a_missing_one(
    consortium, private_storage
):
    world = consortium
    services.activate(actor=world.a_pm, project=world.project)
    b_report = new_resource(world, actor=world.b_pm, title="Borealis pilot logs")
    url = project_url(world.project, f"milestones/{world.ms1.pk}/submit/")
    for ids in ([b_report.pk], [999_999]):
        response = api(world.a_pm).post(url, {"evidence": "Done", "resources": ids}, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == "resources: You can only link resources you can see."
    world.ms1.refresh_from_db()
    assert world.ms1.status == ItemStatus.PLANNED


def test_a_late_submission_must_say_why(consortium):
    world = consortium
    services.activate(actor=world.a_pm, project=world.project)
    world.ms1.refresh_from_db()  # its project is now active, with a frozen baseline
    services.change_due_date(
        actor=world.a_pm,
        item=world.ms1,
        new_date=timezone.localdate() - DAY,
        reason="Brought forward by the steering board.",
    )
    url = project_url(world.project, f"milestones/{world.ms1.pk}/submit/")
    late = api(world.a_pm).post(url, {"evidence": "Done"}, format="json")
    assert late.status_code == 400 and "late_justification" in late.json()["errors"]
    explained = api(world.a_pm).post(
        url, {"evidence": "Done", "late_justification": "Vendor delay."}, format="json"
    )
    assert explained.status_code == 200
    body = explained.json()
    assert body["late_justification"] == "Vendor delay." and body["slip_days"] == -31
    assert body["date_changes"][0]["reason"] == "Brought forward by the steering board."


def test_a_partner_records_its_own_contribution_but_not_anothers(consortium):
    world = consortium
    url = project_url(world.project, "contributions/")
    partner = api(world.b_pm)
    own = partner.post(
        url,
        {"participant": world.b.slug, "kind": "person_months", "amount": "6", "unit": "PM"},
        format="json",
    )
    assert own.status_code == 201, own.json()
    assert own.json()["participant"] == world.b.slug
    theirs = partner.post(
        url,
        {"participant": world.a.slug, "kind": "funding", "amount": "1000", "unit": "EUR"},
        format="json",
    )
    assert theirs.status_code == 403
    assert theirs.json()["message"] == (
        "Record contributions for your own organisation, or coordinate."
    )
    outsider = partner.post(
        url,
        {"participant": world.c.slug, "kind": "funding", "amount": "1", "unit": "EUR"},
        format="json",
    )
    assert outsider.status_code == 400
    listed = api(world.a_member).get(url).json()
    assert [(c["participant"], c["kind"]) for c in listed["results"]] == [
        (world.b.slug, "person_months")
    ]


def test_only_eligible_reviewers_can_be_assigned_and_no_username_is_revealed(consortium):
    world = consortium
    url = project_url(world.project, "reviewers/")
    coordinator = api(world.a_pm)
    for username in (world.c_member.username, "nobody-at-all"):
        response = coordinator.post(url, {"user": username}, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == (
            f"user: {username} is not a reviewer of a participant or of an independent panel."
        )
    assert coordinator.post(url, {"user": world.b_reviewer.username}).status_code == 201
    listed = api(world.b_member).get(url).json()
    assert [r["user"] for r in listed["results"]] == [world.b_reviewer.username]


def test_the_list_filters_searches_and_sorts(consortium):
    world = consortium
    services.create_project(
        actor=world.a_pm,
        acronym="ZEPHYR",
        title="Training on wind-farm controls",
        kind="training",
        agreement=world.rd_agreement,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + 100 * DAY,
    )
    services.activate(actor=world.a_pm, project=world.project)
    client = api(world.a_member)
    assert client.get("/api/v1/projects/").json()["count"] == 2
    active = client.get("/api/v1/projects/?status=active").json()
    assert [p["acronym"] for p in active["results"]] == ["SENTINEL"]
    training = client.get("/api/v1/projects/?kind=training").json()
    assert [p["acronym"] for p in training["results"]] == ["ZEPHYR"]
    found = client.get("/api/v1/projects/?search=wind-farm").json()
    assert [p["acronym"] for p in found["results"]] == ["ZEPHYR"]
    ordered = client.get("/api/v1/projects/?ordering=-acronym").json()
    assert [p["acronym"] for p in ordered["results"]] == ["ZEPHYR", "SENTINEL"]
    # B is not in ZEPHYR: its members see only SENTINEL.
    assert api(world.b_member).get("/api/v1/projects/").json()["count"] == 1


def test_lists_cost_the_same_queries_for_one_row_and_for_many(consortium, private_storage):
    world = consortium
    client = api(world.a_member)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    services.activate(actor=world.a_pm, project=world.project)
    world.wp1.refresh_from_db()  # their project is now active
    world.ms1.refresh_from_db()
    first = new_resource(world, title="Evidence")
    services.submit_item(actor=world.a_pm, item=world.ms1, evidence="Done", resources=[first])
    projects_one = queries("/api/v1/projects/")
    milestones_url = project_url(world.project, "milestones/")
    milestones_one = queries(milestones_url)
    for n in range(5):
        services.create_project(
            actor=world.a_pm,
            acronym=f"EXTRA-{n}",
            title=f"Extra project {n}",
            kind="research",
            agreement=world.rd_agreement,
            start_date=timezone.localdate(),
            end_date=timezone.localdate() + 100 * DAY,
            partners=[world.b],
        )
        milestone = services.add_milestone(
            actor=world.a_pm,
            work_package=world.wp1,
            code=f"MS{n + 2}",
            title=f"Step {n}",
            due_date=timezone.localdate() + (n + 40) * DAY,
        )
        resource = new_resource(world, title=f"Evidence {n}")
        services.submit_item(
            actor=world.a_pm, item=milestone, evidence="Done", resources=[resource]
        )
    assert queries("/api/v1/projects/") == projects_one
    assert queries(milestones_url) == milestones_one
