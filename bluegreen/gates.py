"""Gates: pure predicates over what AWS shows. The engine polls them; they never wait.

Fail closed: an unknown health state never counts as healthy, a missing alarm never as OK.
INSUFFICIENT_DATA passes (new alarms start there on AWS and would block every deployment).

Green that can never become healthy is told apart from green still starting by
`UnhealthyStreak`, folded poll by poll on the caller's clock: only reasons that mean the
targets answered their health checks wrongly or not at all count, and only once they have
lasted the target group's own unhealthy threshold × interval. Green whose tasks keep
stopping (they exit, or never start) is told apart by counting them: `churn_threshold` of
them stopped since the deployment began and green has failed, `describe_stops` says why.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bluegreen.model import (
    AlarmState,
    EcsTask,
    HealthCheck,
    HealthState,
    TargetGroupHealth,
    TargetHealth,
    TaskSet,
)

# Unhealthy for one of these, a target answered its health checks with the wrong code, too
# late or not at all: waiting does not change that, and a replacement task runs the same
# release. Elb.InternalError (ELB's own trouble) and every `initial` reason are not final.
DEFINITIVE_REASONS = frozenset(
    {"Target.ResponseCodeMismatch", "Target.Timeout", "Target.FailedHealthChecks"}
)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    tasks_short: bool = False  # not ok: fewer of green's tasks run than desired


PASS = Verdict(True)


def green_ready(health: TargetGroupHealth, task_set: TaskSet | None, desired: int) -> Verdict:
    """Green can take traffic: its tasks run and every registered target is healthy, at
    least `desired` of them. Not ready is not failed: the caller waits up to a timeout."""
    if task_set is None:
        return Verdict(False, "green task set not found")
    if task_set.running_count is not None and task_set.running_count < desired:
        return Verdict(
            False, f"{task_set.running_count}/{desired} green tasks running", tasks_short=True
        )
    return targets_ready(health, desired)


def targets_ready(health: TargetGroupHealth, desired: int) -> Verdict:
    """Every registered target (draining ones aside) is healthy, at least `desired`."""
    live = [t for t in health.targets if t.state is not HealthState.DRAINING]
    healthy = health.healthy_count
    if healthy < desired or healthy < len(live):
        return Verdict(False, f"{healthy}/{max(desired, len(live))} green targets healthy")
    return PASS


def failure_window(check: HealthCheck) -> float:
    """How long a definitive failure must last before green is declared failed: the target
    group's own unhealthy threshold × interval, the time ELB itself takes to judge a target."""
    return float(check.unhealthy_threshold * check.interval_seconds)


@dataclass(frozen=True)
class UnhealthyStreak:
    """Since when green has shown a definitive health-check failure (`since`, None when it
    does not), folded in one poll at a time with `after`.

    It starts at the first poll where every live target (draining ones are leaving) is
    unhealthy for a definitive reason. It goes on while no target is healthy and at least one
    stays unhealthy for such a reason, the others `initial`: ECS replacing a failed task
    retries the same release, it is no recovery. Anything else ends it (a healthy target,
    another reason, nothing unhealthy left) and the next streak starts from zero.
    """

    since: float | None = None

    def after(self, health: TargetGroupHealth, now: float) -> UnhealthyStreak:
        if self.since is None:
            return UnhealthyStreak(now) if _all_failing(health) else self
        return self if _still_failing(health) else UnhealthyStreak()

    def failed(self, check: HealthCheck, now: float) -> bool:
        """The streak has lasted the target group's unhealthy threshold × interval."""
        return self.since is not None and now - self.since >= failure_window(check)


def _definitive(target: TargetHealth) -> bool:
    return target.state is HealthState.UNHEALTHY and target.reason in DEFINITIVE_REASONS


def _all_failing(health: TargetGroupHealth) -> bool:
    live = [t for t in health.targets if t.state is not HealthState.DRAINING]
    return bool(live) and all(_definitive(t) for t in live)


def _still_failing(health: TargetGroupHealth) -> bool:
    live = [t for t in health.targets if t.state is not HealthState.DRAINING]
    return any(_definitive(t) for t in live) and all(
        _definitive(t) or t.state is HealthState.INITIAL for t in live
    )


def health_picture(health: TargetGroupHealth, check: HealthCheck, desired: int) -> str:
    """One short line on how green's targets stand, for people waiting, e.g.
    "green 0/2 healthy: 2 unhealthy (Target.ResponseCodeMismatch on /health)". The same
    picture gives the same line, so a caller can print it only when it changes: the reasons
    of `initial` and `draining` targets are left out (they move on every check)."""
    text = f"green {health.healthy_count}/{desired} healthy"
    if not health.targets:
        return f"{text}: no target registered yet"
    parts = []
    for state in HealthState:
        found = [t for t in health.targets if t.state is state]
        if not found or state is HealthState.HEALTHY:
            continue
        part = f"{len(found)} {state.value}"
        if state not in (HealthState.INITIAL, HealthState.DRAINING):
            part += _why(found, check)
        parts.append(part)
    return f"{text}: {', '.join(parts)}" if parts else text


