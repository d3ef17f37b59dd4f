"""Target health on the simulated AWS follows the ELB documentation: initial → healthy after
HealthyThresholdCount × interval; unhealthy after UnhealthyThresholdCount × interval with the
reason AWS gives; draining for the deregistration delay. Observed through DescribeTargetHealth.

The stack's target groups check /health every 10 s, healthy threshold 3, unhealthy
threshold 2 (ELB's default), deregistration delay 30 s; tasks start 15 s after CreateTaskSet.
"""

from __future__ import annotations

import pytest
from moto.elbv2.models import FakeTargetGroup
from sim_helpers import (
    advance,
    advance_to,
    delete_task_set,
    elb,
    green_task_set,
    health,
    states,
)

from bluegreen.sandbox import AppModel, Sandbox, in_process
from bluegreen.sandbox.health import matches
from bluegreen.sandbox.stack import SandboxStack

BROKEN = "public.ecr.aws/bluegreen/demo-web:3.0.0"


def registered_at(sandbox: Sandbox, stack: SandboxStack) -> float:
    """Create green's task set now; its targets are registered after the start delay."""
    created = sandbox.clock.now()
    green_task_set(stack, BROKEN)
    return created + sandbox.task_start_delay


def test_a_new_target_is_initial_then_healthy_exactly_at_threshold_times_interval(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    registered = registered_at(sandbox, stack)

    advance_to(sandbox, registered)
    assert states(stack.green_tg_arn) == [("initial", "Elb.RegistrationInProgress")] * 2
    advance_to(sandbox, registered + 10)  # after one interval: the checks have started
    assert states(stack.green_tg_arn) == [("initial", "Elb.InitialHealthChecking")] * 2
    advance_to(sandbox, registered + 29, step=1)
    assert {h["State"] for h in health(stack.green_tg_arn).values()} == {"initial"}
    advance_to(sandbox, registered + 30, step=1)  # 3 × 10 s
    assert states(stack.green_tg_arn) == [("healthy", None)] * 2


def test_a_health_check_path_the_app_does_not_serve_is_a_response_code_mismatch(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[BROKEN] = AppModel(serves=("/api",))
    registered = registered_at(sandbox, stack)

    advance_to(sandbox, registered + 19, step=1)
    assert {h["State"] for h in health(stack.green_tg_arn).values()} == {"initial"}
    advance_to(sandbox, registered + 20, step=1)  # 2 × 10 s
    answers = list(health(stack.green_tg_arn).values())
    assert len(answers) == 2
    for answer in answers:
        assert answer["State"] == "unhealthy"
        assert answer["Reason"] == "Target.ResponseCodeMismatch"
        assert answer["Description"] == "Health checks failed with these codes: [404]"


def test_the_matcher_decides_which_codes_pass(sandbox: Sandbox, stack: SandboxStack) -> None:
    sandbox.apps[BROKEN] = AppModel(serves=("/api",))  # /health answers 404
    elb().modify_target_group(TargetGroupArn=stack.green_tg_arn, Matcher={"HttpCode": "200,404"})
    registered = registered_at(sandbox, stack)

    advance_to(sandbox, registered + 30)
    assert states(stack.green_tg_arn) == [("healthy", None)] * 2


@pytest.mark.parametrize(
    ("matcher", "code", "passes"),
    [
        ("200", 200, True),
        ("200", 404, False),
        ("200-299", 204, True),
        ("200-299", 302, False),
        ("200,302", 302, True),
        ("200,302", 301, False),
        ("200-204,404", 404, True),
    ],
)
def test_matcher_syntax(matcher: str, code: int, passes: bool) -> None:
    assert matches(code, matcher) is passes


def test_an_app_that_never_answers_times_out(sandbox: Sandbox, stack: SandboxStack) -> None:
    sandbox.apps[BROKEN] = AppModel(hangs=True)
    registered = registered_at(sandbox, stack)

    advance_to(sandbox, registered + 20)
    answers = list(health(stack.green_tg_arn).values())
    assert [(a["State"], a["Reason"]) for a in answers] == [("unhealthy", "Target.Timeout")] * 2
    assert answers[0]["Description"] == "Request timed out"


def test_an_app_that_crashes_turns_unhealthy_after_the_unhealthy_threshold(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[BROKEN] = AppModel(crashes_after=60)
    registered = registered_at(sandbox, stack)

    advance_to(sandbox, registered + 30)
    assert states(stack.green_tg_arn) == [("healthy", None)] * 2
    advance_to(sandbox, registered + 60 + 19, step=1)  # crashed, but not yet 2 failed checks
    assert states(stack.green_tg_arn) == [("healthy", None)] * 2
    advance_to(sandbox, registered + 60 + 20, step=1)
    assert states(stack.green_tg_arn) == [("unhealthy", "Target.FailedHealthChecks")] * 2


def test_a_deregistered_target_drains_for_the_deregistration_delay(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    blue_targets = set(health(stack.blue_tg_arn))
    advance(sandbox, 5)
    deleted = sandbox.clock.now()
    delete_task_set(stack, stack.blue_task_set_id)

    draining = health(stack.blue_tg_arn)
    assert set(draining) == blue_targets
    assert {(h["State"], h["Reason"]) for h in draining.values()} == {
        ("draining", "Target.DeregistrationInProgress")
    }
    advance_to(sandbox, deleted + 29, step=1)
    assert set(health(stack.blue_tg_arn)) == blue_targets
    advance_to(sandbox, deleted + 30, step=1)  # deregistration_delay.timeout_seconds = 30
    assert health(stack.blue_tg_arn) == {}


def test_the_deregistration_delay_defaults_to_300_seconds(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    untouched = elb().create_target_group(
        Name="web-default", Protocol="HTTP", Port=8080, VpcId=stack.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    task_set = green_task_set(stack, target_group_arn=untouched)
    advance(sandbox, 60)
    delete_task_set(stack, task_set["id"])

    advance(sandbox, 295)
    assert {h["State"] for h in health(untouched).values()} == {"draining"}
    advance(sandbox, 5)
    assert health(untouched) == {}


def test_a_target_group_no_listener_forwards_to_is_not_in_use(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    detached = elb().create_target_group(
        Name="web-spare", Protocol="HTTP", Port=8080, VpcId=stack.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    green_task_set(stack, target_group_arn=detached)

    advance(sandbox, 60)
    assert states(detached) == [("unused", "Target.NotInUse")] * 2


def test_targets_registered_through_the_api_follow_the_same_rules(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    elb().register_targets(TargetGroupArn=stack.green_tg_arn, Targets=[{"Id": "10.0.1.200"}])

    assert states(stack.green_tg_arn) == [("initial", "Elb.RegistrationInProgress")]
    advance(sandbox, 30)
    assert states(stack.green_tg_arn) == [("healthy", None)]


def test_leaving_the_sandbox_gives_moto_its_own_health_back() -> None:
    original = FakeTargetGroup.health_for
    with in_process(Sandbox()):
        assert FakeTargetGroup.health_for is not original
    assert FakeTargetGroup.health_for is original
