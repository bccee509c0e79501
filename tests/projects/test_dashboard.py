"""Dashboard cards of projects: what awaits a reviewer, what is overdue, portfolio health."""

import datetime

import time_machine
from django.utils import timezone

from projects import services


def test_reviewer_sees_what_awaits_their_review_until_they_review_it(consortium, client):
    w = consortium
    services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.reviewer_1)
    services.activate(actor=w.a_pm, project=w.project)
    services.submit_item(actor=w.a_pm, item=w.ms1, evidence="Architecture document v1.")
    client.force_login(w.reviewer_1)
    body = client.get("/").content.decode()
    assert "Awaiting your review" in body and "Architecture agreed" in body

    services.review_item(actor=w.reviewer_1, item=w.ms1, decision="accept")
    assert "Architecture agreed" not in client.get("/").content.decode()


def test_programme_manager_sees_overdue_items_and_a_late_project(consortium, client):
    w = consortium
    services.activate(actor=w.a_pm, project=w.project)
    with time_machine.travel(w.ms1.due_date + datetime.timedelta(days=2), tick=False):
        client.force_login(w.a_pm)  # a session started then, not one that expired since
        response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Overdue items" in body and "Architecture agreed" in body
    assert "Portfolio health" in body and "?status=active&amp;health=late" in body


def test_outsiders_cards_say_nothing_of_the_project(consortium, client):
    w = consortium
    services.activate(actor=w.a_pm, project=w.project)
    with time_machine.travel(timezone.localdate() + datetime.timedelta(days=400), tick=False):
        client.force_login(w.c_member)
        response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Good to see you" in body
    assert "SENTINEL" not in body and "Architecture agreed" not in body
