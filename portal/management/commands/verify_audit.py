"""Prove the audit chain is intact: exit 0 if so, 1 naming the first bad event if not."""

from django.core.management.base import BaseCommand, CommandError

from portal import audit


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain and report the first broken event."

    def handle(self, *args, **options):
        report = audit.verify_chain()
        if not report.intact:
            raise CommandError(
                f"Audit chain broken at event #{report.bad_event_id}: {report.reason}. "
                f"{report.checked} events before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events."))
