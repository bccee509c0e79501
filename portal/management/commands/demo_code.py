"""Print a demo account's current authenticator code, for driving the demo by hand or script."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.demo_mfa import current_code, has_demo_totp


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account seeded by seed_demo (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if not settings.DEBUG:
            raise CommandError("demo_code is for the demo only; it refuses to run with DEBUG off.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not has_demo_totp(user):
            raise CommandError(f"{username!r} is not a demo account with an authenticator app.")
        self.stdout.write(current_code(username))
