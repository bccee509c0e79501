"""The agreement lifecycle through its services: every transition, and every refusal."""

import datetime
import itertools
import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from agreements import content, services
from agreements.models import Agreement, AgreementStatus, Signature
from portal import access, ids
from portal.models import AuditEvent, Notification
from portal.reauth import Reauthentication
from portal.states import TransitionNotAllowed
from tests.agreements.conftest import draft_between, fresh_reauth, sign_by_all

# --- Drafting -------------------------------------------------------------------------------


def test_programme_manager_drafts_an_agreement_that_only_parties_can_see(draft, people):
    assert draft.reference.startswith(f"AGR-{timezone.localdate().year}-")
    assert draft.status == AgreementStatus.DRAFT
    assert access.can(people.a_member, "view", draft)
    assert access.can(people.b_member, "view", draft)
    assert not access.can(people.c_member, "view", draft)
    assert not access.can(people.staff, "view", draft)
    assert AuditEvent.objects.filter(action="agreement.created", object_id=str(draft.pk)).exists()


def test_references_are_random_codes_that_count_nothing(people):
    drafts = [draft_between(people) for _ in range(5)]
    year = timezone.localdate().year
    pattern = re.compile(rf"^AGR-{year}-[0-9A-HJKMNP-TV-Z]{{4}}-[0-9A-HJKMNP-TV-Z]{{4}}$")
    assert all(pattern.match(d.reference) for d in drafts), [d.reference for d in drafts]
    assert len({d.reference for d in drafts}) == 5
    # Nothing a reader could count from: no reference is a neighbour of the one before.
    codes = [_crockford_value(d.reference[-9:]) for d in drafts]
    assert all(abs(b - a) > 1 for a, b in itertools.pairwise(codes))


def _crockford_value(code: str) -> int:
    value = 0
    for character in code.replace("-", ""):
        value = value * 32 + ids.CROCKFORD.index(character)
    return value


def test_a_reference_already_taken_is_drawn_again(people, monkeypatch):
    taken = draft_between(people).reference
    codes = iter([taken[-9:], "7KQ3-M9XD"])
    monkeypatch.setattr(services.ids, "random_code", lambda: next(codes))
    again = draft_between(people)
    assert again.reference == f"AGR-{timezone.localdate().year}-7KQ3-M9XD"
    assert Agreement.objects.filter(reference=taken).count() == 1


def test_new_parties_designate_their_own_signatories(people):
    agreement = services.create_agreement(
        actor=people.a_pm,
        parties=[people.a, people.b],
        title="Undesignated",
        kind="mou",
        purpose="Talk.",
        effective_from=timezone.localdate(),
    )
    b_party = agreement.parties.get(organisation=people.b)
    assert list(b_party.signatories.all()) == []  # B's own programme manager designates
    services.update_party(actor=people.b_pm, party=b_party, signatories=[people.b_signatory])
    assert list(b_party.signatories.all()) == [people.b_signatory]


def test_drafting_needs_the_programme_manager_role(people):
    with pytest.raises(PermissionDenied, match="Only programme managers"):
        services.create_agreement(
            actor=people.a_member,
            parties=[people.a, people.b],
            title="x",
            kind="mou",
            purpose="x",
            effective_from=timezone.localdate(),
        )


def test_own_organisation_must_be_a_party(people):
    with pytest.raises(ValidationError, match="Your own organisation"):
        draft_between(people, people.b, people.c)


def test_an_agreement_needs_two_parties(people):
    with pytest.raises(ValidationError, match="at least two parties"):
        draft_between(people, people.a)


def test_expiry_must_follow_the_effective_date(people):
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="expiry date must come after"):
        draft_between(people, expires_on=today)
    assert not Agreement.objects.exists()


def test_unknown_data_category_is_refused(people):
    with pytest.raises(ValidationError, match="Unknown categories"):
        draft_between(people, data_categories=["gossip"])


def test_party_pm_edits_the_draft_and_parties_follow(draft, people):
    services.update_draft(
        actor=people.b_pm, agreement=draft, title="Revised", parties=[people.a, people.b, people.c]
    )
    draft.refresh_from_db()
    assert draft.title == "Revised"
    assert access.can(people.c_member, "view", draft)
    event = AuditEvent.objects.filter(action="agreement.edited").latest("id")
    assert event.details["parties_added"] == [people.c.slug]

    services.update_draft(actor=people.a_pm, agreement=draft, parties=[people.a, people.b])
    assert not access.can(people.c_member, "view", draft)


