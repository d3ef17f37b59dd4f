"""Which targets are a colour's own (membership.py): pure sorting over tasks and health."""

from __future__ import annotations

from bluegreen.membership import Members, describe_strays, members_of, sort_targets
from bluegreen.model import EcsTask, HealthState, TargetGroupHealth, TargetHealth

PORT = 8080


def task(ip: str | None, status: str = "RUNNING") -> EcsTask:
    return EcsTask(f"arn:task/{ip}", status, "arn:td/web:2", "ecs-svc/1", "service:web", ip)


def target(ip: str, state: HealthState = HealthState.HEALTHY, port: int = PORT) -> TargetHealth:
    return TargetHealth(ip, port, state)


def group(*targets: TargetHealth) -> TargetGroupHealth:
    return TargetGroupHealth("arn:tg/green", targets)


def test_running_tasks_own_their_address_on_the_container_port() -> None:
    members = members_of(
        [task("10.0.1.4"), task("10.0.1.5", "PENDING"), task("10.0.1.6", "STOPPED")], PORT
    )
    assert members == Members(
        running=frozenset({("10.0.1.4", PORT)}), starting=frozenset({("10.0.1.5", PORT)})
    )


def test_a_running_task_without_an_address_makes_the_targets_unknown() -> None:
    assert not members_of([task("10.0.1.4"), task(None)], PORT).known
    # a task still starting without an address yet changes nothing
    assert members_of([task("10.0.1.4"), task(None, "PROVISIONING")], PORT).known


def test_only_targets_of_running_tasks_count() -> None:
    members = members_of([task("10.0.1.4"), task("10.0.1.5", "ACTIVATING")], PORT)
    health = group(
        target("10.0.1.4", HealthState.UNHEALTHY),
        target("10.0.1.5", HealthState.INITIAL),  # starting: neither own nor a stray
        target("10.0.9.9"),  # a healthy stray
        target("10.0.1.4", port=9090),  # the right address on another port: a stray
        target("10.0.8.8", HealthState.DRAINING),  # leaving: not named
    )

    found = sort_targets(health, members)

    assert found.own == group(target("10.0.1.4", HealthState.UNHEALTHY))
    assert found.own.healthy_count == 0
    assert [(t.target_id, t.port) for t in found.strays] == [("10.0.9.9", PORT), ("10.0.1.4", 9090)]


def test_unknown_members_leave_every_target_counted() -> None:
    health = group(target("10.0.1.4"), target("10.0.9.9", HealthState.UNHEALTHY))
    found = sort_targets(health, Members(known=False))
    assert found.own == health and found.strays == ()


def test_no_task_makes_every_live_target_a_stray() -> None:
    found = sort_targets(group(target("10.0.9.9")), members_of([], PORT))
    assert found.own.targets == () and len(found.strays) == 1


def test_strays_are_named_with_address_and_port() -> None:
    one = describe_strays([target("10.0.9.9")], "green")
    assert one == "10.0.9.9:8080 in green's target group is not one of green's tasks: ignored"
    two = describe_strays([target("10.0.9.9"), target("10.0.9.10")], "green")
    assert two == (
        "10.0.9.9:8080, 10.0.9.10:8080 in green's target group are not green's tasks: ignored"
    )
    assert describe_strays([], "green") == ""
