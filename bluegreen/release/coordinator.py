"""The release's side of the lockstep (engine/lockstep.py): how far each service has come,
who waits for whom, the first failure, and the commit.

Progress is a rank per service (lockstep.Point): 0 until its green is healthy and tested,
READY + s once it reached stage s, COMMITTED once it waits to retire its blue. A service may:
- bring green up (PROVISION) once every service it is `after` is READY;
- apply stage s once every service of the release is READY (no production traffic moves
  before every green is healthy), every service of its wave has reached stage s, and every
  service it shifts after is COMMITTED. A wave is the services at the same depth of the
  `shift_after` graph: they move stage by stage together;
- retire blue (COMMIT: at the end of CLEANING_UP, green primary and the termination wait
  over) once every service is there. The first to see it commits the
  release (`on_commit` saves the release record) before any blue is touched.
The first failure (`failed`) is kept; every other service's next check raises
SiblingFailed, and so goes back to blue. Whoever changes what others wait for wakes every
sleeper (TurnClock.wake_all): nobody waits a poll interval to see it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bluegreen.engine.lockstep import COMMIT, COMMITTED, PROVISION, READY, Point, SiblingFailed
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord
from bluegreen.release_record import ReleaseMember
from bluegreen.turns import TurnClock


class Coordinator:
    def __init__(
        self,
        members: Sequence[ReleaseMember],
        turns: TurnClock,
        *,
        on_commit: Callable[[], None],
        on_failure: Callable[[str, str], None],
    ) -> None:
        self._names = {m.service_key: m.name for m in members}
        keys = {m.name: m.service_key for m in members}
        self._after = {m.service_key: [keys[n] for n in m.after] for m in members}
        self._shift_after = {m.service_key: [keys[n] for n in m.shift_after] for m in members}
        self._wave = waves(self._shift_after)
        self.rank = dict.fromkeys(self._names, 0)
        self._turns = turns
        self._on_commit = on_commit
        self._on_failure = on_failure
        self.failure: tuple[str, str] | None = None  # (service key, reason)
        self.committed = False

    def resume_from(self, rec: DeploymentRecord) -> None:
        """A resumed release: the service's rank as its record shows it."""
        self.rank[rec.service_key] = rank_of(rec)

    # ------------------------------------------------------------------ Lockstep

    def clear(self, service_key: str, point: Point) -> bool:
        if point.rank > self.rank[service_key]:
            self.rank[service_key] = point.rank
            self._turns.wake_all()  # someone may have been waiting for this
        cleared = not self._waiting(service_key, point)
        if cleared and point == COMMIT and not self.committed:
            self.committed = True
            self._on_commit()
        return cleared

    def waiting_for(self, service_key: str, point: Point) -> str:
        return ", ".join(sorted(self._names[k] for k in self._waiting(service_key, point)))

    def check(self, service_key: str) -> None:
        if self.failure and self.failure[0] != service_key:
            failed, reason = self.failure
            raise SiblingFailed(
                f"{self._names[failed]}, another service of the release, failed: {reason}"
            )

    def failed(self, service_key: str, reason: str) -> None:
        if self.failure is None and not self.committed:
            self.failure = (service_key, reason)
            self._on_failure(self._names[service_key], reason)
            self._turns.wake_all()

    # ------------------------------------------------------------------ rules

    def _waiting(self, me: str, point: Point) -> list[str]:
        """The services `me` still waits for at `point`."""
        rank = self.rank
        if point == PROVISION:
            return [k for k in self._after[me] if rank[k] < READY]
        if point == COMMIT:
            return [k for k in rank if rank[k] < COMMITTED]
        return [
            k
            for k in rank
            if rank[k] < READY
            or (self._wave[k] == self._wave[me] and rank[k] < point.rank)
            or (k in self._shift_after[me] and rank[k] < COMMITTED)
        ]


def waves(shift_after: Mapping[str, list[str]]) -> dict[str, int]:
    """Each service's depth in the `shift_after` graph (acyclic: checked when loaded)."""
    depth: dict[str, int] = {}

    def of(key: str) -> int:
        if key not in depth:
            depth[key] = 1 + max((of(k) for k in shift_after[key]), default=-1)
        return depth[key]

    for key in shift_after:
        of(key)
    return depth


def rank_of(rec: DeploymentRecord) -> int:
    """How far a service had come, from its record (a resumed release starts from there)."""
    if rec.state is State.SUCCEEDED or rec.blue_retiring:
        return COMMITTED
    if rec.state in (State.BAKING, State.CLEANING_UP):
        return READY + max(len(rec.stages) - 1, 0)
    if rec.state in (State.SHIFTING, State.PAUSED):
        return READY + rec.step
    return 0
