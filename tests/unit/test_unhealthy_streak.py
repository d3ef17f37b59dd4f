"""The pure judgement of a green that will never become healthy (gates.UnhealthyStreak), the
line that narrates green's health (gates.health_picture), and both in the engine on fakes.

The health check here has an unhealthy threshold (3) and interval (15 s) that no other
product of two settings matches: its failure window is 45 s, not the healthy threshold's
5 × 15 = 75 s nor AWS's default 2 × 30 = 60 s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fakes import GREEN, World

from bluegreen.deployer import Deployer
from bluegreen.errors import HealthCheckFailed
from bluegreen.gates import UnhealthyStreak, failure_window, health_picture
from bluegreen.machine import State
from bluegreen.model import HealthCheck, HealthState, TargetGroupHealth, TargetHealth

CHECK = HealthCheck("HTTP", "traffic-port", "/health", "200", 15, 5, 5, 3)
WINDOW = 45.0
T0 = 1_000.0

# short names, so a target group's picture reads on one line
UP, NEW, GONE = HealthState.HEALTHY, HealthState.INITIAL, HealthState.DRAINING
DOWN = HealthState.UNHEALTHY
MISMATCH, TIMEOUT = "Target.ResponseCodeMismatch", "Target.Timeout"
FAILED = "Target.FailedHealthChecks"
DEREGISTERING = "Target.DeregistrationInProgress"
CHECKING, REGISTERING = "Elb.InitialHealthChecking", "Elb.RegistrationInProgress"


def group(*targets: tuple[HealthState, str | None]) -> TargetGroupHealth:
    return TargetGroupHealth(
        GREEN,
        tuple(TargetHealth(f"10.0.0.{n}", 8080, s, r) for n, (s, r) in enumerate(targets, 1)),
    )


BROKEN = group((DOWN, MISMATCH), (DOWN, MISMATCH))
RETRYING = group((DOWN, MISMATCH), (DOWN, MISMATCH), (NEW, REGISTERING), (NEW, REGISTERING))


def fold(polls: list[tuple[float, TargetGroupHealth]]) -> UnhealthyStreak:
    streak = UnhealthyStreak()
    for at, health in polls:
        streak = streak.after(health, T0 + at)
    return streak


def every_5s(health: TargetGroupHealth, start: float, end: float) -> list[tuple[float, Any]]:
    return [(float(at), health) for at in range(int(start), int(end) + 1, 5)]


def test_the_window_is_the_target_groups_unhealthy_threshold_times_its_interval() -> None:
    assert failure_window(CHECK) == WINDOW


DEFINITIVE = {
    "all answer a wrong code": BROKEN,
    "all time out": group((DOWN, TIMEOUT), (DOWN, TIMEOUT)),
    "all fail (crash, refused)": group((DOWN, FAILED), (DOWN, FAILED)),
    "each failing its own way": group((DOWN, MISMATCH), (DOWN, TIMEOUT), (DOWN, FAILED)),
    "one left, its predecessor draining": group((DOWN, MISMATCH), (GONE, DEREGISTERING)),
}


@pytest.mark.parametrize("health", DEFINITIVE.values(), ids=DEFINITIVE.keys())
def test_every_live_target_failing_for_good_starts_the_streak(health: TargetGroupHealth) -> None:
    assert fold([(10, health)]).since == T0 + 10


NOT_DEFINITIVE = {
    "no target yet": group(),
    "registering": group((NEW, REGISTERING), (NEW, REGISTERING)),
    "first checks": group((NEW, CHECKING), (NEW, CHECKING)),
    "all draining": group((GONE, DEREGISTERING), (GONE, DEREGISTERING)),
    "not registered": group((HealthState.UNUSED, "Target.NotRegistered")),
    "unavailable": group((HealthState.UNAVAILABLE, None), (DOWN, MISMATCH)),
    "one healthy, one failing": group((UP, None), (DOWN, MISMATCH)),
    "ELB's own trouble": group((DOWN, "Elb.InternalError"), (DOWN, MISMATCH)),
    "unhealthy, no reason": group((DOWN, None), (DOWN, MISMATCH)),
    # the other task may still turn healthy: not *every* target has failed
    "one failing, one still checking": group((DOWN, MISMATCH), (NEW, CHECKING)),
}


@pytest.mark.parametrize("health", NOT_DEFINITIVE.values(), ids=NOT_DEFINITIVE.keys())
def test_anything_else_starts_nothing(health: TargetGroupHealth) -> None:
    streak = fold(every_5s(health, 0, 600))
    assert streak.since is None
    assert not streak.failed(CHECK, T0 + 600)


def test_green_fails_when_the_window_has_passed_since_the_first_definitive_poll() -> None:
    # starting: registering, then checking; the first definitive report at 100 s
    polls = every_5s(group((NEW, REGISTERING), (NEW, REGISTERING)), 0, 40)
    polls += every_5s(group((NEW, CHECKING), (NEW, CHECKING)), 45, 95)
    polls += every_5s(BROKEN, 100, 140)
    streak = fold(polls)

    assert streak.since == T0 + 100  # not the first poll (0), not the latest (140)
    assert not streak.failed(CHECK, T0 + 140)
    assert not streak.failed(CHECK, T0 + 100 + WINDOW - 0.001)
    assert streak.after(BROKEN, T0 + 145).failed(CHECK, T0 + 100 + WINDOW)  # >=, not >


def test_no_streak_is_no_failure_however_late() -> None:
    assert not UnhealthyStreak().failed(CHECK, T0 + 10**6)


def test_a_target_recovering_starts_the_count_again() -> None:
    polls = every_5s(BROKEN, 100, 140)
    polls.append((145.0, group((UP, None), (DOWN, MISMATCH))))
    polls += every_5s(BROKEN, 150, 190)
    streak = fold(polls)

    assert streak.since == T0 + 150
    assert not streak.failed(CHECK, T0 + 190)
    assert streak.failed(CHECK, T0 + 195)


def test_ecs_replacing_the_failed_tasks_does_not_interrupt_the_streak() -> None:
    """ECS starts a replacement for each failed task (initial), then stops the failed ones
    (draining): the same release, retried. The streak runs on."""
    polls = [
        (100.0, BROKEN),
        (115.0, RETRYING),
        (125.0, group((DOWN, MISMATCH), (DOWN, MISMATCH), (NEW, CHECKING), (NEW, CHECKING))),
        (
            135.0,
            group((GONE, DEREGISTERING), (GONE, DEREGISTERING), (DOWN, MISMATCH), (DOWN, MISMATCH)),
        ),
        (
            140.0,
            group((GONE, DEREGISTERING), (DOWN, MISMATCH), (DOWN, MISMATCH), (NEW, REGISTERING)),
        ),
    ]
    streak = fold(polls)
    assert streak.since == T0 + 100
    assert streak.failed(CHECK, T0 + 145)


ENDS = {
    "a replacement turns healthy": group((DOWN, MISMATCH), (UP, None)),
    "nothing unhealthy left": group((GONE, DEREGISTERING), (NEW, REGISTERING), (NEW, REGISTERING)),
    "another reason": group((DOWN, MISMATCH), (DOWN, "Elb.InternalError")),
    "no longer in use": group((HealthState.UNUSED, "Target.NotInUse")),
    "every target gone": group(),
}


@pytest.mark.parametrize("health", ENDS.values(), ids=ENDS.keys())
def test_the_streak_ends_when_green_is_no_longer_failing_for_good(
    health: TargetGroupHealth,
) -> None:
    streak = fold([(100.0, BROKEN), (140.0, health)])
    assert streak.since is None
    assert not streak.failed(CHECK, T0 + 145)


# -- the narration ---------------------------------------------------------------------------


def test_the_picture_says_how_many_are_healthy_and_why_the_others_are_not() -> None:
    assert (
        health_picture(BROKEN, CHECK, 2)
        == "green 0/2 healthy: 2 unhealthy (Target.ResponseCodeMismatch on /health)"
    )
    assert health_picture(group(), CHECK, 2) == "green 0/2 healthy: no target registered yet"
    assert (
        health_picture(
            group((UP, None), (DOWN, MISMATCH), (DOWN, TIMEOUT), (GONE, DEREGISTERING)), CHECK, 2
        )
        == "green 1/2 healthy: 2 unhealthy (Target.ResponseCodeMismatch ×1 on /health, "
        "Target.Timeout ×1), 1 draining"
    )
    assert health_picture(group((UP, None), (UP, None)), CHECK, 2) == "green 2/2 healthy"


def test_the_picture_does_not_change_while_targets_only_move_through_their_first_checks() -> None:
    registering = group((NEW, REGISTERING), (NEW, REGISTERING))
    checking = group((NEW, CHECKING), (NEW, CHECKING))
    assert health_picture(registering, CHECK, 2) == health_picture(checking, CHECK, 2)
    assert health_picture(checking, CHECK, 2) == "green 0/2 healthy: 2 initial"
    assert health_picture(RETRYING, CHECK, 2) != health_picture(BROKEN, CHECK, 2)


# -- in the engine, on fakes ------------------------------------------------------------------


def waiting(deployer: Deployer) -> list[tuple[float, str]]:
    """The events noted while green was awaited: (when, what)."""
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return [(e.at, e.message) for e in rec.events if e.state is State.WAITING_HEALTHY]


@pytest.mark.usefixtures("polls_on_the_grid")
def test_the_engine_rolls_back_one_window_after_the_first_unhealthy_report(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.behaviour["repo/web:v2"] = "unhealthy"  # the fakes' check: interval 10 s, threshold 2
    deployer = make_deployer(health={"timeout": "15m"})
    with pytest.raises(HealthCheckFailed) as caught:
        deployer.deploy({"web": "repo/web:v2"})

    events = waiting(deployer)
    entered = events[0][0]
    unhealthy = [at for at, m in events if "unhealthy" in m]
    # tasks start at 20 s, turn unhealthy at 20 + 30 s; one 20 s window later: rolled back
    assert unhealthy == [entered + 50]
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.reason and rec.reason in caught.value.message
    assert rec.ended_at == entered + 50 + 20
    assert rec.state is State.ROLLED_BACK and rec.failed_in is State.WAITING_HEALTHY
    assert "will not become healthy" in (rec.reason or "") and "2 × interval 10s" in rec.reason


def test_the_engine_narrates_each_change_once_not_each_poll(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    deployer = make_deployer()
    deployer.deploy({"web": "repo/web:v2"})

    assert [m for _, m in waiting(deployer)] == [
        "entered WAITING_HEALTHY",
        "green 0/2 healthy: no target registered yet",
        "green 0/2 healthy: 2 initial",
        "green is healthy",
    ]


def test_the_countdown_is_told_when_green_starts_failing(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.behaviour["repo/web:v2"] = "unhealthy"
    deployer = make_deployer()
    with pytest.raises(HealthCheckFailed):
        deployer.deploy({"web": "repo/web:v2"})

    assert waiting(deployer)[-1][1] == (
        "green 0/2 healthy: 2 unhealthy (Target.ResponseCodeMismatch on /health); "
        "rolling back in 20s unless a target recovers"
    )
