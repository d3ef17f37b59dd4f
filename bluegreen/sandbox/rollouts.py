"""The deployments of an ECS service using the rolling-update (ECS) controller, as
DescribeServices reports them in `deployments[]` (ECS API reference, "Deployment").

moto keeps one deployment forever and never moves it. Here a service has a PRIMARY
deployment (the newest) and ACTIVE ones still running older tasks; the PRIMARY's
`rolloutState` goes IN_PROGRESS → COMPLETED, or → FAILED when the circuit breaker trips.
ecs.py decides when; this module keeps the records and renders them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bluegreen.sandbox.tasks import Owner

CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def moment(seconds: float) -> datetime:
    """A clock reading as the datetime moto serialises into timestamps."""
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass
class Deployment:
    id: str
    task_definition: str
    desired: int
    created_at: float
    updated_at: float
    status: str = "PRIMARY"  # PRIMARY | ACTIVE
    rollout: str = "IN_PROGRESS"  # IN_PROGRESS | COMPLETED | FAILED
    reason: str = ""

    def __post_init__(self) -> None:
        self.reason = self.reason or f"ECS deployment {self.id} in progress."


@dataclass
class Rollout:
    service_arn: str
    deployments: list[Deployment] = field(default_factory=list)  # PRIMARY first
    # The id we last rendered as deployments[0]: moto replaces it on forceNewDeployment.
    rendered_id: str | None = None

    @classmethod
    def start(cls, service: Any, rng: random.Random, now: float) -> Rollout:
        """The service's first deployment, under the id moto gave it."""
        moto_id = service.deployments[0]["id"] if service.deployments else _new_id(rng)
        first = Deployment(moto_id, service.task_definition, service.desired_count, now, now)
        return cls(service.arn, [first], rendered_id=moto_id)

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    def key(self, deployment: Deployment) -> str:
        return f"{self.service_arn}#{deployment.id}"

    def follow(self, service: Any, rng: random.Random, now: float) -> None:
        """UpdateService: a new task definition (or forceNewDeployment) starts a new PRIMARY
        deployment; a desired count alone scales the PRIMARY one."""
        primary = self.primary
        shown = service.deployments[0].get("id") if service.deployments else None
        # moto's forceNewDeployment gives deployments[0] a new id: one we do not know yet.
        forced = (
            shown is not None
            and shown != self.rendered_id
            and all(d.id != shown for d in self.deployments)
        )
        if primary is None or forced or service.task_definition != primary.task_definition:
            for old in self.deployments:
                old.status, old.updated_at = "ACTIVE", now
            new_id = shown if forced and shown else _new_id(rng)
            new = Deployment(new_id, service.task_definition, service.desired_count, now, now)
            self.deployments.insert(0, new)
        elif service.desired_count != primary.desired:
            primary.desired, primary.updated_at = service.desired_count, now

    def complete(self, primary: Deployment, at: float) -> list[Deployment]:
        """The PRIMARY deployment is done: the older ones are retired (returned)."""
        primary.rollout, primary.updated_at = "COMPLETED", at
        primary.reason = f"ECS deployment {primary.id} completed."
        retired = [d for d in self.deployments if d is not primary]
        self.deployments = [primary]
        return retired

    def fail(self, primary: Deployment, at: float) -> None:
        primary.rollout, primary.updated_at = "FAILED", at
        primary.reason = CIRCUIT_BREAKER_REASON

    def backdate(self, seconds: float) -> None:
        for deployment in self.deployments:
            deployment.created_at -= seconds
            deployment.updated_at -= seconds

    def render(self, service: Any, owners: dict[str, Owner]) -> list[dict[str, Any]]:
        """deployments[] as DescribeServices answers it."""
        rendered = [self._render(d, service, owners.get(self.key(d))) for d in self.deployments]
        self.rendered_id = rendered[0]["id"] if rendered else None
        return rendered

    def _render(self, d: Deployment, service: Any, owner: Owner | None) -> dict[str, Any]:
        launch_type = service.launch_type
        entry: dict[str, Any] = {
            "id": d.id,
            "status": d.status,
            "taskDefinition": d.task_definition,
            "desiredCount": d.desired,
            "pendingCount": owner.count("PENDING") if owner else 0,
            "runningCount": owner.count("RUNNING") if owner else 0,
            "failedTasks": owner.failed_tasks if owner else 0,
            "createdAt": moment(d.created_at),
            "updatedAt": moment(d.updated_at),
            "launchType": launch_type,
            "platformFamily": "EC2" if launch_type == "EC2" else "FARGATE",
            "rolloutState": d.rollout,
            "rolloutStateReason": d.reason,
        }
        if service.platform_version:
            entry["platformVersion"] = service.platform_version
        if service.network_configuration:
            entry["networkConfiguration"] = service.network_configuration
        return entry


def _new_id(rng: random.Random) -> str:
    return f"ecs-svc/{rng.randrange(10**18, 10**19)}"
