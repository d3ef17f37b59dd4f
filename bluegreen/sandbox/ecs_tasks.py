"""ListTasks and DescribeTasks as AWS answers them, for the tasks the ECS simulator runs.

moto's own tasks are not the ones that serve: CreateTaskSet runs tasks of its own (started
by the account id, at addresses no target has) and a service runs none;
ListTasks ignores `serviceName`, and DescribeTasks moves a task one lifecycle step per call.
So both answer from the simulator's tasks (tasks.py), as ECS would:

- a task's ARN is `arn:…:task/<cluster>/<id>`; `startedBy` is its task set's id, or its
  deployment's id for a service's task; `group` is `service:<name>`;
- `lastStatus` PENDING → RUNNING → STOPPED (`desiredStatus` STOPPED once stopped, with the
  `stoppedReason`, and for a task whose container exited its `stopCode` and the container's
  `exitCode`); an awsvpc task's network interface carries the address it registers as
  its target (attachments and containers[].networkInterfaces);
- ListTasks lists the tasks whose desired status is RUNNING unless asked for STOPPED, and
  filters by cluster, `startedBy`, `serviceName` and `family`.

Tasks someone runs outside a task set or service (RunTask) are moto's, not listed here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend

from bluegreen.sandbox.patches import Patches
from bluegreen.sandbox.rollouts import moment
from bluegreen.sandbox.world import Sandbox, Task

_patches = Patches(EC2ContainerServiceBackend)
_active: Sandbox | None = None


@dataclass(frozen=True)
class _Owner:
    cluster: str
    cluster_arn: str
    service: str
    started_by: str  # the task set's or the deployment's id


def install(sandbox: Sandbox) -> None:
    global _active
    for name, answer in (("list_tasks", _list_tasks), ("describe_tasks", _describe_tasks)):
        _patches.apply(name, functools.partial(_answering, answer))
    _active = sandbox


def uninstall() -> None:
    global _active
    _patches.undo()
    _active = None


def _answering(answer: Callable[..., Any], original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(backend: Any, *args: Any, **kwargs: Any) -> Any:
        sandbox = _active
        if sandbox is None or backend is not sandbox.ecs():
            return original(backend, *args, **kwargs)
        return answer(sandbox, backend, *args, **kwargs)

    return call


def _list_tasks(
    sandbox: Sandbox,
    backend: Any,
    cluster_str: str | None = None,
    container_instance: str | None = None,
    family: str | None = None,
    started_by: str | None = None,
    service_name: str | None = None,
    desiredStatus: str | None = None,  # moto's name
) -> list[_TaskView]:
    cluster = backend._get_cluster(cluster_str or "default")  # ClusterNotFound as moto
    stopped = desiredStatus == "STOPPED"
    found = []
    for task, owner in _tasks(sandbox, backend):
        if owner.cluster != cluster.name or (task.status == "STOPPED") != stopped:
            continue
        if started_by and owner.started_by != started_by:
            continue
        if service_name and owner.service != service_name.rsplit("/", 1)[-1]:
            continue
        if family and task.task_definition.rsplit("/", 1)[-1].split(":")[0] != family:
            continue
        found.append(_TaskView(sandbox, task, owner))
    return found


def _describe_tasks(
    sandbox: Sandbox, backend: Any, cluster_str: str, tasks: list[str]
) -> list[_TaskView]:
    cluster = backend._get_cluster(cluster_str or "default")
    wanted = {t.rsplit("/", 1)[-1] for t in tasks}
    return [
        _TaskView(sandbox, task, owner)
        for task, owner in _tasks(sandbox, backend)
        if owner.cluster == cluster.name and task.id in wanted
    ]


def _tasks(sandbox: Sandbox, backend: Any) -> Iterator[tuple[Task, _Owner]]:
    owners = dict(_owners(backend))
    for task in sandbox.tasks.values():
        key, _, deployment = task.owner.partition("#")
        owner = owners.get(key)
        if owner is None:
            continue  # its service is gone: ECS forgets its tasks too
        if deployment:  # a service's task: started by its deployment
            owner = _Owner(owner.cluster, owner.cluster_arn, owner.service, deployment)
        yield task, owner


def _owners(backend: Any) -> Iterator[tuple[str, _Owner]]:
    for service in backend.services.values():
        cluster_arn = service.cluster_arn
        cluster = cluster_arn.rsplit("/", 1)[-1]
        yield service.arn, _Owner(cluster, cluster_arn, service.name, "")
        for task_set in service.task_sets:
            yield task_set.task_set_arn, _Owner(cluster, cluster_arn, service.name, task_set.id)


class _TaskView:
    """One simulated task under the attribute names moto's serializer looks up."""

    def __init__(self, sandbox: Sandbox, task: Task, owner: _Owner) -> None:
        stopped = task.status == "STOPPED"
        region, account = sandbox.region, sandbox.account_id
        self.task_arn = f"arn:aws:ecs:{region}:{account}:task/{owner.cluster}/{task.id}"
        self.cluster_arn = owner.cluster_arn
        self.task_definition_arn = task.task_definition
        self.last_status = task.status
        self.desired_status = "STOPPED" if stopped else "RUNNING"
        self.started_by = owner.started_by
        self.group = f"service:{owner.service}"
        self.launch_type = "FARGATE"
        self.created_at = moment(task.started_at)
        self.started_at = moment(task.running_at) if task.status != "PENDING" else None
        self.stopped_at = moment(task.stopped_at) if task.stopped_at is not None else None
        self.stopped_reason = task.stopped_reason
        if task.stop_code:
            self.stop_code = task.stop_code
        self.attachments = [_interface(task)] if task.subnet_id else []
        container: dict[str, Any] = {
            "taskArn": self.task_arn,
            "image": task.image,
            "lastStatus": task.status,
            "networkInterfaces": [{"privateIpv4Address": task.ip}] if task.subnet_id else [],
        }
        if task.exit_code is not None:
            container["exitCode"] = task.exit_code
        self.containers = [container]
        self.tags: list[dict[str, str]] = []


def _interface(task: Task) -> dict[str, Any]:
    return {
        "id": f"eni-attachment-{task.id[:17]}",
        "type": "ElasticNetworkInterface",
        "status": "DELETED" if task.status == "STOPPED" else "ATTACHED",
        "details": [
            {"name": "subnetId", "value": task.subnet_id},
            {"name": "privateIPv4Address", "value": task.ip},
        ],
    }
