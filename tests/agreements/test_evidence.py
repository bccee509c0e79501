"""Evidence a partner can check without trusting the portal: the signed bundle, the
published key, the certificate of completion and the signing key's configuration."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from agreements import certificate, evidence, services
from portal import services as portal_services
from portal import signing
from portal.models import Role
from portal.reauth import Reauthentication
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    designate_signatories,
    platform_staff,
)

BODY = "# Terms\nEach party protects the other's indicators as TLP:AMBER."


@dataclass
class Signed:
    agreement: object
    signatories: list
    pm_a: object


def _make_signed(name_a="Atlantis National CSIRT", name_b="Borealis Cyber Centre") -> Signed:
    org_a = OrganisationFactory(name=name_a, slug="atl-csirt", country="EE")
    org_b = OrganisationFactory(name=name_b, slug="bor-ncsc", country="PL")
    pm_a = UserFactory(organisation=org_a, username="atl-pm", roles=[Role.PROGRAMME_MANAGER])
    UserFactory(organisation=org_b, username="bor-pm", roles=[Role.PROGRAMME_MANAGER])
    # B's programme manager designates B's signatory once A has drafted.
    sig_a = UserFactory(organisation=org_a, username="atl-signer", roles=[Role.SIGNATORY])
    sig_b = UserFactory(organisation=org_b, username="bor-signer", roles=[Role.SIGNATORY])
    today = timezone.localdate()
    agreement = services.create_agreement(
        actor=pm_a,
        parties=[org_a, org_b],
        title="Indicator exchange",
        kind="data_sharing",
        purpose="Exchange threat intelligence between the two national CSIRTs.",
        body=BODY,
        effective_from=today,
        expires_on=today + datetime.timedelta(days=365),
        data_categories=["threat_intelligence"],
        tlp_ceiling="amber",
    )
    designate_signatories(agreement)
    services.submit(actor=pm_a, agreement=agreement)
    for signatory in (sig_a, sig_b):
        services.sign(
            actor=signatory,
            agreement=agreement,
            reauthentication=Reauthentication(timezone.now(), "password"),
        )
    agreement.refresh_from_db()
    assert agreement.status == "active"
    return Signed(agreement, [sig_a, sig_b], pm_a)


@pytest.fixture
def signed(db) -> Signed:
    return _make_signed()


@pytest.fixture
def bundle(signed) -> bytes:
    return evidence.build_bundle(signed.agreement)


def _flip(data: bytes, needle: str, replacement: str) -> bytes:
    """Change one spot of the file, as a tamperer editing it by hand would."""
    assert needle.encode() in data, f"{needle!r} is not in the bundle"
    assert len(needle) == len(replacement)
    return data.replace(needle.encode(), replacement.encode(), 1)


# --- A genuine bundle -------------------------------------------------------------------------


def test_a_genuine_bundle_verifies_and_names_what_was_signed(signed, bundle):
    report = evidence.verify_bundle(bundle)

    assert report.ok, report.summary
    assert report.problems == []
    agreement = signed.agreement
    assert report.summary.startswith(
        f"Evidence verified: {agreement.reference} v1, content hash {agreement.content_hash}, "
        f"2 signatures, signed by key {signing.key_id()}"
    )
    # Only the embedded key was used, so the partner is told to compare it with the published one.
    assert "/.well-known/portal-signing-key" in report.summary


def test_the_bundle_holds_every_signature_and_the_history(signed, bundle):
    payload = json.loads(bundle)["payload"]

    assert payload["format"] == "cooperation-portal-evidence/2"
    assert payload["status"] == "active"
    assert {s["user"] for s in payload["signatures"]} == {"atl-signer", "bor-signer"}
    assert {s["content_hash"] for s in payload["signatures"]} == {signed.agreement.content_hash}
    actions = [event["action"] for event in payload["timeline"]]
    assert actions[0] == "agreement.created"  # oldest first
    assert {"agreement.submitted", "agreement.signed", "agreement.activated"} <= set(actions)
    assert payload["agreement"]["body"] == BODY


def test_the_command_verifies_a_genuine_bundle_against_the_published_key(
    bundle, signed, tmp_path, capsys
):
    bundle_file, key_file = tmp_path / "evidence.json", tmp_path / "portal.pem"
    bundle_file.write_bytes(bundle)
    key_file.write_text(signing.public_key_pem())

    call_command("verify_evidence", str(bundle_file), "--public-key", str(key_file))

    out = capsys.readouterr().out
    assert f"Evidence verified: {signed.agreement.reference} v1" in out
    assert f"signed by key {signing.key_id()}" in out


def test_the_command_runs_offline_and_exits_zero_or_non_zero(bundle, tmp_path):
    """A partner runs it on their own machine: no database, a real process exit code."""
    genuine, tampered = tmp_path / "genuine.json", tmp_path / "tampered.json"
    genuine.write_bytes(bundle)
    tampered.write_bytes(_flip(bundle, "atl-signer", "atl-signex"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        # Nothing listens here: the command would fail if it touched the database.
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/no_database",
    }
    manage = Path(settings.BASE_DIR) / "manage.py"

    ok = subprocess.run(  # noqa: S603
        [sys.executable, manage, "verify_evidence", genuine], env=env, capture_output=True
    )
    bad = subprocess.run(  # noqa: S603
        [sys.executable, manage, "verify_evidence", tampered], env=env, capture_output=True
    )

    assert ok.returncode == 0, ok.stderr.decode()
    assert f"signed by key {signing.key_id()}" in ok.stdout.decode()
    assert bad.returncode != 0
    assert "the signature does not verify" in bad.stderr.decode()


# --- Any change is caught ---------------------------------------------------------------------


def test_changing_a_signatorys_name_breaks_the_signature(bundle):
    report = evidence.verify_bundle(_flip(bundle, '"user": "bor-signer"', '"user": "bor-signex"'))

    assert not report.ok
    assert any("the signature does not verify" in p for p in report.problems), report.problems


def test_changing_the_agreement_text_breaks_the_signature_and_the_content_hash(bundle):
    report = evidence.verify_bundle(_flip(bundle, "protects the other", "protects the otter"))

    assert not report.ok
    assert any("the signature does not verify" in p for p in report.problems)
    assert any("does not match its content hash" in p for p in report.problems)


def test_changing_the_content_hash_is_caught_three_ways(signed, bundle):
    content_hash = signed.agreement.content_hash
    forged_hash = ("0" if content_hash[0] != "0" else "1") + content_hash[1:]
    needle = (
        f'"content_hash": "{content_hash}",\n    "format"'  # the payload's own, not a signature's
    )
    tampered = _flip(bundle, needle, needle.replace(content_hash, forged_hash))

    report = evidence.verify_bundle(tampered)

    assert not report.ok
    assert any("the signature does not verify" in p for p in report.problems)
    assert any("does not match its content hash" in p for p in report.problems)
    assert any(f"is on content hash {content_hash}" in p for p in report.problems)


def test_even_one_added_space_is_caught(bundle):
    tampered = bundle.replace(b"{\n", b"{ \n", 1)
    assert tampered != bundle

    report = evidence.verify_bundle(tampered)

    assert not report.ok
    assert report.problems == [
        "the file was changed after it was issued: its bytes are not the exact form the portal "
        "writes (even a changed space or line break counts)"
    ]


def test_a_file_that_is_not_a_bundle_is_refused_clearly():
    assert "not UTF-8" in evidence.verify_bundle(b"\xff\xfe\x00garbage").summary
    assert "not valid JSON" in evidence.verify_bundle(b"{not json").summary
    assert "not an evidence bundle" in evidence.verify_bundle(b'{"payload": 1}\n').summary


def test_the_command_names_every_problem_and_fails(bundle, tmp_path):
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(_flip(bundle, "protects the other", "protects the otter"))

    with pytest.raises(CommandError) as refused:
        call_command("verify_evidence", str(tampered))

    message = str(refused.value)
    assert "Evidence NOT verified" in message
    assert "the signature does not verify" in message
    assert "does not match its content hash" in message


# --- Another key ------------------------------------------------------------------------------


def _forge(bundle: bytes) -> bytes:
    """What a capable forger does: change a term, fix every hash, re-sign with their own key."""
    document = json.loads(bundle)
    payload = document["payload"]
    payload["agreement"]["terms"]["tlp_ceiling"] = "red"
    new_hash = hashlib.sha256(_compact(payload["agreement"])).hexdigest()
    payload["content_hash"] = new_hash
    for signature in payload["signatures"]:
        signature["content_hash"] = new_hash
    key = Ed25519PrivateKey.generate()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    document["signature"] = base64.b64encode(key.sign(_compact(payload))).decode()
    document["public_key"] = public_pem
    document["key_id"] = signing.key_id(public_pem)
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def _compact(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_bundle_signed_by_another_key_fails_against_the_published_key(bundle, tmp_path):
    forged = tmp_path / "forged.json"
    forged.write_bytes(_forge(bundle))
    published = tmp_path / "portal.pem"
    published.write_text(signing.public_key_pem())

    with pytest.raises(CommandError) as refused:
        call_command("verify_evidence", str(forged), "--public-key", str(published))

    message = str(refused.value)
    assert "the signature does not verify against the public key you gave (key id " in message
    assert signing.key_id() in message


def test_without_the_published_key_a_forgery_shows_a_foreign_key_id(bundle):
    """Self-consistent forgeries verify on their own key: the key id is what gives them away."""
    forged = _forge(bundle)
    forger_key_id = json.loads(forged)["key_id"]

    report = evidence.verify_bundle(forged)

    assert report.ok
    assert f"signed by key {forger_key_id}" in report.summary
    assert signing.key_id() not in report.summary
    assert "/.well-known/portal-signing-key" in report.summary  # where to compare it


def test_a_forger_cannot_borrow_the_portals_key_id(bundle):
    document = json.loads(_forge(bundle))
    document["key_id"] = signing.key_id()
    relabelled = (
        json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    ).encode()

    report = evidence.verify_bundle(relabelled)

    assert not report.ok
    assert any("is not the id of the public key embedded in it" in p for p in report.problems)


# --- The published key ------------------------------------------------------------------------


def test_anyone_can_fetch_the_public_key_partners_verify_with(client, db):
    response = client.get("/.well-known/portal-signing-key")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == signing.public_key_pem()
    assert response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert response["X-Key-Id"] == signing.key_id()
    assert len(signing.key_id()) == 16


def test_the_published_key_verifies_what_the_portal_signs():
    signature = signing.sign(b"evidence")

    assert signing.verify(signing.public_key_pem(), b"evidence", signature)
    assert not signing.verify(signing.public_key_pem(), b"evidencf", signature)
    assert not signing.verify("not a key", b"evidence", signature)


# --- No evidence before signature -------------------------------------------------------------


def test_a_draft_has_no_evidence_and_no_certificate(db):
    org_a = OrganisationFactory()
    org_b = OrganisationFactory()
    pm_a = UserFactory(organisation=org_a, roles=[Role.PROGRAMME_MANAGER])
    draft = services.create_agreement(
        actor=pm_a,
        parties=[org_a, org_b],
        title="Not yet agreed",
        kind="mou",
        purpose="Talk.",
        body="# Terms",
        effective_from=timezone.localdate(),
    )

    with pytest.raises(ValidationError, match="only once every party has signed"):
        evidence.build_bundle(draft)
    with pytest.raises(ValidationError, match="only once every party has signed"):
        certificate.build_certificate(draft)


def test_renaming_a_party_after_signing_does_not_change_the_signed_evidence(signed):
    """Evidence shows what was signed, not today's directory entry, and still verifies."""
    organisation = signed.agreement.parties.get(organisation__slug="bor-ncsc").organisation
    portal_services.update_organisation(
        actor=platform_staff(), organisation=organisation, name="Borealis Renamed"
    )
    signed.agreement.refresh_from_db()

    bundle = evidence.build_bundle(signed.agreement)

    assert evidence.verify_bundle(bundle).ok
    names = {p["name"] for p in json.loads(bundle)["payload"]["agreement"]["parties"]}
    assert "Borealis Renamed" not in names and organisation.slug in bundle.decode()


