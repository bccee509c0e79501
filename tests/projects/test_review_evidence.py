"""Reviewers open the evidence they must judge: the owner of a linked resource lets the
assigned reviewers open it for the time of the review, as a grant source of the access layer.

The access follows the facts: it ends when the reviewer is unassigned, loses the reviewer
role, or the project stops running, and when the owner ends it. TLP:RED goes only to the
reviewers named when it was given, after a re-authentication.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from portal import access
from portal import services as portal_services
from portal.models import Notification, Role
from projects import services
from projects.models import ReviewAccess
from resources.models import Resource
from tests.agreements.conftest import fresh_reauth
from tests.factories import UserFactory
from tests.projects.test_views import activate, item_url, page, plan
from tests.resources.conftest import new_resource


@pytest.fixture
def review(consortium, settings, tmp_path):
    """SENTINEL is active with two panel reviewers; B leads MS2 and owns an AMBER report."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }
    world = consortium
    activate(world)
    for reviewer in (world.reviewer_1, world.reviewer_2):
        services.assign_reviewer(actor=world.a_pm, project=world.project, user=reviewer)
    partner = world.project.participants.get(organisation=world.b)
    world.extra.update(
        ms2=plan(world, world.project, lead=partner, due_in_days=40, code="MS2"),
        report=new_resource(world, actor=world.b_pm, title="Borealis sensor calibration 7Q"),
    )
    return world


def submit(client, world, *resources, open_to_reviewers=True):
    client.force_login(world.b_pm)
    data = {"evidence": "Calibration log attached.", "resources": [r.pk for r in resources]}
    if open_to_reviewers:
        data["open_to_reviewers"] = "on"
    response = client.post(item_url(world.project, world.ms2, "submit"), data)
    assert response.status_code == 302, response.content.decode()


def opens(client, user, resource) -> bool:
    client.force_login(user)
    status = client.get(resource.get_absolute_url()).status_code
    assert status in (200, 404)
    return status == 200


def evidence_url(world, resource, action: str) -> str:
    return item_url(world.project, world.ms2, f"evidence/{resource.pk}/{action}")


def test_the_submit_form_says_which_reviewers_could_not_open_each_resource(review, client):
    world = review
    client.force_login(world.b_pm)
    body = client.get(item_url(world.project, world.ms2, "submit")).content.decode()
    names = sorted(r.get_full_name() for r in (world.reviewer_1, world.reviewer_2))
    assert (
        f"Borealis sensor calibration 7Q (the reviewers who cannot open it: {', '.join(names)})"
        in body
    )
    assert "Let the reviewers open what my organisation owns" in body


