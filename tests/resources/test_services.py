"""Resources through their services: uploads, TLP rules, sharing rules, revocation, expiry."""

import datetime
import hashlib
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from agreements import services as agreement_services
from portal import access
from portal import services as portal_services
from portal.models import AuditEvent, Notification, Role
from portal.reauth import Reauthentication
from resources import services
from resources.models import Resource, ResourceVersion, Share, ShareStatus
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import UserFactory, designate_signatories
from tests.resources.conftest import PDF_BYTES, new_resource, share_with_b, upload


def stored_files(world) -> list:
    root = world.storage_root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- Uploads ---------------------------------------------------------------------------------


def test_upload_keeps_hash_size_detected_type_and_name_as_metadata(sharing):
    resource = new_resource(sharing, file=upload("notes.txt", PDF_BYTES, "text/plain"))
    version = resource.versions.get()
    assert version.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert version.size == len(PDF_BYTES)
    assert version.content_type == "application/pdf"  # from the bytes, not the name
    assert version.original_name == "notes.txt"
    assert "notes" not in version.file.name  # stored under a generated name
    assert version.file.read() == PDF_BYTES


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.pdf", b"", "The file is empty."),
        ("../../etc/passwd", PDF_BYTES, "must not contain a path"),
        ("a\\b.pdf", PDF_BYTES, "must not contain a path"),
        ("bad\x07name.pdf", PDF_BYTES, "control characters"),
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/x-msdownload"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", "text/x-shellscript"),
    ],
)
def test_bad_uploads_are_refused_clearly_and_nothing_is_stored(sharing, name, content, message):
    # A plain File keeps the name exactly as given (an uploaded file's name is already cut
    # to its last path segment by Django's parser), so the service's own check is exercised.
    with pytest.raises(ValidationError, match=message):
        new_resource(sharing, file=File(io.BytesIO(content), name=name))
    assert not Resource.objects.exists() and not ResourceVersion.objects.exists()
    assert stored_files(sharing) == []


def test_files_over_the_limit_are_refused(sharing, settings):
    settings.RESOURCE_MAX_UPLOAD_BYTES = 50
    with pytest.raises(ValidationError, match="the limit is"):
        new_resource(sharing)
    assert stored_files(sharing) == []


def test_executables_are_accepted_for_tools(sharing):
    resource = new_resource(sharing, kind="tool", file=upload("scanner.exe", b"MZ" + b"\x00" * 64))
    assert resource.versions.get().content_type == "application/x-msdownload"


def test_new_version_keeps_the_old_one(sharing):
    resource = new_resource(sharing)
    services.add_version(actor=sharing.a_pm, resource=resource, file=upload("v2.txt", b"second"))
    assert list(resource.versions.values_list("number", "content_type")) == [
        (2, "text/plain"),
        (1, "application/pdf"),
    ]


def test_only_owner_programme_managers_change_a_resource(sharing):
    resource = new_resource(sharing)
    with pytest.raises(PermissionDenied):
        services.add_version(actor=sharing.a_member, resource=resource, file=upload())
    with pytest.raises(Http404):
        services.update_resource(actor=sharing.c_member, resource=resource, title="Mine")


# --- Who sees what (TLP 2.0) ----------------------------------------------------------------


def test_clear_is_seen_by_every_signed_in_user(sharing):
    resource = new_resource(sharing, tlp="clear")
    assert access.can(sharing.c_member, "view", resource)
    assert access.can(sharing.c_member, "download", resource)


@pytest.mark.parametrize("tlp", ["green", "amber"])
def test_green_and_amber_go_to_the_recipient_organisation_only(sharing, tlp):
    resource = new_resource(sharing, tlp=tlp)
    assert not access.can(sharing.b_member, "view", resource)
    share_with_b(sharing, resource)
    assert access.can(sharing.b_member, "view", resource)
    assert access.can(sharing.b_member, "download", resource)
    assert not access.can(sharing.c_member, "view", resource)
    assert not access.can(sharing.staff, "view", resource)


def test_amber_strict_needs_a_fresh_reauthentication_to_share(sharing):
    agreement_services_ceiling_raise(sharing, "amber_strict")
    resource = new_resource(sharing, tlp="amber_strict")
    stale = Reauthentication(timezone.now() - datetime.timedelta(minutes=10), "password")
    with pytest.raises(PermissionDenied, match="too long"):
        share_with_b(sharing, resource, reauthentication=stale)
    share_with_b(sharing, resource)
    assert access.can(sharing.b_member, "view", resource)


