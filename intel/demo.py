"""Demo intelligence: about 60 STIX 2.1 objects, made only through intel.services.

What a CSIRT's analysts would see after a few weeks of exchange under the demo agreements:

- the Estonian CSIRT's picture of a phishing campaign: indicators on documentation-range
  addresses and `example` domains, a file hash, two malware families, a threat actor, its
  intrusion set and campaign, ATT&CK techniques, CVEs, the relationships between them, two
  reports, an observed-data record with its cyber-observables, and an analyst's note;
- the Finnish NCSC's own indicators, one on the same address as the Estonian one (so each
  side's page says "also reported by" the other), one TLP:RED for two named people, and an
  opinion on an Estonian indicator;
- the Polish agency's indicator under the memorandum, and sightings from partners, some of
  them anonymous.

Every TLP is present and shared, RED only with named people; the incident record rides on
the ministry agreement that expires within weeks, so its end can be watched.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone

from agreements.models import Agreement
from intel import markings, services, stix
from intel.models import StixObject
from portal import demo
from portal.models import Organisation
from portal.reauth import Reauthentication
from portal.vocabulary import TLP

User = get_user_model()

#: The demo's STIX ids derive from their names, so each run of the demo has the same ids.
DEMO_NAMESPACE = uuid.UUID("0b7e3c44-5d51-4f7e-9a43-2d8c0f6e9b15")

ATTACK_PATTERNS = [
    ("T1566", "Phishing", "initial-access"),
    ("T1566.001", "Spearphishing Attachment", "initial-access"),
    ("T1204.002", "User Execution: Malicious File", "execution"),
    ("T1059.001", "Command and Scripting Interpreter: PowerShell", "execution"),
    ("T1071.001", "Application Layer Protocol: Web Protocols", "command-and-control"),
    ("T1190", "Exploit Public-Facing Application", "initial-access"),
    ("T1486", "Data Encrypted for Impact", "impact"),
]

VULNERABILITIES = [
    (
        "CVE-2024-3400",
        "Command injection in the GlobalProtect feature of PAN-OS, exploited before a fix "
        "was available.",
    ),
    (
        "CVE-2023-23397",
        "Elevation of privilege in Microsoft Outlook through a crafted reminder that leaks "
        "the user's NTLM hash.",
    ),
    (
        "CVE-2021-44228",
        "Remote code execution through JNDI lookups in Apache Log4j 2 (Log4Shell).",
    ),
]

#: SHA-256 of made-up content: no real sample has these hashes.
LOADER_SHA256 = hashlib.sha256(b"FernLoader dropper, demo sample 1").hexdigest()
RAT_SHA256 = hashlib.sha256(b"PlumeRAT implant, demo sample 7").hexdigest()

SHARED_IP = "198.51.100.23"  # reported by both the Estonian and the Finnish centre


def seed(write) -> None:
    if StixObject.objects.exists():
        write("Intelligence: already seeded.")
        return
    _Seeder(write).run()


class _Seeder:
    def __init__(self, write):
        self.write = write
        self.now = timezone.now().replace(microsecond=0)
        self.dsa = Agreement.objects.get(
            title="Bilateral threat intelligence exchange", status="active"
        )
        self.ministry = Agreement.objects.get(title="Ministry incident reporting exchange")
        self.mou = Agreement.objects.get(title="Baltic-Nordic cyber cooperation memorandum")
        self.ids: dict[str, str] = {}

    def run(self) -> None:
        self._attack_patterns_and_vulnerabilities()
        self._campaign()
        self._incident()
        self._finnish_intelligence()
        self._polish_intelligence()
        self._sharing()
        self._feedback()
        self.write(
            f"Intelligence: {StixObject.objects.count()} STIX objects created and shared "
            "under the demo agreements."
        )

    # --- The Estonian CSIRT's picture ---

    def _attack_patterns_and_vulnerabilities(self) -> None:
        patterns = [
            self._sdo(
                "attack-pattern",
                f"attack-pattern {technique}",
                days=60,
                name=name,
                external_references=[
                    {
                        "source_name": "mitre-attack",
                        "external_id": technique,
                        "url": _attack_url(technique),
                    }
                ],
                kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": phase}],
            )
            for technique, name, phase in ATTACK_PATTERNS
        ]
        self._import("ee-csirt", patterns, tlp=TLP.CLEAR)
        vulnerabilities = [
            self._sdo(
                "vulnerability",
                cve,
                days=45,
                name=cve,
                description=description,
                external_references=[
                    {
                        "source_name": "cve",
                        "external_id": cve,
                        "url": f"https://www.cve.org/CVERecord?id={cve}",
                    }
                ],
            )
            for cve, description in VULNERABILITIES
        ]
        self._import("ee-csirt", vulnerabilities, tlp=TLP.CLEAR, category="vulnerabilities")

    def _campaign(self) -> None:
        amber, strict = _marking(TLP.AMBER), _marking(TLP.AMBER_STRICT)
        objects = [
            self._sdo(
                "threat-actor",
                "Grey Lynx",
                days=40,
                name="Grey Lynx",
                description="A state-aligned actor targeting ministries and energy operators "
                "around the Baltic Sea with invoice-themed lures.",
                threat_actor_types=["nation-state"],
                aliases=["GLX"],
                roles=["agent"],
                sophistication="advanced",
                resource_level="government",
                primary_motivation="organizational-gain",
                object_marking_refs=strict,
            ),
            self._sdo(
                "intrusion-set",
                "Lynx Harbour",
                days=40,
                name="Lynx Harbour",
                description="Infrastructure and tooling the CSIRT attributes to Grey Lynx.",
                aliases=["GLX-Harbour"],
                goals=["Access to government mail", "Pre-positioning in energy networks"],
                resource_level="government",
                primary_motivation="organizational-gain",
                object_marking_refs=amber,
            ),
            self._sdo(
                "campaign",
                "Invoice lure wave",
                days=30,
                name="Invoice lure wave, autumn",
                description="Spearphishing with fake overdue invoices, leading to FernLoader.",
                objective="Initial access to finance departments.",
                object_marking_refs=amber,
            ),
            self._sdo(
                "malware",
                "FernLoader",
                days=30,
                name="FernLoader",
                description="A loader delivered as a script inside invoice archives.",
                malware_types=["dropper"],
                is_family=True,
                implementation_languages=["javascript", "powershell"],
                object_marking_refs=amber,
            ),
            self._sdo(
                "malware",
                "PlumeRAT",
                days=30,
                name="PlumeRAT",
                description="A remote-access trojan that beacons over HTTPS.",
                malware_types=["remote-access-trojan"],
                is_family=True,
                object_marking_refs=amber,
            ),
            self._sdo(
                "tool",
                "SyncPipe",
                days=25,
                name="SyncPipe",
                description="A file synchronisation utility abused to move data out.",
                tool_types=["exploitation"],
            ),
        ]
        c2, delivery, execution = "command-and-control", "initial-access", "execution"
        indicators = [
            ("ind-c2", f"[ipv4-addr:value = '{SHARED_IP}']", "PlumeRAT C2 server", TLP.GREEN, c2),
            (
                "ind-c2-2",
                "[ipv4-addr:value = '203.0.113.77']",
                "PlumeRAT fallback C2",
                TLP.AMBER,
                c2,
            ),
            (
                "ind-c2-v6",
                "[ipv6-addr:value = '2001:db8:4f2a::17']",
                "PlumeRAT C2 over IPv6",
                TLP.GREEN,
                c2,
            ),
            (
                "ind-lure-domain",
                "[domain-name:value = 'invoice-portal.example.com']",
                "Invoice lure landing domain",
                TLP.GREEN,
                delivery,
            ),
            (
                "ind-login-domain",
                "[domain-name:value = 'login-update.example']",
                "Credential phishing domain",
                TLP.GREEN,
                delivery,
            ),
            (
                "ind-url",
                "[url:value = 'https://cdn.example.org/assets/invoice_2026.js']",
                "FernLoader download URL",
                TLP.AMBER,
                execution,
            ),
            (
                "ind-loader-hash",
                f"[file:hashes.'SHA-256' = '{LOADER_SHA256}']",
                "FernLoader dropper (SHA-256)",
                TLP.AMBER,
                execution,
            ),
            (
                "ind-sender",
                "[email-message:from_ref.value = 'billing@invoice-portal.example.com']",
                "Lure sender address",
                TLP.GREEN,
                delivery,
            ),
            (
                "ind-scanner",
                "[ipv4-addr:value = '192.0.2.144']",
                "Scanner probing GlobalProtect gateways",
                TLP.GREEN,
                delivery,
            ),
        ]
        for key, pattern, name, tlp, phase in indicators:
            objects.append(
                self._sdo(
                    "indicator",
                    key,
                    days=20,
                    name=name,
                    pattern=pattern,
                    pattern_type="stix",
                    valid_from=self._at(20),
                    indicator_types=["malicious-activity"],
                    kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": phase}],
                    object_marking_refs=_marking(tlp),
                )
            )
        relationships = [
            ("ind-c2", "indicates", "PlumeRAT"),
            ("ind-c2-2", "indicates", "PlumeRAT"),
            ("ind-c2-v6", "indicates", "PlumeRAT"),
            ("ind-lure-domain", "indicates", "Invoice lure wave"),
            ("ind-sender", "indicates", "Invoice lure wave"),
            ("ind-url", "indicates", "FernLoader"),
            ("ind-loader-hash", "indicates", "FernLoader"),
            ("FernLoader", "uses", "attack-pattern T1204.002"),
            ("PlumeRAT", "uses", "attack-pattern T1071.001"),
            ("PlumeRAT", "uses", "attack-pattern T1059.001"),
            ("Lynx Harbour", "uses", "FernLoader"),
            ("Lynx Harbour", "uses", "attack-pattern T1566.001"),
            ("Lynx Harbour", "targets", "CVE-2024-3400"),
            ("Lynx Harbour", "attributed-to", "Grey Lynx"),
            ("Invoice lure wave", "attributed-to", "Lynx Harbour"),
        ]
        for source, kind, target in relationships:
            objects.append(
                self._sro(source, kind, target, days=18, tlp=_relationship_tlp(source, target))
            )
        self._import("ee-csirt", objects, tlp=TLP.GREEN)
        # A second version: the download URL was taken down, so the indicator now ends.
        url = next(o for o in objects if o["id"] == self.ids["ind-url"])
        self._import(
            "ee-csirt",
            [
                {
                    **url,
                    "modified": self._at(5),
                    "valid_until": self._at(5),
                    "description": "Taken down by the hosting provider; kept for hunting.",
                }
            ],
            tlp=TLP.AMBER,
        )
        self.indicator_from_form = services.create_indicator(
            actor=_user("ee-csirt-pm"),
            name="PlumeRAT implant (SHA-256)",
            pattern=f"[file:hashes.'SHA-256' = '{RAT_SHA256}']",
            valid_from=self.now - datetime.timedelta(days=10),
            indicator_types=["malicious-activity"],
            description="Implant recovered from a ministry workstation.",
            labels=["plumerat"],
            tlp=TLP.AMBER,
        )
        reports = [
            self._sdo(
                "report",
                "report-lure-wave",
                days=8,
                name="Grey Lynx invoice-lure phishing wave",
                description="How the invoice lures reach finance departments, what they "
                "install, and how to find them.",
                report_types=["campaign", "threat-actor"],
                published=self._at(8),
                object_refs=[
                    self.ids[key]
                    for key in (
                        "Invoice lure wave",
                        "Lynx Harbour",
                        "FernLoader",
                        "PlumeRAT",
                        "ind-c2",
                        "ind-c2-2",
                        "ind-c2-v6",
                        "ind-lure-domain",
                        "ind-sender",
                        "ind-url",
                        "ind-loader-hash",
                        "attack-pattern T1566.001",
                        "attack-pattern T1204.002",
                        "attack-pattern T1071.001",
                        "ind-c2 indicates PlumeRAT",
                        "Lynx Harbour uses FernLoader",
                        "Invoice lure wave attributed-to Lynx Harbour",
                    )
                ],
                object_marking_refs=amber,
            ),
            self._sdo(
                "report",
                "report-edge-devices",
                days=6,
                name="Exploitation of edge VPN gateways",
                description="Scanning and exploitation of internet-facing VPN gateways seen "
                "across the region, with the vulnerabilities involved.",
                report_types=["attack-pattern", "vulnerability"],
                published=self._at(6),
                object_refs=[
                    self.ids[key]
                    for key in (
                        "ind-scanner",
                        "attack-pattern T1190",
                        "CVE-2024-3400",
                        "CVE-2021-44228",
                    )
                ],
                object_marking_refs=_marking(TLP.GREEN),
            ),
        ]
        note = self._sdo(
            "note",
            "note-lure-themes",
            days=4,
            abstract="Lure themes rotate weekly",
            content="The invoice lures changed theme every Monday (overdue invoice, payment "
            "reminder, tax refund). Hunt on the sender pattern rather than the subject line.",
            authors=["Estonian National CSIRT analysis desk"],
            object_refs=[self.ids["report-lure-wave"]],
            object_marking_refs=amber,
        )
        self._import("ee-csirt", [*reports, note], tlp=TLP.AMBER)

    def _incident(self) -> None:
        """An observed-data record of one incident, with its cyber-observables."""
        address = _sco("ipv4-addr", value=SHARED_IP)
        domain = _sco("domain-name", value="invoice-portal.example.com")
        traffic = _sco(
            "network-traffic",
            dst_ref=address["id"],
            dst_port=443,
            protocols=["ipv4", "tcp", "tls"],
            start=self._at(12),
        )
        sample = _sco("file", name="invoice_0423.js", hashes={"SHA-256": LOADER_SHA256})
        observed = self._sdo(
            "observed-data",
            "observed-ministry-incident",
            days=12,
            first_observed=self._at(12),
            last_observed=self._at(11),
            number_observed=37,
            object_refs=[address["id"], domain["id"], traffic["id"], sample["id"]],
        )
        self._import(
            "ee-csirt",
            [address, domain, traffic, sample, observed],
            tlp=TLP.AMBER,
            category="incidents",
        )

    # --- Partners' own intelligence ---

    def _finnish_intelligence(self) -> None:
        fi = _user("fi-ncsc-pm")
        self.fi_same_ip = services.create_indicator(
            actor=fi,
            name=f"PlumeRAT C2 {SHARED_IP}, seen in Finnish networks",
            pattern=f"[ipv4-addr:value = '{SHARED_IP}'] AND [network-traffic:dst_port = 443]",
            valid_from=self.now - datetime.timedelta(days=9),
            indicator_types=["malicious-activity"],
            description="Beaconing every 300 s from three municipal networks.",
            tlp=TLP.GREEN,
        )
        self.fi_red = services.create_indicator(
            actor=fi,
            name="Grey Lynx staging server (source-sensitive)",
            pattern="[ipv4-addr:value = '192.0.2.66']",
            valid_from=self.now - datetime.timedelta(days=7),
            indicator_types=["attribution"],
            description="From a sensitive source: named recipients only, never passed on.",
            tlp=TLP.RED,
        )
        self.fi_strict = services.create_indicator(
            actor=fi,
            name="Mail sync domain of Lynx Harbour",
            pattern="[domain-name:value = 'owa-sync.example.org']",
            valid_from=self.now - datetime.timedelta(days=7),
            indicator_types=["malicious-activity"],
            description="Seen in the mail logs of one ministry; do not pass on.",
            tlp=TLP.AMBER_STRICT,
        )
        self.fi_ipv6 = services.create_indicator(
            actor=fi,
            name="Exploitation source 2001:db8:77::5",
            pattern="[ipv6-addr:value = '2001:db8:77::5']",
            valid_from=self.now - datetime.timedelta(days=3),
            indicator_types=["malicious-activity"],
            tlp=TLP.CLEAR,
        )

    def _polish_intelligence(self) -> None:
        self.pl_domain = services.create_indicator(
            actor=_user("pl-cda-pm"),
            name="Fake update server",
            pattern="[domain-name:value = 'update-check.example']",
            valid_from=self.now - datetime.timedelta(days=5),
            indicator_types=["malicious-activity"],
            description="Serves a fake browser update that installs PlumeRAT.",
            tlp=TLP.GREEN,
        )

    # --- Sharing under the agreements ---

    def _sharing(self) -> None:
        ee, fi, pl, de = (_org(s) for s in ("ee-csirt", "fi-ncsc", "pl-cda", "de-bmds"))
        # The campaign report and what it references go to the Finnish NCSC in one step.
        self._share("report-lure-wave", self.dsa, fi, with_references=True)
        for key in ("Grey Lynx", "note-lure-themes", "ind-scanner", *_cves()):
            self._share(key, self.dsa, fi)
        self._share(self.indicator_from_form, self.dsa, fi)
        # Under the memorandum (GREEN ceiling), the GREEN indicators go to every party;
        # the edge-device report takes along what the ceiling allows of its references.
        for recipient in (fi, pl, _org("int-ccdc")):
            for key in ("ind-c2", "ind-lure-domain", "ind-login-domain", "ind-sender"):
                if not _shared(self._obj(key), recipient):
                    self._share(key, self.mou, recipient)
        self._share("report-edge-devices", self.mou, pl, with_references=True)
        # The incident record rides on the ministry agreement, which expires within weeks.
        self._share("observed-ministry-incident", self.ministry, de, with_references=True)
        # The Finnish NCSC's own: the same C2 address, the RED one to two named people.
        self._share(self.fi_same_ip, self.dsa, ee)
        self._share(self.fi_strict, self.dsa, ee)
        self._share(self.fi_red, self.dsa, ee, people=["ee-csirt-pm", "ee-csirt-reviewer"])
        self._share(self.fi_ipv6, self.mou, ee)
        for recipient in (ee, fi):
            self._share(self.pl_domain, self.mou, recipient)

    def _feedback(self) -> None:
        """Sightings and an opinion from the partners who received the indicators."""

        def ago(days):
            return self.now - datetime.timedelta(days=days)

        sightings = [
            ("fi-ncsc-member", "ind-c2", 14, False, TLP.AMBER, "Beacons from three hosts."),
            ("fi-ncsc-pm", "ind-lure-domain", 3, True, TLP.GREEN, ""),
            ("fi-ncsc-member", "ind-loader-hash", 2, False, TLP.AMBER, "Two mail gateways."),
            ("pl-cda-member", "ind-login-domain", 5, False, TLP.GREEN, "Blocked at the proxy."),
            ("pl-cda-member", "ind-c2", 1, True, TLP.GREEN, ""),
            ("int-ccdc-member", "ind-sender", 9, True, TLP.GREEN, ""),
        ]
        for username, key, count, anonymous, tlp, description in sightings:
            services.report_sighting(
                actor=_user(username),
                sighted=self._obj(key),
                count=count,
                first_seen=ago(9),
                last_seen=ago(2),
                anonymous=anonymous,
                tlp=tlp,
                description=description,
            )
        services.report_sighting(
            actor=_user("ee-csirt-member"),
            sighted=self.fi_same_ip,
            count=4,
            first_seen=ago(6),
            last_seen=ago(1),
            tlp=TLP.GREEN,
            description="The same beacon interval in an Estonian hospital network.",
        )
        opinion = {
            "type": "opinion",
            "spec_version": "2.1",
            "id": self._id("opinion", "fi-opinion-c2"),
            "created": self._at(3),
            "modified": self._at(3),
            "opinion": "strongly-agree",
            "explanation": "Confirmed by our own sensors: the beacon interval and the TLS "
            "certificate match.",
            "authors": ["Finnish NCSC situation centre"],
            "object_refs": [self.ids["ind-c2"]],
        }
        stored = self._import("fi-ncsc", [opinion], tlp=TLP.GREEN, user="fi-ncsc-member")
        self._share(stored[0], self.dsa, _org("ee-csirt"))

    # --- Helpers ---

    def _id(self, stix_type: str, key: str) -> str:
        stix_id = f"{stix_type}--{uuid.uuid5(DEMO_NAMESPACE, key)}"
        self.ids[key] = stix_id
        return stix_id

    def _at(self, days: int) -> str:
        return stix.timestamp(self.now - datetime.timedelta(days=days))

    def _sdo(self, stix_type: str, key: str, *, days: int, **properties) -> dict:
        when = self._at(days)
        return {
            "type": stix_type,
            "spec_version": "2.1",
            "id": self._id(stix_type, key),
            "created": when,
            "modified": when,
            **properties,
        }

    def _sro(self, source: str, kind: str, target: str, *, days: int, tlp: str) -> dict:
        when = self._at(days)
        return {
            "type": "relationship",
            "spec_version": "2.1",
            "id": self._id("relationship", f"{source} {kind} {target}"),
            "created": when,
            "modified": when,
            "relationship_type": kind,
            "source_ref": self.ids[source],
            "target_ref": self.ids[target],
            "object_marking_refs": _marking(tlp),
        }

    def _import(self, owner, objects, *, tlp, category="threat_intelligence", user=None):
        result = services.import_objects(
            actor=_user(user or f"{owner}-pm"),
            raw={"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects},
            default_tlp=tlp,
            data_category=category,
            via="demo",
        )
        return result.stored

    def _obj(self, key_or_obj) -> StixObject:
        if isinstance(key_or_obj, StixObject):
            return key_or_obj
        return StixObject.objects.get(stix_id=self.ids[key_or_obj])

    def _share(self, key_or_obj, agreement, recipient, *, people=(), with_references=False):
        obj = self._obj(key_or_obj)
        services.share_object(
            actor=_user(f"{obj.owner.slug}-pm"),
            obj=obj,
            agreement=agreement,
            recipient=recipient,
            recipient_users=[_user(u) for u in people],
            reauthentication=Reauthentication(timezone.now(), "password"),
            with_references=with_references,
        )


def _marking(tlp: str) -> list[str]:
    return [markings.TLP2_IDS[tlp]]


def _relationship_tlp(source: str, target: str) -> str:
    """A relationship is as restricted as what it says: the attribution to the actor is
    AMBER+STRICT, the rest of the campaign's picture AMBER."""
    return TLP.AMBER_STRICT if "Grey Lynx" in (source, target) else TLP.AMBER


def _sco(stix_type: str, **properties) -> dict:
    """A cyber-observable with the deterministic id STIX 2.1 gives it (its id contributing
    properties, canonicalised, in the STIX namespace)."""
    import json

    import stix2

    made = stix2.parse({"type": stix_type, "spec_version": "2.1", **properties}, version="2.1")
    return json.loads(made.serialize())


def _attack_url(technique: str) -> str:
    return f"https://attack.mitre.org/techniques/{technique.replace('.', '/')}/"


def _cves() -> list[str]:
    return [cve for cve, _description in VULNERABILITIES]


def _shared(obj: StixObject, recipient: Organisation) -> bool:
    return obj.shares.filter(recipient=recipient, status="active").exists()


def _org(slug: str) -> Organisation:
    return Organisation.objects.get(slug=slug)


def _user(username: str):
    return User.objects.select_related("membership__organisation").get(username=username)


demo.register("intel", seed)
