"""task-sets mode: one EXTERNAL-controller service, a task set per colour.

Green is a task set at 100 % scale on green's target group, tagged with the deployment id
as its external id (so a resumed deployment adopts the one it created); at the end it
becomes PRIMARY and blue's task set is deleted. Task sets left on green's target group by
an earlier deployment carry no traffic and are deleted first.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bluegreen.errors import PreflightError
from bluegreen.gates import Verdict, green_ready
from bluegreen.model import EcsTask, TargetGroup, TargetGroupHealth, TaskSet
from bluegreen.refusals import controller_refusal
from bluegreen.topology.contract import Fleet, Note, refuse_classic_load_balancer

if TYPE_CHECKING:
    from bluegreen.config import DeploymentConfig
    from bluegreen.ports import Containers
    from bluegreen.record import DeploymentRecord


class TaskSets:
    mode = "task-sets"

    def __init__(self, config: DeploymentConfig, ecs: Containers, note: Note) -> None:
        self.ecs = ecs
        self.cluster = config.service.cluster
        self.service = config.service.name or ""
        self.note = note

    def resolve(self, blue: TargetGroup, green: TargetGroup) -> Fleet:
        service = self.ecs.service(self.cluster, self.service)
        refuse_classic_load_balancer(service)
        if service.controller != "EXTERNAL":
            message, hint = controller_refusal(service.name, service.controller, self.mode)
            raise PreflightError(message, hint=hint)
        blue_set = next((ts for ts in service.task_sets if blue.arn in ts.target_group_arns), None)
        if blue_set is None:
            raise PreflightError(
                f"no task set of service {service.name} is attached to the live target group "
                f"{blue.name}",
                hint="the live colour must be served by a task set of the service; "
                "see `bluegreen status`",
            )
        leftovers = tuple(ts.id for ts in service.task_sets if green.arn in ts.target_group_arns)
        return Fleet(
            service=service.name,
            blue=blue_set.id,
            green=None,
            task_definition=blue_set.task_definition,
            desired_count=service.desired_count,
            bindings=service.load_balancers,
            leftovers=leftovers,
        )

    def fill(self, rec: DeploymentRecord, fleet: Fleet) -> None:
        rec.blue_task_set = fleet.blue
        rec.leftover_task_sets = list(fleet.leftovers)

    def plan_provision(self, fleet: Fleet, green: TargetGroup) -> list[tuple[str, str]]:
        steps = [
            ("delete leftover task set", f"{ts} on {green.name} (no traffic)")
            for ts in fleet.leftovers
        ]
        steps.append(
            (
                "create green task set",
                f"on {green.name}, scale 100% ({fleet.desired_count} tasks)",
            )
        )
        return steps

    def plan_retire(self, fleet: Fleet, termination_wait: float) -> list[tuple[str, str]]:
        return [
            ("make green primary", "green's task set becomes PRIMARY"),
            ("retire blue", f"after {termination_wait:g}s, delete task set {fleet.blue}"),
        ]

    # -- actions -------------------------------------------------------------------------

    def bring_up(self, rec: DeploymentRecord) -> None:
        for task_set_id in rec.leftover_task_sets:
            self.ecs.delete_task_set(self.cluster, self.service, task_set_id)
            self.note(rec, f"deleted leftover task set {task_set_id} on green")
        rec.leftover_task_sets = []
        if rec.green_task_set:
            return
        task_sets = self.ecs.task_sets(self.cluster, self.service)
        mine = next((ts for ts in task_sets if ts.external_id == rec.id), None)
        if mine:  # created before the process died
            rec.green_task_set = mine.id
            self.note(rec, f"adopted green task set {mine.id}, created before an interruption")
            return
        rec.green_task_set = self._create(rec, task_sets).id
        self.note(rec, f"created green task set {rec.green_task_set}")

    def _create(self, rec: DeploymentRecord, task_sets: list[TaskSet]) -> TaskSet:
        blue = next(ts for ts in task_sets if ts.id == rec.blue_task_set)
        return self.ecs.create_task_set(
            cluster=self.cluster,
            service=self.service,
            task_definition=rec.to_task_definition or "",
            target_group_arn=rec.green_target_group or "",
            container_name=rec.container or "",
            container_port=rec.container_port or 0,
            external_id=rec.id,
            network_configuration=blue.network_configuration,
            launch_type=blue.launch_type,
            capacity_provider_strategy=blue.capacity_provider_strategy,
            platform_version=blue.platform_version,
        )

    def green_ready(self, rec: DeploymentRecord, health: TargetGroupHealth) -> Verdict:
        task_sets = self.ecs.task_sets(self.cluster, self.service)
        green = next((ts for ts in task_sets if ts.id == rec.green_task_set), None)
        return green_ready(health, green, rec.desired_count)

    def green_tasks(self, rec: DeploymentRecord) -> list[EcsTask]:
        if not rec.green_task_set:
            return []
        # ECS starts a task set's tasks with the task set's id as startedBy.
        return self.ecs.tasks(self.cluster, started_by=rec.green_task_set)

    def green_stopped(self, rec: DeploymentRecord) -> list[EcsTask] | None:
        if not rec.green_task_set:
            return []
        # Green's task set is this deployment's: every task it ever stopped counts.
        return self.ecs.tasks(self.cluster, started_by=rec.green_task_set, stopped=True)

    def make_green_primary(self, rec: DeploymentRecord) -> None:
        if rec.green_is_primary:
            return
        self.ecs.set_primary_task_set(self.cluster, self.service, rec.green_task_set or "")
        rec.green_is_primary = True
        self.note(rec, f"green task set {rec.green_task_set} is primary")

    def retire_blue(self, rec: DeploymentRecord) -> None:
        self.ecs.delete_task_set(self.cluster, self.service, rec.blue_task_set or "")
        self.note(rec, f"retired blue task set {rec.blue_task_set}")

    def retire_blue_command(self, rec: DeploymentRecord) -> str:
        return shlex.join(
            [
                *("aws", "ecs", "delete-task-set", "--cluster", self.cluster),
                *("--service", self.service, "--task-set", rec.blue_task_set or "", "--force"),
            ]
        )

    def restore_blue(self, rec: DeploymentRecord) -> None:
        if rec.green_is_primary and rec.blue_task_set:
            self.ecs.set_primary_task_set(self.cluster, self.service, rec.blue_task_set)
            rec.green_is_primary = False
            self.note(rec, f"blue task set {rec.blue_task_set} is primary again")

    def retire_green(self, rec: DeploymentRecord) -> None:
        task_sets = self.ecs.task_sets(self.cluster, self.service)
        mine = {ts.id for ts in task_sets if ts.external_id == rec.id}
        if rec.green_task_set:
            mine.add(rec.green_task_set)
        for task_set_id in sorted(mine - {rec.blue_task_set}):
            self.ecs.delete_task_set(self.cluster, self.service, task_set_id)
            self.note(rec, f"deleted green task set {task_set_id}")

    # -- reading -------------------------------------------------------------------------

    def describe(self, rec: DeploymentRecord, names: Mapping[str, str]) -> list[str]:
        return [
            f"task set {u['id']}: {u['status']}, {u['task_definition']}, "
            f"target groups {', '.join(u['target_groups'])}"
            for u in self.units(names)
        ]

    def units(self, names: Mapping[str, str]) -> list[dict[str, Any]]:
        return [
            {
                "id": ts.id,
                "status": ts.status.value,
                "task_definition": ts.task_definition,
                "target_groups": [names.get(a, a) for a in ts.target_group_arns],
                "running": ts.running_count,
                "desired": ts.desired_count,
            }
            for ts in self.ecs.task_sets(self.cluster, self.service)
        ]
