"""Green is judged by green's own tasks' targets, on the fakes: a stray target in green's
group changes no outcome, the traffic shifter refuses a green whose only healthy target is
a stray, and green's tasks are read only when the registered targets change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, FakeElb, World

from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer
from bluegreen.engine.green_targets import GreenTargets
from bluegreen.engine.traffic import NoHealthyTarget, TrafficShifter
from bluegreen.errors import GateFailed, HealthCheckFailed
from bluegreen.model import EcsTask, HealthState, TargetGroupHealth, TargetHealth, TaskSetStatus
from bluegreen.record import DeploymentRecord

V2 = {"web": "repo/web:v2"}
STRAY = "10.0.9.9"
NAMED = f"{STRAY}:8080 in green's target group is not one of green's tasks: ignored"
MakeDeployer = Callable[..., Deployer]


def stray(world: World, state: HealthState, reason: str | None = None) -> None:
    world.targets.setdefault(GREEN, {})[STRAY] = TargetHealth(STRAY, 8080, state, reason)


def events(deployer: Deployer) -> list[str]:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return [e.message for e in rec.events]


def test_a_dead_stray_does_not_stop_a_good_release(
    make_deployer: MakeDeployer, world: World
) -> None:
    stray(world, HealthState.UNHEALTHY, "Target.Timeout")
    deployer = make_deployer()

    result = deployer.deploy(V2)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    assert events(deployer).count(NAMED) == 1  # named once, not on every poll
    assert world.violations == []
    # green's tasks were read when its targets appeared, not on every poll
    assert world.calls.count("ListTasks") <= 2 < world.calls.count("DescribeTargetHealth") // 10


def test_a_healthy_stray_does_not_hide_a_bad_release(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    stray(world, HealthState.HEALTHY)
    world.behaviour["repo/web:v2"] = "unhealthy"
    started = clock.now()

    with pytest.raises(HealthCheckFailed) as caught:
        make_deployer().deploy(V2)

    message = str(caught.value)
    assert "will not become healthy" in message  # the early verdict, not the timeout
    assert clock.now() - started < 300
    assert "0 healthy" in message and "(2 registered)" in message  # green's own two
    assert world.weights(HTTP) == {BLUE: 100, GREEN: 0} and world.violations == []


def test_a_dead_stray_is_not_blamed_on_ports_or_security_groups(
    make_deployer: MakeDeployer, world: World
) -> None:
    stray(world, HealthState.UNHEALTHY, "Target.Timeout")
    world.behaviour["repo/web:v2"] = "unhealthy"  # green's own answer 404

    with pytest.raises(HealthCheckFailed) as caught:
        make_deployer().deploy(V2)

    message = str(caught.value)
    assert "Target.ResponseCodeMismatch" in message
    assert "Target.Timeout" not in message and "security groups" not in message


def test_green_losing_its_tasks_fails_the_gate_though_a_stray_is_healthy(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    stray(world, HealthState.HEALTHY)

    def lose_green(now: float) -> None:
        green = [ts for ts in world.task_sets.values() if ts.target_group == GREEN]
        if green and any(w[GREEN] == 10 for _, _, w in world.writes):
            green[0].running, green[0].status = 0, TaskSetStatus.DRAINING  # tasks stopped
            world.targets[GREEN] = {STRAY: world.targets[GREEN][STRAY]}

    clock.on_advance(lose_green)

    with pytest.raises(GateFailed, match="0 healthy"):
        make_deployer().deploy(V2)
    assert world.weights(HTTP) == {BLUE: 100, GREEN: 0}


def test_the_shifter_refuses_a_green_whose_only_healthy_target_is_a_stray(
    world: World,
) -> None:
    stray(world, HealthState.HEALTHY)
    rec = _record()
    rec.green_target_group, rec.container_port = GREEN, 8080
    sorter = GreenTargets(_NoTasks(), lambda rec, message: None)

    with pytest.raises(NoHealthyTarget, match="no healthy target of its own tasks"):
        TrafficShifter(FakeElb(world)).apply([HTTP], {BLUE: 90, GREEN: 10}, sorter.of(rec))
    assert world.writes == []
    # blue's targets are all counted: a rollback stays possible
    TrafficShifter(FakeElb(world)).apply([HTTP], {BLUE: 100, GREEN: 0}, sorter.of(rec))


def _record() -> DeploymentRecord:
    return DeploymentRecord(
        id="d1", service_key="web", cluster="c", service="web", created_at=0.0, updated_at=0.0
    )


class _NoTasks:
    """A topology whose green has no task: every target in green's group is a stray."""

    def green_tasks(self, rec: DeploymentRecord) -> list[EcsTask]:
        return []


class _Counting:
    def __init__(self, tasks: list[EcsTask]) -> None:
        self.tasks = tasks
        self.reads = 0

    def green_tasks(self, rec: DeploymentRecord) -> list[EcsTask]:
        self.reads += 1
        return list(self.tasks)


def _task(ip: str, status: str = "RUNNING") -> EcsTask:
    return EcsTask(f"arn:task/{ip}", status, "arn:td/web:2", "ecs-svc/1", "service:web", ip)


def _health(*ips: str, state: HealthState = HealthState.HEALTHY) -> TargetGroupHealth:
    return TargetGroupHealth(GREEN, tuple(TargetHealth(ip, 8080, state) for ip in ips))


def test_tasks_are_read_again_only_when_a_new_target_appears() -> None:
    topology = _Counting([_task("10.0.1.4")])
    notes: list[str] = []
    sorter = GreenTargets(topology, lambda rec, message: notes.append(message))  # type: ignore[arg-type]
    rec = _record()
    rec.green_task_set, rec.container_port = "ecs-svc/1", 8080

    assert sorter.sort(rec, _health()).own.targets == ()  # nothing registered: no read
    assert topology.reads == 0
    assert sorter.sort(rec, _health("10.0.1.4")).own.healthy_count == 1
    assert sorter.sort(rec, _health("10.0.1.4")).own.healthy_count == 1
    assert topology.reads == 1  # the same targets: the same owners
    topology.tasks.append(_task("10.0.1.5", "ACTIVATING"))
    sorter.sort(rec, _health("10.0.1.4", "10.0.1.5"))  # a new target: read
    sorter.sort(rec, _health("10.0.1.4", "10.0.1.5"))  # one of a starting task: read again
    assert topology.reads == 3
    topology.tasks[1] = _task("10.0.1.5")
    assert sorter.sort(rec, _health("10.0.1.4", "10.0.1.5")).own.healthy_count == 2
    assert sorter.sort(rec, _health("10.0.1.4", "10.0.1.5")).own.healthy_count == 2
    assert topology.reads == 4  # it runs now: settled
    rec.green_task_set = "ecs-svc/2"  # another green: its own tasks
    sorter.sort(rec, _health("10.0.1.4", "10.0.1.5"))
    assert topology.reads == 5 and notes == []


def test_a_stray_is_named_when_it_appears() -> None:
    notes: list[str] = []
    sorter = GreenTargets(_Counting([_task("10.0.1.4")]), lambda r, m: notes.append(m))  # type: ignore[arg-type]
    rec = _record()
    rec.green_task_set, rec.container_port = "ecs-svc/1", 8080

    for _ in range(3):
        found = sorter.sort(rec, _health("10.0.1.4", STRAY))
    assert [t.target_id for t in found.strays] == [STRAY]
    assert notes == [NAMED]
