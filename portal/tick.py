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


def _verify_audit_chain(now) -> str:
    """Walk the whole chain; a break is recorded and staff are alerted, once per bad event."""
    from portal import audit

    report = audit.verify_chain()
    if report.intact:
        return f"audit chain intact ({report.checked} events)"
    alert = audit.raise_chain_alarm(report)
    outcome = "staff alerted" if alert is not None else "already alerted"
    return f"audit chain BROKEN at event #{report.bad_event_id}: {report.reason}; {outcome}"


register("sessions", _clear_expired_sessions)
register("audit", _verify_audit_chain)
