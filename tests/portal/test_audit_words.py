"""Audit events in words, on the audit log, its CSV and every object's history: who did what
to what, with links the reader may follow, never the title of something they may not see,
the reader's own views folded, the actor filter by name, and no query per sentence."""

import csv
import datetime
import html
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services as agreement_services
from portal import audit, audit_words, services
from portal.models import Role
from tests.factories import UserFactory
from tests.resources.conftest import new_resource, share_with_b, sharing

__all__ = ["sharing"]  # the fixture, shared with tests/resources


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, spaces collapsed."""
    body = response.content.decode()
    body = re.sub(r"</?(a|strong|span|code|time)\b[^>]*>", "", body)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(body)).replace(" .", ".").replace(" :", ":")


def name(world, user, first, last):
    services.update_account(actor=world.staff, user=user, first_name=first, last_name=last)
    user.refresh_from_db()


def audit_url(world) -> str:
    return f"/organisations/{world.a.slug}/audit/"


@pytest.fixture
def named(people):
    world = people
    name(world, world.a_admin, "Maria", "Tamm")
    name(world, world.a_member, "Kadri", "Kask")
    name(world, world.a_pm, "Peeter", "Pihl")
    return world


@pytest.fixture
def shared(sharing):
    world = sharing
    name(world, world.a_pm, "Peeter", "Pihl")
    world.extra["report"] = new_resource(world, title="Ransomware wave 9Q")
    share_with_b(world, world.report)
    return world


# --- Sentences ----------------------------------------------------------------------------------


def test_a_roles_change_reads_as_who_changed_whose_roles_and_how(named, client):
    world = named
    services.change_member_roles(
        actor=world.a_admin, membership=world.a_member.membership, roles=[Role.PROGRAMME_MANAGER]
    )
    client.force_login(world.a_admin)

    log = text(client.get(audit_url(world)))
    history = text(client.get(world.a.get_absolute_url()))

    assert "You changed Kadri Kask's roles: added Programme manager." in log
    assert "You changed Kadri Kask's roles: added Programme manager." in history
    # The member's name links to where an admin manages them.
    page = client.get(audit_url(world)).content.decode()
    member_url = f"/organisations/{world.a.slug}/members/{world.a_member.membership.pk}/"
    assert f'<a href="{member_url}">Kadri Kask</a>' in page


def test_another_admin_reads_the_actor_by_name(named, client):
    world = named
    services.change_member_roles(
        actor=world.a_admin,
        membership=world.a_member.membership,
        roles=[Role.SIGNATORY, Role.REVIEWER],
    )
    services.change_member_roles(
        actor=world.a_admin, membership=world.a_member.membership, roles=[Role.REVIEWER]
    )
    other_admin = UserFactory(organisation=world.a, username="atl-admin-2", roles=[Role.ORG_ADMIN])
    client.force_login(other_admin)

    log = text(client.get(audit_url(world)))

    assert "Maria Tamm changed Kadri Kask's roles: added Reviewer, Signatory." in log
    assert "Maria Tamm changed Kadri Kask's roles: removed Signatory." in log


def test_a_partner_is_named_by_username_to_those_who_cannot_see_its_member_list(shared, client):
    world = shared
    name(world, world.b_member, "Birgit", "Borealis")
    client.force_login(world.b_member)
    world.report.refresh_from_db()
    client.get(world.report.get_absolute_url())  # B's member views A's report
    client.force_login(world.a_pm)

    page = text(client.get(world.report.get_absolute_url()))

    # A and B have an agreement in force, so A may see B's member list: by name.
    assert "Birgit Borealis viewed this resource." in page


def test_a_share_reads_with_links_the_owner_may_open(shared, client):
    world = shared
    client.force_login(world.a_pm)

    response = client.get(world.report.get_absolute_url())

    label = world.ab_agreement.label
    assert f"You shared this resource with Borealis Cyber Centre under {label}." in text(response)
    body = response.content.decode()
    assert f'<a href="{world.ab_agreement.get_absolute_url()}">{label}</a>' in body
    assert f'<a href="{world.b.get_absolute_url()}">Borealis Cyber Centre</a>' in body
    assert "resource.shared" not in body  # the code is not what people read


def test_a_history_never_names_an_agreement_the_reader_cannot_see(shared, client):
    world = shared
    secret = secret_agreement(world)
    # An event on A's report that names B and C's agreement (a detail A may not read).
    audit.record(
        world.a_pm, "resource.shared", world.report, recipient=world.c.slug, agreement=secret.label
    )
    client.force_login(world.a_pm)

    response = client.get(world.report.get_absolute_url())

    page = text(response)
    assert "with Caldera Defence Agency under an agreement you cannot see." in page
    body = response.content.decode()
    assert secret.reference not in body and "covert pact" not in body
    assert secret.get_absolute_url() not in body


def test_an_event_about_a_hidden_object_names_only_its_kind(people, client):
    world = people
    secret = secret_agreement(world)
    audit.record(world.a_member, "agreement.signed", secret, organisation=world.a, party="bor-ncsc")
    client.force_login(world.a_admin)

    response = client.get(audit_url(world))

    assert "signed a hidden agreement for something you cannot see." in text(response)
    body = response.content.decode()
    assert "covert pact" not in body and secret.reference not in body
    assert secret.get_absolute_url() not in body


def test_an_unknown_action_or_a_failing_phrase_reads_as_a_plain_sentence(
    world, client, monkeypatch
):
    audit.record(world.a_admin, "test.something_odd", world.a)
    audit.record(world.a_admin, "member.reactivated", world.a_pm.membership)

    def broken(words, event):
        raise KeyError("a phrase with a bug")

    monkeypatch.setitem(audit_words._phrases, "member.reactivated", audit_words.Phrase(broken))
    client.force_login(world.a_admin)

    response = client.get(audit_url(world))

    assert response.status_code == 200
    page = text(response)
    assert "You: test: something odd, on Atlantis National CSIRT." in page
    assert "You: member: reactivated, on" in page


# --- Folding the reader's own views -------------------------------------------------------------


def test_your_own_views_are_one_line_and_the_real_events_stay_in_view(shared, client):
    world = shared
    client.force_login(world.a_pm)
    for _ in range(60):  # more than a history shows: they must not push the share out
        response = client.get(world.report.get_absolute_url())
    client.force_login(world.a_admin)
    client.get(world.report.get_absolute_url())  # a colleague's view is a real event
    client.force_login(world.a_pm)

    page = text(client.get(world.report.get_absolute_url()))

    assert "You viewed this 61 times." in page
    assert "You shared this resource with Borealis Cyber Centre" in page
    assert "You uploaded this resource, marked TLP:AMBER." in page
    assert page.count("viewed this resource.") == 1  # the colleague's one view
    assert response.status_code == 200


def test_the_audit_log_folds_a_run_of_your_own_views_of_one_object(shared, client):
    world = shared
    client.force_login(world.a_admin)
    for _ in range(5):
        client.get(world.report.get_absolute_url())

    response = client.get(audit_url(world))

    assert "You viewed Ransomware wave 9Q 5 times." in text(response)
    assert response.context["entries"][0].count == 5


# --- Filters ------------------------------------------------------------------------------------


def test_the_actor_filter_finds_a_person_by_name(named, client):
    world = named
    name(world, world.c_member, "Zed", "Outsider")
    audit.record(world.a_pm, "test.by_peeter", world.a)
    audit.record(world.a_member, "test.by_kadri", world.a)
    # Someone whose member list A may not see, in A's log.
    audit.record(world.c_member, "test.by_outsider", world.a, organisation=world.a)
    client.force_login(world.a_admin)

    def actions(query):
        entries = client.get(audit_url(world), {"actor": query}).context["entries"]
        return {entry.event.action for entry in entries}

    assert actions("peeter") == actions("PIHL") == actions("Peeter Pihl") == {"test.by_peeter"}
    assert "test.by_kadri" in actions("kadri kask")
    assert "test.by_peeter" in actions("atl-pm")  # the username still works
    # A name A may not know finds nothing; the username the log shows still does.
    assert actions("Zed") == set() and actions("outsider") == set()
    assert actions("cal-member") == {"test.by_outsider"}


def test_a_filtered_empty_list_offers_to_clear_the_filters(named, client):
    world = named
    client.force_login(world.a_admin)
    members = f"/organisations/{world.a.slug}/members/"

    for url, query in ((members, {"q": "nobody-like-this"}), (audit_url(world), {"actor": "zz"})):
        response = client.get(url, query)
        body = response.content.decode()
        assert "Nothing matches these filters" in body
        assert f'<a class="button" href="{url}">Clear filters</a>' in body
        # Refreshed in place by htmx, the filter bar's own Clear follows the new filters.
        partial = client.get(url, query, headers={"HX-Request": "true"}).content.decode()
        assert f'<a class="button" href="{url}">Clear filters</a>' in partial
        assert 'id="filter-clear" hx-swap-oob="true"' in partial
        assert f'href="{url}">Clear</a>' in partial
        assert client.get(url).status_code == 200


# --- The CSV ------------------------------------------------------------------------------------


def test_the_csv_export_carries_each_event_in_words(named, client):
    world = named
    services.change_member_roles(
        actor=world.a_admin, membership=world.a_member.membership, roles=[Role.SIGNATORY]
    )
    client.force_login(world.a_admin)

    export = client.get(audit_url(world), {"action": "member.roles_changed", "format": "csv"})

    content = b"".join(export.streaming_content).decode()
    header, *lines = list(csv.reader(io.StringIO(content)))
    row = dict(zip(header, lines[0], strict=True))
    assert row["description"] == "You changed Kadri Kask's roles: added Signatory."


# --- Queries ------------------------------------------------------------------------------------


def test_the_audit_log_in_words_costs_the_same_queries_for_1_or_50_events(shared, client):
    world = shared
    client.force_login(world.a_admin)

    def add_events(count):
        # Each round names every kind the fixture's own events do, so that both pages show
        # the same object types (one query each) and only the number of events differs.
        for n in range(count):
            audit.record(world.a_admin, "auth.signed_in", world.a_admin)
            audit.record(world.a_admin, "test.organisation_touched", world.a)
            audit.record(world.a_pm, "agreement.signed", world.ab_agreement, party=world.a.slug)
            roles = [Role.REVIEWER] if n % 2 else [Role.SIGNATORY]
            services.change_member_roles(
                actor=world.a_admin, membership=world.a_member.membership, roles=roles
            )
            audit.record(
                world.a_pm,
                "resource.shared",
                world.report,
                recipient=world.b.slug,
                agreement=world.ab_agreement.label,
                named_users=[world.b_member.username],
            )

    add_events(1)
    client.get(audit_url(world))
    with CaptureQueriesContext(connection) as few:
        client.get(audit_url(world))
    add_events(30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(audit_url(world))

    assert len(response.context["entries"]) == 50
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_a_history_in_words_costs_the_same_queries_for_1_or_40_events(shared, client):
    world = shared
    client.force_login(world.a_pm)
    url = world.report.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(20):
        audit.record(
            world.a_admin,
            "resource.shared",
            world.report,
            recipient=world.b.slug,
            agreement=world.ab_agreement.label,
        )
        audit.record(world.a_admin, "resource.viewed", world.report)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(response.context["timeline"]) > 40
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def secret_agreement(world):
    """B and C's draft, which nobody in A may see."""
    today = timezone.localdate()
    return agreement_services.create_agreement(
        actor=world.b_pm,
        parties=[world.b, world.c],
        title="Borealis-Caldera covert pact 5K",
        kind="data_sharing",
        purpose="Between them only.",
        body="# Terms",
        effective_from=today,
        expires_on=today + datetime.timedelta(days=365),
        data_categories=["incidents"],
        tlp_ceiling="amber",
    )
