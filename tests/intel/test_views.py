"""The Intelligence pages: the list, an object's page, sharing, sightings, the indicator form,
imports, exports and "Connect your tools".

Each page is looked at as the owner (A), the partner it is shared with (B) and an unrelated
nation (C), who gets a 404 for A's object and never meets its name anywhere.
"""

import json
import re
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intel import services
from intel.markings import TLP2_IDS
from intel.models import IntelShare, StixObject
from portal.models import Role
from resources.models import ShareStatus
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import PASSWORD, UserFactory
from tests.intel.conftest import NOW, bundle, indicator, share_with_b, store

HTMX = {"HTTP_HX_REQUEST": "true"}
MISP_EVENT = Path(__file__).parent / "data" / "misp_event.json"
SECRET = "Atlantis hidden beacon 4Q"


def names(response) -> list[str]:
    return sorted(o.title for o in response.context["object_list"])


def sdo(stix_type, name, **extra):
    """A STIX domain object of A's, as partners' tools send them."""
    data = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{uuid.uuid4()}",
        "created": NOW,
        "modified": NOW,
        "name": name,
    }
    if stix_type == "malware":
        data["is_family"] = True
    data.update(extra)
    return data


def relationship(source, target, kind="indicates"):
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


def report(name, *objects):
    return sdo("report", name, published=NOW, object_refs=[o["id"] for o in objects])


def c_pm(world):
    return UserFactory(organisation=world.c, username="cal-pm", roles=[Role.PROGRAMME_MANAGER])


def agreement_with_ceiling(world, tlp):
    agreement = draft_between(world, tlp_ceiling=tlp, title=f"{tlp} pact")
    from agreements import services as agreement_services

    agreement_services.submit(actor=world.a_pm, agreement=agreement)
    return sign_by_all(world, agreement)


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_our_own_and_what_is_shared_with_us_and_filters_it(intel, client):
    shared, _own_only = store(
        intel,
        indicator("198.51.100.7", name="Phishing C2"),
        indicator("203.0.113.9", name="Internal sensor"),
    )
    share_with_b(intel, shared)
    store(intel, sdo("malware", "Borealis wiper"), actor=intel.b_pm, default_tlp="green")

    client.force_login(intel.b_member)
    listing = client.get("/intel/")
    assert names(listing) == ["Borealis wiper", "Phishing C2"]
    assert "Internal sensor" not in listing.content.decode()
    assert names(client.get("/intel/?type=malware")) == ["Borealis wiper"]
    assert names(client.get("/intel/?tlp=amber")) == ["Phishing C2"]
    assert names(client.get(f"/intel/?owner={intel.a.slug}")) == ["Phishing C2"]
    reference = intel.ab_agreement.reference
    assert names(client.get(f"/intel/?agreement={reference}")) == ["Phishing C2"]
    assert names(client.get("/intel/?added_since=2000-01-01")) == ["Borealis wiper", "Phishing C2"]
    assert names(client.get("/intel/?added_since=2999-01-01")) == []
    # Search reads names, patterns, descriptions and observable values.
    assert names(client.get("/intel/?q=198.51.100.7")) == ["Phishing C2"]
    assert names(client.get("/intel/?q=phishing+campaign")) == ["Phishing C2"]
    assert names(client.get("/intel/?q=wiper")) == ["Borealis wiper"]
    assert [o.title for o in client.get("/intel/?sort=name").context["object_list"]] == [
        "Borealis wiper",
        "Phishing C2",
    ]
    # A member without the role sees no creation buttons.
    body = listing.content.decode()
    assert "/intel/new/indicator/" not in body and "/intel/import/" not in body

    client.force_login(intel.a_pm)
    body = client.get("/intel/").content.decode()
    assert "/intel/new/indicator/" in body and "/intel/import/" in body
    assert 'aria-current="page">Intelligence</a>' in body  # the main navigation


def test_a_filter_that_cannot_be_read_shows_nothing_and_says_why(intel, client):
    store(intel, indicator())
    client.force_login(intel.a_member)
    response = client.get("/intel/?agreement=AGR-NOT-OURS&added_since=yesterday")
    assert response.context["paginator"].count == 0
    body = response.content.decode()
    assert "You are party to no agreement" in body and "Enter a date as YYYY-MM-DD" in body


