"""Waiting for green to become healthy (state WAITING_HEALTHY): poll, narrate, judge.

Each poll of the Watcher's loop (signals, requests and the deadline are checked first)
reads green's target health once and keeps green's own targets (green_targets.py: a stray
target someone registered by hand counts for nothing), then:
1. asks the topology whether green is ready (its tasks run, every target healthy): done;
2. narrates: an event each time the picture (`gates.health_picture`) changes, never one
   per poll, so a person sees the 404s as soon as ELB reports them;
3. folds the poll into `gates.UnhealthyStreak`: once every target has failed its health
   checks for a definitive reason for the target group's own unhealthy threshold ×
   interval, green is declared failed (HealthCheckFailed: the engine rolls back) without
   waiting out `health.timeout`, which still bounds every other way of not becoming healthy;
4. counts green's tasks ECS stopped since the deployment began (the topology reads them;
   None when ECS's own circuit breaker watches green's service): once they reach ECS's
   circuit-breaker threshold (`gates.churn_threshold`), green will not start and is
   declared failed at once, naming why its latest tasks stopped. They are read only when
   a target of green's group turned draining since the last poll (ECS deregisters a task's
   target before it stops it), or every `STOPS_EVERY` seconds while fewer of green's tasks
   run than desired (a task that never started had no target): a green whose tasks start
   and turn healthy costs no read.

The streak lives in memory only: a deployment resumed in another process counts again;
the stopped tasks are ECS's, so a resumed deployment counts them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bluegreen.clock import Clock
from bluegreen.config import DeploymentConfig
from bluegreen.engine.green_targets import GreenTargets
from bluegreen.engine.watch import Watcher
from bluegreen.errors import HealthCheckFailed
from bluegreen.gates import (
    UnhealthyStreak,
    Verdict,
    churn_threshold,
    describe_stops,
    explain_unhealthy,
    failure_window,
    health_picture,
    stops_picture,
)
from bluegreen.membership import describe_strays
from bluegreen.model import EcsTask, HealthCheck, HealthState, TargetGroup, TargetGroupHealth
from bluegreen.ports import LoadBalancing
from bluegreen.record import DeploymentRecord
from bluegreen.topology import Topology

STOPS_EVERY = 30.0  # seconds between reads of green's stopped tasks with no draining target


@dataclass
class _Seen:
    """What the polls so far have shown."""

    stops_read_at: float  # when green's stopped tasks were last read (or the wait began)
    verdict: Verdict = field(default_factory=lambda: Verdict(False, "not checked yet"))
    picture: str = ""
    streak: UnhealthyStreak = field(default_factory=UnhealthyStreak)
    draining: frozenset[str] = frozenset()  # green's draining targets at the last poll
    stopped: list[EcsTask] = field(default_factory=list)


class HealthWait:
    def __init__(
        self,
        config: DeploymentConfig,
        elb: LoadBalancing,
        topology: Topology,
        watcher: Watcher,
        clock: Clock,
        note: Callable[[DeploymentRecord, str], None],
        green_targets: GreenTargets,
    ) -> None:
        self.config = config
        self.elb = elb
        self.topology = topology
        self.watcher = watcher
        self.green_targets = green_targets
        self.clock = clock
        self.note = note

    def run(self, rec: DeploymentRecord) -> None:
        """Return once green is ready; raise HealthCheckFailed when it failed for good or
        `health.timeout` ran out."""
        green = rec.green_target_group or ""
        groups: list[TargetGroup] = []  # its health check (the failure window), read once
        seen = _Seen(stops_read_at=self.clock.now())

        def ready() -> bool:
            if not groups:  # in the poll: a read AWS would not answer skips it
                groups.append(self.elb.target_groups([green])[0])
            found = self.elb.target_health(green)
            health = self.green_targets.sort(rec, found).own
            rec.observe(self.clock.now(), green_healthy=health.healthy_count)
            seen.verdict = self.topology.green_ready(rec, health)
            if seen.verdict.ok:
                return True
            self._count_stops(rec, found, seen)
            self._judge(rec, groups[0], health, seen)
            return False

        def polled() -> bool:  # a poll AWS would not answer is skipped (pacing.py)
            return bool(self.watcher.pacing.read(rec, ready))

        timeout = self.config.health.timeout
        if not self.watcher.watch(rec, timeout, until=polled, gates=False):
            group = self.elb.target_groups([green])[0]
            found = self.green_targets.sort(rec, self.elb.target_health(green))
            why = explain_unhealthy(found.own, group.health_check, group.name)
            if found.strays:
                why += f"; {describe_strays(found.strays, 'green')}"
            raise HealthCheckFailed(
                f"green did not become healthy within {timeout:g}s ({seen.verdict.reason}): {why}"
            )

    def _count_stops(self, rec: DeploymentRecord, found: TargetGroupHealth, seen: _Seen) -> None:
        draining = frozenset(t.target_id for t in found.targets if t.state is HealthState.DRAINING)
        now = self.clock.now()
        due = bool(draining - seen.draining) or (
            seen.verdict.tasks_short and now - seen.stops_read_at >= STOPS_EVERY
        )
        seen.draining = draining
        if not due:
            return
        seen.stops_read_at = now
        stopped = self.topology.green_stopped(rec)
        if stopped is None:
            return  # ECS's circuit breaker counts them: its verdict is the one reported
        seen.stopped = stopped
        threshold = churn_threshold(rec.desired_count)
        if len(stopped) >= threshold:
            raise HealthCheckFailed(
                f"green will not start: {len(stopped)} of its tasks stopped "
                f"({describe_stops(stopped)})",
                hint=f"ECS's circuit breaker would fail it too ({threshold} stopped tasks for "
                f"{rec.desired_count} desired); see the stopped tasks' reasons and the "
                "container logs of the new release",
            )

    def _judge(
        self, rec: DeploymentRecord, group: TargetGroup, health: TargetGroupHealth, seen: _Seen
    ) -> None:
        check, now = group.health_check, self.clock.now()
        seen.streak = seen.streak.after(health, now)
        if seen.streak.failed(check, now):
            raise HealthCheckFailed(
                f"green will not become healthy: {_window(check)}: "
                + explain_unhealthy(health, check, group.name)
            )
        picture = stops_picture(health_picture(health, check, rec.desired_count), seen.stopped)
        if picture != seen.picture:
            seen.picture = picture
            self.note(rec, picture + _countdown(seen.streak, check, now))


def _window(check: HealthCheck) -> str:
    return (
        f"its targets failed their health checks for {failure_window(check):g}s (the target "
        f"group's unhealthy threshold {check.unhealthy_threshold} × interval "
        f"{check.interval_seconds}s)"
    )


def _countdown(streak: UnhealthyStreak, check: HealthCheck, now: float) -> str:
    if streak.since is None:
        return ""
    left = max(streak.since + failure_window(check) - now, 0.0)
    return f"; rolling back in {left:g}s unless a target recovers"
