"""The agreement state machine: every allowed transition, in one place."""

from agreements.models import AgreementStatus as S
from portal.states import StateMachine, Transition

machine = StateMachine(
    "status",
    dict(S.choices),
    [
        Transition("edit", "edited", frozenset({S.DRAFT}), None),
        Transition(
            "submit", "submitted for signature", frozenset({S.DRAFT}), S.AWAITING_SIGNATURES
        ),
        Transition("withdraw", "withdrawn", frozenset({S.AWAITING_SIGNATURES}), S.DRAFT),
        Transition("sign", "signed", frozenset({S.AWAITING_SIGNATURES}), None),
        Transition("decline", "declined", frozenset({S.AWAITING_SIGNATURES}), S.DRAFT),
        Transition("complete", "completed", frozenset({S.AWAITING_SIGNATURES}), S.SIGNED),
        Transition("activate", "activated", frozenset({S.SIGNED}), S.ACTIVE),
        Transition("terminate", "terminated", frozenset({S.SIGNED, S.ACTIVE}), None),
        Transition("end_terminated", "terminated", frozenset({S.SIGNED, S.ACTIVE}), S.TERMINATED),
        Transition("expire", "expired", frozenset({S.SIGNED, S.ACTIVE}), S.EXPIRED),
        Transition("supersede", "superseded", frozenset({S.ACTIVE}), S.SUPERSEDED),
        Transition("amend", "amended", frozenset({S.ACTIVE}), None),
    ],
)

#: States in which the agreement's content is frozen and its evidence can be issued.
SIGNED_STATES = frozenset({S.SIGNED, S.ACTIVE, S.EXPIRED, S.TERMINATED, S.SUPERSEDED})
