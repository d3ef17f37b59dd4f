"""A release whose container exits a few seconds after it starts is rolled back within
seconds of its third stopped task (ECS's circuit-breaker threshold for two tasks), in both
modes, long before `health.timeout`; listeners stay on blue and the reason names the exit
code. The simulated ECS stops each exited task ("Essential container in task exited") and
starts a replacement, as ECS does, and lists them STOPPED with their exit code."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sim_helpers import advance, ecs, green_task_set, production_weights

from bluegreen import Deployer
from bluegreen.config import parse_config
from bluegreen.errors import HealthCheckFailed
from bluegreen.machine import State
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

CRASHES = "public.ecr.aws/bluegreen/demo-web:2.0.0"
POLL = 5.0


def test_an_exited_task_is_stopped_with_its_exit_code_and_replaced(
    sandbox: Sandbox, sandbox_stack: SandboxStack
) -> None:
    sandbox.apps[CRASHES] = AppModel(exits_after=4, exit_code=3)
    task_set = green_task_set(sandbox_stack, CRASHES)
    advance(sandbox, sandbox.task_start_delay + 5)  # the first two ran 4 s, then exited

    client = ecs()
    listed = client.list_tasks(
        cluster=sandbox_stack.cluster, startedBy=task_set["id"], desiredStatus="STOPPED"
    )["taskArns"]
    running = client.list_tasks(cluster=sandbox_stack.cluster, startedBy=task_set["id"])
    stopped = client.describe_tasks(cluster=sandbox_stack.cluster, tasks=listed)["tasks"]
    assert len(stopped) == 2 and len(running["taskArns"]) == 2  # replaced at once
    for task in stopped:
        assert task["stoppedReason"] == "Essential container in task exited"
        assert task["stopCode"] == "EssentialContainerExited"
        assert [c["exitCode"] for c in task["containers"]] == [3]
        assert task["stoppedAt"] - task["startedAt"] == timedelta(seconds=4)


@pytest.mark.parametrize("mode", ["task-sets", "service-pair"])
def test_a_release_that_exits_is_rolled_back_at_its_third_stopped_task(
    sandbox: Sandbox, tmp_path: Path, mode: str
) -> None:
    stack = build_stack(sandbox, mode=mode)  # type: ignore[arg-type]
    sandbox.apps[CRASHES] = AppModel(exits_after=3, exit_code=1)
    data = stack.config()
    data["health"] = {"timeout": "15m", "poll_interval": f"{POLL:g}s"}
    bluegreen = Deployer(
        parse_config(data, source=tmp_path / "bluegreen.toml"), clock=sandbox.clock
    )

    with pytest.raises(HealthCheckFailed) as caught:
        bluegreen.deploy({"web": CRASHES})

    rec = bluegreen.store.latest(bluegreen.config.service_key)
    assert rec is not None and rec.state is State.ROLLED_BACK
    assert rec.failed_in is State.WAITING_HEALTHY
    exits = sorted(
        t.stopped_at
        for t in sandbox.tasks.values()
        if t.stop_code == "EssentialContainerExited" and t.stopped_at is not None
    )
    third = exits[2]
    failed_at = next(e.at for e in rec.events if e.state is State.ROLLING_BACK)
    assert third <= failed_at <= third + 2 * POLL
    assert failed_at - rec.created_at < 120  # not health.timeout's 15 minutes
    assert "exit code 1" in caught.value.message
    assert "Essential container in task exited" in (rec.reason or "")
    if mode == "task-sets":
        assert (rec.reason or "").startswith("green will not start: 4 of its tasks stopped")
    else:  # the simulated service has ECS's breaker on: its verdict, with the tasks' reasons
        assert "circuit breaker" in (rec.reason or "")
    assert production_weights(stack) == {(100, 0)}