def test_an_empty_list_says_how_to_fill_it(intel, client):
    client.force_login(intel.a_pm)
    body = client.get("/intel/").content.decode()
    assert "Create an indicator or import a STIX bundle" in body


def test_the_list_query_count_does_not_grow_with_the_rows(intel, client):
    (first,) = store(intel, indicator("198.51.100.1"))
    share_with_b(intel, first)
    client.force_login(intel.b_member)
    client.get("/intel/")  # warms per-process caches (permission ids, content types)
    with CaptureQueriesContext(connection) as one:
        response = client.get("/intel/?sort=tlp")
    assert len(response.context["object_list"]) == 1

    objects = store(intel, *[indicator(f"198.51.100.{n}") for n in range(2, 31)])
    for obj in objects[::2]:
        share_with_b(intel, obj)
    store(intel, *[sdo("malware", f"Wiper {n}") for n in range(14)], actor=intel.b_pm)
    with CaptureQueriesContext(connection) as thirty:
        response = client.get("/intel/?sort=tlp")
    assert response.context["paginator"].count == 30
    assert len(thirty) == len(one), [q["sql"] for q in thirty.captured_queries]


def test_naming_relationships_in_the_list_costs_one_query_however_many(intel, client):
    def relationships(count):
        pairs = [
            (indicator(f"198.51.100.{n}"), sdo("malware", f"Family {n}")) for n in range(count)
        ]
        return [o for a, b in pairs for o in (a, b, relationship(a, b))]

    client.force_login(intel.a_member)
    store(intel, *relationships(1))
    client.get("/intel/?type=relationship")
    with CaptureQueriesContext(connection) as one:
        response = client.get("/intel/?type=relationship")
    assert [o.display for o in response.context["object_list"]] == [
        "C2 server 198.51.100.0 indicates Family 0"
    ]
    store(intel, *relationships(12))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/intel/?type=relationship")
    assert len(response.context["object_list"]) == 13
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


# --- An unrelated nation -------------------------------------------------------------------


def test_an_unrelated_nation_gets_404_and_never_meets_the_name(intel, client):
    c_manager = c_pm(intel)
    secret = indicator("192.0.2.44", name=SECRET)
    malware = sdo("malware", "Caldera loader")
    obj, _ = store(intel, secret, sdo("campaign", "Atlantis campaign 9Y"))
    share_with_b(intel, obj)
    # C holds the same observable and a relationship naming A's hidden indicator.
    store(
        intel,
        indicator("192.0.2.44", name="Caldera sees this too"),
        malware,
        relationship(secret, malware),
        actor=c_manager,
    )
    c_own = StixObject.objects.get(owner=intel.c, type="malware")

    client.force_login(intel.c_member)
    for url in (
        obj.get_absolute_url(),
        f"/intel/{obj.pk}/share/",
        f"/intel/{obj.pk}/sighting/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/intel/{obj.pk}/sighting/", {"count": 1, "tlp": "amber"}).status_code == 404
    )
    pages = [
        client.get("/intel/"),
        client.get("/intel/?q=Atlantis"),
        client.get("/intel/?q=192.0.2.44"),
        client.get(f"/intel/?owner={intel.a.slug}"),
        client.get(c_own.get_absolute_url()),  # the graph of C's malware
        client.get(StixObject.objects.get(owner=intel.c, type="indicator").get_absolute_url()),
        client.get("/intel/connect/"),
    ]
    for page in pages:
        body = page.content.decode()
        assert SECRET not in body and "Atlantis campaign 9Y" not in body, page.request
        assert "Also reported by" not in body  # A's identical indicator is hidden from C
    assert client.get(f"/intel/?owner={intel.a.slug}").context["paginator"].count == 0
    export = client.get("/intel/export/")
    assert SECRET not in export.content.decode()
    assert (
        client.get(f"/intel/?agreement={intel.ab_agreement.reference}").context["paginator"].count
        == 0
    )


# --- An object's page ---------------------------------------------------------------------


