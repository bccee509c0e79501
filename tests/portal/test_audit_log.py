"""The organisation admins' audit log: what they see, what they must never see, its filters
and its CSV export.

An admin needs every event about their organisation and by its members, newest first, to
filter it and take it away as CSV. A partner nation needs the log never to tell another
organisation the name or id of its hidden objects, even when that organisation's member is the
one who probed them.
"""

import csv
import datetime
import html
import io
import json

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services as agreement_services
from portal import audit, audit_log, csv_export
from portal.models import AuditEvent, Role
from tests.agreements.conftest import draft_between
from tests.factories import UserFactory

SECRET_TITLE = "Borealis-Caldera covert pact 5K"
UTC = datetime.UTC


def audit_url(world) -> str:
    return f"/organisations/{world.a.slug}/audit/"


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def probed(people):
    """A member of A probed B's agreement with C, which A may not see: the refusal is A's
    event, and it records B's secret title and id."""
    world = people
    agreement = agreement_services.create_agreement(
        actor=world.b_pm,
        parties=[world.b, world.c],
        title=SECRET_TITLE,
        kind="data_sharing",
        purpose="Between Borealis and Caldera only.",
        body="# Terms",
        effective_from=timezone.localdate(),
        expires_on=timezone.localdate() + datetime.timedelta(days=365),
        data_categories=["incidents"],
        tlp_ceiling="amber",
    )
    world.extra["secret_agreement"] = agreement
    prober = Client()
    prober.force_login(world.a_member)
    assert prober.get(agreement.get_absolute_url()).status_code == 404
    world.extra["probe"] = AuditEvent.objects.get(
        action="access.refused", object_id=str(agreement.pk)
    )
    return world


# --- Who may read it ------------------------------------------------------------------------


def test_admin_sees_the_organisations_events_newest_first(people, client):
    world = people
    own = draft_between(world, title="Atlantis-Borealis exchange 4T")
    client.force_login(world.a_admin)

    response = client.get(audit_url(world))

    assert response.status_code == 200
    events = [entry.event for entry in response.context["entries"]]
    assert [e.pk for e in events] == sorted((e.pk for e in events), reverse=True)
    assert all(world.a in (e.organisation, e.actor_organisation) for e in events)
    body = response.content.decode()
    assert "agreement.created" in body
    assert own.title in body  # A may see its own agreement, so the log names it
    assert "atl-member-9f3k @ atl-csirt" in body  # A's own membership


def test_events_of_other_organisations_are_not_in_the_log(people, client):
    world = people
    b_event = audit.record(world.b_pm, "test.borealis_only", world.b, note="Borealis internal")
    client.force_login(world.a_admin)

    response = client.get(audit_url(world))

    assert b_event.pk not in [entry.event.pk for entry in response.context["entries"]]
    assert "Borealis internal" not in response.content.decode()


def test_members_without_the_admin_role_and_other_organisations_get_403(world, client):
    b_admin = UserFactory(organisation=world.b, username="bor-admin", roles=[Role.ORG_ADMIN])
    for user in (world.a_member, world.a_pm, b_admin, world.c_member, world.staff):
        client.force_login(user)
        response = client.get(audit_url(world))
        assert response.status_code == 403, user
        message = "Only this organisation's admins can see its history."
        assert message in html.unescape(response.content.decode())


def test_organisation_page_links_the_log_for_its_admins_only(world, client):
    link = f'href="{audit_url(world)}"'
    client.force_login(world.a_admin)
    assert link in client.get(world.a.get_absolute_url()).content.decode()
    client.force_login(world.a_member)
    assert link not in client.get(world.a.get_absolute_url()).content.decode()


# --- What it must never show ----------------------------------------------------------------


def test_a_probe_of_another_nations_hidden_object_leaves_no_row_in_the_log(probed, client):
    """A 404 is recorded only for an object that exists, so showing the refusal would tell
    the admin which of another nation's ids exist."""
    world = probed
    client.force_login(world.a_admin)

    response = client.get(audit_url(world))

    assert SECRET_TITLE not in response.content.decode()
    shown = {e.event.pk for e in response.context["entries"]}
    assert world.probe.pk not in shown
    assert AuditEvent.objects.filter(pk=world.probe.pk).exists()  # still in the trail