def test_red_goes_to_named_people_only(sharing):
    agreement_services_ceiling_raise(sharing, "red")
    resource = new_resource(sharing, tlp="red")
    with pytest.raises(ValidationError, match="named people only"):
        share_with_b(sharing, resource)
    with pytest.raises(ValidationError, match="Not active members of Borealis"):
        share_with_b(sharing, resource, recipient_users=[sharing.c_member])

    share_with_b(sharing, resource, recipient_users=[sharing.b_signatory])

    assert access.can(sharing.b_signatory, "view", resource)
    assert not access.can(sharing.b_member, "view", resource)
    assert not access.can(sharing.b_pm, "download", resource)


def test_recipients_never_reshare(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    with pytest.raises(PermissionDenied, match="owner organisation"):
        services.share_resource(
            actor=sharing.b_pm,
            resource=resource,
            agreement=sharing.ab_agreement,
            recipient=sharing.c,
        )


# --- Sharing rules, each named when broken --------------------------------------------------


def test_the_agreement_must_be_in_force(sharing):
    draft = draft_between(sharing)
    resource = new_resource(sharing)
    with pytest.raises(ValidationError, match=f"{draft.label} is not in force"):
        services.share_resource(
            actor=sharing.a_pm, resource=resource, agreement=draft, recipient=sharing.b
        )


def test_the_recipient_must_be_a_party(sharing):
    resource = new_resource(sharing)
    with pytest.raises(ValidationError, match="Caldera Defence Agency is not a party"):
        services.share_resource(
            actor=sharing.a_pm,
            resource=resource,
            agreement=sharing.ab_agreement,
            recipient=sharing.c,
        )


def test_the_owner_must_be_a_party(sharing):
    UserFactory(organisation=sharing.c, username="cal-signatory", roles=[Role.SIGNATORY])
    UserFactory(organisation=sharing.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])
    bc = agreement_services.create_agreement(
        actor=sharing.b_pm,
        parties=[sharing.b, sharing.c],
        title="B-C exchange",
        kind="data_sharing",
        purpose="B and C only.",
        body="Text",
        effective_from=timezone.localdate(),
        data_categories=["threat_intelligence"],
        tlp_ceiling="amber",
    )
    designate_signatories(bc)
    agreement_services.submit(actor=sharing.b_pm, agreement=bc)
    sign_by_all(sharing, bc)
    resource = new_resource(sharing)
    assert services.sharing_problem(resource, bc, sharing.b) == (
        f"Atlantis National CSIRT is not a party to {bc.label}."
    )


def test_the_agreement_must_cover_the_category(sharing):
    resource = new_resource(sharing, data_category="datasets")
    with pytest.raises(ValidationError, match=r"does not cover datasets"):
        share_with_b(sharing, resource)


def test_the_tlp_ceiling_must_reach_the_label(sharing):
    resource = new_resource(sharing, tlp="red")
    label = sharing.ab_agreement.label
    with pytest.raises(ValidationError) as refusal:
        share_with_b(sharing, resource, recipient_users=[sharing.b_signatory])
    assert refusal.value.messages == [f"{label} caps TLP at AMBER; this resource is RED."]