def test_the_owner_sees_json_versions_shares_sightings_access_and_history(intel, client):
    data = indicator("198.51.100.7", name="C2 v1")
    (obj,) = store(intel, data)
    store(intel, {**data, "name": "C2 v2", "modified": "2026-12-01T08:00:00.000Z"})
    share_with_b(intel, obj)
    services.report_sighting(actor=intel.b_member, sighted=obj, count=4)
    services.report_sighting(actor=intel.b_member, sighted=obj, anonymous=True)

    client.force_login(intel.a_member)
    response = client.get(obj.get_absolute_url())
    body = response.content.decode()
    assert "C2 v2" in body
    stix_json = json.loads(response.context["stix_json"])
    assert stix_json["name"] == "C2 v2" and stix_json["id"] == data["id"]
    assert '<pre class="stix-json"' in body
    assert [v.modified.isoformat() for v in response.context["versions"]] == [
        "2026-12-01T08:00:00+00:00",
        "2026-11-30T10:00:00+00:00",
    ]
    # Read as a person reads it: <wbr> only lets a phone break the timestamp after its date.
    assert "2026-12-01T08:00:00.000000Z" in body.replace("<wbr>", "")
    assert "Who can see this, and why" in body and "Members of Borealis Cyber Centre" in body
    # The history, in words: who shared it with whom (portal.audit_words).
    assert re.search(
        r"shared this intelligence object with <a [^>]+>Borealis Cyber Centre</a>", body
    )
    summary = response.context["sightings"]
    assert [(row["organisation"], row["count"]) for row in summary] == [(intel.b, 4), (None, 1)]
    assert "Anonymous" in body and "Who used it" in body
    assert "shares-heading" in body and "Revoke" not in body  # no role: no revoke button
    assert f"/intel/{obj.pk}/share/" not in body

    client.force_login(intel.a_pm)
    body = client.get(obj.get_absolute_url()).content.decode()
    assert f"/intel/{obj.pk}/share/" in body and f"/intel/{obj.pk}/shares/" in body


