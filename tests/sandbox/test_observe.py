"""The observer (bluegreen.sandbox.observe) sees what the product's invariant is about: a
weight change to a target group without a healthy target, a weighted target group losing
its last healthy target, and the ECS and S3 changes a deployment makes — in process here;
tests/e2e/test_crash.py uses it on the sandbox server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.elbv2.models import ELBv2Backend
from sim_helpers import REGION, advance, delete_task_set, elb, green_task_set

from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.observe import Observer
from bluegreen.sandbox.stack import SandboxStack


@pytest.fixture
def observer(sandbox: Sandbox, stack: SandboxStack) -> Iterator[Observer]:
    with Observer(sandbox) as watching:  # after the stack is built: blue serves
        yield watching


def forward(stack: SandboxStack, blue: int, green: int) -> list[dict[str, Any]]:
    groups = [
        {"TargetGroupArn": stack.blue_tg_arn, "Weight": blue},
        {"TargetGroupArn": stack.green_tg_arn, "Weight": green},
    ]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def test_a_weight_change_is_recorded_with_the_health_of_each_group(
    stack: SandboxStack, observer: Observer
) -> None:
    elb().modify_listener(
        ListenerArn=stack.http_listener_arn, DefaultActions=forward(stack, 50, 50)
    )

    [change] = observer.weight_changes
    assert change.route == stack.http_listener_arn
    assert change.weights == {stack.blue_tg_arn: 50, stack.green_tg_arn: 50}
    assert change.healthy == {stack.blue_tg_arn: 2, stack.green_tg_arn: 0}
    assert change.without_healthy_target == (stack.green_tg_arn,)
    [violation] = observer.violations()
    assert "50 weight to " + stack.green_tg_arn in violation


def test_weight_to_healthy_groups_only_is_no_violation(
    sandbox: Sandbox, stack: SandboxStack, observer: Observer
) -> None:
    green_task_set(stack)
    advance(sandbox, 60)  # started and past 3 health checks 10 s apart

    elb().modify_listener(
        ListenerArn=stack.http_listener_arn, DefaultActions=forward(stack, 0, 100)
    )
    advance(sandbox, 60)

    assert [c.healthy for c in observer.weight_changes] == [
        {stack.blue_tg_arn: 2, stack.green_tg_arn: 2}
    ]
    assert observer.violations() == []
    assert [c.call for c in observer.ecs_changes] == ["register_task_definition", "create_task_set"]
    assert observer.ecs_changes[1].target_groups == (stack.green_tg_arn,)


def test_a_weighted_group_losing_its_last_healthy_target_is_an_exposure(
    sandbox: Sandbox, stack: SandboxStack, observer: Observer
) -> None:
    delete_task_set(stack, stack.blue_task_set_id)  # while both listeners send it 100
    advance(sandbox, 10)

    assert {(e.route, e.target_group, e.weight) for e in observer.exposures} == {
        (stack.http_listener_arn, stack.blue_tg_arn, 100),
        (stack.https_listener_arn, stack.blue_tg_arn, 100),
    }
    advance(sandbox, 60)
    assert len(observer.exposures) == 2  # each recorded once, when it began
    assert len(observer.violations()) == 2
    assert [c.call for c in observer.ecs_changes] == ["delete_task_set"]
    assert observer.ecs_changes[0].arn.endswith(stack.blue_task_set_id)


def test_s3_writes_and_deletes_are_recorded_with_their_bodies(
    sandbox: Sandbox, observer: Observer
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="state")
    s3.put_object(Bucket="state", Key="web/lock", Body=b'{"holder": "me"}', IfNoneMatch="*")
    s3.delete_object(Bucket="state", Key="web/lock")

    assert [(o.action, o.key, o.body) for o in observer.objects] == [
        ("put", "web/lock", b'{"holder": "me"}'),
        ("delete", "web/lock", None),
    ]
    assert observer.objects[0].at == sandbox.clock.now()


def test_uninstall_puts_moto_back_and_one_observer_at_a_time(sandbox: Sandbox) -> None:
    original = ELBv2Backend.modify_listener
    first = Observer(sandbox).install()
    assert ELBv2Backend.modify_listener is not original
    with pytest.raises(RuntimeError, match="already installed"):
        Observer(sandbox).install()
    first.uninstall()
    assert ELBv2Backend.modify_listener is original
    Observer(sandbox).install().uninstall()  # installable again


def test_routes_that_move_together_and_disagree_at_a_tick_are_a_split(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    routes = [stack.http_listener_arn, stack.https_listener_arn]
    green_task_set(stack)
    advance(sandbox, 60)  # green healthy: only the split is wrong
    with Observer(sandbox, together=routes) as watching:
        elb().modify_listener(
            ListenerArn=stack.http_listener_arn, DefaultActions=forward(stack, 50, 50)
        )
        assert watching.splits == []  # the instant of the write: no tick yet
        advance(sandbox, 10)
        elb().modify_listener(
            ListenerArn=stack.https_listener_arn, DefaultActions=forward(stack, 50, 50)
        )
        advance(sandbox, 10)

    [split] = watching.splits
    assert split.weights[stack.https_listener_arn] == {
        stack.blue_tg_arn: 100,
        stack.green_tg_arn: 0,
    }
    assert [v for v in watching.violations() if "disagreed" in v] != []


def test_a_split_at_an_excused_tick_is_not_recorded(sandbox: Sandbox, stack: SandboxStack) -> None:
    routes = [stack.http_listener_arn, stack.https_listener_arn]
    with Observer(sandbox, together=routes, excused=lambda: True) as watching:
        elb().modify_listener(
            ListenerArn=stack.http_listener_arn, DefaultActions=forward(stack, 100, 0)
        )
        elb().modify_listener(
            ListenerArn=stack.https_listener_arn, DefaultActions=forward(stack, 0, 100)
        )
        advance(sandbox, 10)

    assert watching.splits == []
