"""The demo holds about 60 valid STIX objects at every TLP, shared under the demo agreements,
and each partner sees only what was shared with it."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from stix2validator import ValidationOptions, validate_instance

from intel import correlation
from intel.models import IntelShare, Sighting, StixObject, StixVersion
from portal import access
from portal.models import Organisation
from portal.vocabulary import TLP

User = get_user_model()

EXPECTED_TYPES = {
    "indicator",
    "malware",
    "threat-actor",
    "intrusion-set",
    "campaign",
    "tool",
    "attack-pattern",
    "vulnerability",
    "relationship",
    "report",
    "observed-data",
    "ipv4-addr",
    "domain-name",
    "network-traffic",
    "file",
    "note",
    "opinion",
    "sighting",
}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo, seeded once for this module and rolled back after it (each test runs in a
    savepoint inside this transaction). The resources' demo files go to the test run's
    throw-away storage (tests/settings.py)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", force=True, stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return None


def _user(username):
    return User.objects.select_related("membership__organisation").get(username=username)


def _visible(username):
    return set(access.visible_to(_user(username), StixObject.objects.all()))


def test_about_sixty_valid_objects_of_every_kind_at_every_tlp_idempotently(demo):
    count = StixObject.objects.count()
    call_command(
        "seed_demo", force=True, stdout=io.StringIO()
    )  # idempotent: nothing is added the second time

    assert StixObject.objects.count() == count
    assert 55 <= count <= 70
    assert set(StixObject.objects.values_list("type", flat=True)) >= EXPECTED_TYPES
    options = ValidationOptions(version="2.1")
    for version in StixVersion.objects.all():
        result = validate_instance(version.data, options)
        assert result.is_valid, (version.data["id"], [str(e) for e in result.errors])
    assert StixVersion.objects.count() > count  # one indicator has a second version
    live = IntelShare.objects.live()
    assert set(live.values_list("object__tlp", flat=True)) == set(TLP.values)
    for share in live.filter(object__tlp=TLP.RED):
        assert share.recipient_users.count() == 2
    soon = timezone.localdate() + datetime.timedelta(days=30)
    assert live.filter(agreement__expires_on__lte=soon).exists()
    assert access.reconcile(repair=False).clean


def test_attack_patterns_and_vulnerabilities_carry_their_public_ids(demo):
    def external_ids(stix_type, source):
        return {
            ref["external_id"]
            for v in StixVersion.objects.filter(object__type=stix_type)
            for ref in v.data["external_references"]
            if ref["source_name"] == source
        }

    assert {"T1566", "T1566.001", "T1190"} <= external_ids("attack-pattern", "mitre-attack")
    assert {"CVE-2024-3400", "CVE-2021-44228"} <= external_ids("vulnerability", "cve")


def test_partners_report_the_same_address_and_see_each_other_as_also_reporting(demo):
    ee_pm, fi_pm = _user("ee-csirt-pm"), _user("fi-ncsc-pm")
    ee, fi = Organisation.objects.get(slug="ee-csirt"), Organisation.objects.get(slug="fi-ncsc")
    ee_c2 = StixObject.objects.get(owner=ee, type="indicator", name="PlumeRAT C2 server")
    fi_c2 = StixObject.objects.get(owner=fi, type="indicator", pattern__contains="198.51.100.23")

    assert correlation.also_reported_by(ee_pm, ee_c2) == [fi]
    assert correlation.also_reported_by(fi_pm, fi_c2) == [ee]


def test_partners_send_sightings_some_anonymous(demo):
    sightings = Sighting.objects.select_related("sighted_by")
    named = {s.sighted_by.slug for s in sightings if s.sighted_by}
    assert {"fi-ncsc", "pl-cda", "ee-csirt"} <= named
    assert sightings.filter(sighted_by__isnull=True).count() >= 2
    assert sightings.filter(reported_to_owner=True, sighted_by__isnull=True).exists()


def test_each_partner_sees_only_what_was_shared_with_it(demo):
    clear = set(StixObject.objects.filter(tlp=TLP.CLEAR))

    # The ministry sees the incident record shared with it, and what is open to everyone.
    ministry = Organisation.objects.get(slug="de-bmds")
    shared = {
        s.object for s in IntelShare.objects.live().filter(recipient=ministry).select_related()
    }
    assert shared and {o.type for o in shared} >= {"observed-data", "ipv4-addr"}
    assert {o.data_category for o in shared} == {"incidents"}
    assert _visible("de-bmds-member") == shared | clear

    # The university is party to no agreement that carries intelligence: CLEAR only.
    assert _visible("nl-tucl-member") == clear

    # RED reaches the two named people of the Estonian CSIRT, no one else there.
    red = StixObject.objects.get(tlp=TLP.RED)
    assert red in _visible("ee-csirt-pm")
    assert red in _visible("ee-csirt-reviewer")
    assert red not in _visible("ee-csirt-member")
    # And the memorandum's GREEN ceiling keeps AMBER away from the Polish agency.
    polish = _visible("pl-cda-member")
    assert (
        not {o for o in polish if o.owner.slug != "pl-cda"}
        - clear
        - {o for o in polish if o.tlp == TLP.GREEN}
    )


def test_over_taxii_a_partner_receives_what_was_shared_under_the_agreement(demo, client):
    from agreements.models import Agreement
    from intel import markings
    from intel.collections import agreement_collection_id

    dsa = Agreement.objects.get(title="Bilateral threat intelligence exchange", status="active")
    url = f"/taxii2/api/collections/{agreement_collection_id(dsa.reference)}/objects/"
    under_dsa = IntelShare.objects.live().filter(agreement__reference=dsa.reference)
    ee = Organisation.objects.get(slug="ee-csirt")
    expected = {
        s.object.stix_id
        for s in under_dsa.select_related("object")
        if s.recipient_id == ee.pk or s.object.owner_id == ee.pk
    }
    red = StixObject.objects.get(tlp=TLP.RED).stix_id
    assert red in expected

    def poll(username):
        client.force_login(_user(username))
        response = client.get(
            url, {"limit": 1000}, HTTP_ACCEPT="application/taxii+json;version=2.1"
        )
        assert response.status_code == 200
        body = response.json()
        assert body["more"] is False
        ids = [o["id"] for o in body["objects"]]
        assert len(ids) == len(set(ids))
        return set(ids) - set(markings.TLP2_IDS.values())

    assert poll("ee-csirt-pm") == expected  # named on the RED one
    assert poll("ee-csirt-member") == expected - {red}
    client.force_login(_user("de-bmds-member"))  # not a party: no such collection
    assert client.get(url, HTTP_ACCEPT="application/taxii+json;version=2.1").status_code == 404
