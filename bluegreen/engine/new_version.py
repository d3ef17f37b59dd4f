"""The new version's task definition: checked in PREFLIGHT, so everything about it that can
be wrong (an ARN that does not exist, a file that does not parse, a container that is not
in the running definition) is found before any change; registered in PROVISIONING.

The running definition's secret values (its environment) are handed to `add_secrets`, so
no log or hook output shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from bluegreen.engine.plan import NewVersion
from bluegreen.engine.taskdef import is_task_definition_arn, load_task_definition_file, with_images
from bluegreen.ports import Containers
from bluegreen.record import DeploymentRecord

AddSecrets = Callable[[Iterable[str]], None]


def check_version(
    version: NewVersion,
    rec: DeploymentRecord,
    running: str,
    ecs: Containers,
    base_dir: Path,
    add_secrets: AddSecrets,
) -> None:
    """Note `version` in `rec`, and prove it can be registered; `running`: blue's task
    definition (images are laid over it)."""
    source = version.task_definition
    rec.images = dict(version.images)
    rec.task_definition_source = source
    if source and is_task_definition_arn(source):
        rec.to_task_definition = ecs.task_definition(source).arn
    elif source:
        load_task_definition_file(base_dir / source)
    else:
        current = ecs.task_definition(running)
        with_images(current.registration, rec.images)
        add_secrets(current.secret_values)


def register_version(
    rec: DeploymentRecord, ecs: Containers, base_dir: Path, add_secrets: AddSecrets
) -> str:
    """Register the version `rec` notes; its ARN."""
    source = rec.task_definition_source
    if source:
        registration = load_task_definition_file(base_dir / source)
    else:
        current = ecs.task_definition(rec.from_task_definition or "")
        add_secrets(current.secret_values)
        registration = with_images(current.registration, rec.images)
    return ecs.register_task_definition(registration).arn