def test_a_partner_sees_the_object_but_not_its_shares_or_history(intel, client):
    (obj,) = store(intel, indicator())
    share_with_b(intel, obj)
    client.force_login(intel.b_member)
    response = client.get(obj.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "Who can see this" not in body and "shares-heading" not in body
    assert "History" not in body and "Who used it" not in body
    assert f"under <code>{intel.ab_agreement.label}</code>" in body
    assert f"/intel/{obj.pk}/share/" not in body  # recipients never pass it on
    assert f"/intel/{obj.pk}/sighting/" in body
    assert client.get(f"/intel/{obj.pk}/share/").status_code == 403


def test_the_graph_draws_only_what_the_viewer_may_see(intel, client):
    shared_indicator = indicator("198.51.100.8", name="Shared beacon")
    hidden_malware = sdo("malware", "Hidden implant 7K")
    visible_tool = sdo("tool", "Shared scanner")
    the_report = report("Campaign report", shared_indicator, hidden_malware, visible_tool)
    stored = store(
        intel,
        shared_indicator,
        hidden_malware,
        visible_tool,
        the_report,
        relationship(shared_indicator, hidden_malware),
        relationship(shared_indicator, visible_tool, "related-to"),
        report("Internal assessment", shared_indicator),
    )
    by_name = {o.type if o.type == "relationship" else o.name: o for o in stored}
    for obj in stored:
        if (
            obj.name not in ("Hidden implant 7K", "Internal assessment")
            and obj.type != "relationship"
        ):
            share_with_b(intel, obj)
    rel_to_tool = StixObject.objects.get(type="relationship", name__contains="related-to")
    share_with_b(intel, rel_to_tool)
    hidden_rel = StixObject.objects.get(type="relationship", name__contains="indicates")
    share_with_b(intel, hidden_rel)  # visible relationship, but its target stays hidden

    client.force_login(intel.b_member)
    page = client.get(by_name["Campaign report"].get_absolute_url())
    body = page.content.decode()
    assert "<svg" in body and "Shared beacon" in body and "Shared scanner" in body
    assert "Hidden implant 7K" not in body
    drawn = {r.other.name for r in page.context["relations"]}
    assert drawn == {"Shared beacon", "Shared scanner"}
    assert f'href="{by_name["Shared beacon"].get_absolute_url()}"' in body

    # The report that references the beacon is drawn on its page too (coming in); A's
    # internal assessment of it is not, for B.
    page = client.get(by_name["Shared beacon"].get_absolute_url())
    assert {(r.other.name, r.label, r.incoming) for r in page.context["relations"]} == {
        ("Shared scanner", "related-to", False),
        ("Campaign report", "refers to", True),
    }
    assert "Hidden implant 7K" not in page.content.decode()
    assert "Internal assessment" not in page.content.decode()

    # Relationships are named by the objects they join, where B may see them.
    listing = client.get("/intel/?type=relationship").content.decode()
    assert "Shared beacon related-to Shared scanner" in listing
    assert f"Shared beacon indicates malware--{hidden_malware['id'][9:17]}…" in listing
    assert "Hidden implant 7K" not in listing

    client.force_login(intel.a_member)  # the owner sees everything it holds
    page = client.get(by_name["Shared beacon"].get_absolute_url())
    assert {(r.other.name, r.label) for r in page.context["relations"]} == {
        ("Shared scanner", "related-to"),
        ("Hidden implant 7K", "indicates"),
        ("Campaign report", "refers to"),
        ("Internal assessment", "refers to"),
    }


def test_also_reported_by_names_visible_sources_and_nothing_else(intel, client):
    (mine,) = store(intel, indicator("198.51.100.77"))
    (theirs,) = store(intel, indicator("198.51.100.77", name="Borealis view"), actor=intel.b_pm)
    store(intel, indicator("198.51.100.77", name="Caldera view"), actor=c_pm(intel))
    client.force_login(intel.a_member)
    body = client.get(mine.get_absolute_url()).content.decode()
    assert "Also reported by" not in body
    services.share_object(
        actor=intel.b_pm, obj=theirs, agreement=intel.ab_agreement, recipient=intel.a
    )
    page = client.get(mine.get_absolute_url())
    assert page.context["also_reported_by"] == [intel.b]
    body = page.content.decode()
    assert "Also reported by" in body and "Borealis Cyber Centre" in body
    assert "Caldera" not in body


# --- Sharing through the dialog -------------------------------------------------------------


def test_share_and_revoke_through_the_dialog(intel, client):
    (obj,) = store(intel, indicator())
    option = f"{intel.ab_agreement.pk}:{intel.b.pk}"
    client.force_login(intel.a_pm)
    dialog = client.get(f"/intel/{obj.pk}/share/", **HTMX)
    body = dialog.content.decode()
    assert body.lstrip().startswith("<dialog") and "Borealis Cyber Centre under" in body
    assert "password" not in body  # AMBER needs no re-authentication

    response = client.post(f"/intel/{obj.pk}/share/", {"option": option}, **HTMX)
    assert response["HX-Redirect"] == obj.get_absolute_url()
    share = IntelShare.objects.get(object=obj)
    client.force_login(intel.b_member)
    assert client.get(obj.get_absolute_url()).status_code == 200

    client.force_login(intel.a_pm)
    again = client.get(f"/intel/{obj.pk}/share/").content.decode()
    assert "Already shared with Borealis Cyber Centre" in again
    response = client.post(f"/intel/{obj.pk}/shares/{share.pk}/revoke/", {"reason": "Stale"})
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.status == ShareStatus.REVOKED and share.end_reason == "Stale"
    client.force_login(intel.b_member)
    assert client.get(obj.get_absolute_url()).status_code == 404


def test_strict_and_red_need_a_password_and_red_needs_named_people(intel, client):
    red_pact = agreement_with_ceiling(intel, "red")
    (strict, red) = store(
        intel,
        indicator("198.51.100.31", object_marking_refs=[TLP2_IDS["amber_strict"]]),
        indicator("198.51.100.32", object_marking_refs=[TLP2_IDS["red"]]),
    )
    client.force_login(intel.a_pm)
    option = f"{red_pact.pk}:{intel.b.pk}"
    page = client.post(f"/intel/{strict.pk}/share/", {"option": option, "password": "wrong"})
    assert "The password is not correct." in page.content.decode()
    assert not IntelShare.objects.filter(object=strict).exists()
    client.post(f"/intel/{strict.pk}/share/", {"option": option, "password": PASSWORD})
    assert IntelShare.objects.filter(object=strict, status="active").exists()

    page = client.post(f"/intel/{red.pk}/share/", {"option": option, "password": PASSWORD})
    assert "TLP:RED is shared with named people only" in page.content.decode()
    client.post(
        f"/intel/{red.pk}/share/",
        {"option": option, "password": PASSWORD, "recipient_users": [intel.b_member.username]},
    )
    share = IntelShare.objects.get(object=red)
    assert list(share.recipient_users.all()) == [intel.b_member]


def test_sharing_a_report_lists_what_stays_behind_and_shares_the_rest(intel, client):
    shared = indicator("198.51.100.40", name="Goes along")
    too_red = indicator("198.51.100.41", name="Too red", object_marking_refs=[TLP2_IDS["red"]])
    there = indicator("198.51.100.42", name="Already there")
    foreign = {"id": f"indicator--{uuid.uuid4()}"}
    the_report = report("Quarterly report", shared, too_red, there, foreign)
    *_, there_obj = store(intel, shared, too_red, there)
    share_with_b(intel, there_obj)
    (report_obj,) = store(intel, the_report, default_tlp="green")
    client.force_login(intel.a_pm)
    dialog = client.get(f"/intel/{report_obj.pk}/share/", **HTMX).content.decode()
    assert "Also share the objects it references" in dialog
    assert "1 referenced object goes along, 1 they have already; 1 stays behind" in dialog
    assert "Too red" in dialog and "TLP:RED goes to named people only" in dialog
    assert "1 referenced object is not held by your organisation" in dialog

    option = f"{intel.ab_agreement.pk}:{intel.b.pk}"
    client.post(f"/intel/{report_obj.pk}/share/", {"option": option, "with_references": "on"})
    shared_names = set(
        IntelShare.objects.filter(status="active").values_list("object__name", flat=True)
    )
    assert shared_names == {"Quarterly report", "Goes along", "Already there"}


# --- Sightings --------------------------------------------------------------------------------


def test_a_partner_reports_a_sighting_from_the_page(intel, client):
    (obj,) = store(intel, indicator())
    share_with_b(intel, obj)
    client.force_login(intel.b_member)
    dialog = client.get(f"/intel/{obj.pk}/sighting/", **HTMX).content.decode()
    assert dialog.lstrip().startswith("<dialog") and "Report it anonymously" in dialog
    bad = client.post(
        f"/intel/{obj.pk}/sighting/",
        {
            "count": 0,
            "first_seen": "2026-11-30T10:00",
            "last_seen": "2026-11-29T10:00",
            "tlp": "amber",
        },
    )
    body = bad.content.decode()
    assert "Ensure this value is greater than or equal to 1." in body
    assert "Last seen cannot be before first seen." in body
    assert 'value="2026-11-30T10:00"' in body  # nothing typed is lost
    response = client.post(
        f"/intel/{obj.pk}/sighting/",
        {
            "count": 5,
            "first_seen": "2026-11-29T10:00",
            "last_seen": "2026-11-30T10:00",
            "tlp": "amber",
        },
        **HTMX,
    )
    assert response["HX-Redirect"] == obj.get_absolute_url()
    summary = services.sighting_summary(intel.a_pm, obj)
    assert [(row["organisation"], row["count"]) for row in summary] == [(intel.b, 5)]
    client.force_login(intel.a_member)
    body = client.get(obj.get_absolute_url()).content.decode()
    assert "Borealis Cyber Centre" in body and "29 Nov 2026, 10:00 UTC" in body


# --- The indicator form ---------------------------------------------------------------------


def test_the_indicator_form_creates_an_indicator(intel, client):
    client.force_login(intel.a_pm)
    response = client.post(
        "/intel/new/indicator/",
        {
            "name": "Exfiltration host",
            "pattern": "[domain-name:value = 'exfil.example.com']",
            "valid_from": "2026-11-30T10:00",
            "valid_until": "2027-01-30T10:00",
            "indicator_types": ["malicious-activity", "compromised"],
            "kill_chain_phases": "mitre-attack:exfiltration\n"
            "lockheed-martin-cyber-kill-chain:actions-on-objectives",
            "description": "Seen in the November campaign.",
            "labels": "exfil, apt",
            "tlp": "green",
            "data_category": "threat_intelligence",
        },
    )
    obj = StixObject.objects.get(name="Exfiltration host")
    assert response["Location"] == obj.get_absolute_url()
    data = services.latest_data(obj)
    assert data["indicator_types"] == ["malicious-activity", "compromised"]
    assert data["kill_chain_phases"][0] == {
        "kill_chain_name": "mitre-attack",
        "phase_name": "exfiltration",
    }
    assert data["labels"] == ["exfil", "apt"] and data["valid_until"].startswith("2027-01-30")
    assert obj.tlp == "green" and obj.owner == intel.a


def test_the_indicator_form_shows_errors_by_field_and_keeps_the_input(intel, client):
    client.force_login(intel.a_pm)
    response = client.post(
        "/intel/new/indicator/",
        {
            "name": "Broken",
            "pattern": "[ipv4-addr:value = '198.51.100.7'",
            "valid_from": "2026-11-30T10:00",
            "valid_until": "2026-11-01T10:00",
            "kill_chain_phases": "no-colon-here",
            "labels": "keep, these",
            "tlp": "amber",
            "data_category": "threat_intelligence",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"pattern", "kill_chain_phases"}
    body = response.content.decode()
    assert "is not kill_chain_name:phase_name" in body
    assert "[ipv4-addr:value = &#x27;198.51.100.7&#x27;" in body and "keep, these" in body
    assert not StixObject.objects.exists()

    response = client.post(
        "/intel/new/indicator/",
        {
            "name": "Backwards",
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "valid_from": "2026-11-30T10:00",
            "valid_until": "2026-11-01T10:00",
            "tlp": "amber",
            "data_category": "threat_intelligence",
        },
    )
    assert response.context["form"].errors == {
        "valid_until": ["Valid until must be after valid from."]
    }


def test_only_programme_managers_create_and_import(intel, client):
    client.force_login(intel.a_member)
    assert client.get("/intel/new/indicator/").status_code == 403
    assert client.get("/intel/import/").status_code == 403
    assert client.get("/intel/connect/").status_code == 200


def test_the_live_pattern_check(intel, client):
    assert client.get("/intel/pattern-check/?pattern=x").status_code == 302  # signed in only
    client.force_login(intel.a_member)
    good = client.get("/intel/pattern-check/", {"pattern": "[ipv4-addr:value = '198.51.100.7']"})
    assert "Valid pattern" in good.content.decode()
    bad = client.get("/intel/pattern-check/", {"pattern": "[ipv4-addr:value = "}).content.decode()
    assert "Not a valid pattern" in bad and "<li>" in bad
    assert "Enter a pattern" in client.get("/intel/pattern-check/").content.decode()


# --- Imports ------------------------------------------------------------------------------------


def test_a_pasted_bundle_is_imported(intel, client):
    client.force_login(intel.a_pm)
    pasted = json.dumps(bundle(indicator("198.51.100.50"), sdo("malware", "Imported wiper")))
    response = client.post(
        "/intel/import/",
        {"format": "stix", "text": pasted, "default_tlp": "green", "data_category": "incidents"},
    )
    assert response.status_code == 302
    assert set(StixObject.objects.values_list("type", "tlp", "data_category")) == {
        ("indicator", "green", "incidents"),
        ("malware", "green", "incidents"),
    }


def test_an_uploaded_misp_event_is_imported(intel, client):
    client.force_login(intel.a_pm)
    upload = SimpleUploadedFile("event.json", MISP_EVENT.read_bytes(), "application/json")
    response = client.post(
        "/intel/import/",
        {
            "format": "misp",
            "file": upload,
            "default_tlp": "green",
            "data_category": "threat_intelligence",
        },
    )
    assert response.status_code == 302
    assert StixObject.objects.filter(owner=intel.a, type="indicator").exists()


def test_a_refused_bundle_stores_nothing_and_keeps_the_text(intel, client):
    client.force_login(intel.a_pm)
    bad_pattern = indicator("198.51.100.60", pattern="[ipv4-addr:value = ")
    spoofed = indicator("198.51.100.61", created_by_ref="identity--" + str(uuid.uuid4()))
    pasted = json.dumps(bundle(indicator("198.51.100.62"), bad_pattern, spoofed))
    response = client.post(
        "/intel/import/",
        {"format": "stix", "text": pasted, "default_tlp": "amber", "data_category": "incidents"},
    )
    assert response.status_code == 200
    problems = response.context["form"].non_field_errors()
    assert len(problems) == 2
    assert problems[0].startswith(bad_pattern["id"]) and problems[1].startswith(spoofed["id"])
    body = response.content.decode()
    assert "Nothing was stored: 2 problems." in body
    assert "198.51.100.62" in body  # the pasted text is still in the form
    assert not StixObject.objects.exists()

    response = client.post(
        "/intel/import/",
        {
            "format": "stix",
            "text": "{not json",
            "default_tlp": "amber",
            "data_category": "incidents",
        },
    )
    assert "This is not valid JSON" in response.content.decode()
    response = client.post(
        "/intel/import/", {"format": "stix", "default_tlp": "amber", "data_category": "incidents"}
    )
    assert response.context["form"].errors == {"text": ["Upload a file or paste the JSON here."]}


# --- Export and "Connect your tools" --------------------------------------------------------


def test_the_export_holds_only_what_the_person_may_see(intel, client):
    shared, hidden = store(
        intel, indicator("198.51.100.70", name="Exported"), indicator("198.51.100.71", name=SECRET)
    )
    share_with_b(intel, shared)
    (b_malware,) = store(intel, sdo("malware", "B's own"), actor=intel.b_pm)
    client.force_login(intel.b_member)
    response = client.get("/intel/export/")
    assert response["Content-Type"].startswith("application/stix+json")
    assert "attachment" in response["Content-Disposition"]
    objects = json.loads(response.content)["objects"]
    ids = {o["id"] for o in objects}
    assert shared.stix_id in ids and b_malware.stix_id in ids and hidden.stix_id not in ids
    assert SECRET not in response.content.decode()
    assert sum(o["type"] == "marking-definition" for o in objects) == 5

    filtered = json.loads(client.get("/intel/export/?type=malware").content)["objects"]
    assert {o["id"] for o in filtered if o["type"] not in ("marking-definition", "identity")} == {
        b_malware.stix_id
    }


def test_connect_your_tools_shows_each_collection_and_ready_configuration(intel, client, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    from intel import collections

    client.force_login(intel.b_member)
    body = client.get("/intel/connect/").content.decode()
    collection_id = collections.agreement_collection_id(intel.ab_agreement.reference)
    url = f"https://portal.example.org/taxii2/api/collections/{collection_id}/"
    assert url in body and "https://portal.example.org/taxii2/" in body
    assert intel.ab_agreement.reference in body and "bor-ncsc sightings" in body
    assert "TaxiiServer" in body and "TAXII2_DISCOVERY_URL" in body
    assert f"TAXII2_COLLECTIONS=api.{intel.ab_agreement.reference}" in body
    assert "your API token from your profile" in body and "/profile/#token-heading" in body
    assert intel.b_member.username in body

    client.force_login(intel.c_member)
    body = client.get("/intel/connect/").content.decode()
    assert collection_id not in body and intel.ab_agreement.reference not in body


@pytest.mark.parametrize("path", ["/intel/", "/intel/connect/", "/intel/export/"])
def test_anonymous_people_are_sent_to_sign_in(client, path, db):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_no_intelligence_page_runs_a_payload_from_stix(intel, client):
    """STIX text is the sender's: names, descriptions (Markdown), patterns, labels and
    relationship types reach the list, the page, its graph, its JSON and the share dialog."""
    from tests.security.xss import FULL, MARKDOWN, scan

    payload_indicator = indicator(
        "198.51.100.99",
        name=FULL,
        description=MARKDOWN,
        labels=[FULL],
        pattern=f"[url:value = '{FULL.replace(chr(39), '')}']",
    )
    malware = sdo("malware", FULL, description=MARKDOWN)
    the_report = report(FULL, payload_indicator, malware)
    stored = store(
        intel,
        payload_indicator,
        malware,
        the_report,
        relationship(payload_indicator, malware, "uses"),
    )
    report_obj = next(o for o in stored if o.type == "report")
    share_with_b(intel, stored[0])
    services.report_sighting(actor=intel.b_member, sighted=stored[0], description=FULL)
    client.force_login(intel.a_pm)
    pages = [
        client.get("/intel/"),
        client.get("/intel/", {"q": FULL, "agreement": FULL, "added_since": FULL, "sort": FULL}),
        *[client.get(o.get_absolute_url()) for o in stored],
        client.get(f"/intel/{report_obj.pk}/share/", **HTMX),
        client.get(f"/intel/{stored[0].pk}/sighting/"),
        client.get("/intel/pattern-check/", {"pattern": FULL}),
        client.get("/intel/connect/"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert scan(page) == [], page.request["PATH_INFO"]
    assert "&lt;script&gt;" in pages[2].content.decode()  # shown, escaped