def test_an_event_naming_a_hidden_object_withholds_its_name_and_id(probed, client):
    world = probed
    event = audit.record(world.a_admin, "test.looked_up", world.secret_agreement, title="x")
    client.force_login(world.a_admin)

    response = client.get(audit_url(world))
    entry = next(e for e in response.context["entries"] if e.event.pk == event.pk)
    assert SECRET_TITLE not in response.content.decode()
    assert audit_log.HIDDEN_OBJECT in response.content.decode()
    assert entry.object_visible is False
    assert entry.object_id == ""
    assert set(entry.details) <= {"requested_action", "outcome", "ip"}

    rows = csv_rows(client.get(audit_url(world), {"action": "test.looked_up", "format": "csv"}))
    header, *lines = rows
    assert SECRET_TITLE not in json.dumps(rows)
    records = [dict(zip(header, line, strict=True)) for line in lines]
    (record,) = [
        r for r in records if r["time_utc"] == event.created_at.astimezone(UTC).isoformat()
    ]
    assert record["object_type"] == "agreements.agreement"
    assert record["object_id"] == ""
    assert record["object"] == audit_log.HIDDEN_OBJECT


def test_searching_or_filtering_by_the_hidden_id_or_title_finds_nothing(probed, client):
    world = probed
    client.force_login(world.a_admin)

    by_title = client.get(audit_url(world), {"q": "covert pact"})
    by_id = client.get(
        audit_url(world),
        {"object_type": "agreements.agreement", "object_id": str(world.secret_agreement.pk)},
    )

    assert by_title.context["entries"] == []
    assert by_id.context["entries"] == []


def test_people_are_named_only_when_they_belong_to_the_organisation(world, client):
    own = audit.record(world.a_admin, "test.looked_up", world.a_pm)
    other = audit.record(world.a_admin, "test.looked_up", world.b_member)
    client.force_login(world.a_admin)

    entries = {e.event.pk: e for e in client.get(audit_url(world)).context["entries"]}

    assert entries[own.pk].object_repr == world.a_pm.username
    assert entries[other.pk].object_repr == audit_log.HIDDEN_OBJECT
    assert entries[other.pk].object_id == ""


def test_an_object_of_a_type_without_a_rule_is_withheld(world):
    # An API token's name is its secret key; a type nobody decided about stays hidden.
    event = AuditEvent(
        action="test.token_seen",
        object_type="authtoken.token",
        object_id="4f1c0a",
        object_repr="4f1c0a-secret-key",
        details={"key": "4f1c0a-secret-key"},
        hash="f" * 64,
    )

    (entry,) = audit_log.entries(world.a_admin, [event])

    assert entry.object_visible is False
    assert (entry.object_id, entry.object_repr, entry.details) == (
        "",
        audit_log.HIDDEN_OBJECT,
        {},
    )


def test_the_log_shows_no_number_that_counts_other_nations(world, client):
    # Event ids number every nation's events in one sequence, and user ids every nation's
    # accounts: two of either would tell how much others did in between.
    about_person = audit.record(world.a_admin, "test.looked_up", world.a_pm)
    about_membership = audit.record(world.a_admin, "test.looked_up", world.a_pm.membership)
    client.force_login(world.a_admin)

    page = client.get(audit_url(world), {"action": "test.looked_up"})
    export = csv_rows(client.get(audit_url(world), {"action": "test.looked_up", "format": "csv"}))

    body = page.content.decode()
    by_event = {e.event.pk: e for e in page.context["entries"]}
    assert f"#{about_person.pk}<" not in body and f"#{about_membership.pk}<" not in body
    assert by_event[about_person.pk].object_id == ""  # the person is named, not numbered
    assert by_event[about_person.pk].object_repr == str(world.a_pm)
    assert by_event[about_membership.pk].object_id == str(world.a_pm.membership.pk)  # random
    header, *lines = export
    assert "id" not in header
    records = {r["object"]: r for r in (dict(zip(header, line, strict=True)) for line in lines)}
    assert records[str(world.a_pm)]["object_id"] == ""
    assert records[str(world.a_pm.membership)]["object_id"] == str(world.a_pm.membership.pk)
    assert not any(str(e.pk) in line for e in (about_person, about_membership) for line in lines)


