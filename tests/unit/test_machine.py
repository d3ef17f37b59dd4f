"""The transition table, and the strategies that feed SHIFTING."""

from __future__ import annotations

import itertools

import pytest

from bluegreen.config import StrategyConfig
from bluegreen.machine import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    State,
    can_roll_back,
    check_transition,
)
from bluegreen.strategies import Stage, stages_for, weights_for

HAPPY = [
    "PENDING",
    "PREFLIGHT",
    "PROVISIONING",
    "WAITING_HEALTHY",
    "TEST_TRAFFIC",
    "SHIFTING",
    "SHIFTING",
    "PAUSED",
    "SHIFTING",
    "BAKING",
    "CLEANING_UP",
    "SUCCEEDED",
]


def test_the_happy_path_is_legal() -> None:
    for current, following in itertools.pairwise(HAPPY):
        check_transition(State(current), State(following))


@pytest.mark.parametrize(
    "state", [s for s in State if can_roll_back(s) and s is not State.ROLLING_BACK]
)
def test_every_state_that_changed_something_can_roll_back(state: State) -> None:
    check_transition(state, State.ROLLING_BACK)


def test_rollback_ends_rolled_back_or_failed() -> None:
    assert TRANSITIONS[State.ROLLING_BACK] == {State.ROLLED_BACK, State.FAILED}


def test_nothing_leaves_a_terminal_state_but_a_rollback_tried_again() -> None:
    """FAILED (a rollback that could not complete) may roll back again, when a person asks."""
    assert {s: TRANSITIONS[s] for s in TERMINAL if TRANSITIONS[s]} == {
        State.FAILED: {State.ROLLING_BACK}
    }


@pytest.mark.parametrize(
    ("current", "following"),
    [
        ("PENDING", "SHIFTING"),
        ("PREFLIGHT", "ROLLING_BACK"),
        ("SUCCEEDED", "ROLLING_BACK"),
        ("SHIFTING", "SUCCEEDED"),
        ("BAKING", "SHIFTING"),
    ],
)
def test_illegal_moves_raise(current: str, following: str) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(State(current), State(following))


def test_all_at_once() -> None:
    assert stages_for(StrategyConfig(type="all-at-once")) == [Stage(100)]


def test_canary() -> None:
    assert stages_for(StrategyConfig(type="canary", percent=5, bake=600)) == [
        Stage(5, 600),
        Stage(100),
    ]


def test_linear() -> None:
    stages = stages_for(StrategyConfig(type="linear", step_percent=30, interval=60))
    assert stages == [Stage(30, 60), Stage(60, 60), Stage(90, 60), Stage(100, 0)]


def test_steps_keep_pauses() -> None:
    strategy = StrategyConfig.model_validate(
        {
            "type": "steps",
            "steps": [{"weight": 5, "bake": "2m"}, {"weight": 50, "pause": True}, {"weight": 100}],
        }
    )
    assert stages_for(strategy) == [Stage(5, 120), Stage(50, 0, True), Stage(100)]


def test_weights_keep_both_groups() -> None:
    assert weights_for(10, "b", "g") == {"b": 90, "g": 10}
    assert weights_for(100, "b", "g") == {"b": 0, "g": 100}
