"""service-pair mode: two ECS-controller services, each attached to one target group.

Which service is blue is read from AWS, like the colours: the one attached to the target
group the production listeners send all traffic to. Deploying updates the other service to
the new task definition at blue's desired count and waits for ECS's own deployment of it
to complete (`rolloutState`; a tripped circuit breaker fails at once, with ECS's reason);
retiring scales the old service to 0. Rollback scales green to 0: blue was never touched.
Without the breaker on green's service, green's stopped tasks are counted by the caller
(`green_stopped`); with it, ECS counts them and only its verdict is reported.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bluegreen.errors import HealthCheckFailed, PreflightError
from bluegreen.gates import Verdict, describe_stops, targets_ready
from bluegreen.model import EcsTask, Service, TargetGroup, TargetGroupHealth
from bluegreen.refusals import controller_refusal
from bluegreen.topology.contract import Fleet, Note, refuse_classic_load_balancer

if TYPE_CHECKING:
    from bluegreen.config import DeploymentConfig
    from bluegreen.ports import Containers
    from bluegreen.record import DeploymentRecord


class ServicePair:
    mode = "service-pair"

    def __init__(self, config: DeploymentConfig, ecs: Containers, note: Note) -> None:
        self.ecs = ecs
        self.cluster = config.service.cluster
        self.names = (config.service.blue_service or "", config.service.green_service or "")
        self.note = note
        self._breaker: dict[str, bool] = {}  # service → its circuit breaker is on (last read)

    def resolve(self, blue: TargetGroup, green: TargetGroup) -> Fleet:
        services = [self.ecs.service(self.cluster, name) for name in self.names]
        for service in services:
            refuse_classic_load_balancer(service)
            if service.controller != "ECS":
                message, hint = controller_refusal(service.name, service.controller, self.mode)
                raise PreflightError(message, hint=hint)
        on_blue = _attached_to(services, blue)
        on_green = _attached_to(services, green)
        if on_blue is None or on_green is None or on_blue is on_green:
            wiring = "; ".join(
                f"{s.name} → {', '.join(b.target_group_arn or '?' for b in s.load_balancers)}"
                for s in services
            )
            raise PreflightError(
                f"services {' and '.join(self.names)} must be attached one to {blue.name} "
                f"(live) and the other to {green.name}; found: {wiring or 'no load balancers'}",
                hint="each service of the pair needs loadBalancers naming one of the two "
                "target groups (`bluegreen init --green-service` creates the second one)",
            )
        return Fleet(
            service="+".join(self.names),
            blue=on_blue.name,
            green=on_green.name,
            task_definition=on_blue.task_definition or "",
            desired_count=on_blue.desired_count,
            bindings=on_blue.load_balancers,
        )

    def fill(self, rec: DeploymentRecord, fleet: Fleet) -> None:
        rec.blue_service, rec.green_service = fleet.blue, fleet.green

    def plan_provision(self, fleet: Fleet, green: TargetGroup) -> list[tuple[str, str]]:
        return [
            (
                "update green service",
                f"{fleet.green} to the new task definition, desired count "
                f"{fleet.desired_count}, on {green.name}; wait for ECS's deployment to complete",
            )
        ]

    def plan_retire(self, fleet: Fleet, termination_wait: float) -> list[tuple[str, str]]:
        return [("retire blue", f"after {termination_wait:g}s, scale service {fleet.blue} to 0")]

    # -- actions -------------------------------------------------------------------------

    def bring_up(self, rec: DeploymentRecord) -> None:
        name, target = rec.green_service or "", rec.to_task_definition or ""
        service = self.ecs.service(self.cluster, name)
        if service.task_definition == target and service.desired_count == rec.desired_count:
            return  # done before an interruption
        self.ecs.update_service(
            self.cluster, name, task_definition=target, desired_count=rec.desired_count
        )
        self.note(rec, f"updated service {name} to {target}, desired count {rec.desired_count}")

    def green_ready(self, rec: DeploymentRecord, health: TargetGroupHealth) -> Verdict:
        name = rec.green_service or ""
        service = self.ecs.service(self.cluster, name)
        self._breaker[name] = service.circuit_breaker
        deployment = service.primary_deployment
        if deployment is None or deployment.task_definition != rec.to_task_definition:
            return Verdict(False, f"ECS has not started the deployment of {name} yet")
        failed = f", {deployment.failed_tasks} task(s) failed" if deployment.failed_tasks else ""
        if deployment.rollout_state == "FAILED":
            stops = describe_stops(self._stopped_since(rec, name))  # read once, on failure
            raise HealthCheckFailed(
                f"ECS's deployment {deployment.id} of service {name} failed: "
                f"{deployment.rollout_reason or 'rolloutState FAILED'}{failed}"
                + (f" ({stops})" if stops else ""),
                hint=f"see why the tasks stopped: aws ecs describe-services --cluster "
                f"{self.cluster} --services {name} (events), and the stopped tasks' reasons",
            )
        if deployment.running_count < rec.desired_count:
            return Verdict(
                False,
                f"{deployment.running_count}/{rec.desired_count} green tasks running{failed}",
                tasks_short=True,
            )
        if deployment.rollout_state not in (None, "COMPLETED"):
            return Verdict(False, f"ECS deployment {deployment.id} {deployment.rollout_state}")
        return targets_ready(health, rec.desired_count)

    def green_tasks(self, rec: DeploymentRecord) -> list[EcsTask]:
        if not rec.green_service:
            return []
        return self.ecs.tasks(self.cluster, service=rec.green_service)

    def green_stopped(self, rec: DeploymentRecord) -> list[EcsTask] | None:
        name = rec.green_service or ""
        if not name:
            return []
        breaker = self._breaker.get(name)
        if breaker is None:
            breaker = self.ecs.service(self.cluster, name).circuit_breaker
        return None if breaker else self._stopped_since(rec, name)

    def _stopped_since(self, rec: DeploymentRecord, name: str) -> list[EcsTask]:
        # Green's service ran tasks before (earlier releases, scaled in): ECS still lists
        # those it stopped within the last hour, and they are not this release's.
        return [
            t
            for t in self.ecs.tasks(self.cluster, service=name, stopped=True)
            if t.created_at is None or t.created_at >= rec.created_at
        ]

    def make_green_primary(self, rec: DeploymentRecord) -> None:
        return None  # two services: nothing is primary

    def retire_blue(self, rec: DeploymentRecord) -> None:
        self.ecs.update_service(self.cluster, rec.blue_service or "", desired_count=0)
        self.note(rec, f"retired blue: service {rec.blue_service} scaled to 0")

    def retire_blue_command(self, rec: DeploymentRecord) -> str:
        return shlex.join(
            [
                *("aws", "ecs", "update-service", "--cluster", self.cluster),
                *("--service", rec.blue_service or "", "--desired-count", "0"),
            ]
        )

    def restore_blue(self, rec: DeploymentRecord) -> None:
        return None  # blue's service is not changed until it is retired

    def retire_green(self, rec: DeploymentRecord) -> None:
        if not rec.green_service:
            return
        service = self.ecs.service(self.cluster, rec.green_service)
        if service.desired_count:
            self.ecs.update_service(self.cluster, rec.green_service, desired_count=0)
            self.note(rec, f"scaled green service {rec.green_service} to 0")

    # -- reading -------------------------------------------------------------------------

    def describe(self, rec: DeploymentRecord, names: Mapping[str, str]) -> list[str]:
        return [
            f"service {u['name']}: {u['running']}/{u['desired']} running, "
            f"{u['task_definition']}, rollout {u['rollout']}, "
            f"target groups {', '.join(u['target_groups'])}"
            for u in self.units(names)
        ]

    def units(self, names: Mapping[str, str]) -> list[dict[str, Any]]:
        found = []
        for name in self.names:
            service = self.ecs.service(self.cluster, name)
            primary = service.primary_deployment
            found.append(
                {
                    "name": service.name,
                    "task_definition": service.task_definition,
                    "desired": service.desired_count,
                    "running": service.running_count,
                    "rollout": primary.rollout_state if primary else None,
                    "target_groups": [
                        names.get(b.target_group_arn or "", b.target_group_arn or "")
                        for b in service.load_balancers
                    ],
                }
            )
        return found


def _attached_to(services: list[Service], group: TargetGroup) -> Service | None:
    found = [s for s in services if any(b.target_group_arn == group.arn for b in s.load_balancers)]
    return found[0] if len(found) == 1 else None
