"""What the policy must know that the configuration does not say: the task definitions
bluegreen will register — their families and the roles they pass to ECS.

Rules:
- `--image` deployments register a copy of the running task definition, so by default
  the running ones are read (reads only): the task sets' of a task-sets service, both
  services' of a pair. A task definition given instead (a JSON file, read offline, or an
  ARN) is the one whose family and roles count.
- A task definition names up to two roles (taskRoleArn, executionRoleArn); both are passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bluegreen.config import DeploymentConfig
from bluegreen.engine.taskdef import is_task_definition_arn, load_task_definition_file
from bluegreen.errors import MissingResourceError
from bluegreen.iam.policy import TaskDefinitionFacts
from bluegreen.ports import Cloud

ROLE_KEYS = ("taskRoleArn", "executionRoleArn")


def facts_of(registrations: Iterable[Mapping[str, Any]]) -> TaskDefinitionFacts:
    """The families and roles of RegisterTaskDefinition inputs."""
    found = list(registrations)
    return TaskDefinitionFacts(
        families=tuple(dict.fromkeys(str(r["family"]) for r in found if r.get("family"))),
        roles=tuple(dict.fromkeys(str(r[k]) for r in found for k in ROLE_KEYS if r.get(k))),
    )


def task_definition_facts(
    config: DeploymentConfig, cloud: Cloud | None, task_definition: str | None = None
) -> TaskDefinitionFacts:
    """From the task definition given (`--task-definition FILE|ARN`), else from the
    running ones. `cloud` may be None only for a file."""
    if task_definition and not is_task_definition_arn(task_definition):
        return facts_of([load_task_definition_file(config.base_dir / task_definition)])
    assert cloud is not None, "reading a task definition from AWS needs a cloud"
    arns = [task_definition] if task_definition else running_task_definitions(config, cloud)
    return facts_of(cloud.ecs.task_definition(arn).registration for arn in arns)


def running_task_definitions(config: DeploymentConfig, cloud: Cloud) -> list[str]:
    service = config.service
    cluster = service.cluster
    if service.mode == "task-sets":
        name = service.name or ""
        found = [ts.task_definition for ts in cloud.ecs.task_sets(cluster, name)]
        found.append(cloud.ecs.service(cluster, name).task_definition or "")
    else:
        names = [service.blue_service or "", service.green_service or ""]
        found = [cloud.ecs.service(cluster, n).task_definition or "" for n in names]
    arns = list(dict.fromkeys(a for a in found if a))
    if not arns:
        raise MissingResourceError(
            f"no task definition runs in {config.service_label} (cluster {cluster})",
            hint="name the one you will deploy: bluegreen iam-policy --task-definition "
            "FILE.json|ARN",
        )
    return arns