# --- The certificate --------------------------------------------------------------------------

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext is not installed (apt-get install poppler-utils) to read the PDF's text",
)


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", path, "-"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@needs_pdftotext
def test_the_certificate_is_a_pdf_naming_the_agreement_its_hash_and_signatories(signed, tmp_path):
    pdf = certificate.build_certificate(signed.agreement)

    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf, tmp_path)
    assert "Certificate of completion" in text
    assert signed.agreement.reference in text
    assert signed.agreement.content_hash in text
    for signatory in signed.signatories:
        assert signatory.get_username() in text
    assert signing.key_id() in text
    assert f"{settings.PORTAL_BASE_URL}/.well-known/portal-signing-key" in text


@needs_pdftotext
def test_the_certificate_prints_names_with_any_accents(db, tmp_path):
    signed = _make_signed(name_b="Sentinelle Sécurité Łódź")

    text = _pdf_text(certificate.build_certificate(signed.agreement), tmp_path)

    assert "Sentinelle Sécurité Łódź" in text


@needs_pdftotext
def test_without_unicode_fonts_names_are_spelled_in_latin_1_not_dropped(db, tmp_path, monkeypatch):
    monkeypatch.setattr(certificate, "FONT_DIR", tmp_path / "no-fonts-here")
    signed = _make_signed(name_b="Sentinelle Sécurité Łódź")

    pdf = certificate.build_certificate(signed.agreement)

    assert pdf.startswith(b"%PDF")
    assert "Sentinelle Sécurité Lódz" in _pdf_text(pdf, tmp_path)