def test_list_page_query_count_does_not_grow_with_the_events(probed, client):
    world = probed
    client.force_login(world.a_admin)

    def add_events(count: int) -> None:
        for n in range(count):
            audit.record(world.a_admin, "test.looked_up", world.a_pm, n=n)
            audit.record(world.a_admin, "test.looked_up", world.b_member, n=n)
            audit.record(world.a_admin, "test.organisation_touched", world.a, n=n)
            audit.record(world.a_admin, "test.member_touched", world.a_pm.membership, n=n)
            audit.record(world.a_member, "test.probe", world.secret_agreement, n=n)

    add_events(1)
    client.get(audit_url(world))  # warms per-process caches (permission ids, content types)
    with CaptureQueriesContext(connection) as few:
        response = client.get(audit_url(world))
    assert len(response.context["entries"]) < 20

    add_events(30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(audit_url(world))
    assert len(response.context["entries"]) == 50

    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- Filters --------------------------------------------------------------------------------


def test_filters_by_actor_action_and_object(people, client):
    world = people
    agreement = draft_between(world, title="Atlantis-Borealis exchange 4T")
    client.force_login(world.a_admin)

    by_actor = client.get(audit_url(world), {"actor": "atl-pm"}).context["entries"]
    by_action = client.get(audit_url(world), {"action": "agreement.created"}).context["entries"]
    by_object = client.get(
        audit_url(world),
        {"object_type": "agreements.agreement", "object_id": str(agreement.pk)},
    ).context["entries"]
    by_type = client.get(audit_url(world), {"object_type": "portal.membership"})

    assert by_actor and {e.event.actor_label for e in by_actor} == {"atl-pm"}
    assert [e.event.action for e in by_action] == ["agreement.created"]
    assert [e.event.object_id for e in by_object] == [str(agreement.pk)]
    assert {e.event.object_type for e in by_type.context["entries"]} == {"portal.membership"}
    choices = dict(by_type.context["filterset"].form.fields["action"].choices)
    assert "agreement.created" in choices and "member.invited" in choices


def test_an_action_not_in_the_log_is_refused_with_a_message(world, client):
    client.force_login(world.a_admin)

    response = client.get(audit_url(world), {"action": "agreement.signed"})

    assert response.status_code == 200
    assert response.context["entries"] == []
    assert "Select a valid choice" in response.content.decode()


def test_date_range_includes_both_whole_days_in_utc(world, client):
    at = [
        datetime.datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
        datetime.datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC),
        datetime.datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC),
        datetime.datetime(2026, 3, 3, 0, 0, 0, tzinfo=UTC),
    ]
    events = []
    for moment in at:
        with time_machine.travel(moment, tick=False):
            events.append(audit.record(world.a_admin, "test.dated"))
    client.force_login(world.a_admin)

    response = client.get(
        audit_url(world),
        {"action": "test.dated", "date_from": "2026-03-01", "date_to": "2026-03-02"},
    )

    assert [e.event.pk for e in response.context["entries"]] == [events[2].pk, events[1].pk]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2026-02-30"}, "Enter a date as YYYY-MM-DD"),
        ({"date_to": "yesterday"}, "Enter a date as YYYY-MM-DD"),
        ({"date_from": "31/03/2026"}, "Enter a date as YYYY-MM-DD"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "The end date is before the start"),
    ],
)
def test_bad_dates_give_a_clear_message_and_no_rows(world, client, query, message):
    client.force_login(world.a_admin)

    page = client.get(audit_url(world), query)
    partial = client.get(audit_url(world), query, headers={"HX-Request": "true"})
    export = client.get(audit_url(world), {**query, "format": "csv"})

    for response in (page, partial, export):
        assert response.status_code == 200
        assert message in response.content.decode()
        assert response.context["entries"] == []
    assert not export.streaming  # the page with the errors, not a file
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_the_last_day_there_is_does_not_crash_the_filter(world, client):
    client.force_login(world.a_admin)

    response = client.get(audit_url(world), {"date_from": "0001-01-01", "date_to": "9999-12-31"})

    assert response.status_code == 200
    assert response.context["entries"]


