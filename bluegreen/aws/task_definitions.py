"""Amazon ECS task definitions: read with their tags, and registered (the task-definition
half of `bluegreen.ports.Containers`). `EcsTaskDefinitions` is a mixin:
`bluegreen.aws.ecs.EcsContainers` gives it its client, its caller and the two key sets
below, read once from botocore's model.

Rules:
- A task definition is copied, never edited in place: `TaskDefinition.registration` is the
  describe output reduced to what RegisterTaskDefinition accepts (read-only fields such as
  revision, status and registeredAt dropped; tags kept).
- A registration botocore refuses before sending is the user's task definition at fault:
  a ConfigError, not an AWS error.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen.errors import AwsError, ConfigError
from bluegreen.model import ContainerImage, TaskDefinition

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import TagTypeDef, TaskDefinitionTypeDef

    from bluegreen.aws.retry import AwsCaller


def registration_keys(client: ECSClient) -> frozenset[str]:
    """What RegisterTaskDefinition accepts, read from botocore's model so that fields
    AWS adds later are carried over without a code change."""
    input_shape = client.meta.service_model.operation_model("RegisterTaskDefinition").input_shape
    return frozenset(input_shape.members if input_shape else ())


def read_only_keys(client: ECSClient, accepted: frozenset[str]) -> frozenset[str]:
    """What a describe answer has and registration refuses (ARN, revision, status…): a
    file holding a describe answer is registered without them. Any other unknown key
    still reaches botocore's validation, so a typo is an error, never dropped."""
    described = client.meta.service_model.shape_for("TaskDefinition")
    members = getattr(described, "members", {})  # a StructureShape
    return frozenset(members) - accepted


class EcsTaskDefinitions:
    """The task-definition methods of `Containers` on boto3's ECS client."""

    # set by the class this is mixed into
    _client: ECSClient
    _aws: AwsCaller
    _registration_keys: frozenset[str]  # `registration_keys(client)`
    _read_only_keys: frozenset[str]  # `read_only_keys(client, _registration_keys)`

    def task_definition(self, arn_or_family: str) -> TaskDefinition:
        resp = self._aws.call(
            f"task definition {arn_or_family}",
            self._client.describe_task_definition,
            taskDefinition=arn_or_family,
            include=["TAGS"],
        )
        return self._parse_task_definition(resp["taskDefinition"], resp.get("tags", []))

    def register_task_definition(self, registration: Mapping[str, Any]) -> TaskDefinition:
        missing = [k for k in ("family", "containerDefinitions") if not registration.get(k)]
        if missing:
            raise ConfigError(
                f"the task definition to register has no {' or '.join(missing)}",
                hint="give a full RegisterTaskDefinition input (aws ecs "
                "register-task-definition --generate-cli-skeleton shows one)",
            )
        params: dict[str, Any] = {
            k: copy.deepcopy(v) for k, v in registration.items() if k not in self._read_only_keys
        }
        try:
            resp = self._aws.call(
                f"task definition family {registration['family']}",
                self._client.register_task_definition,
                **params,
            )
        except AwsError as exc:
            if exc.code != "ParamValidationError":
                raise
            # botocore refused it before sending: the user's task definition is malformed
            raise ConfigError(
                f"the task definition is not a valid RegisterTaskDefinition input: {exc.message}",
                hint="compare it with `aws ecs register-task-definition --generate-cli-skeleton`",
            ) from exc
        # moto leaves the tags out of its answer; AWS echoes the ones sent
        tags = resp.get("tags") or params.get("tags", [])
        return self._parse_task_definition(resp["taskDefinition"], tags)

    def _parse_task_definition(
        self, td: TaskDefinitionTypeDef, tags: Sequence[TagTypeDef]
    ) -> TaskDefinition:
        containers = td.get("containerDefinitions", [])
        registration: dict[str, Any] = {
            k: copy.deepcopy(v) for k, v in td.items() if k in self._registration_keys
        }
        if tags:
            registration["tags"] = [dict(t) for t in tags]
        return TaskDefinition(
            arn=td["taskDefinitionArn"],
            family=td["family"],
            revision=td["revision"],
            images=tuple(ContainerImage(c["name"], c["image"]) for c in containers),
            container_ports={
                c["name"]: tuple(
                    p["containerPort"] for p in c.get("portMappings", []) if "containerPort" in p
                )
                for c in containers
            },
            secret_values=frozenset(
                env["value"]
                for c in containers
                for env in c.get("environment", [])
                if env.get("value")
            ),
            registration=registration,
        )
