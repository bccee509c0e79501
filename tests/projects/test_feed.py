"""The secret calendar address: only visible due dates, revocable, and valid RFC 5545."""

import datetime

import pytest
from django.utils import timezone

from portal import services as portal_services
from portal.models import AuditEvent
from projects import feed, services
from projects.models import CalendarFeed

DAY = datetime.timedelta(days=1)


def fetch(client, calendar):
    return client.get(f"/calendar/{calendar.token}.ics")


def unfolded(body: str) -> str:
    return body.replace("\r\n ", "")


@pytest.fixture
def b_feed(consortium):
    return feed.create_calendar_feed(actor=consortium.b_member)


def test_the_owner_creates_the_address_on_the_profile_and_sees_it_there(consortium, client):
    client.force_login(consortium.b_member)
    response = client.post("/calendar/manage/", {"operation": "create"})
    assert response.status_code == 302
    calendar = CalendarFeed.objects.get(user=consortium.b_member)
    profile = client.get("/profile/").content.decode()
    assert f"/calendar/{calendar.token}.ics" in profile
    assert "Keep this address secret" in profile
    assert AuditEvent.objects.filter(
        action="calendar_feed.created", actor=consortium.b_member
    ).exists()
    assert calendar.token not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_the_feed_lists_only_the_due_dates_its_owner_may_see(consortium, client, b_feed):
    world = consortium
    hidden = services.create_project(
        actor=world.a_pm,
        acronym="SOLO",
        title="Atlantis-only hardening study",
        kind="research",
        agreement=world.rd_agreement,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + 50 * DAY,
    )
    response = fetch(client, b_feed)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    body = unfolded(response.content.decode())
    assert "SUMMARY:SENTINEL MS1 due: Architecture agreed" in body
    assert "SUMMARY:SENTINEL D2.1 due: Pilot report" in body
    assert "SUMMARY:SENTINEL ends" in body
    assert f"DTSTART;VALUE=DATE:{world.ms1.due_date:%Y%m%d}" in body
    assert f"URL:http://testserver/projects/{world.project.pk}/" in body
    assert hidden.acronym not in body and hidden.title not in body


def test_a_participant_removed_from_a_project_no_longer_sees_its_dates(consortium, client, b_feed):
    world = consortium
    project = services.create_project(
        actor=world.a_pm,
        acronym="TIDE",
        title="Tidal grid monitoring",
        kind="pilot",
        agreement=world.rd_agreement,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + 80 * DAY,
        partners=[world.b],
    )
    wp = services.add_work_package(
        actor=world.a_pm,
        project=project,
        number=1,
        title="Sensors",
        lead=project.participants.get(organisation=world.a),
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + 60 * DAY,
    )
    services.add_milestone(
        actor=world.a_pm,
        work_package=wp,
        code="T1",
        title="Tide sensors online",
        due_date=timezone.localdate() + 20 * DAY,
    )
    assert "Tide sensors online" in unfolded(fetch(client, b_feed).content.decode())

    services.remove_participant(
        actor=world.a_pm, participant=project.participants.get(organisation=world.b)
    )

    body = unfolded(fetch(client, b_feed).content.decode())
    assert "Tide sensors online" not in body and "TIDE" not in body
    assert "SENTINEL MS1" in body


def test_an_unassigned_reviewer_no_longer_sees_the_dates(consortium, client):
    world = consortium
    assignment = services.assign_reviewer(
        actor=world.a_pm, project=world.project, user=world.reviewer_1
    )
    calendar = feed.create_calendar_feed(actor=world.reviewer_1)
    assert "SENTINEL MS1" in unfolded(fetch(client, calendar).content.decode())
    services.unassign_reviewer(actor=world.a_pm, assignment=assignment)
    assert "SENTINEL" not in unfolded(fetch(client, calendar).content.decode())


def test_revoked_and_rotated_addresses_answer_404_and_the_attempt_is_audited(
    consortium, client, b_feed
):
    world = consortium
    old_token = b_feed.token
    rotated = feed.rotate_calendar_feed(actor=world.b_member)
    assert rotated.token != old_token
    assert client.get(f"/calendar/{old_token}.ics").status_code == 404
    assert fetch(client, rotated).status_code == 200

    client.force_login(world.b_member)
    client.post("/calendar/manage/", {"operation": "revoke"})
    assert not CalendarFeed.objects.filter(user=world.b_member).exists()
    client.logout()
    assert fetch(client, rotated).status_code == 404
    refused = AuditEvent.objects.filter(action="calendar_feed.refused")
    assert refused.count() == 2
    assert AuditEvent.objects.filter(action="calendar_feed.revoked").count() == 1


def test_a_deactivated_person_s_address_answers_404(consortium, client, b_feed):
    world = consortium
    portal_services.deactivate_member(actor=world.staff, membership=world.b_member.membership)
    assert fetch(client, b_feed).status_code == 404
    assert AuditEvent.objects.filter(
        action="calendar_feed.refused", details__reason="inactive_user"
    ).exists()


def test_a_successful_fetch_is_not_audited(consortium, client, b_feed):
    before = AuditEvent.objects.count()
    assert fetch(client, b_feed).status_code == 200
    assert AuditEvent.objects.count() == before


def test_the_calendar_is_valid_rfc_5545(consortium, client, b_feed):
    world = consortium
    title = "Plan; phase 1, part \\ 2 — réseau électrique " + "très long " * 12
    services.add_milestone(
        actor=world.a_pm,
        work_package=world.wp1,
        code="MS9",
        title=title[:200],
        due_date=timezone.localdate() + 60 * DAY,
    )
    raw = fetch(client, b_feed).content

    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    physical = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical)
    for line in physical:
        line.decode("utf-8")  # no UTF-8 character split across lines
    assert any(line.startswith(b" ") for line in physical)

    lines = unfolded(raw.decode()).split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 4
    assert len({line for line in lines if line.startswith("UID:")}) == 4
    assert sum(line.startswith("DTSTAMP:") for line in lines) == 4
    summary = next(line for line in lines if line.startswith("SUMMARY:SENTINEL MS9"))
    assert "Plan\\; phase 1\\, part \\\\ 2 — réseau électrique" in summary
    description = next(line for line in lines if "Milestone MS9" in line)
    assert "\\nProject: Shared sensor network for early warning\\n" in description


def test_escaping_and_folding_follow_the_rfc():
    assert feed.escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    short = "SUMMARY:" + "x" * 67
    assert feed.fold(short) == short
    folded = feed.fold("DESCRIPTION:" + "é" * 100)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "DESCRIPTION:" + "é" * 100
