"""What a hook is told about the deployment: one flat dictionary, the same for every hook
kind (how each kind receives it is hooks/runner.py's business)."""

from __future__ import annotations

from typing import Any

from bluegreen.machine import HookEvent
from bluegreen.record import DeploymentRecord


def hook_context(rec: DeploymentRecord, event: HookEvent, **extra: Any) -> dict[str, Any]:
    return {
        "event": event.value,
        "deployment_id": rec.id,
        "cluster": rec.cluster,
        "service": rec.service,
        "state": rec.state.value,
        "step": rec.step + 1,
        "steps": len(rec.stages),
        "blue_target_group": rec.blue_target_group,
        "green_target_group": rec.green_target_group,
        "from_task_definition": rec.from_task_definition,
        "to_task_definition": rec.to_task_definition,
        "green_weight": rec.green_percent,
        "from_weight": rec.green_percent,
        "reason": rec.reason,
        **extra,
    }
