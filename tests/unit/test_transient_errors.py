"""AWS throttling or failing through every retry of a call (a transient AwsError): the
rollback runs again instead of paging a person, and a preflight stops (exit 1, nothing
changed) instead of calling it a configuration problem (exit 2). Found by the fault soak
(bluegreen/sandbox/soak.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, World

from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer
from bluegreen.engine.rollback import ROUND_PAUSE, ROUNDS
from bluegreen.errors import AwsError, RollbackFailed
from bluegreen.machine import State

V2 = {"web": "repo/web:v2"}
PAUSE_AT_30 = [{"weight": 30, "pause": True}, {"weight": 100}]
MakeDeployer = Callable[..., Deployer]


def throttled(times: int, *, transient: bool = True) -> Callable[[], Exception | None]:
    """The first `times` calls fail as a call does once its retries are spent."""
    left = [times]

    def fail() -> Exception | None:
        if left[0] == 0:
            return None
        left[0] -= 1
        return AwsError("ModifyListener", "Throttling", "Rate exceeded", transient=transient)

    return fail


def paused_at_30(make_deployer: MakeDeployer) -> Deployer:
    deployer = make_deployer(strategy={"type": "steps", "steps": PAUSE_AT_30})
    deployer.deploy(V2, detach_at_pause=True)
    return deployer


def test_a_rollback_stopped_by_throttling_runs_again_and_puts_blue_back(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    deployer = paused_at_30(make_deployer)
    world.fail["ModifyListener"] = throttled(1)
    started = clock.now()

    result = deployer.rollback(reason="bad canary")

    assert result.outcome == "rolled_back" and result.exit_code == 1
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]
    assert clock.now() - started >= ROUND_PAUSE
    assert any("trying again in 30s" in e.message for e in result.record.events)
    assert world.violations == []


def test_a_rollback_gives_up_after_its_rounds(make_deployer: MakeDeployer, world: World) -> None:
    deployer = paused_at_30(make_deployer)
    world.fail["ModifyListener"] = throttled(1000)
    world.calls.clear()

    with pytest.raises(RollbackFailed) as caught:
        deployer.rollback()

    assert caught.value.exit_code == 3 and "Rate exceeded" in caught.value.message
    assert world.calls.count("ModifyListener") == ROUNDS
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 70, GREEN: 30}


def test_a_rollback_error_that_will_not_pass_is_not_tried_again(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = paused_at_30(make_deployer)
    world.fail["ModifyListener"] = throttled(1, transient=False)
    world.calls.clear()

    with pytest.raises(RollbackFailed):
        deployer.rollback()

    assert world.calls.count("ModifyListener") == 1


@pytest.mark.parametrize("operation", ["DescribeTargetGroupAttributes", "DescribeServices"])
def test_aws_failing_through_every_retry_in_preflight_stops_with_exit_1(
    make_deployer: MakeDeployer, world: World, operation: str
) -> None:
    world.fail[operation] = lambda: AwsError(
        operation, "ServiceUnavailable", "down", transient=True
    )
    deployer = make_deployer()

    with pytest.raises(AwsError) as caught:
        deployer.deploy(V2)

    assert caught.value.exit_code == 1 and "ServiceUnavailable" in caught.value.message
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.state is State.STOPPED
    assert "CreateTaskSet" not in world.calls
    with pytest.raises(AwsError):  # verify too: it is no finding about the configuration
        deployer.verify()
