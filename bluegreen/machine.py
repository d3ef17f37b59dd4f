"""The deployment states, the transition table and the hook events fired on the way. No I/O.

    PENDING → PREFLIGHT → PROVISIONING → WAITING_HEALTHY → [TEST_TRAFFIC] → SHIFTING (per
    stage) → [PAUSED] → BAKING → CLEANING_UP → SUCCEEDED
    any failure before blue is retired → ROLLING_BACK → ROLLED_BACK | FAILED

The engine (engine.py) performs each state's action; this module only says which moves are
legal. The record is saved on entering a state, before its action runs, so a process killed
mid-action is resumed by re-running that state's (idempotent) action.

The bake after the shift pauses too when its metric analysis stays inconclusive (BAKING →
PAUSED, and a promote goes back to BAKING, which then ends).

Two exits do not roll back: PREFLIGHT → STOPPED (a check or the pre_provision hook failed
before anything changed) and CLEANING_UP → FAILED is impossible (blue is kept until the
last step, and rollback stays possible until it is retired). Once blue is being retired
(all traffic on green, green primary) the release has succeeded: a refusal to retire blue
ends SUCCEEDED with the clean-up recorded as incomplete (engine/cleanup.py), never FAILED.
"""

from __future__ import annotations

from enum import StrEnum

from bluegreen.errors import BluegreenError


class State(StrEnum):
    PENDING = "PENDING"
    PREFLIGHT = "PREFLIGHT"
    PROVISIONING = "PROVISIONING"
    WAITING_HEALTHY = "WAITING_HEALTHY"
    TEST_TRAFFIC = "TEST_TRAFFIC"
    SHIFTING = "SHIFTING"
    PAUSED = "PAUSED"
    BAKING = "BAKING"
    CLEANING_UP = "CLEANING_UP"
    SUCCEEDED = "SUCCEEDED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"
    STOPPED = "STOPPED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def blue_retired(self) -> bool:
        return self is State.SUCCEEDED


TERMINAL = frozenset({State.SUCCEEDED, State.ROLLED_BACK, State.STOPPED, State.FAILED})

# Every state from which a failure rolls back: all that may have changed something.
_ROLLBACK_FROM = {
    State.PROVISIONING,
    State.WAITING_HEALTHY,
    State.TEST_TRAFFIC,
    State.SHIFTING,
    State.PAUSED,
    State.BAKING,
    State.CLEANING_UP,
}

TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.PREFLIGHT, State.STOPPED}),
    State.PREFLIGHT: frozenset({State.PROVISIONING, State.STOPPED}),
    State.PROVISIONING: frozenset({State.WAITING_HEALTHY}),
    State.WAITING_HEALTHY: frozenset({State.TEST_TRAFFIC, State.SHIFTING}),
    State.TEST_TRAFFIC: frozenset({State.SHIFTING}),
    State.SHIFTING: frozenset({State.SHIFTING, State.PAUSED, State.BAKING}),
    State.PAUSED: frozenset({State.SHIFTING, State.BAKING}),
    # BAKING → PAUSED: the bake after the shift ended with the analysis inconclusive.
    State.BAKING: frozenset({State.CLEANING_UP, State.PAUSED}),
    State.CLEANING_UP: frozenset({State.SUCCEEDED}),
    State.ROLLING_BACK: frozenset({State.ROLLED_BACK, State.FAILED}),
    State.SUCCEEDED: frozenset(),
    State.ROLLED_BACK: frozenset(),
    State.STOPPED: frozenset(),
    # FAILED → ROLLING_BACK: a person fixed what stopped the rollback and runs
    # `bluegreen rollback` again (Deployer.rollback takes up a rollback that failed).
    State.FAILED: frozenset({State.ROLLING_BACK}),
}
for _state in _ROLLBACK_FROM:
    TRANSITIONS[_state] = TRANSITIONS[_state] | {State.ROLLING_BACK}


# The hook events the engine fires on its transitions (the order is in engine/engine.py's
# docstring). A failing hook at a fatal event fails the deployment; at the others it is logged.
class HookEvent(StrEnum):
    PRE_PROVISION = "pre_provision"
    POST_PROVISION = "post_provision"
    POST_TEST_TRAFFIC = "post_test_traffic"
    PRE_SHIFT = "pre_shift"
    POST_SHIFT = "post_shift"
    ON_PAUSE = "on_pause"
    PRE_CLEANUP = "pre_cleanup"
    ON_SUCCESS = "on_success"
    ON_ROLLBACK = "on_rollback"
    ON_FAILURE = "on_failure"
    FINALLY = "finally"


FATAL_EVENTS: frozenset[HookEvent] = frozenset(
    {
        HookEvent.PRE_PROVISION,
        HookEvent.POST_PROVISION,
        HookEvent.POST_TEST_TRAFFIC,
        HookEvent.PRE_SHIFT,
        HookEvent.POST_SHIFT,
        HookEvent.PRE_CLEANUP,
    }
)


class IllegalTransition(BluegreenError):
    """A bug, not a user error: the engine asked for a move the table forbids."""


def can_roll_back(state: State) -> bool:
    return state in _ROLLBACK_FROM or state is State.ROLLING_BACK


def check_transition(current: State, target: State) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"illegal transition {current} → {target}")