def test_non_pm_party_member_cannot_edit(draft, people):
    with pytest.raises(PermissionDenied):
        services.update_draft(actor=people.b_member, agreement=draft, title="Mine")


def test_outsider_cannot_even_learn_the_draft_exists(draft, people):
    with pytest.raises(Http404):
        services.update_draft(actor=people.c_member, agreement=draft, title="Mine")


def test_lifecycle_fields_cannot_be_set_through_editing(draft, people):
    with pytest.raises(ValidationError, match="cannot be changed: status"):
        services.update_draft(actor=people.a_pm, agreement=draft, status="active")


def test_party_designates_only_its_own_signatories(draft, people):
    party = draft.parties.get(organisation=people.b)
    with pytest.raises(ValidationError, match="Not an active signatory"):
        services.update_party(actor=people.b_pm, party=party, signatories=[people.a_admin])
    with pytest.raises(PermissionDenied, match="party's own"):
        services.update_party(actor=people.a_pm, party=party, required_signatures=2)
    services.update_party(actor=people.b_pm, party=party, incident_contact="+358 24/7 desk")
    party.refresh_from_db()
    assert party.incident_contact == "+358 24/7 desk"


# --- Submitting and signing ------------------------------------------------------------------


def test_submitting_freezes_and_hashes_the_content_and_asks_for_signatures(
    draft, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(actor=people.a_pm, agreement=draft)
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.AWAITING_SIGNATURES
    assert draft.content_hash == content.content_hash(draft)
    asked = set(
        Notification.objects.filter(kind="agreement.signature_requested").values_list(
            "user__username", flat=True
        )
    )
    assert asked == {"atl-admin", "atl-signatory", "bor-signatory"}
    assert {m.to[0] for m in mail.outbox} >= {people.b_signatory.email}
    with pytest.raises(TransitionNotAllowed, match="awaiting signatures; it can only be edited"):
        services.update_draft(actor=people.a_pm, agreement=draft, title="Sneaky")


def test_submission_names_what_is_missing(draft, people):
    party = draft.parties.get(organisation=people.b)
    services.update_party(actor=people.b_pm, party=party, required_signatures=2)
    services.update_draft(actor=people.a_pm, agreement=draft, body="  ")
    with pytest.raises(ValidationError) as error:
        services.submit(actor=people.a_pm, agreement=draft)
    assert "The agreement has no text." in error.value.messages
    assert "Borealis Cyber Centre needs 2 designated signatories; it has 1." in error.value.messages
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.DRAFT


def test_every_party_signing_the_same_hash_activates_it(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth())
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.AWAITING_SIGNATURES

    signature = services.sign(
        actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth()
    )

    draft.refresh_from_db()
    assert draft.status == AgreementStatus.ACTIVE and draft.is_live()
    assert signature.content_hash == draft.content_hash and signature.method == "password"
    assert signature.organisation == people.b
    assert (
        AuditEvent.objects.filter(action="agreement.activated", object_id=str(draft.pk)).count()
        == 1
    )


def test_signed_agreement_waits_for_its_effective_date(people):
    later = timezone.localdate() + datetime.timedelta(days=10)
    agreement = draft_between(
        people, effective_from=later, expires_on=later + datetime.timedelta(days=100)
    )
    services.submit(actor=people.a_pm, agreement=agreement)
    sign_by_all(people, agreement)
    assert agreement.status == AgreementStatus.SIGNED and not agreement.is_live()


def test_only_designated_signatories_sign(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    with pytest.raises(PermissionDenied, match="designated signatory"):
        services.sign(actor=people.a_pm, agreement=draft, reauthentication=fresh_reauth())
    with pytest.raises(Http404):
        services.sign(actor=people.c_member, agreement=draft, reauthentication=fresh_reauth())


def test_signing_needs_a_recent_reauthentication(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    stale = Reauthentication(timezone.now() - datetime.timedelta(minutes=6), "password")
    with pytest.raises(PermissionDenied, match="too long"):
        services.sign(actor=people.b_signatory, agreement=draft, reauthentication=stale)
    assert not Signature.objects.exists()


def test_signing_a_draft_is_refused_clearly(draft, people):
    with pytest.raises(
        TransitionNotAllowed, match="is draft; it can only be signed when it is awaiting"
    ):
        services.sign(actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth())


def test_signing_twice_is_refused_and_says_when_the_first_signature_was_given(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    first = services.sign(
        actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth()
    )
    with pytest.raises(services.AlreadySigned) as refused:
        services.sign(actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth())
    when = first.signed_at
    assert refused.value.messages == [
        f"You already signed this version on {when:%-d %b %Y} at {when:%H:%M} UTC."
    ]
    assert Signature.objects.count() == 1
    assert AuditEvent.objects.filter(action="agreement.signed").count() == 1


def test_the_last_signer_signing_again_is_told_they_signed_not_that_it_is_active(active, people):
    assert active.status == AgreementStatus.ACTIVE
    with pytest.raises(services.AlreadySigned, match="You already signed this version on"):
        services.sign(actor=people.b_signatory, agreement=active, reauthentication=fresh_reauth())


def test_after_a_withdrawal_the_same_person_signs_the_new_version(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth())
    services.withdraw(actor=people.a_pm, agreement=draft, reason="Fix clause 2")
    services.update_draft(actor=people.a_pm, agreement=draft, title="Amended exchange")
    services.submit(actor=people.a_pm, agreement=draft)
    again = services.sign(
        actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth()
    )
    assert again.content_hash == Agreement.objects.get(pk=draft.pk).content_hash


def test_a_party_that_has_signed_enough_takes_no_more_signatures(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth())
    with pytest.raises(ValidationError, match="already given every signature"):
        services.sign(actor=people.a_admin, agreement=draft, reauthentication=fresh_reauth())


def test_n_of_m_signatures_per_party(draft, people):
    party = draft.parties.get(organisation=people.a)
    services.update_party(actor=people.a_pm, party=party, required_signatures=2)
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth())
    services.sign(actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth())
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.AWAITING_SIGNATURES
    services.sign(actor=people.a_admin, agreement=draft, reauthentication=fresh_reauth())
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.ACTIVE


# --- Declining and withdrawing -----------------------------------------------------------------


def test_decline_needs_a_reason(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    with pytest.raises(ValidationError, match="Say why"):
        services.decline(
            actor=people.b_signatory, agreement=draft, reason=" ", reauthentication=fresh_reauth()
        )


def test_decline_voids_signatures_returns_to_draft_and_tells_every_party(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth())

    services.decline(
        actor=people.b_signatory,
        agreement=draft,
        reason="Clause 4 is too broad",
        reauthentication=fresh_reauth(),
    )

    draft.refresh_from_db()
    assert draft.status == AgreementStatus.DRAFT and draft.content_hash == ""
    assert not Signature.objects.filter(voided_at__isnull=True).exists()
    told = set(
        Notification.objects.filter(kind="agreement.declined").values_list(
            "user__username", flat=True
        )
    )
    assert {"atl-signatory", "atl-pm", "bor-pm"} <= told
    assert (
        "Clause 4 is too broad"
        in Notification.objects.filter(kind="agreement.declined").first().body
    )


def test_withdraw_takes_a_submission_back_to_draft(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth())
    services.withdraw(actor=people.a_pm, agreement=draft, reason="Typo in clause 2")
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.DRAFT
    assert Signature.objects.get().voided_at is not None
    with pytest.raises(TransitionNotAllowed):
        services.withdraw(actor=people.a_pm, agreement=draft)


def test_signatures_on_an_old_hash_do_not_count_after_resubmission(draft, people):
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.b_signatory, agreement=draft, reauthentication=fresh_reauth())
    services.withdraw(actor=people.a_pm, agreement=draft)
    services.update_draft(actor=people.a_pm, agreement=draft, title="Changed terms")
    services.submit(actor=people.a_pm, agreement=draft)
    services.sign(actor=people.a_signatory, agreement=draft, reauthentication=fresh_reauth())
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.AWAITING_SIGNATURES  # B must sign the new text


# --- In force: member lists, termination, amendment, expiry ---------------------------------


def test_active_agreement_opens_member_lists_between_parties(active, people):
    assert access.can(people.b_member, "view_members", people.a)
    assert access.can(people.a_member, "view_members", people.b)
    assert not access.can(people.c_member, "view_members", people.a)


def test_terminate_today_ends_it_and_closes_member_lists(active, people):
    services.terminate(
        actor=people.b_signatory,
        agreement=active,
        reason="Mandate ended",
        effective_on=timezone.localdate(),
    )
    active.refresh_from_db()
    assert active.status == AgreementStatus.TERMINATED and not active.is_live()
    assert not access.can(people.b_member, "view_members", people.a)
    assert access.can(people.b_member, "view", active)  # parties keep their history


def test_termination_rules(active, people):
    today = timezone.localdate()
    with pytest.raises(PermissionDenied, match="signatory"):
        services.terminate(actor=people.a_pm, agreement=active, reason="x", effective_on=today)
    with pytest.raises(ValidationError, match="reason"):
        services.terminate(
            actor=people.a_signatory, agreement=active, reason="", effective_on=today
        )
    with pytest.raises(ValidationError, match="in the past"):
        services.terminate(
            actor=people.a_signatory,
            agreement=active,
            reason="x",
            effective_on=today - datetime.timedelta(days=1),
        )


def test_scheduled_termination_ends_access_on_its_date_even_before_tick(active, people):
    end = timezone.localdate() + datetime.timedelta(days=30)
    services.terminate(
        actor=people.a_signatory, agreement=active, reason="Reorganisation", effective_on=end
    )
    active.refresh_from_db()
    assert active.status == AgreementStatus.ACTIVE and active.is_live()

    with time_machine.travel(end + datetime.timedelta(hours=12), tick=False):
        assert not active.is_live()  # the live rule holds before tick runs
        call_command("tick")
        active.refresh_from_db()
        assert active.status == AgreementStatus.TERMINATED
        assert not access.can(people.b_member, "view_members", people.a)


def test_amendment_supersedes_the_version_in_force(active, people):
    amendment = services.amend(actor=people.b_pm, agreement=active)
    assert amendment.reference == active.reference and amendment.version == 2
    assert amendment.status == AgreementStatus.DRAFT
    with pytest.raises(ValidationError, match="already has an amendment"):
        services.amend(actor=people.a_pm, agreement=active)

    services.update_draft(actor=people.b_pm, agreement=amendment, tlp_ceiling="red")
    services.submit(actor=people.b_pm, agreement=amendment)
    sign_by_all(people, amendment)

    active.refresh_from_db()
    assert amendment.status == AgreementStatus.ACTIVE
    assert active.status == AgreementStatus.SUPERSEDED and not active.is_live()
    assert access.can(people.b_member, "view_members", people.a)  # still partners, via v2


def test_superseded_hooks_hear_about_the_replacement(active, people):
    heard = []
    services.superseded_hooks.append(lambda old, new: heard.append((old.pk, new.pk)))
    try:
        amendment = services.amend(actor=people.a_pm, agreement=active)
        services.submit(actor=people.a_pm, agreement=amendment)
        sign_by_all(people, amendment)
    finally:
        services.superseded_hooks.pop()
    assert heard == [(active.pk, amendment.pk)]


def test_only_an_active_agreement_can_be_amended(draft, people):
    with pytest.raises(TransitionNotAllowed, match="only be amended when it is active"):
        services.amend(actor=people.a_pm, agreement=draft)


def test_tick_activates_on_the_effective_date_expires_after_and_warns_once(people):
    today = timezone.localdate()
    start, end = today + datetime.timedelta(days=5), today + datetime.timedelta(days=100)
    agreement = draft_between(people, effective_from=start, expires_on=end, renewal_notice_days=30)
    services.submit(actor=people.a_pm, agreement=agreement)
    sign_by_all(people, agreement)

    with time_machine.travel(start, tick=False):
        call_command("tick")
        call_command("tick")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert (
        AuditEvent.objects.filter(action="agreement.activated", object_id=str(agreement.pk)).count()
        == 1
    )
    assert access.can(people.b_member, "view_members", people.a)

    with time_machine.travel(end - datetime.timedelta(days=30), tick=False):
        call_command("tick")
        call_command("tick")
    warned = Notification.objects.filter(kind="agreement.expiring")
    assert set(warned.values_list("user__username", flat=True)) == {"atl-admin", "atl-pm", "bor-pm"}

    with time_machine.travel(end + datetime.timedelta(days=1), tick=False):
        assert not agreement.is_live()
        call_command("tick")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.EXPIRED
    assert not access.can(people.b_member, "view_members", people.a)
    assert access.reconcile(repair=False).clean


def test_last_signature_after_the_expiry_date_does_not_bring_it_into_force(people):
    today = timezone.localdate()
    agreement = draft_between(
        people, effective_from=today, expires_on=today + datetime.timedelta(days=3)
    )
    services.submit(actor=people.a_pm, agreement=agreement)
    services.sign(actor=people.a_signatory, agreement=agreement, reauthentication=fresh_reauth())
    with time_machine.travel(today + datetime.timedelta(days=5), tick=False):
        services.sign(
            actor=people.b_signatory, agreement=agreement, reauthentication=fresh_reauth()
        )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.EXPIRED
    assert not AuditEvent.objects.filter(action="agreement.activated").exists()
