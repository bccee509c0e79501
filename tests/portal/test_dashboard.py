"""The dashboard: each role's work first, every card's count is what its link opens, and
nobody sees or counts what another organisation holds."""

import datetime
import re

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services as agreement_services
from portal import services as portal_services
from portal.models import Role
from projects import services as project_services
from tests.agreements.conftest import draft_between, fresh_reauth
from tests.factories import PASSWORD, UserFactory, platform_staff
from tests.projects.conftest import consortium  # noqa: F401  (a fixture)
from tests.resources.conftest import new_resource, share_with_b, sharing  # noqa: F401


def cards(response) -> dict:
    return {card.slug: card for card in response.context["cards"]}


def card_html(body: str, slug: str) -> str:
    match = re.search(rf'<section class="card" id="card-{slug}".*?</section>', body, re.S)
    assert match, f"no {slug} card on the page"
    return match.group(0)


def assert_card_leads_to_its_work(client, response, slug):
    """The card's count is the number of rows its list link shows (or of the projects its
    link says hold them), and each item link opens a page holding that item's anchor."""
    card = cards(response)[slug]
    html = card_html(response.content.decode(), slug)
    assert f'<span class="count">{card.count}</span>' in html
    if card.more_url:
        assert card.more_url.replace("&", "&amp;") in html
        listed = client.get(card.more_url)
        assert listed.status_code == 200
        assert listed.context["paginator"].count == card.link_count, card.more_url
    for path, anchor in re.findall(r'href="([^"#]+)#([\w-]+)"', html):
        assert f'id="{anchor}"' in client.get(path).content.decode(), f"{path}#{anchor}"
    return card


# --- Signatories ------------------------------------------------------------------------------


def test_an_agreement_the_organisation_signed_in_full_no_longer_awaits_its_signatories(
    people, client
):
    """B owes two signatures of three designated signatories: after two have signed, the
    third is not asked any more, and the list filtered for them agrees."""
    w = people
    second = UserFactory(organisation=w.b, username="bor-signatory-2", roles=[Role.SIGNATORY])
    third = UserFactory(organisation=w.b, username="bor-signatory-3", roles=[Role.SIGNATORY])
    agreement = draft_between(w)
    agreement_services.update_party(
        actor=w.b_pm,
        party=agreement.parties.get(organisation=w.b),
        signatories=[w.b_signatory, second, third],
        required_signatures=2,
    )
    agreement_services.submit(actor=w.a_pm, agreement=agreement)

    client.force_login(third)
    card = assert_card_leads_to_its_work(client, client.get("/"), "awaiting-my-signature")
    assert card.count == 1 and card.items == [agreement]

    agreement_services.sign(
        actor=w.b_signatory, agreement=agreement, reauthentication=fresh_reauth()
    )
    client.force_login(w.b_signatory)  # signed: nothing left for them
    assert "awaiting-my-signature" not in {c.slug for c in client.get("/").context["waiting_cards"]}
    client.force_login(third)  # B still owes one more
    assert cards(client.get("/"))["awaiting-my-signature"].count == 1

    agreement_services.sign(actor=second, agreement=agreement, reauthentication=fresh_reauth())
    response = client.get("/")
    assert cards(response)["awaiting-my-signature"].count == 0
    assert agreement.reference not in response.content.decode().split("card-folded")[0]
    assert client.get("/agreements/?awaiting=my_signature").context["paginator"].count == 0


def test_the_manager_sees_drafts_and_what_waits_on_the_other_parties(people, client):
    w = people
    draft = draft_between(w, title="Still a draft")
    out = draft_between(w, title="Out for signature")
    agreement_services.submit(actor=w.a_pm, agreement=out)
    client.force_login(w.a_pm)
    response = client.get("/")
    drafts = assert_card_leads_to_its_work(client, response, "drafts")
    assert drafts.items == [draft]
    assert cards(response)["awaiting-partners"].count == 0  # A has not signed yet

    agreement_services.sign(actor=w.a_admin, agreement=out, reauthentication=fresh_reauth())
    response = client.get("/")
    waiting = assert_card_leads_to_its_work(client, response, "awaiting-partners")
    assert waiting.items == [out]

    # B's manager: B has not signed, so nothing of B's waits on A.
    client.force_login(w.b_pm)
    assert cards(client.get("/"))["awaiting-partners"].count == 0


