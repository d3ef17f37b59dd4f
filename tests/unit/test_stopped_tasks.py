"""A green whose tasks keep stopping fails fast: the threshold (ECS's circuit-breaker rule),
the reason it gives, the line that narrates the stops, and all three in the engine on fakes
(virtual time), where a crashing release is rolled back long before `health.timeout`."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, World

from bluegreen.deployer import Deployer
from bluegreen.errors import HealthCheckFailed
from bluegreen.gates import churn_threshold, describe_stops, stops_picture
from bluegreen.machine import State
from bluegreen.model import ContainerExit, EcsTask
from bluegreen.record import DeploymentRecord
from bluegreen.topology.service_pair import ServicePair

V2 = {"web": "repo/web:v2"}


def stopped(
    at: float,
    reason: str | None = "Essential container in task exited",
    *exits: ContainerExit,
    code: str | None = "EssentialContainerExited",
) -> EcsTask:
    return EcsTask(
        f"arn:task/{at}",
        "STOPPED",
        "arn:td/web:2",
        "ecs-svc/1",
        "service:web",
        None,
        stopped_reason=reason,
        stop_code=code,
        exits=exits or (ContainerExit("web", 1, None),),
        created_at=at - 10,
        stopped_at=at,
    )


PULL = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"


@pytest.mark.parametrize(
    ("desired", "threshold"),
    [(1, 3), (2, 3), (5, 3), (6, 3), (7, 4), (8, 4), (10, 5), (399, 200), (400, 200), (401, 200)],
)
def test_the_threshold_is_half_the_desired_count_at_least_3_at_most_200(
    desired: int, threshold: int
) -> None:
    assert churn_threshold(desired) == threshold


def test_the_reason_names_the_latest_stops_newest_first_each_once() -> None:
    tasks = [
        stopped(100.0),
        stopped(300.0, PULL, ContainerExit("web", None, PULL), code="TaskFailedToStart"),
        stopped(200.0),
        stopped(50.0, "Task failed ELB health checks", ContainerExit("web", 137, None)),
    ]
    assert describe_stops(tasks) == (
        f"{PULL}; Essential container in task exited: exit code 1"
    )  # the one at 50 s is the fourth newest: left out
    assert describe_stops(tasks, latest=4) == (
        f"{PULL}; Essential container in task exited: exit code 1; "
        "Task failed ELB health checks: exit code 137"
    )
    assert describe_stops(tasks, short=True) == f"{PULL}; exit code 1"


def test_a_stop_without_reason_says_its_code_or_that_none_was_given() -> None:
    clean = ContainerExit("web", 0, None)
    assert describe_stops([stopped(1.0, None, clean)]) == "EssentialContainerExited"
    assert describe_stops([stopped(1.0, None, clean, code=None)]) == "no reason given"
    two = stopped(1.0, "Essential container in task exited", clean, ContainerExit("log", 2, None))
    assert describe_stops([two], short=True) == "exit code 2"


def test_the_picture_adds_the_stopped_tasks() -> None:
    one, two = [stopped(1.0)], [stopped(1.0), stopped(2.0)]
    assert stops_picture("green 0/2 healthy", one) == (
        "green 0/2 healthy: 1 task stopped (exit code 1), replaced"
    )
    assert stops_picture("green 0/2 healthy: 2 initial", two) == (
        "green 0/2 healthy: 2 initial, 2 tasks stopped (exit code 1), replaced"
    )
    assert stops_picture("green 0/2 healthy: 2 initial", []) == "green 0/2 healthy: 2 initial"


def waiting(deployer: Deployer) -> list[tuple[float, str]]:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return [(e.at, e.message) for e in rec.events if e.state is State.WAITING_HEALTHY]


def test_a_crashing_release_rolls_back_at_the_threshold_long_before_the_timeout(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    # tasks run 20 s after they are asked for and exit 5 s later: 2 stop at 25 s, 2 more
    # at 50 s; 4 ≥ 3 (two desired) stopped tasks
    world.behaviour["repo/web:v2"] = ("exits", 5, 1, None)
    deployer = make_deployer(health={"timeout": "15m"})
    with pytest.raises(HealthCheckFailed) as caught:
        deployer.deploy(V2)

    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.state is State.ROLLED_BACK
    assert rec.failed_in is State.WAITING_HEALTHY
    assert rec.reason == (
        "green will not start: 4 of its tasks stopped "
        "(Essential container in task exited: exit code 1)"
    )
    assert "circuit breaker" in (caught.value.hint or "")
    entered = waiting(deployer)[0][0]
    failed_at = next(e.at for e in rec.events if e.state is State.ROLLING_BACK)
    assert failed_at - entered <= 50 + 5  # the first poll after the second pair stopped
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]  # green deleted
    assert world.violations == []


def test_the_wait_narrates_the_first_stops(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.behaviour["repo/web:v2"] = ("exits", 5, 1, None)
    deployer = make_deployer(health={"timeout": "15m"})
    with pytest.raises(HealthCheckFailed):
        deployer.deploy(V2)

    line = "green 0/2 healthy: 2 draining, 2 tasks stopped (exit code 1), replaced"
    assert line in [m for _, m in waiting(deployer)]


def test_a_release_whose_first_tasks_restart_once_still_succeeds(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.behaviour["repo/web:v2"] = ("exits", 5, 1, 1)  # 2 stopped: one short of 3
    deployer = make_deployer(health={"timeout": "15m"})
    result = deployer.deploy(V2)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}
    assert len(world.stopped_reads) == 1  # read once, when the exited tasks' targets drained


def test_a_green_that_starts_and_turns_healthy_never_reads_stopped_tasks(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    make_deployer().deploy(V2)
    assert world.stopped_reads == []


@pytest.mark.usefixtures("polls_on_the_grid")
def test_a_green_whose_tasks_do_not_run_reads_them_every_30s_at_most(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.start_delay = 100.0  # slow to start: fewer tasks run than desired for 100 s
    deployer = make_deployer(health={"timeout": "15m"})
    deployer.deploy(V2)
    entered = waiting(deployer)[0][0]
    assert [at - entered for at in world.stopped_reads] == [30.0, 60.0, 90.0]


def test_one_task_desired_fails_at_exactly_its_third_stop(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.desired = 1  # one task a generation: stops at 25 s, 50 s, 75 s
    world.behaviour["repo/web:v2"] = ("exits", 5, 2, None)
    deployer = make_deployer(health={"timeout": "15m"})
    with pytest.raises(HealthCheckFailed, match="3 of its tasks stopped"):
        deployer.deploy(V2)

    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and "exit code 2" in (rec.reason or "")
    entered = waiting(deployer)[0][0]
    failed_at = next(e.at for e in rec.events if e.state is State.ROLLING_BACK)
    assert 75 <= failed_at - entered <= 80


class _Pair:
    """The Containers port, as much as ServicePair.green_stopped asks of it."""

    def __init__(self, breaker: bool, tasks: list[EcsTask]) -> None:
        self.breaker, self.listed = breaker, tasks
        self.asked: list[tuple[str | None, bool]] = []

    def service(self, cluster: str, name: str) -> Any:
        return SimpleNamespace(circuit_breaker=self.breaker)

    def tasks(self, cluster: str, *, service: str | None = None, stopped: bool = False) -> Any:
        self.asked.append((service, stopped))
        return self.listed


def pair_record(created_at: float) -> DeploymentRecord:
    return DeploymentRecord(
        id="bg-1",
        service_key="k",
        cluster="prod",
        service="web-blue+web-green",
        created_at=created_at,
        updated_at=created_at,
        green_service="web-green",
    )


def test_a_service_pair_counts_only_the_stops_of_this_deployment() -> None:
    earlier, later = stopped(990.0), stopped(1_020.0)  # created at 980 s and 1 010 s
    ecs = _Pair(False, [earlier, later])
    pair = ServicePair(pair_config(), ecs, lambda rec, message: None)  # type: ignore[arg-type]

    assert pair.green_stopped(pair_record(1_000.0)) == [later]
    assert ecs.asked == [("web-green", True)]


def test_a_service_pair_with_ecs_breaker_leaves_the_count_to_ecs() -> None:
    ecs = _Pair(True, [stopped(1_020.0)] * 5)
    pair = ServicePair(pair_config(), ecs, lambda rec, message: None)  # type: ignore[arg-type]

    assert pair.green_stopped(pair_record(1_000.0)) is None
    assert ecs.asked == []  # not even read


def pair_config() -> Any:
    return SimpleNamespace(
        service=SimpleNamespace(cluster="prod", blue_service="web-blue", green_service="web-green")
    )
