"""After an action that sends the person back to an item down the page, its message is shown
next to that item (where the browser scrolls to), not at the top of the page out of sight."""

import re

from projects import services
from tests.projects.test_views import item_url

TOP_MESSAGES = '<div class="messages" role="status" aria-live="polite">'


def block(body: str, start: str, end: str) -> str:
    """The HTML from the first `start` to the next `end` after it."""
    begin = body.index(start)
    return body[begin : body.index(end, begin + len(start))]


def top_messages(body: str) -> str:
    return block(body, TOP_MESSAGES, "</div>") if TOP_MESSAGES in body else ""


def test_a_review_decision_is_confirmed_next_to_the_item_reviewed(consortium, client):
    world, project, ms1 = consortium, consortium.project, consortium.ms1
    services.assign_reviewer(actor=world.a_pm, project=project, user=world.reviewer_1)
    services.activate(actor=world.a_pm, project=project)
    services.submit_item(actor=world.a_pm, item=ms1, evidence="Architecture signed.")

    client.force_login(world.reviewer_1)
    response = client.post(item_url(project, ms1, "review"), {"decision": "accept"})
    assert response["Location"] == f"{project.get_absolute_url()}#milestone-{ms1.pk}"
    body = client.get(response["Location"]).content.decode()

    message = re.search(r'<p class="message message-success">([^<]+)</p>', body).group(1)
    here = block(body, f'id="milestone-{ms1.pk}"', "</tbody>")
    assert message in here  # in the milestone's own block, under its row
    assert body.count(message) == 1
    assert message not in top_messages(body)
    # Shown once: the next page has no message left over.
    assert message not in client.get(project.get_absolute_url()).content.decode()


def test_a_refused_removal_is_explained_in_the_consortium_panel(consortium, client):
    world = consortium
    partner = world.project.participants.get(organisation=world.b)  # B leads WP2
    client.force_login(world.a_pm)
    response = client.post(f"/projects/{world.project.pk}/participants/{partner.pk}/remove/")
    assert response["Location"].endswith("#consortium")
    body = client.get(response["Location"]).content.decode()
    consortium_panel = block(body, 'id="consortium"', "</section>")
    assert "leads work packages" in consortium_panel
    assert 'class="message message-error"' in consortium_panel
    assert "leads work packages" not in top_messages(body)


def test_a_new_calendar_address_is_confirmed_in_the_calendar_section(consortium, client):
    client.force_login(consortium.b_member)
    response = client.post("/calendar/manage/", {"operation": "create"})
    assert response["Location"] == "/profile/#calendar-heading"
    body = client.get("/profile/").content.decode()
    calendar_section = block(body, 'id="calendar-heading"', "</section>")
    assert "Your calendar address is ready" in calendar_section
    assert "Your calendar address is ready" not in top_messages(body)


def test_a_message_about_the_whole_page_stays_at_the_top(consortium, client):
    world, project = consortium, consortium.project
    client.force_login(world.a_pm)
    response = client.post(
        f"/projects/{project.pk}/edit/",
        {
            "title": "A new title",
            "summary": project.summary,
            "start_date": project.start_date,
            "end_date": project.end_date,
            "required_acceptances": project.required_acceptances,
        },
    )
    assert response["Location"] == project.get_absolute_url()  # no anchor: the top
    body = client.get(response["Location"]).content.decode()
    assert "Details saved." in top_messages(body)