def test_another_nation_counts_none_of_the_agreements(people, client):
    w = people
    c_pm = UserFactory(organisation=w.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    c_signatory = UserFactory(organisation=w.c, username="cal-sig", roles=[Role.SIGNATORY])
    out = draft_between(w)
    agreement_services.submit(actor=w.a_pm, agreement=out)
    agreement_services.sign(actor=w.a_admin, agreement=out, reauthentication=fresh_reauth())
    draft_between(w)
    for outsider in (c_pm, c_signatory):
        client.force_login(outsider)
        response = client.get("/")
        for card in response.context["cards"]:
            assert card.count in (0, None), f"{outsider} counts {card.slug}"
        body = response.content.decode()
        assert out.reference not in body and "Bilateral threat" not in body
        for query in ("awaiting=my_signature", "awaiting=partners", "status=draft"):
            assert client.get(f"/agreements/?{query}").context["paginator"].count == 0


# --- Reviewers and managers of projects ------------------------------------------------------


def test_a_reviewers_queue_opens_each_item_on_its_project_page(consortium, client):  # noqa: F811
    w = consortium
    project_services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.reviewer_1)
    project_services.activate(actor=w.a_pm, project=w.project)
    project_services.submit_item(actor=w.a_pm, item=w.ms1, evidence="Architecture v1.")
    project_services.submit_item(actor=w.b_pm, item=w.d21, evidence="Pilot report v1.")
    client.force_login(w.reviewer_1)
    response = client.get("/")
    card = assert_card_leads_to_its_work(client, response, "awaiting-my-review")
    assert card.count == 2 and card.link_count == 1
    html = card_html(response.content.decode(), "awaiting-my-review")
    assert f"#milestone-{w.ms1.pk}" in html and f"#deliverable-{w.d21.pk}" in html
    assert "The 1 project that holds them" in html
    # The reviewer is the first card: their job comes first.
    assert response.context["waiting_cards"][0].slug == "awaiting-my-review"

    project_services.review_item(actor=w.reviewer_1, item=w.ms1, decision="accept")
    assert cards(client.get("/"))["awaiting-my-review"].count == 1


def test_a_reviewer_not_assigned_counts_nothing(consortium, client):  # noqa: F811
    w = consortium
    project_services.assign_reviewer(actor=w.a_pm, project=w.project, user=w.reviewer_1)
    project_services.activate(actor=w.a_pm, project=w.project)
    project_services.submit_item(actor=w.a_pm, item=w.ms1, evidence="Architecture v1.")
    client.force_login(w.reviewer_2)
    response = client.get("/")
    assert cards(response)["awaiting-my-review"].count == 0
    assert "SENTINEL" not in response.content.decode()
    assert client.get("/projects/?review=awaiting_me").context["paginator"].count == 0


def test_overdue_items_open_their_rows_and_the_late_projects(consortium, client):  # noqa: F811
    w = consortium
    project_services.activate(actor=w.a_pm, project=w.project)
    with time_machine.travel(w.d21.due_date + datetime.timedelta(days=2), tick=False):
        client.force_login(w.a_pm)
        response = client.get("/")
        card = assert_card_leads_to_its_work(client, response, "overdue-items")
        assert card.count == 2 and card.link_count == 1
        health = cards(response)["portfolio-health"]
        for row in health.items:
            assert client.get(row["url"]).context["paginator"].count == row["count"]
        assert client.get(health.more_url).context["paginator"].count == health.link_count

        client.force_login(UserFactory(organisation=w.c, roles=[Role.PROGRAMME_MANAGER]))
        response = client.get("/")
        assert cards(response)["overdue-items"].count == 0
        assert "SENTINEL" not in response.content.decode()


# --- What partners shared ---------------------------------------------------------------------


def test_recently_shared_counts_what_the_library_lists_for_the_same_days(sharing, client):  # noqa: F811
    w = sharing
    for title in ("Report one", "Report two"):
        share_with_b(w, new_resource(w, title=title))
    client.force_login(w.b_member)
    card = assert_card_leads_to_its_work(client, client.get("/"), "recently-shared-with-us")
    assert card.count == 2

    client.force_login(w.c_member)
    response = client.get("/")
    assert cards(response)["recently-shared-with-us"].count == 0
    assert "Report one" not in response.content.decode()
    assert client.get(card.more_url).context["paginator"].count == 0


# --- Organisation admins ----------------------------------------------------------------------


