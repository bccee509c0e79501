"""Importing STIX: every version kept, TLP from markings, and bad input refused whole."""

import json

import pytest
from stix2validator import ValidationOptions, validate_instance

from intel import markings, services, stix
from intel.models import StixObject, StixVersion
from portal.models import AuditEvent
from tests.intel.conftest import bundle, indicator, store

AMBER_STRICT_2 = markings.TLP2_IDS["amber_strict"]


def _refused(world, *objects, raw=None, **kwargs) -> list[str]:
    before = (StixObject.objects.count(), StixVersion.objects.count(), AuditEvent.objects.count())
    with pytest.raises(stix.BundleRefused) as refusal:
        services.import_objects(actor=world.a_pm, raw=raw or bundle(*objects), **kwargs)
    after = (StixObject.objects.count(), StixVersion.objects.count(), AuditEvent.objects.count())
    assert after == before, "a refused input stored something"
    return refusal.value.problems


def test_an_imported_indicator_is_created_by_the_owner_and_marked(intel):
    (obj,) = store(intel, indicator(), default_tlp="green")
    data = services.latest_data(obj)
    assert data["created_by_ref"] == intel.a_identity
    assert data["object_marking_refs"] == [markings.TLP2_IDS["green"]]
    assert obj.tlp == "green" and obj.owner == intel.a
    assert validate_instance(data, ValidationOptions(version="2.1")).is_valid


@pytest.mark.parametrize(
    ("marking", "tlp"),
    [
        ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
        ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
        ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
        ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber_strict"),
        ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
        ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "clear"),  # TLP 1.0 WHITE
        ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green"),
        ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber"),
        ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red"),
        ("marking-definition--826578e1-40ad-459f-bc73-ede076f81f37", "amber_strict"),  # OpenCTI
    ],
)
def test_every_tlp_marking_partners_send_is_read(intel, marking, tlp):
    (obj,) = store(intel, indicator(object_marking_refs=[marking]), default_tlp="clear")
    assert obj.tlp == tlp


def test_the_most_restricted_of_several_markings_wins(intel):
    refs = [markings.TLP2_IDS["green"], AMBER_STRICT_2]
    (obj,) = store(intel, indicator(object_marking_refs=refs))
    assert obj.tlp == "amber_strict"


def test_a_new_modified_is_a_new_version_and_the_same_one_changes_nothing(intel):
    first = indicator()
    (obj,) = store(intel, first)
    newer = dict(first, modified="2026-11-30T12:00:00.123456Z", name="Renamed C2")
    result = services.import_objects(actor=intel.a_pm, raw=bundle(first, newer))
    assert result.unchanged == [first["id"]] and result.stored_ids == [first["id"]]
    obj.refresh_from_db()
    assert obj.name == "Renamed C2"
    versions = list(obj.versions.order_by("modified"))
    assert [v.is_last for v in versions] == [False, True]
    assert [v.is_first for v in versions] == [True, False]
    assert stix.timestamp(versions[1].modified) == "2026-11-30T12:00:00.123456Z"


def test_malformed_json_is_refused(intel):
    (problem,) = _refused(intel, raw='{"type": "bundle", "objects": [')
    assert problem.startswith("This is not valid JSON")


def test_a_wrong_spec_version_is_refused_by_id(intel):
    good, bad = indicator(), indicator(spec_version="2.0")
    (problem,) = _refused(intel, good, bad)
    assert problem.startswith(bad["id"]) and "spec_version" in problem


def test_an_invalid_pattern_is_refused_by_id(intel):
    bad = indicator(pattern="[ipv4-addr:value = ")
    (problem,) = _refused(intel, indicator(), bad)
    assert problem.startswith(bad["id"]) and "Pattern" in problem


def test_an_unknown_marking_is_refused_and_named(intel):
    unknown = "marking-definition--0d2bd3a1-2aa8-4f0b-9d4e-111122223333"
    bad = indicator(object_marking_refs=[unknown])
    (problem,) = _refused(intel, bad)
    assert problem.startswith(bad["id"]) and unknown in problem


def test_an_object_claiming_another_organisations_identity_is_refused(intel):
    bad = indicator(created_by_ref=stix.identity_id(intel.b))
    (problem,) = _refused(intel, indicator(), bad)
    assert problem.startswith(bad["id"]) and "created_by_ref" in problem


def test_another_organisations_identity_object_is_refused(intel):
    spoof = stix.identity_of(intel.b)
    (problem,) = _refused(intel, spoof)
    assert "another organisation's identity" in problem


def test_a_bundle_over_the_size_limit_is_refused(intel, settings):
    settings.INTEL_MAX_BUNDLE_BYTES = 2_000
    raw = json.dumps(bundle(*[indicator(f"198.51.100.{i}") for i in range(10)]))
    (problem,) = _refused(intel, raw=raw)
    assert "the limit is" in problem


def test_one_message_per_bad_object(intel):
    bad = [indicator(spec_version="2.0"), indicator(pattern="nonsense"), indicator()]
    problems = _refused(intel, *bad[:2], bad[2])
    assert [p.split(":")[0] for p in problems] == [bad[0]["id"], bad[1]["id"]]


def test_the_owners_own_identity_and_tlp_markings_in_a_bundle_are_accepted(intel):
    own = stix.identity_of(intel.a)
    result = services.import_objects(
        actor=intel.a_pm, raw=bundle(own, markings.definition("green"), indicator())
    )
    assert [obj.type for obj in result.stored] == ["indicator"]


def test_members_without_the_programme_manager_role_cannot_add_intelligence(intel):
    with pytest.raises(services.PermissionDenied):
        services.import_objects(actor=intel.a_member, raw=bundle(indicator()))
    assert not StixObject.objects.exists()


def test_the_indicator_form_checks_the_pattern(intel):
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    with pytest.raises(ValidationError) as refusal:
        services.create_indicator(
            actor=intel.a_pm, name="Bad", pattern="[ipv4-addr:value =", valid_from=timezone.now()
        )
    assert "pattern" in refusal.value.message_dict
    obj = services.create_indicator(
        actor=intel.a_pm,
        name="C2",
        pattern="[domain-name:value = 'c2.example.com']",
        valid_from=timezone.now(),
        kill_chain_phases=[
            {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
        ],
        labels=["c2"],
        tlp="green",
    )
    assert obj.tlp == "green" and "c2.example.com" in obj.observable_values
