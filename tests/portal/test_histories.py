"""Object histories name only the object's own audience (issue 13).

A party must never learn who outside the agreement tried to open it, and no history view
anywhere (agreement, resource, project and organisation pages, the access reports, evidence)
may show an event by someone outside the object's audience. Refusals never join a history;
every other event in one must be by the portal or by someone who could see the object then.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from agreements import evidence, services
from portal import access, audit
from portal.models import AuditEvent, Role
from tests.access.test_matrix import matrix_world
from tests.agreements.conftest import sign_by_all
from tests.factories import UserFactory, designate_signatories

__all__ = ["matrix_world"]  # the fixture, shared with the matrix

OUTSIDER = "cal-member"  # nation C's member: no tie to anything of A's


def _signed_in(user, *, api: bool = False):
    client = APIClient() if api else Client()
    client.force_login(user)
    return client


@pytest.fixture
def probed(matrix_world):
    """C's member has tried to open each of A's objects, and been refused."""
    world = matrix_world
    outsider = _signed_in(world.c_member)
    api = _signed_in(world.c_member, api=True)
    for url in (
        world.ab_agreement.get_absolute_url(),
        world.a_resource.get_absolute_url(),
        world.a_project.get_absolute_url(),
        f"/organisations/{world.a.slug}/members/",
        f"/api/v1/agreements/{world.ab_agreement.pk}/",
        f"/api/v1/resources/{world.a_resource.pk}/",
    ):
        client = api if url.startswith("/api/") else outsider
        assert client.get(url).status_code == 404, url
    assert AuditEvent.objects.filter(actor=world.c_member, action="access.refused").count() == 6
    return world


def test_no_page_history_names_who_outside_the_audience_tried_to_open_the_object(probed):
    world = probed
    insider = _signed_in(world.a_admin)  # every role in A: sees each history
    pages = {
        "agreement": world.ab_agreement.get_absolute_url(),
        "resource": world.a_resource.get_absolute_url(),
        "project": world.a_project.get_absolute_url(),
        "organisation": world.a.get_absolute_url(),
        "resource access report": reverse("resource-reports:resource", args=[world.a_resource.pk]),
        "agreement access report": reverse(
            "resource-reports:agreement", args=[world.ab_agreement.pk]
        ),
    }
    for name, url in pages.items():
        response = insider.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "History" in body or "Access report" in body, f"the {name} page shows no history"
        assert OUTSIDER not in body, f"the {name} history names {OUTSIDER}"
        assert "access.refused" not in body, f"the {name} history shows a refusal"


def test_the_access_log_api_and_its_csv_leave_outsiders_out(probed):
    world = probed
    log = _signed_in(world.a_admin, api=True).get(
        f"/api/v1/resources/{world.a_resource.pk}/access-log/"
    )
    csv = _signed_in(world.a_admin).get(
        reverse("resource-reports:resource", args=[world.a_resource.pk]), {"format": "csv"}
    )

    assert log.status_code == 200
    assert OUTSIDER not in log.content.decode()
    assert csv.status_code == 200
    assert OUTSIDER not in b"".join(csv.streaming_content).decode()


def test_the_evidence_of_a_probed_agreement_does_not_name_the_outsider(probed):
    bundle = evidence.build_bundle(probed.ab_agreement)

    assert OUTSIDER.encode() not in bundle
    assert b"access.refused" not in bundle


def test_an_amendment_signed_last_by_a_new_party_does_not_name_it_in_the_old_history(
    matrix_world,
):
    """C joins A-B's agreement in its amendment and signs last: the old version, which C was
    never party to, is superseded by the portal, not by C's signatory."""
    world = matrix_world
    UserFactory(organisation=world.c, username="cal-signatory", roles=[Role.SIGNATORY])
    UserFactory(organisation=world.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    old = world.ab_agreement
    draft = services.amend(actor=world.a_pm, agreement=old)
    services.update_draft(actor=world.a_pm, agreement=draft, parties=[world.a, world.b, world.c])
    designate_signatories(draft)  # C's programme manager designates C's signatory
    services.submit(actor=world.a_pm, agreement=draft)
    sign_by_all(world, draft)
    old.refresh_from_db()
    assert old.status == "superseded"
    assert AuditEvent.objects.filter(action="agreement.signed", actor__username="cal-signatory")

    page = _signed_in(world.b_member).get(old.get_absolute_url()).content.decode()
    old_history = [e.actor_label for e in audit.timeline(old, limit=None)]

    assert "cal-signatory" not in old_history
    assert "cal-signatory" not in page
    assert b"cal-signatory" not in evidence.build_bundle(old)


@override_settings(DEBUG=True)
def test_every_event_that_joins_a_history_is_by_its_audience_or_the_portal(db, monkeypatch):
    """The whole demo, every service at work: each event written into a protected object's
    history is by the portal or by someone who may see that object at that moment."""
    outside = []
    append = audit._append

    def checked_append(*args, **kwargs):
        event = append(*args, **kwargs)
        if event.history and event.actor_id is not None:
            label, pk = event.history.rsplit(":", 1)
            model = apps.get_model(label)
            if model in access.registered_models():
                obj = model._default_manager.get(pk=pk)
                if not access.can(event.actor, "view", obj):
                    outside.append(f"{event.action} by {event.actor_label} in {event.history}")
        return event

    monkeypatch.setattr(audit, "_append", checked_append)

    call_command("seed_demo")

    assert AuditEvent.objects.exclude(history="").count() > 100  # the demo did run
    assert outside == []