def test_the_admin_sees_pending_invitations_and_their_members_failed_sign_ins(world, client):
    w = world
    portal_services.invite_member(
        actor=w.a_admin,
        organisation=w.a,
        username="atl-newcomer",
        email="newcomer@atl.example",
        base_url="http://testserver/",
    )
    portal_services.invite_member(
        actor=platform_staff(),
        organisation=w.c,
        username="cal-newcomer",
        email="newcomer@cal.example",
        base_url="http://testserver/",
    )
    for login in (w.a_member.username, w.a_member.username, w.c_member.username, "nobody"):
        client.post("/accounts/login/", {"login": login, "password": "wrong-" + PASSWORD})

    client.force_login(w.a_admin)
    response = client.get("/")
    invitations = assert_card_leads_to_its_work(client, response, "pending-invitations")
    assert [m.user.username for m in invitations.items] == ["atl-newcomer"]
    failures = assert_card_leads_to_its_work(client, response, "failed-sign-ins")
    assert failures.count == 2  # A's member twice; never C's member, nor an unknown login
    body = response.content.decode()
    assert w.c_member.username not in body and "cal-newcomer" not in body
    assert f"/organisations/{w.a.slug}/audit/" in body  # the audit log, a click away

    # An admin of C sees C's alone.
    c_admin = UserFactory(organisation=w.c, username="cal-admin", roles=[Role.ORG_ADMIN])
    client.force_login(c_admin)
    response = client.get("/")
    assert cards(response)["failed-sign-ins"].count == 1
    assert [m.user.username for m in cards(response)["pending-invitations"].items] == [
        "cal-newcomer"
    ]


def test_members_without_a_role_see_no_role_cards_and_no_roles_card(world, client):
    client.force_login(world.a_member)
    response = client.get("/")
    slugs = {card.slug for card in response.context["cards"]}
    assert slugs == {"expiring-soon", "recently-shared-with-us"}
    body = response.content.decode()
    assert "Your roles" not in body
    assert "Nothing waits on you." in body
    assert "<details" in body  # the empty cards, folded


def test_empty_cards_fold_away_after_the_ones_with_work(people, client):
    w = people
    draft_between(w)
    client.force_login(w.a_pm)
    response = client.get("/")
    assert [card.slug for card in response.context["waiting_cards"]] == ["drafts"]
    body = response.content.decode()
    folded = body.split('<details class="card-folded">', 1)[1]
    assert "Awaiting other parties" in folded and "Overdue items" in folded
    assert "Nothing waits on you." not in body


# --- Queries ----------------------------------------------------------------------------------


#: Every card of an admin who holds all four roles, the page and the session: at most this
#: many queries, whatever the number of rows (a card past its ten rows adds one count).
DASHBOARD_QUERIES = 20


def test_the_dashboard_asks_a_fixed_number_of_queries_however_many_rows(
    sharing,  # noqa: F811
    client,
    django_assert_max_num_queries,
):
    w = sharing
    client.force_login(w.a_admin)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured.captured_queries)

    def add_rows(times):
        for _ in range(times):
            draft_between(w)
            out = draft_between(w)
            agreement_services.submit(actor=w.a_pm, agreement=out)
            share_with_b(w, new_resource(w))
            stamp = str(timezone.now().timestamp()).replace(".", "")
            portal_services.invite_member(
                actor=w.a_admin,
                organisation=w.a,
                username=f"atl-new-{stamp}",
                email=f"{stamp}@atl.example",
                base_url="http://testserver/",
            )
            client.post("/accounts/login/", {"login": w.a_member.username, "password": "x"})
        client.force_login(w.a_admin)

    add_rows(1)
    client.get("/")
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        client.get("/")
    add_rows(11)  # past each card's ten rows
    eleven = queries()
    add_rows(12)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get("/")
    assert cards(response)["drafts"].count == 24
    assert queries() == eleven


def test_the_api_reads_the_same_filters_as_the_cards(people, client):
    w = people
    out = draft_between(w)
    agreement_services.submit(actor=w.a_pm, agreement=out)
    client.force_login(w.b_signatory)
    card = cards(client.get("/"))["awaiting-my-signature"]
    answer = client.get("/api/v1/agreements/?awaiting=my_signature").json()
    assert card.count == answer["count"] == 1
    assert answer["results"][0]["reference"] == out.reference
