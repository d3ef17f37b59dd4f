"""Building the green task definition: the running one with only images replaced, or one
the user gives as a JSON file (RegisterTaskDefinition input or DescribeTaskDefinition
output) or an ARN. Pure functions over dicts."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bluegreen.errors import ConfigError


def registration_input(described: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeTaskDefinition answer or a RegisterTaskDefinition input → the body to
    register. Read-only fields (ARN, revision, status…) are dropped by the ECS adapter,
    which knows from botocore's model what RegisterTaskDefinition accepts."""
    body = copy.deepcopy(dict(described.get("taskDefinition", described)))
    tags = described.get("tags")
    if tags and "tags" not in body:
        body["tags"] = copy.deepcopy(tags)
    return body


def with_images(registration: Mapping[str, Any], images: Mapping[str, str]) -> dict[str, Any]:
    """A copy of `registration` with the named containers' images replaced, nothing else."""
    result = copy.deepcopy(dict(registration))
    containers = result.get("containerDefinitions", [])
    names = [c.get("name") for c in containers]
    unknown = sorted(set(images) - set(names))
    if unknown:
        raise ConfigError(
            f"--image names container(s) {', '.join(unknown)} that the task definition "
            f"{result.get('family')} does not have",
            hint=f"its containers are: {', '.join(str(n) for n in names)}",
        )
    for container in containers:
        if container.get("name") in images:
            container["image"] = images[container["name"]]
    return result


def parse_image_args(values: list[str]) -> dict[str, str]:
    images: dict[str, str] = {}
    for value in values:
        container, sep, uri = value.partition("=")
        if not sep or not container or not uri:
            raise ConfigError(
                f"--image {value!r}: expected CONTAINER=URI", hint="e.g. --image web=repo/web:1.4"
            )
        images[container] = uri
    return images


def is_task_definition_arn(value: str) -> bool:
    return value.startswith("arn:") and ":task-definition/" in value


def load_task_definition_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--task-definition {path}: no such file") from None
    except ValueError as exc:
        raise ConfigError(f"--task-definition {path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--task-definition {path}: expected a JSON object")
    registration = registration_input(data)
    if not registration.get("family") or not registration.get("containerDefinitions"):
        raise ConfigError(
            f"--task-definition {path}: needs at least family and containerDefinitions"
        )
    return registration
