"""Where a deployment waits for the other services of its release, and hears of their
failures. A deployment on its own runs `SOLO`: nothing to wait for, nobody to hear from.

The engine calls its Lockstep at three kinds of points (`Point`):
- `PROVISION`, before green is brought up: the services named in `after` must have a
  healthy green first;
- `shift(step)`, before each stage's weights are applied: every service of the release
  must be ready (green healthy and tested) before any production traffic moves, and the
  services shifting alongside must all have reached this stage — so every route of every
  service moves at each stage together; `shift_after` makes a service start only once
  those named are at 100 %;
- `COMMIT`, at the very end of CLEANING_UP, just before blue is retired: every service
  is at 100 %, baked, green primary and the termination wait over. Past it the release
  has succeeded and nothing rolls back.
While it waits, the deployment keeps watching its own gates (and its analysis once it
carries traffic): a failure anywhere is still seen at once. `check` raises SiblingFailed
when another service of the release failed; the engine then rolls back (or stops, before
anything changed), and so every service ends the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bluegreen.engine.watch import Watcher
from bluegreen.errors import DeploymentFailed
from bluegreen.record import DeploymentRecord

READY = 1  # a deployment's progress (`Point.rank`): 0 before green is healthy
COMMITTED = 1_000_000


@dataclass(frozen=True)
class Point:
    rank: int
    label: str

    @staticmethod
    def shift(step: int) -> Point:
        return Point(READY + step, f"stage {step + 1}")


PROVISION = Point(0, "provisioning")
COMMIT = Point(COMMITTED, "retiring blue")


class SiblingFailed(DeploymentFailed):
    """Another service of the release failed: this one goes back to blue too."""


class Lockstep(Protocol):
    def clear(self, service_key: str, point: Point) -> bool:
        """Note that the service reached `point`; True once it may go past it."""
        ...

    def waiting_for(self, service_key: str, point: Point) -> str:
        """Who the service waits for at `point`, for the record ("api, web")."""
        ...

    def check(self, service_key: str) -> None:
        """Raise SiblingFailed when another service of the release has failed."""
        ...

    def failed(self, service_key: str, reason: str) -> None:
        """The service failed: every other one must go back to blue."""
        ...


class Solo:
    """A deployment on its own: never waits, never hears of anyone."""

    def clear(self, service_key: str, point: Point) -> bool:
        return True

    def waiting_for(self, service_key: str, point: Point) -> str:
        return ""

    def check(self, service_key: str) -> None:
        return None

    def failed(self, service_key: str, reason: str) -> None:
        return None


SOLO = Solo()


def wait_at(
    point: Point,
    rec: DeploymentRecord,
    lockstep: Lockstep,
    watcher: Watcher,
    note: Callable[[DeploymentRecord, str], None],
) -> None:
    """Wait until `rec` may go past `point`, watching as always meanwhile: the gates once
    green is up, the analysis once green carries traffic, requests, the deadline and the
    other services' failures (raised from the watch)."""
    key = rec.service_key
    if lockstep.clear(key, point):
        return
    note(rec, f"waiting at {point.label} for {lockstep.waiting_for(key, point)}")
    try:
        watcher.watch(
            rec,
            math.inf,
            until=lambda: lockstep.clear(key, point),
            gates=point.rank >= READY,
            analyse=rec.green_percent > 0,
        )
    except DeploymentFailed:
        # The release committed while this poll judged (the last service to arrive woke
        # the others, whose poll reads the gates before it looks): past the commit every
        # service goes forward, none alone goes back.
        if point == COMMIT and lockstep.clear(key, point):
            return
        raise
