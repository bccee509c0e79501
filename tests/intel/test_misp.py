"""MISP events: converted by misp-stix, TLP from their tlp: tags, false positives as opinions."""

import json
from pathlib import Path

import pytest

from intel import misp, stix
from intel.models import StixObject

EVENT = Path(__file__).parent / "data" / "misp_event.json"


def _import(world, raw=None, **kwargs):
    return misp.import_event(actor=world.a_pm, raw=raw or EVENT.read_text(), **kwargs)


def test_a_misp_event_becomes_the_importers_stix_objects(intel):
    result = _import(intel, default_tlp="green")
    types = sorted({obj.type for obj in result.stored})
    assert {"indicator", "report", "observed-data", "ipv4-addr", "sighting", "opinion"} <= set(
        types
    )
    assert all(obj.owner == intel.a for obj in result.stored)
    # The event's tlp:amber tag wins over the import's default.
    indicator = StixObject.objects.get(stix_id="indicator--6a1b2c3d-1111-4222-8333-944455556661")
    assert indicator.tlp == "amber"


def test_an_attributes_red_tag_marks_everything_made_from_it(intel):
    _import(intel)
    domain = StixObject.objects.get(type="domain-name")
    assert domain.tlp == "red" and domain.name == "bad.example.com"
    observed = StixObject.objects.get(stix_id="observed-data--6a1b2c3d-1111-4222-8333-944455556662")
    assert observed.tlp == "red"


def test_a_false_positive_sighting_becomes_an_opinion(intel):
    _import(intel)
    opinion = StixObject.objects.get(type="opinion")
    from intel.services import latest_data

    assert latest_data(opinion)["opinion"] == "strongly-disagree"


def test_an_event_without_tlp_tags_takes_the_tlp_chosen_at_import(intel):
    event = json.loads(EVENT.read_text())
    event["Event"]["Tag"] = []
    for attribute in event["Event"]["Attribute"]:
        attribute.pop("Tag", None)
    _import(intel, raw=json.dumps(event), default_tlp="green")
    assert set(StixObject.objects.values_list("tlp", flat=True)) == {"green"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"Event": {"Attribute": []}}', "not a MISP event"),
        ("[1, 2]", "not a MISP event"),
    ],
)
def test_what_is_not_a_misp_event_is_refused(intel, raw, message):
    with pytest.raises(stix.BundleRefused) as refusal:
        _import(intel, raw=raw)
    assert message in refusal.value.problems[0]
    assert not StixObject.objects.exists()