def test_one_active_share_per_recipient(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    with pytest.raises(ValidationError, match="already shared with Borealis"):
        share_with_b(sharing, resource)


def test_share_options_explain_every_refusal(sharing):
    resource = new_resource(sharing, data_category="datasets")
    options = services.share_options(resource)
    assert [(o.recipient, o.allowed) for o in options] == [(sharing.b, False)]
    assert "does not cover datasets" in options[0].problem


# --- Ending access -----------------------------------------------------------------------------


def test_revocation_is_immediate(sharing):
    resource = new_resource(sharing)
    share = share_with_b(sharing, resource)
    services.revoke_share(actor=sharing.a_pm, share=share, reason="Shared by mistake")
    assert not access.can(sharing.b_member, "view", resource)
    share.refresh_from_db()
    assert share.status == ShareStatus.REVOKED and share.end_reason == "Shared by mistake"
    assert AuditEvent.objects.filter(action="resource.share_revoked").exists()
    told = Notification.objects.get(kind="resource.share_revoked")
    assert told.user == sharing.b_pm and "Shared by mistake" in told.body


def test_expiry_hides_the_resource_the_day_after_even_before_tick(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    end = sharing.ab_agreement.expires_on
    with time_machine.travel(end, tick=False):
        assert access.can(sharing.b_member, "view", resource)  # the last day still counts
    with time_machine.travel(end + datetime.timedelta(days=1), tick=False):
        # Before tick: the grant's last day has passed, so it is hidden, not refused.
        assert not access.can(sharing.b_member, "view", resource)
        assert not access.visible_to(sharing.b_member, Resource.objects.all()).exists()
        with pytest.raises(Http404):
            services.open_download(actor=sharing.b_member, resource=resource)
        call_command("tick")
        # After tick: it is no longer listed at all.
        assert not access.visible_to(sharing.b_member, Resource.objects.all()).exists()
        assert Share.objects.get().status == ShareStatus.REVOKED
        assert access.reconcile(repair=False).clean


def test_termination_ends_shares_at_once(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    agreement_services.terminate(
        actor=sharing.a_signatory,
        agreement=sharing.ab_agreement,
        reason="Over",
        effective_on=timezone.localdate(),
    )
    assert not access.can(sharing.b_member, "view", resource)


def test_raising_the_tlp_suspends_shares_that_no_longer_fit_and_tells_the_owner(sharing):
    resource = new_resource(sharing, tlp="green")
    share = share_with_b(sharing, resource)
    services.update_resource(actor=sharing.a_pm, resource=resource, tlp="red")
    share.refresh_from_db()
    assert share.status == ShareStatus.SUSPENDED
    assert "caps TLP at AMBER; this resource is RED" in share.end_reason
    assert not access.can(sharing.b_member, "view", resource)
    told = Notification.objects.filter(kind="resource.share_suspended")
    # The owner's other programme managers; the one who raised it is told on the page.
    assert told.filter(user=sharing.a_admin).exists()
    assert not told.filter(user=sharing.a_pm).exists()


def test_amendment_carries_shares_over_when_it_still_allows(sharing):
    resource = new_resource(sharing)
    share = share_with_b(sharing, resource)
    amendment = agreement_services.amend(actor=sharing.a_pm, agreement=sharing.ab_agreement)
    agreement_services.submit(actor=sharing.a_pm, agreement=amendment)
    sign_by_all(sharing, amendment)
    share.refresh_from_db()
    assert share.agreement == amendment and share.status == ShareStatus.ACTIVE
    assert access.can(sharing.b_member, "download", resource)


def test_amendment_that_narrows_the_terms_suspends_the_share(sharing):
    resource = new_resource(sharing)
    share = share_with_b(sharing, resource)
    amendment = agreement_services.amend(actor=sharing.a_pm, agreement=sharing.ab_agreement)
    agreement_services.update_draft(actor=sharing.a_pm, agreement=amendment, tlp_ceiling="green")
    agreement_services.submit(actor=sharing.a_pm, agreement=amendment)
    sign_by_all(sharing, amendment)
    share.refresh_from_db()
    assert share.status == ShareStatus.SUSPENDED
    assert not access.can(sharing.b_member, "view", resource)


# --- The panel and the audit ------------------------------------------------------------------


def test_panel_explains_each_grant(sharing):
    agreement_services_ceiling_raise(sharing, "red")
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    rows = access.explain(resource)
    assert {
        "who": "Members of Atlantis National CSIRT",
        "action": "See and download it",
        "why": "Atlantis National CSIRT owns it.",
    } in rows
    assert any(
        row["who"] == "Members of Borealis Cyber Centre"
        and f"under {sharing.ab_agreement.label}, until {sharing.ab_agreement.expires_on:%d %b %Y}."
        in row["why"]
        for row in rows
    )


def test_download_records_the_share_and_agreement_that_allowed_it(sharing):
    resource = new_resource(sharing)
    share_with_b(sharing, resource)
    services.open_download(actor=sharing.b_member, resource=resource)
    event = AuditEvent.objects.get(action="resource.downloaded")
    assert event.actor == sharing.b_member
    assert event.details["agreement"] == sharing.ab_agreement.label
    assert event.details["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()


# --- Helpers --------------------------------------------------------------------------------


def agreement_services_ceiling_raise(world, ceiling: str) -> None:
    """Replace the A-B agreement in force with one whose TLP ceiling is `ceiling`."""
    world.extra["amber_agreement"] = world.ab_agreement
    agreement = draft_between(world, tlp_ceiling=ceiling, title=f"A-B up to {ceiling}")
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    world.extra["ab_agreement"] = sign_by_all(world, agreement)


def test_a_named_red_recipient_who_is_deactivated_loses_the_grant(sharing):
    agreement_services_ceiling_raise(sharing, "red")
    resource = new_resource(sharing, tlp="red")
    share_with_b(sharing, resource, recipient_users=[sharing.b_signatory])
    portal_services.deactivate_member(
        actor=sharing.staff, membership=sharing.b_signatory.membership
    )
    access.sync_object(resource)
    assert not access.can(
        type(sharing.b_signatory).objects.get(pk=sharing.b_signatory.pk), "view", resource
    )
    assert access.reconcile(repair=False).clean
