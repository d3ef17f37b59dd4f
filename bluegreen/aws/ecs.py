"""Amazon ECS: services, task definitions and task sets (implements
`bluegreen.ports.Containers`).

`EcsContainers` is the one class callers see (`AwsCloud.ecs`): the services and task sets
are here, the task definitions in `task_definitions` and the tasks in `tasks` (mixins,
with their own rules).

Rules:
- CreateTaskSet carries a client token derived from the external id and the target group,
  so a retried call cannot leave two task sets behind.
- Deleting a task set that is already gone is not an error.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen.aws.retry import AwsCaller, error_code
from bluegreen.aws.task_definitions import EcsTaskDefinitions, read_only_keys, registration_keys
from bluegreen.aws.tasks import EcsTasks
from bluegreen.errors import MissingResourceError
from bluegreen.model import (
    LoadBalancerBinding,
    Service,
    ServiceDeployment,
    TaskSet,
    TaskSetStatus,
)

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import (
        LoadBalancerTypeDef,
        ServiceTypeDef,
        TaskSetTypeDef,
    )

# ECS answers a missing task set with TaskSetNotFoundException, or (older endpoints, moto)
# with a ClientException whose message says so.
_GONE_CODES = frozenset({"TaskSetNotFoundException", "ClientException"})


class EcsContainers(EcsTaskDefinitions, EcsTasks):
    """`Containers` on boto3's ECS client."""

    def __init__(self, client: ECSClient, aws: AwsCaller) -> None:
        self._client = client
        self._aws = aws
        self._registration_keys = registration_keys(client)
        self._read_only_keys = read_only_keys(client, self._registration_keys)

    # -- services ------------------------------------------------------------------------

    def service(self, cluster: str, name: str) -> Service:
        about = f"service {name} in cluster {cluster}"
        resp = self._aws.call(
            about, self._client.describe_services, cluster=cluster, services=[name]
        )
        found = [s for s in resp.get("services", []) if s.get("status") != "INACTIVE"]
        if not found:
            raise MissingResourceError(
                f"service {name} not found in cluster {cluster} ({self._aws.region})",
                hint="check [service] name and cluster in the configuration "
                f"(aws ecs list-services --cluster {cluster}) and the region",
            )
        return parse_service(found[0])

    def update_service(
        self,
        cluster: str,
        name: str,
        *,
        task_definition: str | None = None,
        desired_count: int | None = None,
    ) -> Service:
        params: dict[str, Any] = {"cluster": cluster, "service": name}
        if task_definition is not None:
            params["taskDefinition"] = task_definition
        if desired_count is not None:
            params["desiredCount"] = desired_count
        resp = self._aws.call(
            f"service {name} in cluster {cluster}", self._client.update_service, **params
        )
        return parse_service(resp["service"])

    def task_sets(self, cluster: str, service: str) -> list[TaskSet]:
        resp = self._aws.call(
            f"service {service} in cluster {cluster}",
            self._client.describe_task_sets,
            cluster=cluster,
            service=service,
        )
        return [parse_task_set(ts) for ts in resp.get("taskSets", [])]

    def create_service(
        self,
        *,
        cluster: str,
        name: str,
        task_definition: str,
        desired_count: int,
        binding: LoadBalancerBinding,
        network_configuration: Mapping[str, Any] | None,
        launch_type: str | None,
        capacity_provider_strategy: Sequence[Mapping[str, Any]],
        platform_version: str | None,
        tags: Mapping[str, str],
    ) -> Service:
        params: dict[str, Any] = {
            "cluster": cluster,
            "serviceName": name,
            "taskDefinition": task_definition,
            "desiredCount": desired_count,
            "loadBalancers": [_load_balancer(binding)],
            "deploymentController": {"type": "ECS"},
            # Same cluster and name → same token: a retried call creates one service.
            "clientToken": client_token(cluster, name),
        }
        params |= placement(
            network_configuration, launch_type, capacity_provider_strategy, platform_version
        )
        if tags:
            params["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        resp = self._aws.call(
            f"service {name} in cluster {cluster}", self._client.create_service, **params
        )
        return parse_service(resp["service"])

    def attach_service(self, cluster: str, name: str, binding: LoadBalancerBinding) -> Service:
        resp = self._aws.call(
            f"service {name} in cluster {cluster}",
            self._client.update_service,
            cluster=cluster,
            service=name,
            loadBalancers=[_load_balancer(binding)],
        )
        return parse_service(resp["service"])

    # -- task sets -----------------------------------------------------------------------

    def create_task_set(
        self,
        *,
        cluster: str,
        service: str,
        task_definition: str,
        target_group_arn: str,
        container_name: str,
        container_port: int,
        external_id: str,
        network_configuration: Mapping[str, Any] | None,
        launch_type: str | None,
        capacity_provider_strategy: Sequence[Mapping[str, Any]],
        platform_version: str | None,
    ) -> TaskSet:
        params: dict[str, Any] = {
            "cluster": cluster,
            "service": service,
            "taskDefinition": task_definition,
            "externalId": external_id,
            "loadBalancers": [
                {
                    "targetGroupArn": target_group_arn,
                    "containerName": container_name,
                    "containerPort": container_port,
                }
            ],
            "scale": {"unit": "PERCENT", "value": 100.0},
            "clientToken": client_token(external_id, target_group_arn),
        }
        params |= placement(
            network_configuration, launch_type, capacity_provider_strategy, platform_version
        )
        resp = self._aws.call(
            f"service {service} in cluster {cluster}", self._client.create_task_set, **params
        )
        return parse_task_set(resp["taskSet"])

    def set_primary_task_set(self, cluster: str, service: str, task_set_id: str) -> None:
        about = f"task set {task_set_id} of service {service} in cluster {cluster}"
        self._aws.call(
            about,
            self._client.update_service_primary_task_set,
            cluster=cluster,
            service=service,
            primaryTaskSet=self._task_set_arn(about, cluster, service, task_set_id),
        )

    def _task_set_arn(self, about: str, cluster: str, service: str, task_set_id: str) -> str:
        """AWS takes an id or an ARN; moto's UpdateServicePrimaryTaskSet only an ARN (given
        an id it leaves no task set primary), so an id is turned into its ARN first."""
        if task_set_id.startswith("arn:"):
            return task_set_id
        resp = self._aws.call(
            about,
            self._client.describe_task_sets,
            cluster=cluster,
            service=service,
            taskSets=[task_set_id],
        )
        found = [ts["taskSetArn"] for ts in resp.get("taskSets", []) if ts["id"] == task_set_id]
        if not found:
            raise MissingResourceError(
                f"{about} not found",
                hint="`bluegreen status` shows the task sets the service has now",
            )
        return found[0]

    def delete_task_set(self, cluster: str, service: str, task_set_id: str) -> None:
        try:
            self._aws.call(
                f"task set {task_set_id} of service {service} in cluster {cluster}",
                self._client.delete_task_set,
                cluster=cluster,
                service=service,
                taskSet=task_set_id,
                force=True,
            )
        except MissingResourceError as exc:
            if error_code(exc) not in _GONE_CODES:
                raise  # the cluster or service is missing: a configuration problem


