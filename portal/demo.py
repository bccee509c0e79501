"""Demo seeding steps. The core seeds organisations and people; each app registers a step
that adds its own demo data through its services. Every step must be idempotent."""

from collections.abc import Callable

Step = Callable[[Callable[[str], None]], None]  # receives a function that prints a line
_steps: list[tuple[str, Step]] = []


def register(name: str, step: Step) -> None:
    _steps.append((name, step))


def steps() -> list[tuple[str, Step]]:
    return list(_steps)