def test_nothing_matching_shows_the_empty_state(world, client):
    client.force_login(world.a_admin)

    response = client.get(audit_url(world), {"actor": "nobody-like-this"})

    assert "Nothing matches these filters" in response.content.decode()


def test_htmx_refresh_carries_the_export_link_for_the_new_filters(world, client):
    client.force_login(world.a_admin)

    response = client.get(audit_url(world), {"actor": "atl-pm"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert "<html" not in body
    assert 'id="audit-export" hx-swap-oob="true"' in body
    assert "?actor=atl-pm&amp;format=csv" in body


# --- The CSV export -------------------------------------------------------------------------


def test_export_has_every_filtered_row_not_just_the_page(world, client):
    for n in range(60):
        audit.record(world.a_pm, "test.bulk", world.a, n=n)
    audit.record(world.a_admin, "test.bulk", world.a, n=99)  # filtered out by actor
    client.force_login(world.a_admin)

    response = client.get(audit_url(world), {"actor": "atl-pm", "action": "test.bulk"})
    export = client.get(
        audit_url(world), {"actor": "atl-pm", "action": "test.bulk", "format": "csv"}
    )

    assert len(response.context["entries"]) == 50  # one page
    header, *lines = csv_rows(export)
    assert header == [
        "time_utc",
        "actor",
        "actor_organisation",
        "organisation",
        "action",
        "object_type",
        "object_id",
        "object",
        "ip",
        "details",
        "description",
    ]
    assert len(lines) == 60
    assert {line[1] for line in lines} == {"atl-pm"}
    first = dict(zip(header, lines[0], strict=True))
    # The line carries no hash or id: the event is the one its details name.
    event = AuditEvent.objects.get(action="test.bulk", details__n=json.loads(first["details"])["n"])
    assert first["time_utc"] == event.created_at.astimezone(UTC).isoformat()
    assert first["actor_organisation"] == first["organisation"] == world.a.slug
    assert first["object"] == world.a.name
    assert json.loads(first["details"]) == event.details
    assert export["Content-Disposition"].startswith('attachment; filename="audit-log-atl-csirt-')
    assert export["Content-Type"] == "text/csv; charset=utf-8"


def test_export_is_recorded_with_its_filters_and_is_not_in_its_own_file(world, client):
    client.force_login(world.a_admin)

    export = client.get(
        audit_url(world), {"actor": "atl", "date_from": "2026-01-01", "format": "csv"}
    )
    actions = [line[4] for line in csv_rows(export)[1:]]

    event = AuditEvent.objects.get(action="audit.exported")
    assert event.actor == world.a_admin
    assert event.organisation == world.a
    assert event.details["filters"] == {"actor": "atl", "date_from": "2026-01-01"}
    assert "audit.exported" not in actions


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(world, client):
    UserFactory(organisation=world.a, username="-2+3cmd")
    client.force_login(world.a_admin)

    rows = csv_rows(client.get(audit_url(world), {"action": "member.invited", "format": "csv"}))

    assert "'-2+3cmd @ atl-csirt" in [row[7] for row in rows]
    for value in ("=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx"):
        assert csv_export.safe_cell(value) == f"'{value}"
    assert csv_export.safe_cell("plain") == "plain"


def test_no_chain_hash_is_exported_even_of_the_organisations_own_events(world, client):
    """Two hashes of events that are not neighbours in the trail would let the admin confirm
    a guess of another nation's event between them, offline (issue 13)."""
    own = audit.record(world.a_pm, "test.own", world.a)
    between = audit.record(world.c_member, "test.other", world.c)
    later = audit.record(world.a_pm, "test.own", world.a)
    client.force_login(world.a_admin)

    export = b"".join(client.get(audit_url(world), {"format": "csv"}).streaming_content).decode()
    page = client.get(audit_url(world)).content.decode()

    for text in (export, page):
        for event in (own, between, later):
            assert event.hash not in text
            assert event.history_hash not in text
