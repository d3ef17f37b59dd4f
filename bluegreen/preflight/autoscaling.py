"""The `autoscaling` check: the scalable target of each service a deployment holds (the
service; both services of a pair) can be read, and what the hold will suspend on it.

- pass, saying what a deployment will hold ("web: min 2, max 10, nothing suspended now;
  held during a deployment: dynamic scale-in, scheduled scaling suspended"), or that the
  service has no scalable target (nothing to hold);
- the read refused (AccessDenied…) fails the check: `deploy` stops before changing
  anything, instead of failing when it comes to hold the scaling;
- nothing at all with `[autoscaling] hold = "none"`.
"""

from __future__ import annotations

from bluegreen.config import DeploymentConfig
from bluegreen.errors import AwsError
from bluegreen.ports import Cloud
from bluegreen.preflight.report import Findings
from bluegreen.scaling import PERMISSIONS_FIX

NAME = "autoscaling"


def scalable_targets(f: Findings, config: DeploymentConfig, cloud: Cloud) -> None:
    mode = config.autoscaling.hold
    if mode == "none":
        return
    service = config.service
    names = [service.blue_service, service.green_service] if service.blue_service else []
    for name in [n for n in (names or [service.name]) if n]:
        try:
            target = cloud.autoscaling.scalable_target(service.cluster, name)
        except AwsError as exc:
            if exc.transient:  # not a finding about the configuration (Findings.read)
                raise
            f.fail(NAME, exc.message, PERMISSIONS_FIX)
            continue
        if target is None:
            f.passed(NAME, f"{name}: no auto scaling target, nothing to hold")
            continue
        f.passed(
            NAME,
            f"{name}: min {target.min_capacity}, max {target.max_capacity}, "
            f"{target.suspended.describe()} now; held during a deployment: "
            f"{target.suspended.holding(mode).describe()}",
        )
