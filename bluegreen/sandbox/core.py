"""The simulated AWS: moto, plus the behaviour moto lacks, moving on a virtual clock.

moto answers the APIs but nothing happens over time. A Sandbox owns a
VirtualClock; every time the clock advances (the engine sleeping on it), each simulator
registered with `on_tick` runs in order and moves the world the way AWS would: ECS starts
tasks and registers them as targets, target health follows the health-check settings and
the application model of the image, CloudWatch gets metrics and evaluates alarms.

This module installs the simulators (ecs, health, metrics, wiring, faults with AWS's API
request limits, autoscaling) and the GetMetricData extension (metric_data) on moto's
backends. The world they share — Sandbox, AppModel, Target, Task, on moto's global
backends, one active Sandbox per process — lives in world.py, which imports no
simulator; it is re-exported here, where it has always been imported from.

Rules for simulators: behave as AWS documents (cite it in a comment where it is not
obvious); be deterministic for a given seed; do nothing when nothing is due; import the
world (world.py), never this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws
from moto.moto_api import state_manager

from bluegreen.sandbox import (
    autoscaling,
    ecs,
    ecs_tasks,
    faults,
    health,
    metric_data,
    metrics,
    wiring,
)
from bluegreen.sandbox.api_limits import ApiLimits
from bluegreen.sandbox.world import HEALTHY, AppModel, Sandbox, Target, Task

__all__ = [
    "HEALTHY",
    "AppModel",
    "Sandbox",
    "Target",
    "Task",
    "in_process",
    "install_simulators",
    "uninstall_simulators",
]


@contextmanager
def in_process(sandbox: Sandbox) -> Iterator[Sandbox]:
    """moto in this process, with the sandbox's simulators installed; on exit moto's own
    behaviour is restored (target health, ECS task transitions)."""
    with mock_aws(config={"lambda": {"use_docker": False}}):
        install_simulators(sandbox)
        try:
            yield sandbox
        finally:
            uninstall_simulators()


def install_simulators(sandbox: Sandbox) -> None:
    """Make moto's process-global backends behave as AWS on `sandbox`'s clock — whether moto
    answers in process (`in_process`) or as a server (`bluegreen.sandbox.server`). Undo it
    with `uninstall_simulators()`."""
    # moto advances a task one lifecycle step per DescribeTasks call; the simulators
    # own the task lifecycle, so moto's tasks stay where they are.
    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": 10**9}
    )
    wiring.install()  # target groups' load balancers follow listener changes
    health.install(sandbox)
    autoscaling.install(sandbox)  # before ECS: a desired count it sets is followed at once
    ecs.install(sandbox)
    ecs_tasks.install(sandbox)  # ListTasks/DescribeTasks show the simulator's tasks
    # After health and ECS: each minute's metrics see the targets they just moved.
    metrics.install(sandbox)
    metric_data.install()  # GetMetricData: percentiles, metric math, exact matching
    sandbox.simulators["faults"] = injected = faults.install(sandbox)
    scale = sandbox.api_limit_scale
    limits = ApiLimits(sandbox.clock, scale=scale or 1.0, enabled=bool(scale))
    sandbox.simulators["api_limits"] = injected.limits = limits


def uninstall_simulators() -> None:
    """Put moto's own behaviour back (target health, ECS task transitions, GetMetricData,
    no faults)."""
    faults.uninstall()
    metric_data.uninstall()
    ecs_tasks.uninstall()
    ecs.uninstall()
    autoscaling.uninstall()
    health.uninstall()
    wiring.uninstall()
    state_manager.unset_transition("ecs::task")
