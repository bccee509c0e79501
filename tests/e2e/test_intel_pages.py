"""The Intelligence section in the browser: a report with its graph, sightings and
correlations, the indicator form's live pattern check, the share dialog, imports and
"Connect your tools" at a laptop's, a tablet's and a phone's width.

axe finds no serious or critical violation, nothing overflows the window (long STIX ids and
patterns wrap), and the pages are kept as screenshots in tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
import uuid

import pytest

from intel import services
from tests.e2e.support import check_accessibility, screenshot, sign_in
from tests.intel.conftest import NOW, bundle, indicator

WIDTHS = (1280, 768, 390)


def _sdo(stix_type: str, name: str, **extra) -> dict:
    data = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{uuid.uuid4()}",
        "created": NOW,
        "modified": NOW,
        "name": name,
    }
    data.update(extra)
    return data


def _relationship(source: dict, target: dict, kind: str) -> dict:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": NOW,
        "modified": NOW,
        "relationship_type": kind,
        "source_ref": source["id"],
        "target_ref": target["id"],
    }


@pytest.fixture
def intel_world(e2e_world):
    """A's campaign under an A-B agreement: indicators, malware, an intrusion set, a technique
    and a CVE, shared with B, who reported sightings and holds the same observable; a report
    of them (and of a TLP:RED indicator) not shared yet."""
    from agreements import services as agreement_services
    from tests.agreements.conftest import draft_between, sign_by_all

    world = e2e_world
    agreement = draft_between(world, title="Atlantis-Borealis indicator exchange")
    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    world.extra["ab_agreement"] = sign_by_all(world, agreement)

    beacon = indicator(
        "198.51.100.7",
        name="Cobalt Strike beacon on 198.51.100.7",
        description="Command and control server of the **November** phishing wave.",
        kill_chain_phases=[
            {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
        ],
    )
    hashes = indicator(
        "x",
        name="Dropper SHA-256",
        pattern="[file:hashes.'SHA-256' = "
        "'4bf9d52f5dcf0bd3e7d2dea70ac3c7a96ebd1e8a3c48f4f0d0a0c2f4a1b2c3d4']",
    )
    loader = _sdo("malware", "SmokeLoader", is_family=True, malware_types=["downloader"])
    actor_set = _sdo("intrusion-set", "Harbour Panda")
    technique = _sdo(
        "attack-pattern",
        "Spearphishing Attachment",
        external_references=[{"source_name": "mitre-attack", "external_id": "T1566.001"}],
    )
    cve = _sdo(
        "vulnerability",
        "CVE-2026-1234",
        external_references=[{"source_name": "cve", "external_id": "CVE-2026-1234"}],
    )
    named_only = indicator(
        "192.0.2.66",
        name="Insider workstation",
        object_marking_refs=["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
    )
    report = _sdo(
        "report",
        "November phishing wave against port authorities",
        published=NOW,
        report_types=["campaign"],
        object_refs=[
            beacon["id"],
            hashes["id"],
            loader["id"],
            actor_set["id"],
            cve["id"],
            named_only["id"],
        ],
        description="What the national CSIRT saw, with indicators to block.",
    )
    objects = [
        beacon,
        hashes,
        loader,
        actor_set,
        technique,
        cve,
        named_only,
        report,
        _relationship(beacon, loader, "indicates"),
        _relationship(hashes, loader, "indicates"),
        _relationship(loader, technique, "uses"),
        _relationship(actor_set, loader, "uses"),
        _relationship(loader, cve, "exploits"),
    ]
    stored = services.import_objects(actor=world.a_pm, raw=bundle(*objects)).stored
    by_id = {obj.stix_id: obj for obj in stored}
    for obj in stored:
        if obj.type == "report" or obj.tlp == "red":
            continue  # the report's share dialog shows what would go along, and what not
        services.share_object(
            actor=world.a_pm, obj=obj, agreement=world.ab_agreement, recipient=world.b
        )
    shared_beacon = by_id[beacon["id"]]
    services.report_sighting(actor=world.b_member, sighted=shared_beacon, count=12)
    services.report_sighting(actor=world.b_member, sighted=shared_beacon, anonymous=True, count=3)
    # B holds the same observable: A's page names B as another source once B shares it.
    theirs = services.import_objects(
        actor=world.b_pm, raw=indicator("198.51.100.7", name="Borealis sensor hit")
    ).stored[0]
    services.share_object(
        actor=world.b_pm, obj=theirs, agreement=world.ab_agreement, recipient=world.a
    )
    world.extra.update(report=by_id[report["id"]], beacon=shared_beacon, loader=by_id[loader["id"]])
    return world


def _fits(page, label: str, failures: list) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        failures.append(f"{label} overflows the window by {overflow}px")


def test_the_intelligence_pages_are_accessible_and_fit_every_width(intel_world, new_page, clock):
    world = intel_world
    pages = {
        "intelligence-list": "/intel/",
        "intelligence-object": world.loader.get_absolute_url(),
        "intelligence-report": world.report.get_absolute_url(),
        "intelligence-indicator": world.beacon.get_absolute_url(),
        "intelligence-new-indicator": "/intel/new/indicator/",
        "intelligence-import": "/intel/import/",
        "intelligence-connect": "/intel/connect/",
        "intelligence-share": f"/intel/{world.report.pk}/share/",
    }
    failures = []
    for width in WIDTHS:
        page = new_page(width=width)
        sign_in(page, world.a_pm, clock)
        for name, url in pages.items():
            page.goto(url)
            label = f"{url} at {width}px"
            try:
                check_accessibility(page, label)
            except AssertionError as violation:
                failures.append(str(violation))
            _fits(page, label, failures)
            screenshot(page, name)
    assert not failures, "\n\n".join(failures)


def test_the_pattern_is_checked_as_it_is_typed(intel_world, new_page, clock):
    page = new_page()
    sign_in(page, intel_world.a_pm, clock)
    page.goto("/intel/new/indicator/")
    pattern = page.get_by_label("Pattern")
    pattern.fill("[ipv4-addr:value = '198.51.100.7'")
    check = page.locator("#pattern-check")
    check.get_by_text("Not a valid pattern").wait_for()
    pattern.fill("[ipv4-addr:value = '198.51.100.7']")
    check.get_by_text("Valid pattern").wait_for()

    page.locator("#id_name").fill("C2 of the December wave")
    page.get_by_label("Malicious activity").check()
    page.get_by_role("button", name="Create the indicator").click()
    page.wait_for_url(re.compile(r"/intel/\d+/$"))
    assert page.get_by_role("heading", name="C2 of the December wave").is_visible()


def test_the_share_dialog_opens_in_the_page_and_shares(intel_world, new_page, clock):
    world = intel_world
    obj = services.import_objects(
        actor=world.a_pm, raw=indicator("203.0.113.5", name="Fresh scanner")
    ).stored[0]
    page = new_page(width=768)
    sign_in(page, world.a_pm, clock)
    page.goto(obj.get_absolute_url())
    page.get_by_role("link", name="Share…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile("Borealis Cyber Centre under")).check()
    check_accessibility(page, "the share dialog")
    screenshot(page, "intelligence-share-dialog")
    dialog.get_by_role("button", name="Share", exact=True).click()
    page.locator(".messages").get_by_text("Shared with Borealis Cyber Centre").wait_for()
    assert page.locator("summary", has_text="Revoke…").is_visible()
