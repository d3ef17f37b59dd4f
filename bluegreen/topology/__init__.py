"""How a colour is brought up and retired: the ECS side of a deployment, per `service.mode`.

    task-sets     one EXTERNAL-controller service; a colour is a task set on its target
                  group (CreateTaskSet → UpdateServicePrimaryTaskSet → DeleteTaskSet)
    service-pair  two ECS-controller services, one per target group; green is updated to the
                  new task definition at blue's desired count, blue is scaled to 0 at the end

The engine never talks to ECS itself: it asks the topology. Every action is idempotent (a
resumed deployment runs it again) and reports what it did through `note`, which the engine
turns into an event saved in the record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.topology.contract import Fleet, Note, Topology, refuse_classic_load_balancer
from bluegreen.topology.service_pair import ServicePair
from bluegreen.topology.task_sets import TaskSets

if TYPE_CHECKING:
    from bluegreen.config import DeploymentConfig
    from bluegreen.ports import Containers


def topology_for(config: DeploymentConfig, ecs: Containers, note: Note | None = None) -> Topology:
    """The topology `service.mode` names. It is chosen here, the one module that imports
    both modes: they import only contract.py, so no import runs in a circle."""
    quiet: Note = note or (lambda rec, message: None)
    if config.service.mode == "service-pair":
        return ServicePair(config, ecs, quiet)
    return TaskSets(config, ecs, quiet)


__all__ = ["Fleet", "Note", "Topology", "refuse_classic_load_balancer", "topology_for"]