# --- The signing key --------------------------------------------------------------------------


def test_production_without_a_configured_key_refuses_to_start_signing(tmp_path):
    signing.private_key.cache_clear()
    try:
        with (
            override_settings(
                DEBUG=False,
                PORTAL_SIGNING_KEY="",
                PORTAL_SIGNING_KEY_FILE=tmp_path / "missing.pem",
                PORTAL_SIGNING_KEY_AUTOGENERATE=False,
            ),
            pytest.raises(ImproperlyConfigured, match="no evidence signing key"),
        ):
            signing.private_key()
        assert not (tmp_path / "missing.pem").exists()
    finally:
        signing.private_key.cache_clear()


def test_a_generated_key_is_private_to_its_owner_and_reused(tmp_path):
    key_file = tmp_path / "generated.pem"
    signing.private_key.cache_clear()
    try:
        with override_settings(PORTAL_SIGNING_KEY="", PORTAL_SIGNING_KEY_FILE=key_file):
            first = signing.key_id()
            assert key_file.stat().st_mode & 0o777 == 0o600
            signing.private_key.cache_clear()  # a new process reads the same file
            assert signing.key_id() == first
    finally:
        signing.private_key.cache_clear()


def test_a_key_given_as_pem_text_is_used(tmp_path):
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signing.private_key.cache_clear()
    try:
        # As an environment variable often carries it: newlines escaped.
        with override_settings(PORTAL_SIGNING_KEY=pem.replace("\n", "\\n")):
            assert signing.public_key_pem() == public_pem
    finally:
        signing.private_key.cache_clear()
