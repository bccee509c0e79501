"""Sharing intelligence: the resources' rules, named RED recipients, ends that act at once."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agreements import services as agreement_services
from intel import collections, services
from intel.models import StixObject
from portal import access
from tests.agreements.conftest import fresh_reauth
from tests.intel.conftest import bundle, indicator, share_with_b, store


def _b_sees(world, obj) -> bool:
    return access.visible_to(world.b_member, StixObject.objects.filter(pk=obj.pk)).exists()


def _in_b_collection(world, obj) -> bool:
    found = collections.find(
        world.b_member, collections.agreement_collection_id(world.ab_agreement.reference)
    )
    return (
        found is not None and collections.entries(world.b_member, found).filter(object=obj).exists()
    )


def test_the_tlp_ceiling_of_the_agreement_holds(intel):
    (red,) = store(intel, indicator(), default_tlp="red")
    with pytest.raises(ValidationError) as refusal:
        share_with_b(intel, red, reauthentication=fresh_reauth(), recipient_users=["bor-pm"])
    assert refusal.value.messages == [
        f"{intel.ab_agreement.label} caps TLP at AMBER; this object is RED."
    ]
    assert not _b_sees(intel, red)


def test_a_category_the_agreement_does_not_cover_is_refused(intel):
    (obj,) = store(intel, indicator(), data_category="datasets")
    with pytest.raises(ValidationError, match="does not cover datasets"):
        share_with_b(intel, obj)


def test_only_the_owners_programme_managers_share(intel):
    (obj,) = store(intel, indicator())
    share_with_b(intel, obj)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.share_object(
            actor=intel.a_member, obj=obj, agreement=intel.ab_agreement, recipient=intel.b
        )


def test_revoking_removes_access_and_the_collection_entry_at_once(intel):
    (obj,) = store(intel, indicator())
    share = share_with_b(intel, obj)
    assert _b_sees(intel, obj) and _in_b_collection(intel, obj)
    services.revoke_share(actor=intel.a_pm, share=share)
    assert not _b_sees(intel, obj) and not _in_b_collection(intel, obj)


def test_termination_removes_the_collection_with_its_objects(intel):
    (obj,) = store(intel, indicator())
    share_with_b(intel, obj)
    agreement_services.terminate(
        actor=intel.a_admin,
        agreement=intel.ab_agreement,
        reason="The exchange ends.",
        effective_on=timezone.localdate(),
    )
    assert not _b_sees(intel, obj)
    assert collections.collections_for(intel.b_member)[0].is_sightings


def test_expiry_ends_access_before_tick_runs(intel, time_machine):
    (obj,) = store(intel, indicator())
    share_with_b(intel, obj)
    after = intel.ab_agreement.expires_on + datetime.timedelta(days=1)
    time_machine.move_to(datetime.datetime.combine(after, datetime.time(12), datetime.UTC))
    assert not _b_sees(intel, obj)
    assert (
        collections.find(
            intel.b_member, collections.agreement_collection_id(intel.ab_agreement.reference)
        )
        is None
    )


def test_a_new_version_of_a_shared_object_reaches_the_partner_with_its_own_date(intel):
    first = indicator()
    (obj,) = store(intel, first)
    share_with_b(intel, obj)
    newer = dict(first, modified="2026-11-30T11:00:00.000Z", name="Updated")
    services.import_objects(actor=intel.a_pm, raw=bundle(newer))
    found = collections.find(
        intel.b_member, collections.agreement_collection_id(intel.ab_agreement.reference)
    )
    entries = list(collections.entries(intel.b_member, found))
    assert len(entries) == 2 and entries[1].version.is_last
    assert entries[1].date_added >= entries[0].date_added


def test_a_new_version_above_the_ceiling_suspends_the_share(intel):
    first = indicator()
    (obj,) = store(intel, first)
    share_with_b(intel, obj)
    red = dict(
        first,
        modified="2026-11-30T11:00:00.000Z",
        object_marking_refs=["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
    )
    services.import_objects(actor=intel.a_pm, raw=bundle(red))
    assert not _b_sees(intel, obj)
    assert obj.shares.get().status == "suspended"


def test_red_goes_to_named_people_only(intel, settings):
    from tests.factories import UserFactory

    intel.ab_agreement.tlp_ceiling = "red"
    intel.ab_agreement.save(update_fields=["tlp_ceiling"])
    (red,) = store(intel, indicator(), default_tlp="red")
    colleague = UserFactory(organisation=intel.b, username="bor-analyst")
    share_with_b(intel, red, reauthentication=fresh_reauth(), recipient_users=["bor-analyst"])
    visible = StixObject.objects.filter(pk=red.pk)
    assert access.visible_to(colleague, visible).exists()
    assert not access.visible_to(intel.b_member, visible).exists()


def test_a_report_can_take_its_references_along_where_the_rules_allow(intel):
    ind, low = indicator(), indicator("203.0.113.9")
    out_of_scope = indicator("203.0.113.10")
    store(intel, ind, low)
    store(intel, out_of_scope, data_category="datasets")
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--3d4c1f40-8d8c-4f7b-9a57-2b3b0c8e0f11",
        "created": "2026-11-30T10:00:00.000Z",
        "modified": "2026-11-30T10:00:00.000Z",
        "name": "Phishing wave",
        "published": "2026-11-30T10:00:00.000Z",
        "object_refs": [ind["id"], low["id"], out_of_scope["id"]],
    }
    (rep,) = store(intel, report)
    refs = services.referenced_objects(rep)
    problems = {
        r.stix_id: services.reference_problem(r, rep, intel.ab_agreement, intel.b) for r in refs
    }
    assert problems[ind["id"]] is None and problems[low["id"]] is None
    assert "does not cover datasets" in problems[out_of_scope["id"]]
    shares = services.share_object(
        actor=intel.a_pm,
        obj=rep,
        agreement=intel.ab_agreement,
        recipient=intel.b,
        with_references=True,
    )
    assert len(shares) == 3
    seen = access.visible_to(intel.b_member, StixObject.objects.all())
    assert {o.stix_id for o in seen} == {report["id"], ind["id"], low["id"]}
