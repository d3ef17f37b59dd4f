"""Which targets of a target group belong to a colour: pure sorting, no I/O.

A colour's own targets are those at the address and port of one of its RUNNING tasks (the
task's network interface IP, the container port of the load balancer binding). Anything
else registered in its target group is a stray — an address someone registered by hand,
a task of another service — and must neither block a healthy colour nor make a bad one
look healthy: it is left out of every judgement and named to people instead.

Rules:
- Draining targets are leaving: never own, never named.
- A target of a task that is listed but not RUNNING yet is starting: not counted, not a
  stray (ECS registers a task while it activates).
- When a RUNNING task has no address (bridge or host networking: its targets are
  instances, not IPs), the targets cannot be told apart: every target counts, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bluegreen.model import EcsTask, HealthState, TargetGroupHealth, TargetHealth

Address = tuple[str, int]  # (IP, port), as a target is registered


@dataclass(frozen=True)
class Members:
    """The addresses of a colour's tasks; `known` False when some running task has none."""

    running: frozenset[Address] = frozenset()
    starting: frozenset[Address] = frozenset()
    known: bool = True


def members_of(tasks: Iterable[EcsTask], port: int) -> Members:
    """The addresses `tasks` register at on the container `port`."""
    running: set[Address] = set()
    starting: set[Address] = set()
    for task in tasks:
        if task.last_status == "STOPPED":
            continue
        if task.ip is None:
            if task.running:
                return Members(known=False)
            continue
        (running if task.running else starting).add((task.ip, port))
    return Members(frozenset(running), frozenset(starting))


def address(target: TargetHealth) -> Address:
    return (target.target_id, target.port or 0)


@dataclass(frozen=True)
class Sorted:
    """A target group's health split: the colour's own targets, and the strays."""

    own: TargetGroupHealth
    strays: tuple[TargetHealth, ...] = ()


def sort_targets(health: TargetGroupHealth, members: Members) -> Sorted:
    if not members.known:
        return Sorted(health)
    own: list[TargetHealth] = []
    strays: list[TargetHealth] = []
    for target in health.targets:
        where = address(target)
        if where in members.running:
            own.append(target)
        elif target.state is not HealthState.DRAINING and where not in members.starting:
            strays.append(target)
    return Sorted(TargetGroupHealth(health.target_group_arn, tuple(own)), tuple(strays))


def describe_strays(strays: Iterable[TargetHealth], colour: str) -> str:
    """ "10.0.9.9:8080 in green's target group is not one of green's tasks: ignored"."""
    shown = [f"{t.target_id}:{t.port}" for t in strays]
    if not shown:
        return ""
    if len(shown) == 1:
        return f"{shown[0]} in {colour}'s target group is not one of {colour}'s tasks: ignored"
    return f"{', '.join(shown)} in {colour}'s target group are not {colour}'s tasks: ignored"
