"""The ECS service scheduler, for one group of tasks: a task set, or one deployment of a
service using the rolling-update (ECS) controller. It keeps `desired` tasks running the way
the ECS documentation describes ("Deploy Amazon ECS services by replacing tasks",
DeploymentConfiguration.maximumPercent):

- a task is PENDING for `sandbox.task_start_delay` seconds, then RUNNING; ECS then registers
  it into each of its target groups as an IP target (awsvpc) on the container port, with an
  address of its own in one of its subnets (the tasks are spread over the subnets);
- a task whose target turns unhealthy is replaced: the replacement starts first (the default
  maximumPercent is 200 %), and the unhealthy task is stopped once enough healthy tasks run,
  or when it must make room for a replacement — so an unhealthy target stays visible while
  its replacement starts. A stopped task's targets are deregistered (draining);
- scaling in stops pending tasks first, then the newest;
- a task whose app exits (`AppModel.exits_after`) is stopped when its container exits
  ("Essential container in task exited", its exit code) and replaced at once; it counts as
  a failed task for the deployment circuit breaker, as on ECS.

Every transition is dated when it happened (a task registered at the end of its start delay,
a replacement started when the target turned unhealthy), not when a tick noticed it, so the
outcome does not depend on how the clock was advanced.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from bluegreen.sandbox import health
from bluegreen.sandbox.world import Sandbox, Task

MAX_PERCENT = 200  # ECS's default maximumPercent: room for replacements before stopping
# Where tasks with no awsvpc subnets (bridge/host networking) get their addresses.
FALLBACK_CIDR = "172.31.0.0/16"
_RANK = {"unhealthy": 0, "initial": 1, "healthy": 2}


@dataclass(frozen=True)
class Placement:
    """What the tasks of one group run and where: the image behind the load balancer, the
    (target group ARN, container port) pairs they register into, their subnets."""

    image: str
    bindings: tuple[tuple[str, int], ...]
    subnets: tuple[str, ...]
    task_definition: str = ""


@dataclass
class Owner:
    key: str  # task set ARN, or "<service ARN>#<deployment id>"
    desired: int
    placement: Placement
    changed_at: float  # when it appeared or its desired count last changed
    launching: bool = True  # False once a deployment circuit breaker has tripped
    failed_tasks: int = 0  # tasks stopped for failing ELB health checks…
    failed_at: float | None = None  # …the last of them then
    launched: int = 0
    stability: tuple[str, float] | None = None  # (stabilityStatus, since) last reported
    tasks: list[Task] = field(default_factory=list)  # PENDING and RUNNING

    def count(self, status: str) -> int:
        return sum(1 for t in self.tasks if t.status == status)


class Scheduler:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def step(self, owner: Owner, now: float) -> bool:
        """One pass over the group at `now`; True when something changed."""
        changed = self._start_due(owner, now)
        changed |= self._exit_due(owner, now)
        verdicts = {t.id: self.verdict(t, now) for t in owner.tasks if t.status == "RUNNING"}
        changed |= self._scale_in(owner, verdicts)
        changed |= self._retire_unhealthy(owner, verdicts)
        return self._replace(owner, verdicts) or changed

    def verdict(self, task: Task, now: float) -> health.Health | None:
        """The worst health among the task's targets (None: it has no target)."""
        found: list[health.Health] = []
        for group_arn, _port in task.bindings:
            record = self.sandbox.targets.get((group_arn, task.ip))
            group = self.sandbox.elbv2().target_groups.get(group_arn)
            if record is not None and group is not None:
                found.append(health.assess(self.sandbox, record, group, now))
        return min(found, key=lambda h: (_RANK.get(h.state, 1), -h.since), default=None)

    def steady_since(self, owner: Owner, now: float) -> float | None:
        """When the group reached its desired count with every target healthy, or None."""
        if owner.count("PENDING") or owner.count("RUNNING") != owner.desired:
            return None
        verdicts = [self.verdict(t, now) for t in owner.tasks]
        if any(v is not None and v.state != "healthy" for v in verdicts):
            return None
        return max([owner.changed_at] + [v.since for v in verdicts if v is not None])

    def stop_all(self, owner: Owner, at: float, reason: str) -> None:
        for task in list(owner.tasks):
            self._stop(owner, task, at, reason)

    # -- the rules -----------------------------------------------------------------------

    def _start_due(self, owner: Owner, now: float) -> bool:
        due = [t for t in owner.tasks if t.status == "PENDING" and t.running_at <= now]
        for task in due:
            task.status = "RUNNING"
            for group_arn, port in task.bindings:
                health.register(
                    self.sandbox,
                    group_arn,
                    task.ip,
                    port,
                    task.running_at,
                    image=task.image,
                    task_id=task.id,
                )
        return bool(due)

    def _exit_due(self, owner: Owner, now: float) -> bool:
        changed = False
        for task in [t for t in owner.tasks if t.status == "RUNNING"]:
            app = self.sandbox.app(task.image)
            if app.exits_after is None or task.running_at + app.exits_after > now:
                continue
            at = task.running_at + app.exits_after
            task.exit_code, task.stop_code = app.exit_code, "EssentialContainerExited"
            owner.failed_tasks += 1
            owner.failed_at = max(owner.failed_at or at, at)
            self._stop(owner, task, at, "Essential container in task exited")
            if owner.launching:
                self._launch(owner, at)  # ECS replaces it when it stopped
            changed = True
        return changed

    def _scale_in(self, owner: Owner, verdicts: dict[str, health.Health | None]) -> bool:
        # Unhealthy tasks are not counted: above `desired` they are replacements' forerunners.
        unhealthy = _unhealthy(owner, verdicts)
        good = [t for t in owner.tasks if t not in unhealthy]
        extra = len(good) - owner.desired
        if extra <= 0:
            return False
        # pending first, then the newest
        order = sorted(good, key=lambda t: (t.status != "PENDING", -t.started_at))
        for task in order[:extra]:
            self._stop(owner, task, owner.changed_at, "Scaling activity initiated by deployment")
        return True

    def _retire_unhealthy(self, owner: Owner, verdicts: dict[str, health.Health | None]) -> bool:
        """Enough healthy tasks run: the unhealthy ones are no longer needed."""
        live = [verdicts.get(t.id) for t in owner.tasks]
        healthy = [v for v in live if v is not None and v.state == "healthy"]
        unhealthy = _unhealthy(owner, verdicts)
        if not unhealthy or len(healthy) < owner.desired:
            return False
        at = max(v.since for v in [*healthy, *(verdicts[t.id] for t in unhealthy)] if v)
        for task in unhealthy:
            self._fail(owner, task, at)
        return True

    def _replace(self, owner: Owner, verdicts: dict[str, health.Health | None]) -> bool:
        unhealthy = _unhealthy(owner, verdicts)
        need = owner.desired - (len(owner.tasks) - len(unhealthy))
        if need <= 0 or not owner.launching:
            return False
        # the need arose when the last of those targets turned unhealthy
        at = max([owner.changed_at] + [v.since for t in unhealthy if (v := verdicts[t.id])])
        room = owner.desired * MAX_PERCENT // 100 - len(owner.tasks)
        for task in sorted(unhealthy, key=lambda t: t.running_at)[: max(need - room, 0)]:
            self._fail(owner, task, at)
        for _ in range(need):
            self._launch(owner, at)
        return True

    # -- tasks ---------------------------------------------------------------------------

    def _launch(self, owner: Owner, at: float) -> Task:
        placement = owner.placement
        subnets = placement.subnets or ("",)
        subnet = subnets[owner.launched % len(subnets)]
        owner.launched += 1
        task = Task(
            id=format(self.sandbox.rng.getrandbits(128), "032x"),
            owner=owner.key,
            image=placement.image,
            subnet_id=subnet,
            ip=self._address(subnet),
            bindings=placement.bindings,
            started_at=at,
            running_at=at + self.sandbox.task_start_delay,
            task_definition=placement.task_definition,
        )
        owner.tasks.append(task)
        self.sandbox.tasks[task.id] = task
        return task

    def _fail(self, owner: Owner, task: Task, at: float) -> None:
        owner.failed_tasks += 1
        owner.failed_at = max(owner.failed_at or at, at)
        groups = " ".join(f"(target-group {arn})" for arn, _ in task.bindings)
        self._stop(owner, task, at, f"Task failed ELB health checks in {groups}")

    def _stop(self, owner: Owner, task: Task, at: float, reason: str) -> None:
        at = max(at, task.running_at if task.status == "RUNNING" else task.started_at)
        task.status, task.stopped_at, task.stopped_reason = "STOPPED", at, reason
        owner.tasks.remove(task)
        for group_arn, _port in task.bindings:
            health.deregister(self.sandbox, group_arn, task.ip, at)

    def _address(self, subnet_id: str) -> str:
        """The lowest free address of the subnet: not one of the four AWS reserves at its
        start (nor the last), not held by a network interface moto made, a live task or a
        target still listed (draining). Addresses are reused once free, as on AWS."""
        cidr = FALLBACK_CIDR
        if subnet_id:
            cidr = self.sandbox.ec2().get_subnet(subnet_id).cidr_block
        network = ipaddress.ip_network(cidr)
        taken = {eni.private_ip_address for eni in self.sandbox.ec2().enis.values()}
        taken |= {t.ip for t in self.sandbox.tasks.values() if t.status != "STOPPED"}
        taken |= {target_id for _group, target_id in self.sandbox.targets}
        for host in range(4, network.num_addresses - 1):
            if str(network[host]) not in taken:
                return str(network[host])
        raise RuntimeError(f"simulated subnet {subnet_id or cidr} has no free address")


def _unhealthy(owner: Owner, verdicts: dict[str, health.Health | None]) -> list[Task]:
    return [
        t for t in owner.tasks if (v := verdicts.get(t.id)) is not None and v.state == "unhealthy"
    ]
