"""Green is judged by green's tasks: a target someone registered by hand in green's target
group — healthy, or dead — changes the outcome of no release, in either mode.

Before bluegreen told green's targets apart, a dead stray kept a good release from ever
being ready (rolled back at `health.timeout`), and a healthy stray hid a bad release's
definitive failure until the timeout. Here the good release succeeds, and the bad one is
rolled back within its fail-fast window, with a message that blames its own targets and
names the stray; `bluegreen verify` warns about both strays with the command to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sim_helpers import elb, health

from bluegreen import Deployer
from bluegreen.aws import connect
from bluegreen.config import parse_config
from bluegreen.errors import HealthCheckFailed
from bluegreen.preflight import Result, run_checks
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import CONTAINER_PORT, SandboxStack, build_stack

IMAGE = "public.ecr.aws/bluegreen/demo-web"
GOOD, WRONG_PATH = f"{IMAGE}:2.0.0", f"{IMAGE}:3.0.0"  # 3.0.0 serves /api only: /health 404
DEAD = "stray/dead:1"  # what runs behind the dead stray: it never answers
HEALTHY_STRAY, DEAD_STRAY = "10.0.9.9", "10.0.9.10"
MODES = ["task-sets", "service-pair"]


def register_stray(sandbox: Sandbox, stack: SandboxStack, ip: str, *, dead: bool) -> None:
    """RegisterTargets by hand, as a person in the console would."""
    elb().register_targets(
        TargetGroupArn=stack.green_tg_arn, Targets=[{"Id": ip, "Port": CONTAINER_PORT}]
    )
    health(stack.green_tg_arn)  # ELB starts checking it
    if dead:
        sandbox.apps[DEAD] = AppModel(hangs=True)
        sandbox.targets[(stack.green_tg_arn, ip)].image = DEAD
    sandbox.clock.advance(600)  # the stray's verdict is in: healthy, or Target.Timeout
    assert health(stack.green_tg_arn)[ip]["State"] == ("unhealthy" if dead else "healthy")


def deploy(sandbox: Sandbox, stack: SandboxStack, folder: Path, image: str) -> Any:
    config = parse_config(stack.config(), source=folder / "bluegreen.toml")
    notes: list[str] = []
    deployer = Deployer(config, clock=sandbox.clock)
    started = sandbox.clock.now()
    try:
        result: Any = deployer.deploy(
            images={"web": image}, on_event=lambda e: notes.append(e.message)
        )
    except HealthCheckFailed as failure:
        result = failure
    return result, notes, sandbox.clock.now() - started


def green_weights(stack: SandboxStack) -> set[int]:
    found = set()
    for arn in (stack.http_listener_arn, stack.https_listener_arn):
        listener = elb().describe_listeners(ListenerArns=[arn])["Listeners"][0]
        for group in listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]:
            if group["TargetGroupArn"] == stack.green_tg_arn:
                found.add(group["Weight"])
    return found


@pytest.fixture(params=MODES)
def stack(request: pytest.FixtureRequest, sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, mode=request.param)


@pytest.mark.parametrize("dead", [False, True], ids=["healthy stray", "dead stray"])
def test_a_stray_does_not_stop_a_good_release(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, dead: bool
) -> None:
    ip = DEAD_STRAY if dead else HEALTHY_STRAY
    register_stray(sandbox, stack, ip, dead=dead)

    result, notes, _took = deploy(sandbox, stack, tmp_path, GOOD)

    assert not isinstance(result, Exception), str(result)
    assert result.outcome == "succeeded", result.reason
    assert green_weights(stack) == {100}
    named = f"{ip}:{CONTAINER_PORT} in green's target group is not one of green's tasks: ignored"
    assert named in notes


@pytest.mark.parametrize("dead", [False, True], ids=["healthy stray", "dead stray"])
def test_a_stray_does_not_save_a_bad_release(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, dead: bool
) -> None:
    ip = DEAD_STRAY if dead else HEALTHY_STRAY
    register_stray(sandbox, stack, ip, dead=dead)
    sandbox.apps[WRONG_PATH] = AppModel(serves=("/api",))

    result, _notes, took = deploy(sandbox, stack, tmp_path, WRONG_PATH)

    assert isinstance(result, HealthCheckFailed), result
    message = str(result)
    assert "will not become healthy" in message  # fail-fast, not the 15-minute timeout
    assert took < 600, took
    assert "Target.ResponseCodeMismatch" in message
    assert "security groups" not in message and "Target.Timeout" not in message
    assert green_weights(stack) == {0}


def test_verify_warns_about_both_strays_with_the_fix(sandbox: Sandbox, stack: SandboxStack) -> None:
    register_stray(sandbox, stack, HEALTHY_STRAY, dead=False)
    register_stray(sandbox, stack, DEAD_STRAY, dead=True)

    cloud = connect(clock=sandbox.clock)
    report = run_checks(parse_config(stack.config()), cloud, sandbox.clock.now())

    warned = [c for c in report.named("stray_targets") if c.result is Result.WARN]
    assert len(warned) == 1, report.to_dict()
    (check,) = warned
    assert f"{HEALTHY_STRAY}:{CONTAINER_PORT}" in check.detail
    assert f"{DEAD_STRAY}:{CONTAINER_PORT}" in check.detail
    assert "web-green" in check.detail
    assert check.fix is not None and "deregister-targets" in check.fix
    assert f"Id={DEAD_STRAY},Port={CONTAINER_PORT}" in check.fix
    blue = [c for c in report.named("stray_targets") if "web-blue" in c.detail]
    assert [c.result for c in blue] == [Result.PASS], report.to_dict()
    assert report.ok


def test_the_sandbox_lists_the_tasks_behind_the_targets(stack: SandboxStack) -> None:
    """The sandbox lists only what ECS runs: blue's tasks, at the addresses of blue's
    targets (no phantom task of moto's)."""
    cloud = connect()
    started_by = stack.blue_task_set_id if stack.mode == "task-sets" else None
    service = None if started_by else "web-blue"
    tasks = cloud.ecs.tasks(stack.cluster, started_by=started_by, service=service)
    addresses = {(t.ip, CONTAINER_PORT) for t in tasks if t.running}
    registered = {(ip, int(h["Port"])) for ip, h in health(stack.blue_tg_arn).items()}
    assert addresses == registered and len(tasks) == 2
