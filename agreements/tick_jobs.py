"""The agreements' share of `manage.py tick`."""

from portal import tick


def _agreements(now) -> str:
    from agreements import services

    counts = services.run_due_transitions()
    return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())


tick.register("agreements", _agreements)
