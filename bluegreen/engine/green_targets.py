"""Green's own targets: the health the engine judges green by, strays left out.

Every judgement of green's health (the wait for readiness, the gates of each shift and
bake, the refusal to send weight to a target group without a healthy target) passes the
target health it just read through `GreenTargets.sort`, which keeps the targets of green's
RUNNING tasks (membership.py) and names the strays once, when they first appear.

Green's tasks are read (ListTasks + DescribeTasks) only when the answer could differ from
the last read: a live target appeared that was not registered then, a target of a task
still starting is registered, or green is another task set or service. A task's target is
registered by ECS after the task is listed and deregistered (draining) before it stops, so
while the same targets stay registered, the same tasks own them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bluegreen.membership import (
    Address,
    Members,
    Sorted,
    describe_strays,
    members_of,
    sort_targets,
)
from bluegreen.membership import address as address_of
from bluegreen.model import HealthState, TargetGroupHealth
from bluegreen.record import DeploymentRecord
from bluegreen.topology import Note, Topology


@dataclass(frozen=True)
class _Reading:
    owner: str  # whose tasks: the deployment and its green task set or service
    members: Members
    registered: frozenset[Address]  # the live targets when the tasks were read


class GreenTargets:
    def __init__(self, topology: Topology, note: Note) -> None:
        self.topology = topology
        self.note = note
        self._reading: _Reading | None = None
        self._named: frozenset[Address] = frozenset()

    def sort(self, rec: DeploymentRecord, health: TargetGroupHealth) -> Sorted:
        """`health` of green's target group, split into green's own targets and strays."""
        live = frozenset(
            address_of(t) for t in health.targets if t.state is not HealthState.DRAINING
        )
        if not live:
            return Sorted(health)  # nothing registered to tell apart: no need to ask ECS
        owner = f"{rec.id} {rec.green_task_set or rec.green_service or ''}"
        reading = self._reading
        if (
            reading is None
            or reading.owner != owner
            or not live <= reading.registered
            or live & reading.members.starting
        ):
            tasks = self.topology.green_tasks(rec)
            reading = _Reading(owner, members_of(tasks, rec.container_port or 0), live)
            self._reading = reading
        found = sort_targets(health, reading.members)
        self._name(rec, found)
        return found

    def of(self, rec: DeploymentRecord) -> Callable[[str, TargetGroupHealth], TargetGroupHealth]:
        """For the traffic shifter: a target group's health → the targets that count, green's
        own for green's group (blue's are all counted: a rollback must stay possible)."""

        def own(arn: str, health: TargetGroupHealth) -> TargetGroupHealth:
            return self.sort(rec, health).own if arn == rec.green_target_group else health

        return own

    def _name(self, rec: DeploymentRecord, found: Sorted) -> None:
        strays = frozenset(address_of(t) for t in found.strays)
        if strays - self._named:
            self.note(rec, describe_strays(found.strays, "green"))
        self._named = strays
