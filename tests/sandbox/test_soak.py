"""The fault soak (bluegreen/sandbox/soak.py) in small: a few deployments, good and broken
taking turns, with throttling and server errors in the ELB and ECS calls; every rule must
hold. `python benchmarks/soak.py` runs the full hundred."""

from __future__ import annotations

from sim_helpers import elb, green_task_set

from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.faults import Faults, Injection
from bluegreen.sandbox.soak import BackOffs, not_at_rest, run_soak
from bluegreen.sandbox.stack import SandboxStack


def test_six_deployments_under_faults_keep_every_rule() -> None:
    report = run_soak(deployments=6, seed=7)

    assert report.ok, "\n".join(report.summary())
    assert [o.exit_code for o in report.outcomes] == [0, 1, 0, 1, 0, 1]
    assert report.faults_injected > 100 and report.aws_calls > 500
    reasons = [o.reason or "" for o in report.rolled_back]  # each way of being broken
    assert "will not become healthy" in reasons[0] and "Target.ResponseCodeMismatch" in reasons[0]
    assert "will not become healthy" in reasons[1] and "Target.Timeout" in reasons[1]
    assert "alarm(s) in ALARM" in reasons[2]


def test_a_leftover_task_set_is_reported(sandbox: Sandbox, stack: SandboxStack) -> None:
    assert not_at_rest(sandbox, stack) == []

    green_task_set(stack)

    [problem] = not_at_rest(sandbox, stack)
    assert "ACTIVE" in problem and stack.green_tg_arn in problem


def test_a_listener_left_apart_from_the_others_is_reported(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    forward = [{"TargetGroupArn": stack.green_tg_arn, "Weight": 100}]
    elb().modify_listener(
        ListenerArn=stack.https_listener_arn,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": forward}}],
    )

    problems = not_at_rest(sandbox, stack)

    assert problems and problems[0].startswith("routes not all on one colour")


def test_only_the_tick_ending_a_back_off_is_excused(sandbox: Sandbox) -> None:
    faults = Faults()
    backoffs = BackOffs(sandbox, faults)
    excused: list[bool] = []
    sandbox.on_tick(lambda _: excused.append(backoffs.excused()))  # as the observer does
    sandbox.on_tick(backoffs.tick)

    faults.last_error = Injection(400, "Throttling", "Rate exceeded")
    sandbox.clock.sleep(1.5)  # a back-off
    sandbox.clock.sleep(60)  # a wait of the caller's own, after a refused call
    faults.last_error = None
    sandbox.clock.sleep(1.5)  # after a call that went through

    assert excused == [True, False, False]
