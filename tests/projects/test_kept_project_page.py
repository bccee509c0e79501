"""The project page is kept per person (portal.list_cache) until what it shows changes: its
history when an event joins that history, the rest when a table it was read from is written.
An event about anything else (every resource view is one) leaves it kept. These tests commit
(transaction=True): an epoch is bumped when a write's transaction commits."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal import audit, list_cache
from projects import services

pytestmark = pytest.mark.django_db(transaction=True)


def _get(client, url):
    """The page, and whether it was answered without reading the projects table."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    read = set().union(*(list_cache.tables_in(q["sql"]) for q in queries.captured_queries))
    return response.content.decode(), "projects_project" not in read


def _history_lines(page: str) -> int:
    return page.split('id="timeline-heading"')[1].count("<time datetime")


def _kept(client, url) -> str:
    for _ in range(2):  # the first read learns the page's tables, the second keeps it
        _get(client, url)
    page, kept = _get(client, url)
    assert kept, "the project page was built again instead of being kept"
    return page


def test_an_event_of_the_project_s_history_shows_at_once_and_others_leave_it_kept(
    consortium, client, fragments
):
    project, url = consortium.project, consortium.project.get_absolute_url()
    client.force_login(consortium.a_pm)
    lines = _history_lines(_kept(client, url))

    # Another object's event is recorded: the page is still kept, its history the same.
    audit.record(consortium.b_pm, "organisation.updated", consortium.b, note="elsewhere")
    page, kept = _get(client, url)
    assert kept and _history_lines(page) == lines

    # An event that joins this project's history (no project table is written) shows next.
    audit.record(consortium.b_pm, "project.updated", project, note="Opened the partner portal")
    page, kept = _get(client, url)
    assert not kept and _history_lines(page) == lines + 1


def test_a_reviewer_taken_off_the_project_loses_the_kept_page_at_once(
    consortium, client, fragments
):
    project, url = consortium.project, consortium.project.get_absolute_url()
    assignment = services.assign_reviewer(
        actor=consortium.a_pm, project=project, user=consortium.reviewer_1
    )
    client.force_login(consortium.reviewer_1)
    assert "SENTINEL" in _kept(client, url)

    services.unassign_reviewer(actor=consortium.a_pm, assignment=assignment)
    assert client.get(url).status_code == 404
