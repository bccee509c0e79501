"""The standalone verifier an auditor downloads: it runs with Python and `cryptography`
alone, says "verified" for a genuine bundle and names what is wrong with a tampered one; the
certificate tells its reader where to get it, at the portal's configured address."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from agreements import certificate
from portal import signing
from tests.agreements.test_evidence import _make_signed, _pdf_text, needs_pdftotext

#: Runs the downloaded file as `python3 verify.py ...` would, with every import of the
#: portal's code or of Django refused: it must need none of it.
RUN_WITHOUT_THE_PORTAL = """
import runpy, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"django", "agreements", "portal", "rest_framework", "tests"}:
            raise ImportError(f"the verifier imported {name}")
        return None

sys.meta_path.insert(0, Refuse())
sys.argv = ["verify.py", *sys.argv[1:]]
runpy.run_path("verify.py", run_name="__main__")
"""


@pytest.fixture
def auditor_files(db, client, tmp_path):
    """What an auditor holds: a party's bundle, and the key and verifier fetched from the
    portal without an account."""
    signed = _make_signed()
    client.force_login(signed.pm_a)
    bundle = client.get(f"/agreements/{signed.agreement.pk}/evidence/")
    assert bundle.status_code == 200
    client.logout()
    key = client.get("/.well-known/portal-signing-key")
    script = client.get("/evidence/verify.py")
    assert key.status_code == 200 and script.status_code == 200
    (tmp_path / "bundle.json").write_bytes(bundle.content)
    (tmp_path / "portal-key.pem").write_bytes(key.content)
    (tmp_path / "verify.py").write_bytes(script.content)
    return signed, tmp_path, script


def run_verifier(folder: Path, bundle: str, *args: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO")}
    env.pop("PYTHONPATH", None)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-I", "-c", RUN_WITHOUT_THE_PORTAL, bundle, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_verifier_downloads_as_one_file_whose_hash_is_announced(auditor_files):
    _, _, script = auditor_files
    assert script["Content-Disposition"] == 'attachment; filename="verify.py"'
    assert script["X-Content-SHA256"] == hashlib.sha256(script.content).hexdigest()
    assert b"pip install cryptography" in script.content  # it says what it needs


def test_a_genuine_bundle_verifies_with_the_downloaded_verifier_alone(auditor_files):
    signed, folder, _ = auditor_files
    result = run_verifier(folder, "bundle.json", "--public-key", "portal-key.pem")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Evidence verified: {signed.agreement.reference} v1")
    assert f"signed by key {signing.key_id()}" in result.stdout
    assert f"content hash {signed.agreement.content_hash}" in result.stdout


def test_a_tampered_bundle_fails_and_says_why(auditor_files):
    _, folder, _ = auditor_files
    original = (folder / "bundle.json").read_bytes()
    assert b"bor-signer" in original
    (folder / "tampered.json").write_bytes(original.replace(b"bor-signer", b"bor-signex", 1))
    result = run_verifier(folder, "tampered.json", "--public-key", "portal-key.pem")
    assert result.returncode == 1
    assert result.stderr.startswith("Evidence NOT verified")
    assert "the signature does not verify against the public key you gave" in result.stderr
    assert "the content was changed after it was signed, or another key signed it" in (
        result.stderr.replace("\n", " ")
    )


def test_a_bundle_checked_against_another_key_fails(auditor_files):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _, folder, _ = auditor_files
    other = Ed25519PrivateKey.generate().public_key()
    (folder / "other.pem").write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = run_verifier(folder, "bundle.json", "--public-key", "other.pem")
    assert result.returncode == 1
    assert "the file embeds a different public key" in result.stderr


def test_a_missing_file_is_named_and_is_not_a_verdict(auditor_files):
    _, folder, _ = auditor_files
    result = run_verifier(folder, "absent.json", "--public-key", "portal-key.pem")
    assert result.returncode == 2
    assert "Cannot read absent.json" in result.stderr


@needs_pdftotext
@override_settings(PORTAL_BASE_URL="https://portal.cooperation.example")
def test_the_certificate_says_where_to_get_the_key_and_verifier_and_what_to_run(
    auditor_files, client
):
    signed, folder, script = auditor_files
    text = " ".join(_pdf_text(certificate.build_certificate(signed.agreement), folder).split())
    assert "https://portal.cooperation.example/.well-known/portal-signing-key" in text
    assert "https://portal.cooperation.example/evidence/verify.py" in text
    assert hashlib.sha256(script.content).hexdigest() in text
    assert "python3 verify.py BUNDLE.json --public-key portal-key.pem" in text
    assert "manage.py" not in text  # nothing assumes the portal's source
