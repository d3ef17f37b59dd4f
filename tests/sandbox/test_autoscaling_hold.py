"""Application Auto Scaling held during a deployment, on the simulated AWS (virtual time).

The sandbox's auto scaling (bluegreen/sandbox/autoscaling.py) moves a service's desired
count toward a demand a test sets, within min and max, unless that direction is suspended.
Each test asserts what AWS shows: the scalable target's SuspendedState during and after the
deployment, the services' desired counts, green's running tasks, the record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from sim_helpers import advance, ecs, production_weights

from bluegreen import Deployer
from bluegreen.aws import connect
from bluegreen.config import parse_config
from bluegreen.errors import DeploymentFailed, HealthCheckFailed, PreflightError, RollbackFailed
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord, Event
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
NOTHING = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}
SCALE_IN_HELD = NOTHING | {"DynamicScalingInSuspended": True, "ScheduledScalingSuspended": True}


class Killed(BaseException):
    """The process dies: nothing of the engine runs after it (no rollback, no restore)."""


def autoscaling() -> Any:
    return boto3.client("application-autoscaling", region_name="us-east-1")


def register(
    stack: SandboxStack, service: str, low: int = 1, high: int = 8, **suspended: bool
) -> str:
    resource = f"service/{stack.cluster}/{service}"
    autoscaling().register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=low,
        MaxCapacity=high,
        SuspendedState=NOTHING | suspended,
    )
    return resource


def suspended(resource: str) -> dict[str, bool]:
    (target,) = autoscaling().describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource]
    )["ScalableTargets"]
    state: dict[str, bool] = target["SuspendedState"]
    return state


def desired(stack: SandboxStack, service: str) -> int:
    (found,) = ecs().describe_services(cluster=stack.cluster, services=[service])["services"]
    count: int = found["desiredCount"]
    return count


def deployer(sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, **overrides: Any) -> Deployer:
    config = parse_config(stack.config(**overrides), source=tmp_path / "bluegreen.toml")
    return Deployer(config, cloud=connect(clock=sandbox.clock), clock=sandbox.clock)


def latest(bluegreen: Deployer) -> DeploymentRecord:
    rec = bluegreen.store.latest(bluegreen.config.service_key)
    assert rec is not None
    return rec


def at_canary(sandbox: Sandbox, stack: SandboxStack, act: Callable[[], None]) -> None:
    """Run `act` once, the first time the clock moves with 10 % of production on green."""
    done: list[bool] = []

    def listener(_now: float) -> None:
        if not done and production_weights(stack) == {(90, 10)}:
            done.append(True)
            act()

    sandbox.clock.on_advance(listener)


@pytest.fixture
def stack(sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, desired_count=4)


# -- the simulator ------------------------------------------------------------------------


def test_the_simulated_scaling_moves_the_desired_count_within_min_and_max_unless_held(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    resource = register(stack, stack.service, low=2, high=6)
    sandbox.autoscaling.demand(resource, 1)  # a policy wants 1: min is 2
    advance(sandbox, 5)
    assert desired(stack, stack.service) == 2
    sandbox.autoscaling.demand(resource, 9)  # max is 6
    advance(sandbox, 5)
    assert desired(stack, stack.service) == 6

    register(stack, stack.service, low=2, high=6, DynamicScalingInSuspended=True)
    sandbox.autoscaling.demand(resource, 3)
    advance(sandbox, 5)
    assert desired(stack, stack.service) == 6  # held…
    sandbox.autoscaling.demand(resource, 3, scheduled=True)
    advance(sandbox, 5)
    assert desired(stack, stack.service) == 3  # …but a scheduled action is not a policy

    register(stack, stack.service, low=2, high=6, ScheduledScalingSuspended=True)
    sandbox.autoscaling.demand(resource, 5, scheduled=True)
    advance(sandbox, 5)
    assert desired(stack, stack.service) == 3
    register(stack, stack.service, low=2, high=6)  # resumed: the demand still stands
    advance(sandbox, 5)
    assert desired(stack, stack.service) == 5
    assert [(a.from_count, a.to_count) for a in sandbox.autoscaling.activities] == [
        (4, 2),
        (2, 6),
        (6, 3),
        (3, 5),
    ]


# -- a scale-in mid-shift -------------------------------------------------------------------


@pytest.mark.parametrize("hold", ["none", "scale-in"])
def test_a_scale_in_mid_shift_shrinks_green_unless_it_is_held(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, hold: str
) -> None:
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path, autoscaling={"hold": hold})
    green_running: list[int] = []
    at_canary(sandbox, stack, lambda: sandbox.autoscaling.demand(resource, 1))

    def watch_green(_now: float) -> None:
        if production_weights(stack) == {(90, 10)}:
            green_running.append(_running(stack, latest(bluegreen).green_task_set))

    sandbox.clock.on_advance(watch_green)

    result = bluegreen.deploy({"web": V2})

    assert result.outcome == "succeeded"
    if hold == "none":  # the service — so green's task set — shrank under the deployment
        assert min(green_running) == 1
        assert suspended(resource) == NOTHING
    else:  # held: green kept blue's 4 tasks through the shift
        assert set(green_running) == {4}
        assert suspended(resource) == NOTHING  # restored as found…
        advance(sandbox, 5)
        assert desired(stack, stack.service) == 1  # …so the waiting scale-in happens now


def _running(stack: SandboxStack, task_set: str | None) -> int:
    found = ecs().describe_task_sets(
        cluster=stack.cluster, service=stack.service, taskSets=[task_set or ""]
    )["taskSets"]
    return int(found[0]["runningCount"]) if found else 0


# -- hold and restore --------------------------------------------------------------------


def test_held_from_provisioning_and_restored_after_a_success(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path)
    seen: list[dict[str, bool]] = []
    at_canary(sandbox, stack, lambda: seen.append(suspended(resource)))

    assert bluegreen.deploy({"web": V2}).outcome == "succeeded"

    assert seen == [SCALE_IN_HELD]
    assert suspended(resource) == NOTHING
    rec = latest(bluegreen)
    (hold,) = rec.scaling_holds
    assert (hold.resource_id, hold.restored, hold.left) == (resource, True, None)
    messages = [e.message for e in rec.events]
    held = next(i for i, m in enumerate(messages) if m.startswith("holding auto scaling"))
    created = next(i for i, m in enumerate(messages) if m.startswith("created green task set"))
    restored = next(i for i, m in enumerate(messages) if "restored: nothing suspended" in m)
    retired = next(i for i, m in enumerate(messages) if m.startswith("retired blue"))
    assert held < created and retired < restored  # held before green, restored after clean-up
    assert rec.events[restored].state is State.CLEANING_UP  # before SUCCEEDED is saved


def test_what_was_suspended_before_stays_suspended_and_is_put_back_exactly(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    before = NOTHING | {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True}
    resource = register(stack, stack.service, **{k: v for k, v in before.items() if v})
    bluegreen = deployer(sandbox, stack, tmp_path, autoscaling={"hold": "scale-in"})
    seen: list[dict[str, bool]] = []
    at_canary(sandbox, stack, lambda: seen.append(suspended(resource)))

    bluegreen.deploy({"web": V2})

    assert seen == [{k: True for k in NOTHING}]  # scale-out was held by the user: still is
    assert suspended(resource) == before


def test_scale_in_and_out_holds_both_directions(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path, autoscaling={"hold": "scale-in-and-out"})
    seen: list[dict[str, bool]] = []
    at_canary(sandbox, stack, lambda: seen.append(suspended(resource)))
    bluegreen.deploy({"web": V2})
    assert seen == [{k: True for k in NOTHING}]
    assert suspended(resource) == NOTHING


def test_restored_after_a_rollback(sandbox: Sandbox, stack: SandboxStack, tmp_path: Path) -> None:
    sandbox.apps[V2] = AppModel(serves=("/api",))  # health checks on /health answer 404
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path, health={"timeout": "2m"})
    held: list[dict[str, bool]] = []
    sandbox.clock.on_advance(lambda _now: held.append(suspended(resource)) if not held else None)

    with pytest.raises(HealthCheckFailed):
        bluegreen.deploy({"web": V2})

    assert held == [SCALE_IN_HELD]  # while green was coming up
    assert suspended(resource) == NOTHING
    rec = latest(bluegreen)
    assert rec.state is State.ROLLED_BACK and rec.scaling_holds[0].restored
    restored = next(e for e in rec.events if "restored" in e.message)
    assert restored.state is State.ROLLING_BACK


@pytest.mark.parametrize("then", ["resume", "rollback"])
def test_a_crash_leaves_it_held_and_whoever_ends_the_deployment_restores_it(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, then: str
) -> None:
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path)

    def kill() -> None:
        raise Killed

    at_canary(sandbox, stack, kill)
    with pytest.raises(Killed):
        bluegreen.deploy({"web": V2})
    assert suspended(resource) == SCALE_IN_HELD  # nobody restored it: the process died
    rec = latest(bluegreen)
    assert rec.state is State.SHIFTING and not rec.scaling_holds[0].restored

    if then == "resume":
        assert bluegreen.resume().outcome == "succeeded"
    else:
        assert bluegreen.rollback(reason="killed mid-shift").outcome == "rolled_back"
        assert production_weights(stack) == {(100, 0)}
    assert suspended(resource) == NOTHING
    assert latest(bluegreen).scaling_holds[0].restored


def test_a_service_without_a_scalable_target_is_left_alone(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    bluegreen = deployer(sandbox, stack, tmp_path)
    assert bluegreen.deploy({"web": V2}).outcome == "succeeded"
    rec = latest(bluegreen)
    assert rec.scaling_holds == []
    assert any("has no auto scaling target: nothing to hold" in e.message for e in rec.events)
    calls = bluegreen.cloud.mutating_calls()  # type: ignore[attr-defined]
    assert "RegisterScalableTarget" not in calls
    assert autoscaling().describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []


def test_hold_none_reads_and_writes_no_scalable_target(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path, autoscaling={"hold": "none"})
    bluegreen.deploy({"web": V2})
    calls = bluegreen.cloud.calls  # type: ignore[attr-defined]
    assert not [c for c in calls if "ScalableTarget" in c]


def test_a_restoration_that_fails_is_a_warning_naming_the_command_not_a_failure(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path)
    at_canary(
        sandbox,
        stack,
        lambda: sandbox.faults.fail(
            "RegisterScalableTarget", status=400, code="AccessDeniedException", message="denied"
        ),
    )

    result = bluegreen.deploy({"web": V2})

    assert result.outcome == "succeeded" and result.exit_code == 0
    assert suspended(resource) == SCALE_IN_HELD
    (warning,) = result.warnings
    assert "could not be restored" in warning and "AccessDeniedException" in warning
    assert (
        "aws application-autoscaling register-scalable-target --service-namespace ecs "
        f"--scalable-dimension ecs:service:DesiredCount --resource-id {resource} "
        "--suspended-state DynamicScalingInSuspended=false,DynamicScalingOutSuspended=false,"
        "ScheduledScalingSuspended=false"
    ) in warning
    assert result.to_dict()["warnings"] == [warning]


# -- service pair, green's size ---------------------------------------------------------------


def test_a_service_pair_holds_both_services_and_green_takes_blues_desired_count_now(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    pair = build_stack(sandbox, mode="service-pair", desired_count=2)
    blue, green = pair.blue_service or "", pair.green_service or ""
    resources = [register(pair, blue), register(pair, green, low=0)]
    bluegreen = deployer(sandbox, pair, tmp_path)
    seen: list[list[dict[str, bool]]] = []
    at_canary(sandbox, pair, lambda: seen.append([suspended(r) for r in resources]))

    def scale_blue_out_after_preflight(event: Event) -> None:
        if event.message.startswith("blue is "):  # preflight has read blue's count (2)
            ecs().update_service(cluster=pair.cluster, service=blue, desiredCount=3)

    bluegreen.deploy({"web": V2}, on_event=scale_blue_out_after_preflight)

    assert seen == [[SCALE_IN_HELD, SCALE_IN_HELD]]
    assert [suspended(r) for r in resources] == [NOTHING, NOTHING]
    assert (desired(pair, green), desired(pair, blue)) == (3, 0)  # green serves at blue's 3
    rec = latest(bluegreen)
    assert rec.desired_count == 3
    assert any(
        e.message == "green sized at 3 task(s): blue's desired count now; it was 2 at preflight"
        for e in rec.events
    )


def test_task_sets_size_green_by_the_services_desired_count_when_provisioning(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    bluegreen = deployer(sandbox, stack, tmp_path)

    def scale_in_after_preflight(event: Event) -> None:
        if event.message.startswith("blue is "):
            ecs().update_service(cluster=stack.cluster, service=stack.service, desiredCount=3)

    assert bluegreen.deploy({"web": V2}, on_event=scale_in_after_preflight).outcome == "succeeded"
    assert latest(bluegreen).desired_count == 3  # what green_ready waited for
    assert desired(stack, stack.service) == 3


def test_a_target_that_cannot_be_read_stops_the_deployment_in_preflight(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    register(stack, stack.service)
    sandbox.faults.fail(
        "DescribeScalableTargets", status=400, code="AccessDeniedException", message="denied"
    )
    bluegreen = deployer(sandbox, stack, tmp_path)
    with pytest.raises(PreflightError) as caught:
        bluegreen.deploy({"web": V2})
    assert "autoscaling: AWS DescribeScalableTargets failed" in caught.value.message
    assert 'hold = "none"' in caught.value.message
    assert latest(bluegreen).state is State.STOPPED  # nothing was changed
    assert bluegreen.cloud.mutating_calls() == []  # type: ignore[attr-defined]


def test_a_hold_that_cannot_be_written_stops_before_green_with_what_to_do(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    resource = register(stack, stack.service)
    sandbox.faults.fail(
        "RegisterScalableTarget", status=400, code="AccessDeniedException", message="denied"
    )
    bluegreen = deployer(sandbox, stack, tmp_path)
    with pytest.raises(DeploymentFailed) as caught:
        bluegreen.deploy({"web": V2})
    assert "could not hold the auto scaling of service web" in caught.value.message
    assert 'hold = "none"' in (caught.value.hint or "")
    rec = latest(bluegreen)
    assert rec.state is State.ROLLED_BACK and rec.green_task_set is None  # never brought up
    assert rec.warnings == []  # nothing was suspended: nothing left to restore
    assert production_weights(stack) == {(100, 0)}
    assert suspended(resource) == NOTHING


@pytest.mark.parametrize("registered", [True, False])
def test_verify_says_what_a_deployment_will_hold(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, registered: bool
) -> None:
    if registered:
        register(stack, stack.service, low=2, high=6, DynamicScalingOutSuspended=True)
    (check,) = deployer(sandbox, stack, tmp_path).verify().named("autoscaling")
    assert check.result.value == "pass"
    assert check.detail == (
        "web: min 2, max 6, dynamic scale-out suspended now; held during a deployment: "
        "dynamic scale-in, dynamic scale-out, scheduled scaling suspended"
        if registered
        else "web: no auto scaling target, nothing to hold"
    )
    quiet = deployer(sandbox, stack, tmp_path, autoscaling={"hold": "none"}).verify()
    assert quiet.named("autoscaling") == []


# -- what the record must know, whenever the process dies ----------------------------------


def test_killed_right_after_suspending_the_resumed_deployment_restores_what_was_found(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    """The state found is saved before it is changed, and a resumed PROVISIONING writes the
    recorded hold again without reading its own suspension as what was found."""
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path)
    holds = bluegreen.cloud.autoscaling  # type: ignore[attr-defined]
    write = holds.suspend

    def suspend_then_die(*args: Any) -> None:
        write(*args)
        raise Killed

    holds.suspend = suspend_then_die
    with pytest.raises(Killed):
        bluegreen.deploy({"web": V2})
    holds.suspend = write
    assert suspended(resource) == SCALE_IN_HELD
    assert latest(bluegreen).state is State.PROVISIONING

    assert bluegreen.resume().outcome == "succeeded"
    assert suspended(resource) == NOTHING


def test_a_failed_rollback_keeps_it_held_until_a_rollback_completes(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path)
    denied: list[Any] = []

    def deny_listener_changes() -> None:  # the next shift fails, and so does the rollback
        denied.append(
            sandbox.faults.fail("ModifyListener", status=400, code="AccessDenied", message="no")
        )

    at_canary(sandbox, stack, deny_listener_changes)
    with pytest.raises(RollbackFailed) as caught:
        bluegreen.deploy({"web": V2})

    assert caught.value.exit_code == 3
    assert suspended(resource) == SCALE_IN_HELD  # blue and green both run: still held
    rec = latest(bluegreen)
    assert rec.state is State.FAILED
    (warning,) = rec.warnings
    assert "stays held" in warning and "`bluegreen rollback` tries again" in warning
    assert "register-scalable-target" in warning

    sandbox.faults.remove(denied[0])
    assert bluegreen.rollback().outcome == "rolled_back"
    assert suspended(resource) == NOTHING
    assert latest(bluegreen).warnings == []


def test_the_next_deployment_restores_what_a_hold_left_behind_found(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    resource = register(stack, stack.service)
    bluegreen = deployer(sandbox, stack, tmp_path)
    rules: list[Any] = []
    at_canary(
        sandbox,
        stack,
        lambda: rules.append(
            sandbox.faults.fail("RegisterScalableTarget", status=400, code="AccessDenied")
        ),
    )
    assert bluegreen.deploy({"web": V2}).warnings  # left held: restoring was denied
    sandbox.faults.remove(rules[0])
    assert suspended(resource) == SCALE_IN_HELD

    second = deployer(sandbox, stack, tmp_path)
    assert second.deploy({"web": "public.ecr.aws/bluegreen/demo-web:3.0.0"}).warnings == ()
    assert suspended(resource) == NOTHING  # what the first one found, not what it left
    assert any("is still held by deployment" in e.message for e in latest(second).events)


@pytest.mark.parametrize("mode", ["task-sets", "service-pair"])
def test_the_plan_says_what_will_be_held_and_on_which_services(
    sandbox: Sandbox, tmp_path: Path, mode: str
) -> None:
    stack = build_stack(sandbox, mode=mode)  # type: ignore[arg-type]
    services = "web" if mode == "task-sets" else f"{stack.blue_service} and {stack.green_service}"
    steps = {s.action: s.detail for s in deployer(sandbox, stack, tmp_path).plan({"web": V2}).steps}
    assert steps["hold auto scaling"] == (
        f"suspend dynamic scale-in, scheduled scaling on the auto scaling target of {services} "
        "(if any) until the deployment ends, then restore it as found"
    )
    quiet = deployer(sandbox, stack, tmp_path, autoscaling={"hold": "none"}).plan({"web": V2})
    assert "hold auto scaling" not in {s.action for s in quiet.steps}
