"""Pacing on the fakes (bluegreen/engine/pacing.py, acting.py): each deployment polls at
its own phase and never later than its poll interval; a poll AWS would not answer is
skipped and counted, never a failure; a step AWS keeps from running is tried again until
health.timeout, then rolled back; an error that will not pass still fails at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, World

from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer
from bluegreen.engine.pacing import phase_of
from bluegreen.errors import AwsError, DeploymentFailed, GateFailed
from bluegreen.machine import State
from bluegreen.model import AlarmState
from bluegreen.record import DeploymentRecord, Event

V2 = {"web": "repo/web:v2"}
POLL = 5.0  # BASE's health.poll_interval
BAKE_ONLY = {"type": "steps", "steps": [{"weight": 100, "bake": "1m"}]}
MakeDeployer = Callable[..., Deployer]


Failure = Callable[[], Exception | None]


def unanswered(operation: str, times: int, *, transient: bool = True) -> Failure:
    """The first `times` calls fail as a call does once its retries are spent."""
    left = [times]

    def fail() -> Exception | None:
        if left[0] == 0:
            return None
        left[0] -= 1
        return AwsError(operation, "Throttling", "Rate exceeded", transient=transient)

    return fail


def moments(world: World, clock: VirtualClock, operation: str) -> list[float]:
    """When each call of `operation` was made, from now on."""
    seen: list[float] = []

    def note() -> None:
        seen.append(clock.now())

    world.fail[operation] = lambda: note()  # type: ignore[func-returns-value]
    return seen


def record(deployer: Deployer) -> DeploymentRecord:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def test_a_phase_is_the_same_for_a_service_run_after_run_and_differs_between_services() -> None:
    assert phase_of("prod__web") == phase_of("prod__web")
    phases = {phase_of(f"prod__svc-{n}") for n in range(50)}
    assert len(phases) == 50 and all(0 <= p < 1 for p in phases)
    assert min(phases) < 0.1 and max(phases) > 0.9  # spread over the whole interval


def test_a_wait_polls_at_once_then_at_its_phase_then_every_interval(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    world.alarms["web-5xx"] = AlarmState.OK
    deployer = make_deployer(strategy=BAKE_ONLY, gates={"alarms": ["web-5xx"]})
    polls = moments(world, clock, "DescribeAlarms")  # one per gated poll

    deployer.deploy(V2)

    rec = record(deployer)
    shifted = next(e.at for e in rec.events if e.message.startswith("step 1/1"))
    bake = [t - shifted for t in polls if shifted <= t <= shifted + 60]
    phase = phase_of(deployer.config.service_key)
    assert 0 < phase < 1
    assert bake[:3] == pytest.approx([0, POLL * (1 - phase), POLL * (2 - phase)])
    watched = [t for t in polls if t >= shifted]  # the preflight read the alarms too
    gaps = [b - a for a, b in itertools.pairwise(watched)]
    assert max(gaps) <= POLL + 1e-9  # never later than the poll interval promises


def from_event(world: World, prefix: str, operation: str, fail: Failure) -> Callable[[Event], None]:
    """An on_event that makes `operation` fail with `fail` from the event `prefix` on."""

    def on_event(event: Event) -> None:
        if event.message.startswith(prefix):
            world.fail[operation] = fail

    return on_event


def test_throttled_polls_while_waiting_for_green_are_skipped_and_counted(
    make_deployer: MakeDeployer, world: World
) -> None:
    fail = unanswered("DescribeTargetHealth", 3)
    deployer = make_deployer()

    on_event = from_event(world, "entered WAITING_HEALTHY", "DescribeTargetHealth", fail)
    assert deployer.deploy(V2, on_event=on_event).outcome == "succeeded"

    rec = record(deployer)
    assert rec.skipped_polls == 3
    said = [e.message for e in rec.events]
    assert sum(m.startswith("poll skipped: AWS DescribeTargetHealth failed") for m in said) == 1
    back = 5 * (3 - phase_of(deployer.config.service_key))  # the 4th poll, from the 1st
    assert f"gates read again after 3 skipped polls ({round(back, 1):g}s)" in said


def test_an_error_that_will_not_pass_still_fails_the_poll(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.alarms["web-5xx"] = AlarmState.OK
    denied = unanswered("DescribeAlarms", 1, transient=False)
    deployer = make_deployer(gates={"alarms": ["web-5xx"]})

    with pytest.raises(DeploymentFailed, match="DescribeAlarms failed"):
        deployer.deploy(V2, on_event=from_event(world, "step 1/", "DescribeAlarms", denied))

    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert record(deployer).skipped_polls == 0


def test_a_shift_aws_keeps_from_running_is_tried_again_not_rolled_back(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.fail["ModifyListener"] = unanswered("ModifyListener", 3)
    deployer = make_deployer()

    assert deployer.deploy(V2).outcome == "succeeded"

    rec = record(deployer)
    said = [e.message for e in rec.events if e.message.startswith("shift stopped by")]
    assert [m.rsplit("; ", 1)[1] for m in said] == [
        "trying again at once",
        "trying again in 5s",
        "trying again in 10s",
    ]
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    assert world.violations == []


def test_a_shift_aws_keeps_from_running_for_the_whole_health_timeout_rolls_back(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    deployer = make_deployer(strategy=BAKE_ONLY)
    world.fail["ModifyListener"] = unanswered("ModifyListener", 10**6)
    started = clock.now()

    with pytest.raises(DeploymentFailed, match="ModifyListener failed: Throttling"):
        deployer.deploy(V2)

    rec = record(deployer)
    assert rec.state is State.ROLLED_BACK  # no write went through: blue serves all
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    tries = [e for e in rec.events if e.message.startswith("shift stopped by")]
    assert 300 - 60 <= tries[-1].at - started <= 300  # BASE's health.timeout: 5m


def test_a_failing_gate_still_rolls_back_while_a_shift_is_tried_again(
    make_deployer: MakeDeployer, world: World
) -> None:
    # Between tries the gates are watched: a firing alarm ends it.
    world.alarms["web-5xx"] = AlarmState.OK
    world.fail["ModifyListener"] = unanswered("ModifyListener", 1)
    deployer = make_deployer(gates={"alarms": ["web-5xx"]})

    def fire(event: Event) -> None:
        if event.message.startswith("shift stopped by"):
            world.alarms["web-5xx"] = AlarmState.ALARM

    with pytest.raises(GateFailed, match="web-5xx"):
        deployer.deploy(V2, on_event=fire)

    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}


def test_weight_never_moves_on_gates_unread_for_the_whole_health_timeout(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    world.alarms["web-5xx"] = AlarmState.OK
    throttled = unanswered("DescribeAlarms", 10**6)
    deployer = make_deployer(gates={"alarms": ["web-5xx"]})

    with pytest.raises(DeploymentFailed, match="the gates could not be read for") as caught:
        deployer.deploy(V2, on_event=from_event(world, "step 1/", "DescribeAlarms", throttled))

    assert caught.value.hint and "run fewer deployments" in caught.value.hint
    assert [w[GREEN] for _, ref, w in world.writes if ref == HTTP] == [10, 0]  # never 50
    rec = record(deployer)
    assert rec.state is State.ROLLED_BACK and rec.skipped_polls > 60  # 5m of polls


def test_bringing_up_green_aws_keeps_from_running_is_tried_again(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.fail["CreateTaskSet"] = unanswered("CreateTaskSet", 2)
    deployer = make_deployer()

    assert deployer.deploy(V2).outcome == "succeeded"

    said = [e.message for e in record(deployer).events]
    assert sum(m.startswith("bringing up green stopped by") for m in said) == 2
    assert len(world.task_sets) == 1  # green, one task set: blue retired, none left twice


def test_blue_unread_for_the_timeline_after_a_shift_is_no_failure(
    make_deployer: MakeDeployer, world: World
) -> None:
    # The read of blue after the shift to 100 % only draws the timeline (at a partial stage
    # the read made just before the shift serves). Kills reading it bare.
    writes = [0]

    def after_the_second_write() -> Exception | None:
        writes[0] += 1
        if writes[0] == 6:  # 3 stages × 2 listeners: at 100 %, blue's health is read next
            world.fail["DescribeTargetHealth"] = unanswered("DescribeTargetHealth", 1)
        return None

    world.fail["ModifyListener"] = after_the_second_write
    deployer = make_deployer()

    assert deployer.deploy(V2).outcome == "succeeded"
    assert record(deployer).skipped_polls == 0
