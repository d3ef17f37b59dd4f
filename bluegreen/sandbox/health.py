"""Target health as Elastic Load Balancing reports it, on the sandbox's clock.

moto answers `healthy` for every registered target, at once and forever. Here health is
derived from time and the application model, per the ELB documentation ("Health checks for
Application Load Balancer target groups", "Target health status"):

- registered → `initial`: reason `Elb.RegistrationInProgress` during the first health-check
  interval, then `Elb.InitialHealthChecking`;
- the app answers the health-check path with a code the matcher accepts → `healthy` once
  HealthyThresholdCount checks passed: at registration + threshold × interval, not before;
- it answers another code → `unhealthy` / `Target.ResponseCodeMismatch` ("Health checks
  failed with these codes: [404]") after UnhealthyThresholdCount × interval; it never
  answers (`AppModel.hangs`) → `unhealthy` / `Target.Timeout`;
- it crashes (`AppModel.crashes_after` seconds after it started) → its checks fail from
  then, and after UnhealthyThresholdCount × interval it is `unhealthy` /
  `Target.FailedHealthChecks`;
- a TCP health check (NLB target groups; HealthCheckProtocol TCP) only opens a connection:
  the path, the matcher and what the app answers on it do not matter — a running app is
  healthy on the same timing, one that hangs is `Target.Timeout`, a crash is
  `Target.FailedHealthChecks`. An HTTP(S) check on an NLB target group matches 200-399
  unless told otherwise ("Health checks for Network Load Balancer target groups");
- deregistered → `draining` / `Target.DeregistrationInProgress` for the target group's
  `deregistration_delay.timeout_seconds`, then gone from DescribeTargetHealth;
- in a target group no listener or rule forwards to (a weight of 0 still counts) →
  `unused` / `Target.NotInUse`: the load balancer does not health-check it.

`FakeTargetGroup.health_for` is wrapped once per process while a sandbox is installed and
dispatches to the active sandbox (one per process: moto's state is global); `uninstall`
puts moto's own method back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

from bluegreen.sandbox.patches import Patches
from bluegreen.sandbox.world import HEALTHY, AppModel, Sandbox, Target

DEFAULT_DEREGISTRATION_DELAY = 300.0  # ELB's default deregistration_delay.timeout_seconds

_active: Sandbox | None = None
_patches = Patches(FakeTargetGroup)


@dataclass(frozen=True)
class Health:
    """A target's health at one moment, and since when it has been so."""

    state: str
    reason: str | None = None
    description: str | None = None
    since: float = 0.0


@dataclass(frozen=True)
class Check:
    """The health-check settings of a target group that decide the timing."""

    path: str
    matcher: str
    interval: float
    healthy_threshold: int
    unhealthy_threshold: int
    http: bool

    @classmethod
    def of(cls, group: Any) -> Check:
        protocol = (group.health_check_protocol or group.protocol or "HTTP").upper()
        traffic = (group.protocol or "HTTP").upper()
        default = "200" if traffic in ("HTTP", "HTTPS") else "200-399"  # ALB / NLB defaults
        matcher = (getattr(group, "matcher", None) or {}).get("HttpCode") or default
        return cls(
            path=group.health_check_path or "/",
            matcher=str(matcher),
            interval=float(group.health_check_interval_seconds or 30),
            healthy_threshold=int(group.healthy_threshold_count or 5),
            unhealthy_threshold=int(group.unhealthy_threshold_count or 2),
            http=protocol in ("HTTP", "HTTPS"),
        )


# -- installing ----------------------------------------------------------------------------


def install(sandbox: Sandbox) -> None:
    """Make target health follow `sandbox`'s clock and apps; drop drained targets on ticks."""
    global _active
    _patches.apply("health_for", lambda _original: _health_for)
    _active = sandbox
    if "health" not in sandbox.simulators:
        sandbox.simulators["health"] = sandbox.on_tick(lambda now: _on_tick(sandbox, now))


def uninstall() -> None:
    global _active
    _patches.undo()
    _active = None


def _on_tick(sandbox: Sandbox, now: float) -> None:
    if _active is sandbox:
        notice_registered(sandbox, now)
        purge_drained(sandbox, now)


def _health_for(group: Any, target: dict[str, Any], ec2_backend: Any) -> FakeHealthStatus:
    status: FakeHealthStatus = _patches.original("health_for")(group, target, ec2_backend)
    sandbox = _active
    # moto's "healthy" means only "registered"; anything else (not registered…) stands.
    if sandbox is None or status.status != "healthy":
        return status
    now = sandbox.clock.now()
    record = sandbox.targets.get((group.arn, target["Id"]))
    if record is None:  # registered through the API since the last tick
        record = _remember(sandbox, group.arn, target["Id"], int(status.port), now)
    health = assess(sandbox, record, group, now)
    return FakeHealthStatus(
        status.instance_id,
        status.port,
        status.health_check_port,
        health.state,
        health.reason,
        health.description,
    )


# -- the rules -----------------------------------------------------------------------------


