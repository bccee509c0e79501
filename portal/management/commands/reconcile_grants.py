"""Recompute every grant from the domain facts; report drift, and repair it unless --check."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal import access, audit


class Command(BaseCommand):
    help = "Compare the stored guardian grants with the policy and repair any drift."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only report drift; exit 1 if there is any."
        )

    def handle(self, *args, check: bool, **options):
        with transaction.atomic():
            report = access.reconcile(repair=not check)
            for line in report.membership_drift:
                self.stdout.write(f"drift: {line}")
            for drift in report.grant_drift:
                self.stdout.write(f"drift: {drift.describe()}")
            if not check and not report.clean:
                audit.record(
                    None,
                    "grants.reconciled",
                    grant_drift=len(report.grant_drift),
                    membership_drift=len(report.membership_drift),
                )
        if report.clean:
            self.stdout.write(self.style.SUCCESS("No drift: every grant matches the policy."))
            return
        total = len(report.grant_drift) + len(report.membership_drift)
        if check:
            raise CommandError(f"{total} objects or users drifted from the policy.")
        self.stdout.write(self.style.WARNING(f"Repaired {total} drifted objects or users."))
