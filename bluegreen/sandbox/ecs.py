"""ECS as AWS runs it, on the sandbox's clock: tasks start, register into target groups,
get replaced, and the counts and deployment states the API reports follow.

moto stores task sets and services but runs nothing behind them. This
simulator reads moto's models and keeps, for every task set (EXTERNAL controller) and every
deployment of a service using the ECS controller with `loadBalancers`, a group of tasks
(tasks.py holds the scheduler's rules). It writes back what DescribeTaskSets and
DescribeServices report on AWS:

- task sets: `computedDesiredCount` = ceil(service desiredCount × scale % / 100) (ECS
  rounds up), `runningCount`, `pendingCount`, `stabilityStatus` (STABILIZING until the
  running count equals the computed desired count and every target is healthy, then
  STEADY_STATE) and `stabilityStatusAt`;
- services: `runningCount` and `pendingCount` over their task sets or deployments;
- ECS-controller services: `deployments[]`. UpdateService with a new task definition (or
  forceNewDeployment) starts a new PRIMARY deployment, IN_PROGRESS; the previous one turns
  ACTIVE and keeps its tasks until the new one is COMPLETED (its tasks all running and
  healthy), then it is stopped and leaves the list. A desired-count change alone scales the
  PRIMARY deployment, as on AWS. The deployment circuit breaker fails a deployment (FAILED,
  no more launches) once `failedTasks` reaches ECS's threshold, max(3, ceil(desired / 2)),
  capped at 200. moto drops `deploymentConfiguration`, so the breaker is always on, without
  rollback: the ACTIVE deployment keeps serving.

It acts on every clock tick and right after each ECS call that changes them (the moto
backend's methods are wrapped), so the answer to a describe made right after CreateTaskSet
or UpdateService is already AWS's.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend

from bluegreen.sandbox import health
from bluegreen.sandbox.patches import Patches
from bluegreen.sandbox.rollouts import Rollout, moment
from bluegreen.sandbox.tasks import Owner, Placement, Scheduler
from bluegreen.sandbox.world import Sandbox

# The calls after which the world is brought up to date at once, as AWS would answer.
_CHANGING_CALLS = (
    "create_service",
    "update_service",
    "delete_service",
    "create_task_set",
    "update_task_set",
    "delete_task_set",
    "update_service_primary_task_set",
)
MAX_ROUNDS = 1000  # one sync settles chains of events (start → unhealthy → replace …)

_active: EcsSimulator | None = None
_patches = Patches(EC2ContainerServiceBackend)


def install(sandbox: Sandbox) -> EcsSimulator:
    global _active
    simulator = sandbox.ticking("ecs", lambda: EcsSimulator(sandbox))
    for name in _CHANGING_CALLS:
        _patches.apply(name, functools.partial(_synced, name))
    _active = simulator
    simulator.sync(sandbox.clock.now())
    return simulator


def uninstall() -> None:
    global _active
    _patches.undo()
    _active = None


def backdate(sandbox: Sandbox, seconds: float) -> None:
    """Pretend everything ECS has done so far happened `seconds` earlier: a stack built
    now is then already serving (its tasks registered, its targets healthy)."""
    simulator = sandbox.simulators["ecs"]
    assert isinstance(simulator, EcsSimulator)
    simulator.backdate(seconds)


def _synced(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(backend: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(backend, *args, **kwargs)
        simulator = _active
        if simulator is not None and backend is simulator.sandbox.ecs():
            simulator.sync(simulator.sandbox.clock.now())
        return result

    return call


class EcsSimulator:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.scheduler = Scheduler(sandbox)
        self.owners: dict[str, Owner] = {}
        self.rollouts: dict[str, Rollout] = {}  # ECS-controller services by ARN

    def tick(self, now: float) -> None:
        if _active is self:
            self.sync(now)

    def sync(self, now: float) -> None:
        for _ in range(MAX_ROUNDS):
            self._follow_moto(now)
            changed = False
            for owner in list(self.owners.values()):
                changed |= self.scheduler.step(owner, now)
            changed |= self._progress_rollouts(now)
            if not changed:
                break
        self._publish(now)
        health.purge_drained(self.sandbox, now)

    def backdate(self, seconds: float) -> None:
        for owner in self.owners.values():
            owner.changed_at -= seconds
        for task in self.sandbox.tasks.values():
            task.started_at -= seconds
            task.running_at -= seconds
            if task.stopped_at is not None:
                task.stopped_at -= seconds
        for target in self.sandbox.targets.values():
            target.registered_at -= seconds
            if target.deregistered_at is not None and target.drained_at is not None:
                target.deregistered_at -= seconds
                target.drained_at -= seconds
        for rollout in self.rollouts.values():
            rollout.backdate(seconds)
        self.sync(self.sandbox.clock.now())

    # -- what moto holds → groups of tasks -------------------------------------------------

    def _follow_moto(self, now: float) -> None:
        wanted = dict(self._wanted(now))
        services = self.sandbox.ecs().services.values()
        rolling = {s.arn for s in services if s.status == "ACTIVE" and _is_rolling(s)}
        for arn in [a for a in self.rollouts if a not in rolling]:
            del self.rollouts[arn]  # the service is gone: so are its deployments
        for key in [k for k in self.owners if k not in wanted]:
            self.scheduler.stop_all(self.owners.pop(key), now, "Task set or service deleted")
        for key, (desired, placement) in wanted.items():
            owner = self.owners.get(key)
            if owner is None:
                self.owners[key] = Owner(key, desired, placement, changed_at=now)
            elif owner.desired != desired:
                owner.desired, owner.changed_at = desired, now

    def _wanted(self, now: float) -> Iterator[tuple[str, tuple[int, Placement]]]:
        backend = self.sandbox.ecs()
        for service in list(backend.services.values()):
            if service.status != "ACTIVE":
                continue
            for task_set in service.task_sets:
                placement = self._placement(task_set.task_definition, task_set)
                if placement is not None:
                    yield task_set.task_set_arn, (computed_desired(service, task_set), placement)
            if _is_rolling(service):
                yield from self._deployments(service, now)

    def _deployments(self, service: Any, now: float) -> Iterator[tuple[str, tuple[int, Placement]]]:
        rollout = self.rollouts.get(service.arn)
        if rollout is None:
            rollout = Rollout.start(service, self.sandbox.rng, now)
            self.rollouts[service.arn] = rollout
        rollout.follow(service, self.sandbox.rng, now)
        for deployment in rollout.deployments:
            placement = self._placement(deployment.task_definition, service)
            if placement is not None:
                yield rollout.key(deployment), (deployment.desired, placement)

    def _placement(self, task_definition_arn: str | None, holder: Any) -> Placement | None:
        """Image, target groups and subnets of a task set or service; None without an
        image behind a load balancer."""
        if not task_definition_arn or not holder.load_balancers:
            return None
        try:
            definition = self.sandbox.ecs().describe_task_definition(task_definition_arn)
        except Exception:  # deregistered or unknown: ECS could not start it either
            return None
        containers = {c.get("name"): c for c in definition.container_definitions}
        bindings = []
        image = None
        for lb in holder.load_balancers:
            if lb.get("targetGroupArn") and lb.get("containerPort") is not None:
                bindings.append((lb["targetGroupArn"], int(lb["containerPort"])))
                image = image or containers.get(lb.get("containerName"), {}).get("image")
        if not bindings:
            return None
        image = image or definition.container_definitions[0].get("image", "")
        awsvpc = (holder.network_configuration or {}).get("awsvpcConfiguration") or {}
        subnets = tuple(awsvpc.get("subnets") or ())
        return Placement(image, tuple(bindings), subnets, definition.arn)

    # -- deployments ---------------------------------------------------------------------

    def _progress_rollouts(self, now: float) -> bool:
        changed = False
        for rollout in self.rollouts.values():
            primary = rollout.primary
            owner = self.owners.get(rollout.key(primary)) if primary else None
            if primary is None or owner is None or primary.rollout != "IN_PROGRESS":
                continue
            if owner.failed_tasks >= circuit_breaker_threshold(primary.desired):
                owner.launching = False
                rollout.fail(primary, owner.failed_at or now)
                changed = True
                continue
            steady = self.scheduler.steady_since(owner, now)
            if steady is not None:
                for old in rollout.complete(primary, steady):
                    retired = self.owners.pop(rollout.key(old), None)
                    if retired is not None:
                        self.scheduler.stop_all(retired, steady, "Deployment replaced")
                changed = True
        return changed

    # -- what the API reports ------------------------------------------------------------

    def _publish(self, now: float) -> None:
        for service in list(self.sandbox.ecs().services.values()):
            owners = [self.owners[k] for k in self._keys_of(service) if k in self.owners]
            for task_set in service.task_sets:
                owner = self.owners.get(task_set.task_set_arn)
                if owner is not None:
                    self._publish_task_set(task_set, owner, now)
            rollout = self.rollouts.get(service.arn)
            if rollout is not None and _is_rolling(service):
                service.deployments = rollout.render(service, self.owners)
            if owners or _controller(service) == "EXTERNAL" or _is_rolling(service):
                service.running_count = sum(o.count("RUNNING") for o in owners)
                service.pending_count = sum(o.count("PENDING") for o in owners)

    def _keys_of(self, service: Any) -> list[str]:
        keys = [ts.task_set_arn for ts in service.task_sets]
        rollout = self.rollouts.get(service.arn)
        if rollout is not None:
            keys += [rollout.key(d) for d in rollout.deployments]
        return keys

    def _publish_task_set(self, task_set: Any, owner: Owner, now: float) -> None:
        # moto serialises these attributes under their API names (camelCase is looked
        # up first), so DescribeTaskSets and DescribeServices carry them.
        task_set.computedDesiredCount = owner.desired
        task_set.runningCount = owner.count("RUNNING")
        task_set.pendingCount = owner.count("PENDING")
        steady = self.scheduler.steady_since(owner, now)
        status = "STEADY_STATE" if steady is not None else "STABILIZING"
        if owner.stability is None or owner.stability[0] != status:
            owner.stability = (status, steady if steady is not None else now)
        task_set.stabilityStatus = status
        task_set.stabilityStatusAt = moment(owner.stability[1])


def computed_desired(service: Any, task_set: Any) -> int:
    """ECS: the service's desired count × the task set's scale, rounded up."""
    scale = task_set.scale or {}
    percent = float(scale.get("value", 100.0)) if scale.get("unit", "PERCENT") == "PERCENT" else 0
    return math.ceil(int(service.desired_count) * percent / 100 - 1e-9)


def circuit_breaker_threshold(desired: int) -> int:
    """ECS: the deployment fails after max(3, ceil(desired / 2)) failed tasks, at most 200."""
    return min(max(3, math.ceil(desired / 2)), 200)


def _controller(service: Any) -> str:
    return str((service.deployment_controller or {}).get("type", "ECS"))


def _is_rolling(service: Any) -> bool:
    """An ECS-controller service behind a load balancer: the ones simulated here."""
    return (
        _controller(service) == "ECS"
        and bool(service.load_balancers)
        and bool(service.task_definition)
    )
