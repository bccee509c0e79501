"""Explicit state machines: the allowed transitions of a model, in one place.

A transition that is not allowed raises TransitionNotAllowed with a sentence a person can act
on, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError


class TransitionNotAllowed(ValidationError):
    """The object is not in a state where this can happen (HTTP 409 in the API)."""


@dataclass(frozen=True)
class Transition:
    name: str
    verb: str  # "sign", "withdraw": used in the error sentence
    sources: frozenset[str]
    target: str | None  # None when the transition does not change the state by itself


class StateMachine:
    def __init__(self, field: str, labels: dict[str, str], transitions: list[Transition]):
        self.field = field
        self.labels = labels
        self.transitions = {t.name: t for t in transitions}

    def allows(self, obj, name: str) -> bool:
        return getattr(obj, self.field) in self.transitions[name].sources

    def ensure(self, obj, name: str) -> Transition:
        """Return the transition, or raise a clear error when obj's state does not allow it."""
        transition = self.transitions[name]
        state = getattr(obj, self.field)
        if state not in transition.sources:
            allowed = " or ".join(str(self.labels[s]).lower() for s in sorted(transition.sources))
            raise TransitionNotAllowed(
                f"{obj} is {str(self.labels[state]).lower()}; it can only be {transition.verb} "
                f"when it is {allowed}.",
                code="invalid_transition",
            )
        return transition

    def apply(self, obj, name: str) -> None:
        transition = self.ensure(obj, name)
        if transition.target is not None:
            setattr(obj, self.field, transition.target)
