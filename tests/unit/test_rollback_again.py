"""A rollback that could not complete (exit 3) is taken up again by `bluegreen rollback`,
once a person has fixed what it named: the hint of exit 3 says so, and it must be true."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, World, replace_health

from bluegreen.deployer import Deployer
from bluegreen.errors import RollbackFailed, UsageError
from bluegreen.machine import State
from bluegreen.model import HealthState

MakeDeployer = Callable[..., Deployer]
V2 = {"web": "repo/web:2"}
PAUSED_AT_30 = {"type": "steps", "steps": [{"weight": 30, "pause": True}, {"weight": 100}]}


def _stuck(make_deployer: MakeDeployer, world: World) -> Deployer:
    """A deployment paused at 30 % green whose rollback failed: blue had no healthy target."""
    deployer = make_deployer(strategy=PAUSED_AT_30)
    deployer.deploy(V2, detach_at_pause=True)
    replace_health(world, BLUE, HealthState.UNHEALTHY, "Target.Timeout")
    with pytest.raises(RollbackFailed) as caught:
        deployer.rollback(reason="bad canary")
    assert caught.value.hint == RollbackFailed.RETRY
    assert _latest(deployer).state is State.FAILED
    return deployer


def _latest(deployer: Deployer) -> object:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def test_rollback_again_completes_once_blue_is_healthy(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = _stuck(make_deployer, world)
    replace_health(world, BLUE, HealthState.HEALTHY, None)

    result = deployer.rollback(reason="blue fixed")

    assert result.outcome == "rolled_back" and result.state is State.ROLLED_BACK
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]
    assert world.violations == []
    messages = [e.message for e in result.record.events]
    assert any(m.startswith("rollback tried again by ") and "blue fixed" in m for m in messages)


def test_rollback_again_while_blue_is_still_down_fails_the_same_way(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = _stuck(make_deployer, world)

    with pytest.raises(RollbackFailed) as caught:
        deployer.rollback()

    assert caught.value.exit_code == 3 and caught.value.hint == RollbackFailed.RETRY
    assert "no healthy target" in str(caught.value)
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 70, GREEN: 30}  # untouched
    assert world.violations == []


def test_a_deployment_that_rolled_back_is_not_rolled_back_again(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = _stuck(make_deployer, world)
    replace_health(world, BLUE, HealthState.HEALTHY, None)
    deployer.rollback()

    with pytest.raises(UsageError, match="no deployment of this service is in flight"):
        deployer.rollback()


def test_no_retry_once_blue_was_being_retired(make_deployer: MakeDeployer, world: World) -> None:
    deployer = _stuck(make_deployer, world)
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    rec.blue_retiring = True
    deployer.store.save(rec)

    with pytest.raises(UsageError, match="FAILED"):
        deployer.rollback()
    assert world.weights(HTTP) == {BLUE: 70, GREEN: 30}