def _load_balancer(binding: LoadBalancerBinding) -> LoadBalancerTypeDef:
    lb: LoadBalancerTypeDef = {}
    if binding.target_group_arn:
        lb["targetGroupArn"] = binding.target_group_arn
    if binding.container_name:
        lb["containerName"] = binding.container_name
    if binding.container_port:
        lb["containerPort"] = binding.container_port
    return lb


def placement(
    network_configuration: Mapping[str, Any] | None,
    launch_type: str | None,
    capacity_provider_strategy: Sequence[Mapping[str, Any]],
    platform_version: str | None,
) -> dict[str, Any]:
    """Where tasks run, as CreateTaskSet/CreateService take it: only what is set — AWS
    rejects launchType next to a capacity provider strategy."""
    params: dict[str, Any] = {}
    if network_configuration:
        params["networkConfiguration"] = copy.deepcopy(dict(network_configuration))
    if capacity_provider_strategy:
        params["capacityProviderStrategy"] = [dict(s) for s in capacity_provider_strategy]
    elif launch_type:
        params["launchType"] = launch_type
    if platform_version:
        params["platformVersion"] = platform_version
    return params


def client_token(external_id: str, target_group_arn: str) -> str:
    """Same deployment and target group → same token (AWS allows 36 ASCII characters)."""
    digest = hashlib.sha256(f"{external_id}\n{target_group_arn}".encode()).hexdigest()
    return digest[:32]


