"""Check an evidence bundle offline: exit 0 if it verifies, non-zero naming every problem."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agreements import evidence


class Command(BaseCommand):
    help = (
        "Verify an agreement's evidence bundle (JSON) without the database: its exact bytes, "
        "its Ed25519 signature and its content hashes. Give --public-key with the key the "
        "portal publishes at /.well-known/portal-signing-key to be sure who signed it. "
        "Partners without the portal's code run the same check with the standalone "
        "verify.py the portal serves at /evidence/verify.py."
    )
    # A partner verifies on their own machine: nothing here needs the database or the checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="the evidence bundle (.json)")
        parser.add_argument(
            "--public-key",
            metavar="PEM_FILE",
            help="the portal's published public key, in PEM form",
        )

    def handle(self, *args, file, public_key=None, **options):
        data = _read(file, "evidence bundle", binary=True)
        key = _read(public_key, "public key") if public_key else None
        report = evidence.verify_bundle(data, public_key_pem=key)
        if not report.ok:
            raise CommandError(report.summary)
        self.stdout.write(self.style.SUCCESS(report.summary))


def _read(path: str, what: str, *, binary: bool = False):
    try:
        return Path(path).read_bytes() if binary else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read the {what} {path}: {error}") from error
