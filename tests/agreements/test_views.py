"""The agreement pages: what each person sees and can do, and what they never see."""

import re
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services
from agreements.models import Agreement, AgreementStatus, Signature
from portal import services as services_portal
from portal.models import AuditEvent, Notification
from tests.agreements.conftest import draft_between, fresh_reauth
from tests.factories import PASSWORD, OrganisationFactory, platform_staff, totp_code


def test_list_shows_own_agreements_and_search_finds_them(draft, people, client):
    client.force_login(people.b_member)
    body = client.get("/agreements/").content.decode()
    assert draft.reference in body and draft.title in body
    assert draft.reference in client.get(f"/agreements/?q={draft.reference}").content.decode()


def test_the_party_form_offers_signatories_by_username_not_id(draft, people, client):
    party = draft.parties.get(organisation=people.a)
    client.force_login(people.a_pm)
    body = client.get(f"/agreements/{draft.pk}/parties/{party.pk}/").content.decode()
    # A user's id is sequential: it would count every nation's accounts.
    assert f'name="signatories" value="{people.a_signatory.username}"' in body
    assert not re.search(r'name="signatories" value="\d+"', body)
    response = client.post(
        f"/agreements/{draft.pk}/parties/{party.pk}/",
        {"signatories": [people.a_signatory.username], "required_signatures": 1},
    )
    assert response.status_code == 302
    assert list(party.signatories.all()) == [people.a_signatory]


def test_outsider_list_count_and_search_reveal_nothing(draft, people, client):
    client.force_login(people.c_member)
    response = client.get(f"/agreements/?q={draft.reference}")
    assert response.context["paginator"].count == 0
    assert draft.title not in response.content.decode()
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_detail_offers_each_person_only_their_actions(draft, people, client):
    services.submit(actor=people.a_pm, agreement=draft)
    client.force_login(people.b_signatory)
    signatory_page = client.get(draft.get_absolute_url()).content.decode()
    assert f"/agreements/{draft.pk}/sign/" in signatory_page
    assert f"/agreements/{draft.pk}/decline/" in signatory_page
    assert f"/agreements/{draft.pk}/withdraw/" not in signatory_page

    client.force_login(people.b_member)
    member_page = client.get(draft.get_absolute_url()).content.decode()
    assert f"/agreements/{draft.pk}/sign/" not in member_page
    assert "0 of 1" in member_page  # per-party signature progress


def _primary(body: str) -> list[str]:
    """The labels of the page's primary buttons."""
    return [
        label.strip() for label in re.findall(r'class="button button-primary"[^>]*>([^<]+)<', body)
    ]


def _dangerous(body: str) -> list[str]:
    head = body.split('class="page-actions-danger"', 1)
    return (
        re.findall(r'button-quiet-danger"[^>]*>([^<]+)<', head[1].split("</span>", 1)[0])
        if len(head) == 2
        else []
    )


def test_the_primary_button_is_the_next_step_and_what_undoes_sits_apart(draft, people, client):
    client.force_login(people.a_pm)
    body = client.get(draft.get_absolute_url()).content.decode()
    assert _primary(body) == ["Submit for signature"]
    assert "Edit draft" in body and "Edit draft" not in _primary(body)

    services.submit(actor=people.a_pm, agreement=draft)
    body = client.get(draft.get_absolute_url()).content.decode()
    assert _primary(body) == [] and _dangerous(body) == ["Withdraw for changes"]

    client.force_login(people.b_signatory)
    body = client.get(draft.get_absolute_url()).content.decode()
    assert _primary(body) == ["Sign"] and _dangerous(body) == ["Decline"]


def test_a_signatory_who_signed_sees_it_and_is_not_offered_to_sign_again(draft, people, client):
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth())
    client.force_login(people.b_signatory)
    body = client.get(draft.get_absolute_url()).content.decode()
    signed = Signature.objects.get(user=people.b_signatory).signed_at
    assert f"You signed on {signed:%-d %b %Y} at {signed:%H:%M} UTC." in body
    assert f"/agreements/{draft.pk}/sign/" not in body
    assert f"/agreements/{draft.pk}/decline/" not in body


def test_a_signed_agreement_leads_with_its_certificate(active, people, client):
    client.force_login(people.a_pm)
    body = client.get(active.get_absolute_url()).content.decode()
    assert _primary(body) == ["Download certificate (PDF)"] and "Amend" in body
    client.force_login(people.a_signatory)
    body = client.get(active.get_absolute_url()).content.decode()
    assert _primary(body) == ["Download certificate (PDF)"]
    assert _dangerous(body) == ["Terminate"]