def test_a_reviewer_opens_the_evidence_the_owner_let_them_open(review, client):
    world = review
    assert not opens(client, world.reviewer_1, world.report)  # before: only "it exists"

    submit(client, world, world.report)

    for reviewer in (world.reviewer_1, world.reviewer_2):
        assert opens(client, reviewer, world.report)
        response = client.get(f"{world.report.get_absolute_url()}download/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content)
    # The project page links it for the reviewer instead of "a linked resource …", and the
    # resource says why they may open it.
    client.force_login(world.reviewer_1)
    assert world.report.get_absolute_url() in page(client, world.project)
    body = client.get(world.report.get_absolute_url()).content.decode()
    assert "Reviewer of SENTINEL MS2: Borealis Cyber Centre lets the reviewers open it" in body
    assert "Through your organisation." not in body
    # The owner's "who can see this, and why" names the reviewers and the reason.
    client.force_login(world.b_pm)
    body = client.get(world.report.get_absolute_url()).content.decode()
    assert "Reviewer of SENTINEL MS2" in body
    assert "lets the reviewers open it for the review" in body
    # A's member, who is no reviewer, still cannot open it.
    assert not opens(client, world.a_member, world.report)
    call_command("reconcile_grants", "--check")


def test_the_access_ends_when_the_reviewer_is_unassigned(review, client):
    world = review
    submit(client, world, world.report)
    assignment = world.project.reviewers.get(user=world.reviewer_1)
    services.unassign_reviewer(actor=world.a_pm, assignment=assignment)
    assert not opens(client, world.reviewer_1, world.report)
    assert opens(client, world.reviewer_2, world.report)
    call_command("reconcile_grants", "--check")


def test_the_access_follows_the_reviewer_role(review, client):
    world = review
    submit(client, world, world.report)
    membership = world.reviewer_1.membership
    portal_services.change_member_roles(
        actor=UserFactory(organisation=world.panel, username="irp-admin", roles=[Role.ORG_ADMIN]),
        membership=membership,
        roles=[],
    )
    assert not opens(client, world.reviewer_1, world.report)
    client.force_login(world.reviewer_1)
    assert client.get(f"{world.report.get_absolute_url()}download/").status_code == 404
    admin = world.panel.memberships.get(user__username="irp-admin").user
    portal_services.change_member_roles(actor=admin, membership=membership, roles=[Role.REVIEWER])
    assert opens(client, world.reviewer_1, world.report)  # given back with the role


@pytest.mark.parametrize("end", ["suspend", "cancel"])
def test_the_access_ends_when_the_project_stops_running(review, client, end):
    world = review
    submit(client, world, world.report)
    getattr(services, end)(actor=world.a_pm, project=world.project, reason="Budget review")
    assert not opens(client, world.reviewer_1, world.report)
    call_command("reconcile_grants", "--check")


def test_a_download_rechecks_the_facts_not_the_stored_grant(review, client):
    """Grants may lag (a failed sync, a tick not yet run); the download asks the facts."""
    world = review
    submit(client, world, world.report)
    ReviewAccess.objects.update(ended_at="2026-01-01T00:00:00Z")  # behind the layer's back
    client.force_login(world.reviewer_1)
    response = client.get(f"{world.report.get_absolute_url()}download/")
    assert response.status_code in (403, 404)


def test_the_owner_ends_the_access_from_the_project_page(review, client):
    world = review
    submit(client, world, world.report)
    client.force_login(world.b_pm)
    body = page(client, world.project)
    close = evidence_url(world, world.report, "close")
    assert close in body and "The reviewers may open it for the review." in body
    confirmation = client.get(close).content.decode()
    assert "lose it at once" in confirmation and "button-danger" in confirmation
    response = client.post(close)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#milestone-{world.ms2.pk}")
    assert not opens(client, world.reviewer_1, world.report)
    # And lets them open it again, from the link the page now offers.
    client.force_login(world.b_pm)
    body = page(client, world.project)
    assert evidence_url(world, world.report, "open") in body
    assert client.post(evidence_url(world, world.report, "open")).status_code == 302
    assert opens(client, world.reviewer_2, world.report)


def test_unticked_nothing_is_opened_and_the_owner_is_offered_it(review, client):
    world = review
    submit(client, world, world.report, open_to_reviewers=False)
    assert not opens(client, world.reviewer_1, world.report)
    client.force_login(world.b_pm)
    body = page(client, world.project)
    assert "The reviewers who cannot open it: " in body
    assert evidence_url(world, world.report, "open") in body
    assert not ReviewAccess.objects.exists()


def test_the_owner_is_asked_when_a_reviewer_cannot_open_what_was_linked(review, client):
    world = review
    b_admin = UserFactory(organisation=world.b, username="bor-admin", roles=[Role.ORG_ADMIN])
    b_pm_2 = UserFactory(organisation=world.b, username="bor-pm-2", roles=["programme_manager"])
    submit(client, world, world.report, open_to_reviewers=False)
    asked = Notification.objects.filter(kind="project.review_access_asked")
    # B's other programme manager, not the one who submitted it knowingly.
    assert set(asked.values_list("user__username", flat=True)) == {"bor-pm-2"}
    notice = asked.get(user=b_pm_2)
    assert notice.title == "Reviewers of SENTINEL MS2 cannot open “Borealis sensor calibration 7Q”"
    assert notice.url.endswith(f"#milestone-{world.ms2.pk}")
    assert not asked.filter(user=b_admin).exists()  # programme managers decide sharing
    # Once opened, a resubmission asks nobody again.
    asked.delete()
    services.open_evidence_to_reviewers(actor=world.b_pm, item=world.ms2, resource=world.report)
    assert not Notification.objects.filter(kind="project.review_access_asked").exists()


def test_only_the_owners_programme_managers_open_it(review, client):
    world = review
    submit(client, world, world.report, open_to_reviewers=False)
    # A's programme manager sees the project but not B's report: the page does not exist.
    client.force_login(world.a_pm)
    assert client.get(evidence_url(world, world.report, "open")).status_code == 404
    assert client.post(evidence_url(world, world.report, "open")).status_code == 404
    # C sees neither the project nor the report.
    client.force_login(world.c_member)
    assert client.post(evidence_url(world, world.report, "open")).status_code == 404
    # B's member without the programme manager role sees the report but may not share it.
    b_member = world.b_member
    client.force_login(b_member)
    assert client.post(evidence_url(world, world.report, "open")).status_code == 403
    # A resource that is not linked to the item has no such page either.
    other = new_resource(world, actor=world.b_pm, title="Unlinked")
    client.force_login(world.b_pm)
    assert client.get(evidence_url(world, other, "open")).status_code == 404
    assert not ReviewAccess.objects.exists()
    with pytest.raises(ValidationError, match="not linked"):
        services.open_evidence_to_reviewers(actor=world.b_pm, item=world.ms2, resource=other)
    with pytest.raises(PermissionDenied):
        services.open_evidence_to_reviewers(actor=b_member, item=world.ms2, resource=world.report)


def test_red_goes_only_to_the_reviewers_named_and_needs_a_password(review, client):
    world = review
    red = new_resource(world, actor=world.b_pm, title="Borealis implant list", tlp="red")
    submit(client, world, red)  # ticked, but RED is never opened by the submit form
    assert not ReviewAccess.objects.exists()
    with pytest.raises(PermissionDenied):
        services.open_evidence_to_reviewers(actor=world.b_pm, item=world.ms2, resource=red)
    client.force_login(world.b_pm)
    response = client.post(evidence_url(world, red, "open"), {"password": "wrong"})
    assert response.status_code == 200
    assert "The password is not correct." in response.content.decode()
    assert not ReviewAccess.objects.exists()

    services.open_evidence_to_reviewers(
        actor=world.b_pm, item=world.ms2, resource=red, reauthentication=fresh_reauth()
    )
    assert opens(client, world.reviewer_1, red) and opens(client, world.reviewer_2, red)
    # A reviewer assigned later was not named: RED stays with the people named.
    later = UserFactory(organisation=world.panel, username="panel-rev-3", roles=[Role.REVIEWER])
    services.assign_reviewer(actor=world.a_pm, project=world.project, user=later)
    assert not opens(client, later, red)
    # Whereas AMBER goes to every reviewer while assigned.
    submit_amber = new_resource(world, actor=world.b_pm, title="Amber log")
    world.ms2.linked_resources.add(submit_amber)
    services.open_evidence_to_reviewers(actor=world.b_pm, item=world.ms2, resource=submit_amber)
    assert opens(client, later, submit_amber)
    # Nobody the grant names can pass it on: only the owner's programme managers share.
    assert not access.can(world.reviewer_1, "share", Resource.objects.get(pk=red.pk))
    call_command("reconcile_grants", "--check")
