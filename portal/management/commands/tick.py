"""Run the portal's time-based jobs once. Idempotent: schedule it every minute from cron."""

from django.core.management.base import BaseCommand

from portal import tick


class Command(BaseCommand):
    help = "Run every registered time-based job once (activation, expiry, clean-up)."

    def handle(self, *args, **options):
        for name, summary in tick.run_all():
            self.stdout.write(f"{name}: {summary}")
