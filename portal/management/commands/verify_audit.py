"""Prove the audit chain is intact: exit 0 if so, 1 naming the first bad event if not.

With --head FILE, check a chain head kept from `GET /api/v1/audit/head/` instead: its
signature, that its event still has the same hash (history not rewritten), and that the chain
up to and including it is intact.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import audit


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's hash chain and report the first broken event. With "
        "--head, check a signed chain head kept from /api/v1/audit/head/ against the trail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--head",
            metavar="FILE",
            help="a signed chain head (JSON) kept earlier from /api/v1/audit/head/",
        )

    def handle(self, *args, head=None, **options):
        if head:
            report = audit.verify_head(_read_json(head))
            if not report.ok:
                raise CommandError(report.message)
            self.stdout.write(self.style.SUCCESS(report.message))
            return
        report = audit.verify_chain()
        if not report.intact:
            raise CommandError(
                f"Audit chain broken at event #{report.bad_event_id}: {report.reason}. "
                f"{report.checked} events before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events."))


def _read_json(path: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read the chain head {path}: {error}") from error
    except ValueError as error:
        raise CommandError(f"The chain head {path} is not valid JSON: {error}") from error
