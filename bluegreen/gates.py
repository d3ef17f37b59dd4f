"""Gates: pure predicates over what AWS shows. The engine polls them; they never wait.

Fail closed: an unknown health state never counts as healthy, a missing alarm never as OK.
INSUFFICIENT_DATA passes (new alarms start there on AWS and would block every deployment).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bluegreen.model import AlarmState, HealthCheck, HealthState, TargetGroupHealth, TaskSet


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


PASS = Verdict(True)


def green_ready(health: TargetGroupHealth, task_set: TaskSet | None, desired: int) -> Verdict:
    """Green can take traffic: its tasks run and every registered target is healthy, at
    least `desired` of them. Not ready is not failed: the caller waits up to a timeout."""
    if task_set is None:
        return Verdict(False, "green task set not found")
    if task_set.running_count is not None and task_set.running_count < desired:
        return Verdict(False, f"{task_set.running_count}/{desired} green tasks running")
    return targets_ready(health, desired)


def targets_ready(health: TargetGroupHealth, desired: int) -> Verdict:
    """Every registered target (draining ones aside) is healthy, at least `desired`."""
    live = [t for t in health.targets if t.state is not HealthState.DRAINING]
    healthy = health.healthy_count
    if healthy < desired or healthy < len(live):
        return Verdict(False, f"{healthy}/{max(desired, len(live))} green targets healthy")
    return PASS


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