def assess(sandbox: Sandbox, target: Target, group: Any, now: float) -> Health:
    """The health ELB reports for `target` at `now` (see the module docstring)."""
    if target.deregistered_at is not None:
        return Health(
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
            target.deregistered_at,
        )
    if not group.load_balancer_arns:  # no listener or rule forwards to the group
        return Health(
            "unused",
            "Target.NotInUse",
            "Target group is not configured to receive traffic from the load balancer",
            target.registered_at,
        )
    check = Check.of(group)
    app = sandbox.app(target.image) if target.image else HEALTHY
    registered = target.registered_at
    failure = _failure(app, check)
    if failure is not None:
        unhealthy_at = registered + check.unhealthy_threshold * check.interval
        if now >= unhealthy_at:
            return Health("unhealthy", *failure, since=unhealthy_at)
        return _initial(registered, check, now)
    healthy_at = registered + check.healthy_threshold * check.interval
    crashed_at = None if app.crashes_after is None else registered + app.crashes_after
    if crashed_at is not None and now >= crashed_at + check.unhealthy_threshold * check.interval:
        since = crashed_at + check.unhealthy_threshold * check.interval
        return Health("unhealthy", "Target.FailedHealthChecks", "Health checks failed", since)
    if now >= healthy_at and (crashed_at is None or crashed_at >= healthy_at):
        return Health("healthy", since=healthy_at)
    return _initial(registered, check, now)


def _failure(app: AppModel, check: Check) -> tuple[str, str] | None:
    """Why every health check of this app fails, as (reason, description), or None."""
    if app.hangs:
        return "Target.Timeout", "Request timed out"
    if not check.http:
        return None  # a TCP check only needs the port to accept connections
    code = app.answers(check.path)
    if not matches(code, check.matcher):
        return "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]"
    return None


def _initial(registered: float, check: Check, now: float) -> Health:
    if now < registered + check.interval:
        reason, description = "Elb.RegistrationInProgress", "Target registration is in progress"
    else:
        reason, description = "Elb.InitialHealthChecking", "Initial health checks in progress"
    return Health("initial", reason, description, registered)


def matches(code: int, matcher: str) -> bool:
    """ELB's matcher syntax: "200", "200,302", "200-299" (and combinations)."""
    for part in matcher.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if low.isdigit() and int(low) <= code <= int(high or low):
            return True
    return False


# -- registering and deregistering (what RegisterTargets / DeregisterTargets do) ------------


def register(
    sandbox: Sandbox,
    group_arn: str,
    target_id: str,
    port: int,
    at: float,
    *,
    image: str | None = None,
    task_id: str | None = None,
) -> Target | None:
    """Register an IP target as of `at`; None when the target group no longer exists."""
    group = sandbox.elbv2().target_groups.get(group_arn)
    if group is None:
        return None
    group.register([{"Id": target_id, "Port": port}])
    record = Target(group_arn, target_id, port, at, image=image, task_id=task_id)
    sandbox.targets[(group_arn, target_id)] = record
    return record


def deregister(sandbox: Sandbox, group_arn: str, target_id: str, at: float) -> None:
    """Start draining: the target stays listed for the group's deregistration delay."""
    record = sandbox.targets.get((group_arn, target_id))
    group = sandbox.elbv2().target_groups.get(group_arn)
    if record is None or record.deregistered_at is not None:
        return
    record.deregistered_at = at
    record.drained_at = at + deregistration_delay(group)


def deregistration_delay(group: Any) -> float:
    if group is None:
        return 0.0
    value = group.attributes.get("deregistration_delay.timeout_seconds")
    return float(DEFAULT_DEREGISTRATION_DELAY if value is None else value)


def purge_drained(sandbox: Sandbox, now: float) -> None:
    """Targets whose deregistration delay has passed leave the target group."""
    groups = sandbox.elbv2().target_groups
    for key, record in list(sandbox.targets.items()):
        group = groups.get(record.group_arn)
        if group is None:  # the target group was deleted, and its targets with it
            del sandbox.targets[key]
        elif record.drained_at is not None and now >= record.drained_at:
            del sandbox.targets[key]
            moto_target = group.targets.pop(record.id, None)
            if moto_target is not None:
                group.deregistered_targets[record.id] = moto_target


def notice_registered(sandbox: Sandbox, now: float) -> None:
    """Targets registered through the API (not by the ECS simulator) start their health
    checks when first seen; moto removes API-deregistered targets at once, so forget those."""
    for group in sandbox.elbv2().target_groups.values():
        for target_id, target in group.targets.items():
            if (group.arn, target_id) not in sandbox.targets:
                _remember(sandbox, group.arn, target_id, int(target["Port"]), now)
    for key, record in list(sandbox.targets.items()):
        group = sandbox.elbv2().target_groups.get(record.group_arn)
        if group is not None and record.id not in group.targets:
            del sandbox.targets[key]


def _remember(sandbox: Sandbox, group_arn: str, target_id: str, port: int, now: float) -> Target:
    record = Target(group_arn, target_id, port, now)
    sandbox.targets[(group_arn, target_id)] = record
    return record