def parse_service(svc: ServiceTypeDef) -> Service:
    return Service(
        arn=svc["serviceArn"],
        name=svc["serviceName"],
        cluster_arn=svc.get("clusterArn", ""),
        status=svc.get("status", "UNKNOWN"),
        controller=svc.get("deploymentController", {}).get("type", "ECS"),
        desired_count=svc.get("desiredCount", 0),
        running_count=svc.get("runningCount", 0),
        task_definition=svc.get("taskDefinition"),
        launch_type=svc.get("launchType"),
        capacity_provider_strategy=tuple(svc.get("capacityProviderStrategy", [])),
        # moto answers {} for "none"
        network_configuration=svc.get("networkConfiguration") or None,
        platform_version=svc.get("platformVersion"),
        load_balancers=tuple(
            LoadBalancerBinding(
                target_group_arn=lb.get("targetGroupArn"),
                container_name=lb.get("containerName"),
                container_port=lb.get("containerPort"),
            )
            for lb in svc.get("loadBalancers", [])
        ),
        task_sets=tuple(parse_task_set(ts) for ts in svc.get("taskSets", [])),
        deployments=tuple(
            ServiceDeployment(
                id=d.get("id", ""),
                status=d.get("status", "UNKNOWN"),
                task_definition=d.get("taskDefinition", ""),
                desired_count=d.get("desiredCount", 0),
                running_count=d.get("runningCount", 0),
                pending_count=d.get("pendingCount", 0),
                failed_tasks=d.get("failedTasks", 0),
                rollout_state=d.get("rolloutState"),
                rollout_reason=d.get("rolloutStateReason"),
            )
            for d in svc.get("deployments", [])
        ),
        classic_load_balancers=tuple(
            lb["loadBalancerName"]
            for lb in svc.get("loadBalancers", [])
            if lb.get("loadBalancerName") and not lb.get("targetGroupArn")
        ),
        circuit_breaker=bool(
            svc.get("deploymentConfiguration", {})
            .get("deploymentCircuitBreaker", {})
            .get("enable", False)
        ),
    )


def parse_task_set(ts: TaskSetTypeDef) -> TaskSet:
    try:
        status = TaskSetStatus(ts.get("status", "UNKNOWN"))
    except ValueError:
        status = TaskSetStatus.UNKNOWN
    stability = ts.get("stabilityStatus")
    return TaskSet(
        id=ts["id"],
        arn=ts["taskSetArn"],
        status=status,
        task_definition=ts.get("taskDefinition", ""),
        target_group_arns=tuple(
            lb["targetGroupArn"] for lb in ts.get("loadBalancers", []) if "targetGroupArn" in lb
        ),
        external_id=ts.get("externalId"),
        scale_percent=float(ts.get("scale", {}).get("value", 0.0)),
        # moto leaves the counts out; AWS always sends them
        running_count=ts.get("runningCount"),
        pending_count=ts.get("pendingCount"),
        desired_count=ts.get("computedDesiredCount"),
        stable=None if stability is None else stability == "STEADY_STATE",
        network_configuration=ts.get("networkConfiguration") or None,
        launch_type=ts.get("launchType"),
        capacity_provider_strategy=tuple(ts.get("capacityProviderStrategy", [])),
        platform_version=ts.get("platformVersion"),
        load_balancers=tuple(_binding(lb) for lb in ts.get("loadBalancers", [])),
    )


def _binding(lb: LoadBalancerTypeDef) -> LoadBalancerBinding:
    return LoadBalancerBinding(
        target_group_arn=lb.get("targetGroupArn"),
        container_name=lb.get("containerName"),
        container_port=lb.get("containerPort"),
    )
