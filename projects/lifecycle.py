"""The state machines of projects and of their milestones and deliverables, in one place."""

from portal.states import StateMachine, Transition
from projects.models import ItemStatus as I
from projects.models import ProjectStatus as P

project_machine = StateMachine(
    "status",
    dict(P.choices),
    [
        Transition("edit", "edited", frozenset({P.PROPOSED, P.ACTIVE, P.SUSPENDED}), None),
        Transition("activate", "activated", frozenset({P.PROPOSED}), P.ACTIVE),
        Transition("suspend", "suspended", frozenset({P.ACTIVE}), P.SUSPENDED),
        Transition("resume", "resumed", frozenset({P.SUSPENDED}), P.ACTIVE),
        Transition("complete", "completed", frozenset({P.ACTIVE}), P.COMPLETED),
        Transition(
            "cancel", "cancelled", frozenset({P.PROPOSED, P.ACTIVE, P.SUSPENDED}), P.CANCELLED
        ),
        Transition("work", "worked on", frozenset({P.ACTIVE}), None),
    ],
)

item_machine = StateMachine(
    "status",
    dict(I.choices),
    [
        Transition("submit", "submitted", frozenset({I.PLANNED, I.CHANGES_REQUESTED}), I.SUBMITTED),
        Transition("review", "reviewed", frozenset({I.SUBMITTED}), None),
        Transition("accept", "accepted", frozenset({I.SUBMITTED}), I.ACCEPTED),
        Transition("request_changes", "sent back", frozenset({I.SUBMITTED}), I.CHANGES_REQUESTED),
        Transition("reschedule", "rescheduled", frozenset({I.PLANNED, I.CHANGES_REQUESTED}), None),
    ],
)