def _why(targets: list[TargetHealth], check: HealthCheck) -> str:
    counts = Counter(t.reason or "no reason given" for t in targets)
    shown = []
    for code, n in sorted(counts.items()):
        each = f"{code} ×{n}" if len(counts) > 1 else code
        if code == "Target.ResponseCodeMismatch":
            each += f" on {check.path or '/'}"
        shown.append(each)
    return f" ({', '.join(shown)})"


def green_still_healthy(health: TargetGroupHealth) -> Verdict:
    """During a stage: green keeps at least one healthy target and none turned unhealthy."""
    unhealthy = health.count(HealthState.UNHEALTHY)
    if unhealthy or health.healthy_count == 0:
        return Verdict(
            False,
            f"green target health: {health.healthy_count} healthy, {unhealthy} unhealthy"
            + _reasons_suffix(health),
        )
    return PASS


def alarms_ok(states: Mapping[str, AlarmState]) -> Verdict:
    firing = sorted(name for name, state in states.items() if state is AlarmState.ALARM)
    missing = sorted(name for name, state in states.items() if state is AlarmState.MISSING)
    if firing:
        return Verdict(False, f"alarm(s) in ALARM: {', '.join(firing)}")
    if missing:
        return Verdict(False, f"alarm(s) no longer exist: {', '.join(missing)}")
    return PASS


def explain_unhealthy(health: TargetGroupHealth, check: HealthCheck, group_name: str) -> str:
    """Why green is not healthy, with the health-check settings next to the reason codes:
    the classic cause is a path that answers 404 (Target.ResponseCodeMismatch)."""
    shown = (HealthState.HEALTHY, HealthState.INITIAL, HealthState.UNHEALTHY)
    counts = ", ".join(f"{health.count(s)} {s.value}" for s in shown)
    if health.count(HealthState.DRAINING):  # replaced tasks, on their way out
        counts += f", {health.count(HealthState.DRAINING)} draining"
    text = f"target group {group_name}: {counts} ({len(health.targets)} registered)"
    text += _reasons_suffix(health)
    text += f"; health check: {check.describe()}"
    if "Target.ResponseCodeMismatch" in health.reasons():
        text += (
            f" — the targets answer {check.path or '/'} with a code outside {check.matcher}: "
            "check the health-check path and matcher of the target group"
        )
    elif "Target.Timeout" in health.reasons():
        text += " — the targets do not answer in time: check the port and security groups"
    return text


def _reasons_suffix(health: TargetGroupHealth) -> str:
    reasons = health.reasons()
    if not reasons:
        return ""
    return "; reasons: " + ", ".join(f"{code} ×{n}" for code, n in sorted(reasons.items()))


def churn_threshold(desired: int) -> int:
    """How many of green's tasks may stop before green has failed: the rule of ECS's own
    deployment circuit breaker, 0.5 × the desired task count with a minimum of 3 and a
    maximum of 200 (ECS API reference, ServiceDeploymentCircuitBreaker `threshold`), so a
    release fails here when ECS would have failed it as a rolling update."""
    return min(max(3, math.ceil(desired / 2)), 200)


def describe_stops(stopped: Sequence[EcsTask], *, latest: int = 3, short: bool = False) -> str:
    """Why the `latest` tasks to stop stopped, newest first, each reason once: "Essential
    container in task exited: exit code 1; CannotPullContainerError: …". `short` keeps
    only the exit codes (or the reason when a container has none): "exit code 1"."""
    newest = sorted(stopped, key=lambda t: t.stopped_at or 0.0, reverse=True)[:latest]
    shown: list[str] = []
    for task in newest:
        text = _stop_reason(task, short)
        if text not in shown:
            shown.append(text)
    return "; ".join(shown)


def _stop_reason(task: EcsTask, short: bool) -> str:
    reason = task.stopped_reason or task.stop_code or "no reason given"
    exits = [
        f"exit code {e.exit_code}" if e.exit_code is not None else e.reason or ""
        for e in task.exits
        if e.exit_code != 0
    ]
    exits = [e for e in dict.fromkeys(exits) if e and e not in reason]
    if short:
        return ", ".join(exits) or reason
    return f"{reason}: {', '.join(exits)}" if exits else reason


def stops_picture(picture: str, stopped: Sequence[EcsTask]) -> str:
    """`health_picture` with green's stopped tasks: "green 0/2 healthy: 1 task stopped
    (exit code 1), replaced"."""
    if not stopped:
        return picture
    n = len(stopped)
    why = describe_stops(stopped, short=True)
    part = f"{n} task{'s' if n > 1 else ''} stopped ({why}), replaced"
    return f"{picture}, {part}" if ": " in picture else f"{picture}: {part}"
