"""Removing a participant and terminating the governing agreement ask first, saying what
ends: who loses access, which reviewers stop, which projects are suspended."""

import re

from projects import services
from projects.models import Participant
from tests.projects.test_views import new_project


def confirmation_of(body: str, action: str) -> str:
    form = body.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return re.sub(r"\s+", " ", form)


def test_removing_a_participant_says_what_its_members_and_reviewers_lose(consortium, client):
    world = consortium
    project = new_project(world, "SOLO", partners=[world.b])
    services.assign_reviewer(actor=world.a_pm, project=project, user=world.b_reviewer)
    services.assign_reviewer(actor=world.a_pm, project=project, user=world.reviewer_1)
    partner = project.participants.get(organisation=world.b)
    client.force_login(world.a_pm)
    body = client.get(project.get_absolute_url()).content.decode()
    form = confirmation_of(body, f"/projects/{project.pk}/participants/{partner.pk}/remove/")
    assert (
        f"Every member of {world.b.name} loses access to SOLO at once: its page, work "
        "packages, milestones and deliverables, and their dates in calendar feeds."
    ) in form
    # B's own reviewer stops with B; the independent panel's reviewer stays.
    assert f"Its reviewers stop reviewing: {world.b_reviewer.get_full_name()}." in form
    assert world.reviewer_1.get_full_name() not in form
    assert re.search(r'class="button button-danger button-small">Remove ', form)
    assert f'class="button button-quiet button-small" href="{project.get_absolute_url()}' in form
    assert Participant.objects.filter(pk=partner.pk).exists()  # the page removes nothing


def test_terminating_the_agreement_names_the_projects_it_suspends(consortium, client):
    world = consortium
    services.activate(actor=world.a_pm, project=world.project)
    client.force_login(world.a_signatory)
    body = client.get(f"/agreements/{world.rd_agreement.pk}/terminate/").content.decode()
    assert "The project run under it is suspended: SENTINEL." in body

    client.force_login(world.c_member)  # not a party: learns nothing, the page is a 404
    assert client.get(f"/agreements/{world.rd_agreement.pk}/terminate/").status_code == 404
