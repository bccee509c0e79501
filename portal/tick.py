"""Time-based work, run by `manage.py tick` from cron. Apps register their jobs here.

Each job must be idempotent: tick may run every minute, twice, or after a long pause.
"""

from collections.abc import Callable

from django.utils import timezone

Job = Callable[[object], str]  # takes "now", returns a one-line summary
_jobs: dict[str, Job] = {}


def register(name: str, job: Job) -> None:
    _jobs[name] = job


def run_all(now=None) -> list[tuple[str, str]]:
    now = now or timezone.now()
    return [(name, job(now)) for name, job in _jobs.items()]


def _clear_expired_sessions(now) -> str:
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return f"{deleted} expired sessions removed"


register("sessions", _clear_expired_sessions)
