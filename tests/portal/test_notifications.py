"""Notifications: unread until opened or marked read, filtered, paginated, never of one's own
doing, and one notice per event."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import services as agreement_services
from portal.models import Notification
from portal.notifications import notify
from projects import services as project_services
from tests.agreements.conftest import draft_between, fresh_reauth
from tests.projects.conftest import consortium  # noqa: F401  (a fixture)
from tests.resources.conftest import new_resource, share_with_b, sharing  # noqa: F401

NEW = 'badge-warning">New</span>'


def notice(user, **fields):
    values = {"kind": "agreement.submitted", "title": "A notice", "url": "/agreements/"}
    values.update(fields)
    notify([user], **values)
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk").first()


def unread(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- Read until opened ----------------------------------------------------------------------


def test_a_notice_stays_new_until_its_link_is_opened(world, client):
    mine = notice(world.a_member, title="Your signature is requested", url="/agreements/?x=1#a")
    client.force_login(world.a_member)
    page = client.get("/notifications/").content.decode()
    assert "Your signature is requested" in page and NEW in page
    assert NEW in client.get("/notifications/").content.decode()  # looking changes nothing

    open_url = f"/notifications/{mine.pk}/open/"
    assert f'href="{open_url}"' in page
    response = client.get(open_url)
    assert response.status_code == 302 and response["Location"] == "/agreements/?x=1#a"
    assert unread(world.a_member) == 0
    assert NEW not in client.get("/notifications/").content.decode()


def test_opening_follows_only_paths_on_this_site(world, client):
    client.force_login(world.a_member)
    for url in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        mine = notice(world.a_member, url=url)
        response = client.get(f"/notifications/{mine.pk}/open/")
        assert response["Location"] == "/notifications/", url


def test_another_persons_notice_cannot_be_opened_or_marked(world, client):
    theirs = notice(world.b_member, title="Borealis only")
    client.force_login(world.c_member)
    for response in (
        client.get(f"/notifications/{theirs.pk}/open/"),
        client.post(f"/notifications/{theirs.pk}/read/"),
        client.get("/notifications/999999999/open/"),  # alike for one that does not exist
    ):
        assert response.status_code == 302 and response["Location"] == "/notifications/"
    client.post("/notifications/read/")
    assert unread(world.b_member) == 1
    assert "Borealis only" not in client.get("/notifications/?state=unread").content.decode()


def test_mark_one_read_and_mark_all_read_are_their_own_buttons(world, client):
    first = notice(world.a_member, title="First")
    notice(world.a_member, title="Second")
    notice(world.b_member, title="Not yours")
    client.force_login(world.a_member)
    page = client.get("/notifications/").content.decode()
    assert 'action="/notifications/read/"' in page and "Mark all as read" in page
    assert f'action="/notifications/{first.pk}/read/"' in page
    assert client.get(f"/notifications/{first.pk}/read/").status_code == 405  # POST only

    response = client.post(f"/notifications/{first.pk}/read/", {"next_query": "state=unread"})
    assert response["Location"] == "/notifications/?state=unread"
    assert unread(world.a_member) == 1

    client.post("/notifications/read/")
    assert unread(world.a_member) == 0 and unread(world.b_member) == 1
    assert "Mark all as read" not in client.get("/notifications/").content.decode()


# --- Filters and pages ------------------------------------------------------------------------


def test_filters_find_unread_agreements_reviews_and_shares(world, client):
    user = world.a_member
    notice(user, kind="agreement.signature_requested", title="Sign AGR-1")
    notice(user, kind="project.item_submitted", title="Review MS1")
    notice(user, kind="resource.shared", title="Shared report")
    notice(user, kind="intel.shared", title="Shared indicator")
    read = notice(user, kind="project.status", title="Project suspended")
    client.force_login(user)
    client.get(f"/notifications/{read.pk}/open/")

    def titles(query):
        response = client.get(f"/notifications/?{query}")
        return {n.title for n in response.context["object_list"]}

    assert titles("topic=agreements") == {"Sign AGR-1"}
    assert titles("topic=reviews") == {"Review MS1"}
    assert titles("topic=shares") == {"Shared report", "Shared indicator"}
    assert "Project suspended" not in titles("state=unread")
    assert len(titles("state=unread")) == 4
    assert titles("q=indicator") == {"Shared indicator"}


def test_a_filter_that_finds_nothing_says_so_and_clears(world, client):
    notice(world.a_member, kind="agreement.signature_requested")
    notice(world.b_member, kind="resource.shared", title="Borealis's share")
    client.force_login(world.a_member)
    body = client.get("/notifications/?topic=shares").content.decode()
    assert "No notice matches these filters" in body
    assert "Borealis" not in body  # another person's notices never match
    assert 'href="/notifications/">Clear filters</a>' in body
    assert "No notifications" in (
        client.force_login(world.c_member) or client.get("/notifications/").content.decode()
    )


def test_an_invalid_filter_shows_nothing_and_says_why(world, client):
    notice(world.a_member)
    client.force_login(world.a_member)
    response = client.get("/notifications/?topic=gossip")
    assert response.context["paginator"].count == 0
    assert "not valid" in response.content.decode()


def test_the_list_is_paginated_in_a_fixed_number_of_queries(world, client):
    user = world.a_member
    notice(user)
    client.force_login(user)
    client.get("/notifications/")
    with CaptureQueriesContext(connection) as one:
        client.get("/notifications/")
    for number in range(40):
        notice(user, title=f"Notice {number}")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/notifications/")
    assert len(response.context["object_list"]) == 25
    assert 'rel="next"' in response.content.decode()
    assert len(client.get("/notifications/?page=2").context["object_list"]) == 16
    assert len(many.captured_queries) == len(one.captured_queries)


# --- Who is told what -----------------------------------------------------------------------


def test_nobody_is_told_of_what_they_did_themselves(people):
    w = people
    agreement = draft_between(w)
    agreement_services.submit(actor=w.a_pm, agreement=agreement)
    agreement_services.sign(actor=w.a_admin, agreement=agreement, reauthentication=fresh_reauth())
    told = set(
        Notification.objects.filter(kind="agreement.party_signed").values_list(
            "user__username", flat=True
        )
    )
    assert w.a_admin.username not in told
    assert {w.a_pm.username, w.a_signatory.username, w.b_pm.username} <= told


def test_one_act_is_one_notice_when_the_last_signature_brings_it_into_force(people):
    w = people
    agreement = draft_between(w)
    agreement_services.submit(actor=w.a_pm, agreement=agreement)
    agreement_services.sign(actor=w.a_admin, agreement=agreement, reauthentication=fresh_reauth())
    before = set(Notification.objects.values_list("pk", flat=True))
    agreement_services.sign(
        actor=w.b_signatory, agreement=agreement, reauthentication=fresh_reauth()
    )
    new = Notification.objects.exclude(pk__in=before)
    for user in (w.a_pm, w.a_admin, w.b_pm):
        theirs = list(new.filter(user=user))
        assert [n.kind for n in theirs] == ["agreement.active"], user
        assert f"{w.b} signed, the last party to do so." in theirs[0].body
    assert not new.filter(user=w.b_signatory).exists()


def test_a_review_notice_lands_on_the_items_row(consortium, client):  # noqa: F811
    w = consortium
    project_services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.reviewer_1)
    project_services.activate(actor=w.a_pm, project=w.project)
    project_services.submit_item(actor=w.a_pm, item=w.ms1, evidence="Architecture v1.")
    asked = Notification.objects.get(user=w.reviewer_1, kind="project.item_submitted")
    client.force_login(w.reviewer_1)
    target = client.get(f"/notifications/{asked.pk}/open/")["Location"]
    assert target == f"{w.project.get_absolute_url()}#milestone-{w.ms1.pk}"
    assert f'id="milestone-{w.ms1.pk}"' in client.get(target).content.decode()


def test_assigning_oneself_as_reviewer_tells_nobody(consortium):  # noqa: F811
    w = consortium
    project_services.assign_reviewer(actor=w.a_admin, project=w.project, user=w.a_admin)
    project_services.assign_reviewer(actor=w.a_admin, project=w.project, user=w.reviewer_1)
    told = Notification.objects.filter(kind="project.reviewer_assigned")
    assert list(told.values_list("user__username", flat=True)) == [w.reviewer_1.username]


def test_a_share_is_announced_to_the_recipient(sharing):  # noqa: F811
    w = sharing
    share_with_b(w, new_resource(w))
    told = Notification.objects.filter(kind="resource.shared")
    assert (
        told.filter(user=w.b_pm).exists()
        and not told.filter(user__membership__organisation=w.a).exists()
    )
