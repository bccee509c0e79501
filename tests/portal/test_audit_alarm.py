"""`tick` verifies the audit chain every run and raises the alarm when it is broken.

Platform staff need to learn of a tampered trail without running anything themselves: in the
portal and by email, once per break, however often tick runs afterwards.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from portal import audit
from portal.models import AuditEvent, Notification
from tests.portal.test_audit import _execute, dba  # noqa: F401  (dba: raw SQL may tamper)

User = get_user_model()


@pytest.fixture
def staff(world):
    """Two active staff members, one deactivated one, and the world's ordinary members."""
    world.extra["second_staff"] = User.objects.create_superuser(
        "second-staff", "second@portal.example", "x-not-used-x"
    )
    world.extra["former_staff"] = User.objects.create_user(
        "former-staff", "former@portal.example", is_staff=True, is_active=False
    )
    return world


def tick(capsys) -> str:
    call_command("tick")
    return capsys.readouterr().out


def tamper(event) -> None:
    _execute("""UPDATE portal_auditevent SET details = '{"n": 99}' WHERE id = %s""", [event.pk])


def test_an_intact_chain_is_reported_and_nobody_is_alerted(staff, capsys):
    audit.record(None, "test.event", n=1)

    out = tick(capsys)

    assert f"audit: audit chain intact ({AuditEvent.objects.count()} events)" in out
    assert not AuditEvent.objects.filter(action="audit.chain_broken").exists()
    assert not Notification.objects.filter(kind="audit.chain_broken").exists()


@pytest.mark.usefixtures("dba")
def test_a_broken_chain_is_recorded_and_every_active_staff_member_told(
    staff, capsys, django_capture_on_commit_callbacks
):
    world = staff
    events = [audit.record(None, "test.event", n=n) for n in range(3)]
    tamper(events[1])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        out = tick(capsys)

    assert f"audit chain BROKEN at event #{events[1].pk}" in out
    assert "staff alerted" in out
    alert = AuditEvent.objects.get(action="audit.chain_broken")
    assert alert.details["bad_event_id"] == events[1].pk
    assert "altered" in alert.details["reason"]
    told = set(
        Notification.objects.filter(kind="audit.chain_broken").values_list("user", flat=True)
    )
    assert told == {world.staff.pk, world.second_staff.pk}
    notice = Notification.objects.filter(kind="audit.chain_broken").first()
    assert f"event #{events[1].pk}" in notice.title
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        [world.staff.email, world.second_staff.email]
    )
    assert all(f"#{events[1].pk}" in m.subject for m in mail.outbox)


@pytest.mark.usefixtures("dba")
def test_the_same_break_is_not_alerted_twice(staff, capsys, django_capture_on_commit_callbacks):
    events = [audit.record(None, "test.event", n=n) for n in range(3)]
    tamper(events[2])
    tick(capsys)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        out = tick(capsys) + tick(capsys)

    assert out.count("already alerted") == 2
    assert AuditEvent.objects.filter(action="audit.chain_broken").count() == 1
    assert Notification.objects.filter(kind="audit.chain_broken").count() == 2  # two staff
    assert mail.outbox == []


@pytest.mark.usefixtures("dba")
def test_a_new_earlier_break_is_alerted_again(staff, capsys):
    events = [audit.record(None, "test.event", n=n) for n in range(3)]
    tamper(events[2])
    tick(capsys)
    tamper(events[0])

    out = tick(capsys)

    assert f"BROKEN at event #{events[0].pk}" in out
    alerts = AuditEvent.objects.filter(action="audit.chain_broken").order_by("id")
    assert [a.details["bad_event_id"] for a in alerts] == [events[2].pk, events[0].pk]
