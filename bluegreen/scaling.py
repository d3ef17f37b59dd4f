"""Application Auto Scaling during a deployment, as data: a service's scalable target as AWS
answers it, the scaling a deployment suspends on it (`[autoscaling] hold`), and what the
deployment record keeps so that exactly the state it found is put back — by this process
or by the one that resumes or rolls back after it died.

Why hold at all: a scale-in in the middle of a shift shrinks blue or green under the tool
(aws/containers-roadmap#794). In task-sets mode the service's desired count sizes both task
sets; in service-pair mode the idle green service has its own target, whose policies see
no load and scale it in while it waits for traffic.

Rules: pure (no I/O; the AWS side is aws/autoscaling.py, the engine's engine/scaling_hold.py).
A hold only ever adds suspensions to what the user had: what was suspended stays suspended.
Kept apart from model.py (value objects) and record.py, both near the 400-line cap.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import BaseModel

HoldMode = Literal["scale-in", "scale-in-and-out", "none"]

SERVICE_NAMESPACE: Final = "ecs"
SCALABLE_DIMENSION: Final = "ecs:service:DesiredCount"
# What to do when a target cannot be read or written (preflight's check, the engine's hold).
PERMISSIONS_FIX = (
    "allow application-autoscaling:DescribeScalableTargets and RegisterScalableTarget "
    '(`bluegreen iam-policy` prints them), or set [autoscaling] hold = "none" to deploy '
    "without holding the services' auto scaling"
)


@dataclass(frozen=True)
class SuspendedState:
    """SuspendedState of a scalable target: which scaling activities are suspended."""

    dynamic_in: bool = False  # DynamicScalingInSuspended: policies may not scale in
    dynamic_out: bool = False  # DynamicScalingOutSuspended: policies may not scale out
    scheduled: bool = False  # ScheduledScalingSuspended: scheduled actions do not run

    def holding(self, mode: HoldMode) -> SuspendedState:
        """This state with what `mode` holds added (never anything taken away).

        "scale-in" holds scheduled scaling too: a scheduled action that lowers the maximum
        below the running count scales the service in at once, whatever the policies may do.
        """
        if mode == "none":
            return self
        return SuspendedState(
            dynamic_in=True,
            dynamic_out=self.dynamic_out or mode == "scale-in-and-out",
            scheduled=True,
        )

    def describe(self) -> str:
        held = [
            name
            for name, on in (
                ("dynamic scale-in", self.dynamic_in),
                ("dynamic scale-out", self.dynamic_out),
                ("scheduled scaling", self.scheduled),
            )
            if on
        ]
        return f"{', '.join(held)} suspended" if held else "nothing suspended"

    def to_api(self) -> dict[str, bool]:
        return {
            "DynamicScalingInSuspended": self.dynamic_in,
            "DynamicScalingOutSuspended": self.dynamic_out,
            "ScheduledScalingSuspended": self.scheduled,
        }


@dataclass(frozen=True)
class ScalableTarget:
    """An ECS service's scalable target (ecs:service:DesiredCount)."""

    resource_id: str  # service/CLUSTER/SERVICE
    min_capacity: int
    max_capacity: int
    suspended: SuspendedState


def describe_hold(mode: HoldMode, services: list[str]) -> str | None:
    """What a deployment will hold, for `bluegreen plan`; None when it holds nothing."""
    if mode == "none":
        return None
    held = SuspendedState().holding(mode).describe().removesuffix(" suspended")
    return (
        f"suspend {held} on the auto scaling target of {' and '.join(services)} (if any) "
        "until the deployment ends, then restore it as found"
    )


def resource_id(cluster: str, service: str) -> str:
    """Application Auto Scaling's id of an ECS service, from names or ARNs."""
    return f"service/{_last(cluster)}/{_last(service)}"


def restore_command(resource: str, state: SuspendedState) -> str:
    """The AWS CLI command that puts `state` back on the target by hand."""
    flags = ",".join(f"{k}={str(v).lower()}" for k, v in state.to_api().items())
    return shlex.join(
        [
            *("aws", "application-autoscaling", "register-scalable-target"),
            *("--service-namespace", SERVICE_NAMESPACE),
            *("--scalable-dimension", SCALABLE_DIMENSION),
            *("--resource-id", resource, "--suspended-state", flags),
        ]
    )


class ScalingHold(BaseModel):
    """One service's scalable target held by a deployment, as the record keeps it. Saved
    before the suspension is written, so whoever ends the deployment restores `previous`."""

    service: str
    resource_id: str
    previous: SuspendedState  # as found: what is restored
    held: SuspendedState  # what the deployment set
    restored: bool = False
    left: str | None = None  # still held, and why: what to run to restore it by hand

    @property
    def command(self) -> str:
        return restore_command(self.resource_id, self.previous)


def _last(name_or_arn: str) -> str:
    # arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME (or the older …:service/NAME)
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
