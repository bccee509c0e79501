"""Settings, production checks, demo data and the periodic commands."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from portal import access
from portal.demo_mfa import current_code, demo_totp_secret
from portal.models import Organisation, OrganisationKind

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    # Start from the machine's environment without what tests/settings.py relaxed.
    relaxed = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"}
    full_env = {k: v for k, v in os.environ.items() if k not in relaxed}
    full_env.update(DJANGO_SETTINGS_MODULE="portal.settings", **env)
    return subprocess.run(  # noqa: S603  (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portal.example.org",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage("check", DEBUG="0", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_seed_demo_refuses_with_debug_off(db):
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo")


@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent_and_leaves_no_grant_drift(db, capsys):
    call_command("seed_demo")
    organisations, users = Organisation.objects.count(), get_user_model().objects.count()
    call_command("seed_demo")

    assert Organisation.objects.count() == organisations >= 8
    assert get_user_model().objects.count() == users
    assert len(set(Organisation.objects.values_list("country", flat=True))) >= 5
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert {
        OrganisationKind.NATIONAL_CSIRT,
        OrganisationKind.GOVERNMENT,
        OrganisationKind.DEFENCE,
        OrganisationKind.ACADEMIA,
        OrganisationKind.INDUSTRY,
        OrganisationKind.INTERNATIONAL_BODY,
    } <= kinds
    assert Organisation.objects.filter(name__icontains="reviewers").exists()
    for organisation in Organisation.objects.all():
        roles = organisation.memberships.values_list(
            "org_admin", "programme_manager", "signatory", "reviewer"
        )
        assert all(any(column) for column in zip(*roles, strict=True)), organisation
    out = capsys.readouterr().out
    assert "demo-portal-2026" in out and "ee-csirt-signatory" in out
    assert demo_totp_secret("ee-csirt-signatory") in out
    assert demo_totp_secret("operator") in out
    assert access.reconcile(repair=False).clean
    call_command("verify_audit")


@override_settings(DEBUG=True)
def test_demo_accounts_sign_in_with_the_printed_password(db, client):
    call_command("seed_demo")
    response = client.post(
        "/accounts/login/", {"login": "fi-ncsc-pm", "password": "demo-portal-2026"}
    )
    assert response.status_code == 302
    assert "Finnish National Cyber Security Centre" in client.get("/").content.decode()


@override_settings(DEBUG=True)
def test_demo_signatories_sign_in_with_the_printed_secret(db, client, capsys):
    call_command("seed_demo")
    call_command("demo_code", "fi-ncsc-signatory")
    code = capsys.readouterr().out.strip().splitlines()[-1]
    assert code == current_code("fi-ncsc-signatory")

    client.post("/accounts/login/", {"login": "fi-ncsc-signatory", "password": "demo-portal-2026"})
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "Finnish National Cyber Security Centre" in page
    assert "Set up two-factor authentication" not in page


def test_demo_code_refuses_outside_the_demo(db):
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo_code", "fi-ncsc-signatory")


def test_tick_runs_its_jobs_and_is_idempotent(db, capsys):
    call_command("tick")
    call_command("tick")
    assert capsys.readouterr().out.count("sessions:") == 2


def test_pages_are_never_cached_and_carry_security_headers(world, client):
    client.force_login(world.a_member)
    response = client.get("/")
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