def test_pm_drafts_through_the_form_with_clear_errors(people, client):
    client.force_login(people.a_pm)
    response = client.post(
        "/agreements/new/",
        {"title": "", "kind": "mou", "parties": [people.a.pk], "effective_from": "not a date"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body and "Enter a valid date." in body
    assert not Agreement.objects.exists()

    response = client.post(
        "/agreements/new/",
        {
            "title": "Multilateral MoU",
            "kind": "mou",
            "purpose": "Cooperate.",
            "parties": [people.a.pk, people.b.pk, people.c.pk],
            "body": "Text",
            "tlp_ceiling": "green",
            "permitted_actions": "internally_visible",
            "retention_days": 30,
            "on_termination": "delete",
            "effective_from": timezone.localdate().isoformat(),
            "renewal_notice_days": 30,
            "prevailing_language": "English",
        },
    )
    agreement = Agreement.objects.get(title="Multilateral MoU")
    assert response.status_code == 302 and response["Location"] == agreement.get_absolute_url()
    assert agreement.parties.count() == 3


def _draft_data(**values):
    return {
        "title": "Bilateral exchange",
        "kind": "mou",
        "purpose": "Cooperate.",
        "body": "Text",
        "tlp_ceiling": "green",
        "permitted_actions": "internally_visible",
        "retention_days": 30,
        "on_termination": "delete",
        "effective_from": timezone.localdate().isoformat(),
        "renewal_notice_days": 30,
        "prevailing_language": "English",
        **values,
    }


def test_the_drafters_own_organisation_is_a_fixed_party(people, client):
    client.force_login(people.a_pm)
    form = client.get("/agreements/new/").content.decode()
    # The picker shows it as a chip that cannot be removed...
    assert re.search(rf'<option value="{people.a.pk}" selected data-locked=""', form)
    assert "your organisation, always a party" in form
    assert re.search(rf'<option value="{people.b.pk}" data-search="{people.b.slug}">', form)

    # ...and leaving it out of the request (no JavaScript, or a hand-made POST) keeps it.
    response = client.post("/agreements/new/", _draft_data(parties=[people.b.pk]))
    agreement = Agreement.objects.get(title="Bilateral exchange")
    assert response.status_code == 302
    assert set(agreement.parties.values_list("organisation", flat=True)) == {
        people.a.pk,
        people.b.pk,
    }

    # Editing the draft cannot drop it either, for the other party's manager too.
    client.force_login(people.b_pm)
    edit = f"/agreements/{agreement.pk}/edit/"
    assert re.search(
        rf'<option value="{people.b.pk}" selected data-locked=""', client.get(edit).content.decode()
    )
    client.post(edit, _draft_data(parties=[people.a.pk], title="Renamed"))
    agreement.refresh_from_db()
    assert agreement.title == "Renamed"
    assert agreement.parties.filter(organisation=people.b).exists()


def test_a_party_the_form_does_not_offer_is_refused_in_words(people, client):
    closed = OrganisationFactory(name="Closed Ministry", slug="closed")
    services_portal.update_organisation(
        actor=platform_staff(), organisation=closed, is_active=False
    )
    client.force_login(people.a_pm)
    assert "Closed Ministry" not in client.get("/agreements/new/").content.decode()
    response = client.post("/agreements/new/", _draft_data(parties=[people.b.pk, closed.pk]))
    assert response.status_code == 200
    assert (
        f"Select a valid choice. {closed.pk} is not one of the available choices."
        in response.content.decode()
    )
    # Only the drafter's own organisation: the service still wants another party.
    alone = client.post("/agreements/new/", _draft_data(parties=[]))
    assert "An agreement needs at least two parties." in alone.content.decode()
    assert not Agreement.objects.exists()


def test_members_without_the_role_cannot_open_the_draft_form(people, client):
    client.force_login(people.a_member)
    assert client.get("/agreements/new/").status_code == 403


def test_sign_page_wants_the_password_and_explains_a_wrong_one(draft, people, client):
    services.submit(actor=people.a_pm, agreement=draft)
    client.force_login(people.b_signatory)
    wrong = client.post(
        f"/agreements/{draft.pk}/sign/",
        {"consent": "on", "password": "nope", "otp": totp_code(people.b_signatory)},
    )
    assert "The password is not correct." in wrong.content.decode()
    assert not Signature.objects.exists()
    assert AuditEvent.objects.filter(action="auth.reauthentication_failed").exists()

    no_code = client.post(f"/agreements/{draft.pk}/sign/", {"consent": "on", "password": PASSWORD})
    assert "Enter the code from your authenticator app." in no_code.content.decode()
    assert not Signature.objects.exists()

    right = client.post(
        f"/agreements/{draft.pk}/sign/",
        {"consent": "on", "password": PASSWORD, "otp": totp_code(people.b_signatory)},
    )
    assert right.status_code == 302
    assert Signature.objects.get().user == people.b_signatory


def test_action_page_in_the_wrong_state_explains_and_goes_back(active, people, client):
    client.force_login(people.a_pm)
    response = client.get(f"/agreements/{active.pk}/edit/", follow=True)
    assert "is active: this is not possible now" in response.content.decode()


def test_markdown_body_cannot_carry_script(people, client):
    agreement = draft_between(
        people, body="Hello <script>alert('x')</script> [a](javascript:alert(1))"
    )
    client.force_login(people.a_member)
    body = client.get(agreement.get_absolute_url()).content.decode()
    assert "<script>alert" not in body and "javascript:" not in body
    assert "&lt;script&gt;alert" in body


def test_amendment_page_shows_the_changes_against_the_version_in_force(active, people, client):
    amendment = services.amend(actor=people.a_pm, agreement=active)
    services.update_draft(
        actor=people.a_pm,
        agreement=amendment,
        tlp_ceiling="red",
        body=active.body + "\n\nA new clause on RED material.",
    )
    client.force_login(people.b_member)
    body = client.get(amendment.get_absolute_url()).content.decode()
    assert f"Changes against {active.label}" in body
    assert "TLP ceiling" in body and "<ins>TLP:RED</ins>" in body
    assert "+A new clause on RED material." in body


def test_dashboard_shows_what_awaits_my_signature(draft, people, client):
    services.submit(actor=people.a_pm, agreement=draft)
    client.force_login(people.b_signatory)
    body = client.get("/").content.decode()
    assert "Awaiting your signature" in body and draft.reference in body
    services.sign(actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth())
    assert draft.reference not in client.get("/").content.decode()


def test_agreement_list_queries_do_not_grow_with_rows(people, client):
    client.force_login(people.a_member)
    draft_between(people)
    client.get("/agreements/")
    with CaptureQueriesContext(connection) as one:
        client.get("/agreements/")
    for _ in range(20):
        draft_between(people, people.a, people.b, people.c)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/agreements/")
    assert response.context["paginator"].count == 21
    assert len(many.captured_queries) == len(one.captured_queries)


def test_detail_page_queries_do_not_grow_with_parties(people, client):
    client.force_login(people.a_member)
    two = draft_between(people)
    client.get(two.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        client.get(two.get_absolute_url())
    three = draft_between(people, people.a, people.b, people.c)
    client.get(three.get_absolute_url())
    with CaptureQueriesContext(connection) as more:
        client.get(three.get_absolute_url())
    assert len(more.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_parallel_signing_gives_one_signature_and_one_activation(on_postgres, people):
    agreement = draft_between(people)
    services.submit(actor=people.a_pm, agreement=agreement)
    services.sign(actor=people.a_signatory, agreement=agreement, reauthentication=fresh_reauth())
    barrier, errors = threading.Barrier(6), []

    def sign_once():
        try:
            barrier.wait()
            services.sign(
                actor=people.b_signatory, agreement=agreement, reauthentication=fresh_reauth()
            )
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # One request signs; every other is refused in words, naming when the signature was given.
    assert len(errors) == 5
    assert all(isinstance(error, services.AlreadySigned) for error in errors)
    assert all("You already signed this version on" in error.messages[0] for error in errors)
    assert Signature.objects.filter(user=people.b_signatory).count() == 1
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    activations = AuditEvent.objects.filter(
        action="agreement.activated", object_id=str(agreement.pk)
    )
    assert activations.count() == 1


def test_partners_see_each_others_members_only_while_the_agreement_is_in_force(
    active, people, client
):
    client.force_login(people.b_member)
    members = client.get(f"/organisations/{people.a.slug}/members/")
    assert members.status_code == 200 and "atl-pm" in members.content.decode()
    panel = client.get(people.a.get_absolute_url()).content.decode()
    assert "Members of Borealis Cyber Centre" not in panel  # the panel is A's own business

    services.terminate(
        actor=people.a_signatory,
        agreement=active,
        reason="Ended",
        effective_on=timezone.localdate(),
    )
    assert client.get(f"/organisations/{people.a.slug}/members/").status_code == 404


def test_every_lifecycle_event_notifies_in_app_and_by_email(
    people, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agreement = draft_between(people)
        services.submit(actor=people.a_pm, agreement=agreement)
        services.sign(
            actor=people.a_signatory, agreement=agreement, reauthentication=fresh_reauth()
        )
        services.sign(
            actor=people.b_signatory, agreement=agreement, reauthentication=fresh_reauth()
        )
        services.terminate(
            actor=people.b_signatory,
            agreement=agreement,
            reason="Done",
            effective_on=timezone.localdate(),
        )
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {
        "agreement.signature_requested",
        "agreement.party_signed",
        "agreement.active",
        "agreement.terminated",
    } <= kinds
    subjects = {message.subject for message in mail.outbox}
    assert f"Cooperation Portal: {agreement.label} is now in force" in subjects

    client.force_login(people.b_pm)
    page = client.get("/notifications/").content.decode()
    new_badge = 'badge-warning">New</span>'
    assert f"{agreement.label} is now in force" in page and new_badge in page
    assert new_badge in client.get("/notifications/").content.decode()  # unread until opened
