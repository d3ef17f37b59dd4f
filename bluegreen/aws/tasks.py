"""Amazon ECS tasks: which tasks a task set or a service runs now, and at which address
(ListTasks, then DescribeTasks). `EcsTasks` is a mixin: `ecs.EcsContainers` joins it and
gives it its client and caller.

Rules:
- ListTasks lists the tasks whose desired status is RUNNING (its default): tasks on their
  way out are not listed, tasks still starting are, with their last status. Asked with
  `stopped=True` it lists those whose desired status is STOPPED instead (ECS shows a stopped
  task for about an hour): DescribeTasks then gives why (`stoppedReason`, `stopCode`, each
  container's `exitCode` or `reason`) and when (`createdAt`, `stoppedAt`).
- ListTasks answers up to 100 ARNs a page and DescribeTasks takes up to 100: both are
  paged; no task listed means no DescribeTasks call (AWS refuses an empty list).
- A task's address is the private IPv4 of its elastic network interface (awsvpc): from
  its ENI attachment, else from its containers' network interfaces. A task without one
  (bridge or host networking) has no address: its targets are instances, not IPs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bluegreen.model import ContainerExit, EcsTask

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import TaskTypeDef

    from bluegreen.aws.retry import AwsCaller

PAGE = 100  # ListTasks' largest page and DescribeTasks' largest batch


class EcsTasks:
    """The task methods of `Containers` on boto3's ECS client."""

    # set by the class this is mixed into
    _client: ECSClient
    _aws: AwsCaller

    def tasks(
        self,
        cluster: str,
        *,
        started_by: str | None = None,
        service: str | None = None,
        stopped: bool = False,
    ) -> list[EcsTask]:
        which = "stopped tasks" if stopped else "tasks"
        about = f"{which} of {_owner(started_by, service)} in cluster {cluster}"
        arns = self._task_arns(about, cluster, started_by, service, stopped)
        found: list[EcsTask] = []
        for start in range(0, len(arns), PAGE):
            resp = self._aws.call(
                about,
                self._client.describe_tasks,
                cluster=cluster,
                tasks=arns[start : start + PAGE],
            )
            found += [parse_task(t) for t in resp.get("tasks", [])]
        return found

    def _task_arns(
        self, about: str, cluster: str, started_by: str | None, service: str | None, stopped: bool
    ) -> list[str]:
        params: dict[str, Any] = {"cluster": cluster, "maxResults": PAGE}
        if stopped:
            params["desiredStatus"] = "STOPPED"
        if started_by:
            params["startedBy"] = started_by
        if service:
            params["serviceName"] = service
        arns: list[str] = []
        while True:
            resp = self._aws.call(about, self._client.list_tasks, **params)
            arns += resp.get("taskArns", [])
            token = resp.get("nextToken")
            if not token:
                return arns
            params["nextToken"] = token


def _owner(started_by: str | None, service: str | None) -> str:
    if started_by:
        return started_by
    return f"service {service}" if service else "every service"


def parse_task(task: TaskTypeDef) -> EcsTask:
    return EcsTask(
        arn=task.get("taskArn", ""),
        last_status=task.get("lastStatus", "UNKNOWN"),
        task_definition=task.get("taskDefinitionArn", ""),
        started_by=task.get("startedBy"),
        group=task.get("group"),
        ip=_address(task),
        stopped_reason=task.get("stoppedReason"),
        stop_code=task.get("stopCode"),
        exits=tuple(
            ContainerExit(c.get("name", ""), c.get("exitCode"), c.get("reason"))
            for c in task.get("containers", [])
            if "exitCode" in c or c.get("reason")
        ),
        created_at=_seconds(task.get("createdAt")),
        stopped_at=_seconds(task.get("stoppedAt")),
    )


def _seconds(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _address(task: TaskTypeDef) -> str | None:
    for attachment in task.get("attachments", []):
        if attachment.get("type") != "ElasticNetworkInterface":
            continue
        details = _details(attachment.get("details", []))
        if details.get("privateIPv4Address"):
            return details["privateIPv4Address"]
    for container in task.get("containers", []):
        for interface in container.get("networkInterfaces", []):
            if interface.get("privateIpv4Address"):
                return interface["privateIpv4Address"]
    return None


def _details(pairs: Sequence[Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in pairs if "name" in p and "value" in p}
