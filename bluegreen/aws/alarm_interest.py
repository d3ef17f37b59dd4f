"""Alarm states shared by every deployment of one Cloud: each DescribeAlarms asks for the
alarms the caller needs AND the other alarms the process watches, up to the 100 names a
call takes, and every caller within FRESH_FOR seconds is answered from it.

Rules:
- Asking for names registers interest in them; a name nobody asked for in INTEREST_FOR
  seconds is no longer fetched for others (its deployment ended).
- A caller is answered from what was fetched when every name it asks for was fetched
  within FRESH_FOR seconds (fresh_reads.py says why 1 s); otherwise the stale ones among
  its names are fetched, and the spare room of those calls (100 names each) is filled
  with the other watched names that are stale, most stale first. A caller never makes
  more calls than it would alone.
- An alarm the answer does not name does not exist: MISSING, like the caller's own.
- Time is the injected clock's; thread-safe (a release runs deployments in threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from bluegreen.aws.fresh_reads import FRESH_FOR
from bluegreen.clock import Clock
from bluegreen.model import AlarmState

INTEREST_FOR = 120.0  # seconds a name stays watched after it was last asked for

# names → (name, state) for each alarm found; the adapter's one DescribeAlarms batch.
Describe = Callable[[list[str]], Iterable[tuple[str, AlarmState]]]


class AlarmInterest:
    def __init__(self, clock: Clock, batch: int, fresh_for: float = FRESH_FOR) -> None:
        self.clock = clock
        self.batch = batch
        self.fresh_for = fresh_for
        self._asked: dict[str, float] = {}  # name → when it was last asked for
        self._states: dict[str, tuple[float, AlarmState]] = {}  # name → (fetched at, state)
        self._lock = threading.Lock()

    def states(self, names: Sequence[str], describe: Describe) -> dict[str, AlarmState]:
        """The state of each of `names` (MISSING: no such alarm), fetched with the other
        watched names when any of them is not fresh."""
        wanted = list(dict.fromkeys(names))
        now = self.clock.now()
        with self._lock:
            for name in wanted:
                self._asked[name] = now
            stale = [n for n in wanted if not self._fresh(n, now)]
            fetch = self._with_others(stale, now)
        for start in range(0, len(fetch), self.batch):
            chunk = fetch[start : start + self.batch]
            found = dict(describe(chunk))
            at = self.clock.now()
            with self._lock:
                for name in chunk:
                    self._states[name] = (at, found.get(name, AlarmState.MISSING))
        with self._lock:
            return {name: self._states[name][1] for name in wanted}

    def _fresh(self, name: str, now: float) -> bool:
        kept = self._states.get(name)
        return kept is not None and 0 <= now - kept[0] < self.fresh_for

    def _with_others(self, stale: list[str], now: float) -> list[str]:
        """`stale`, then watched names not fresh (most stale first) to fill the last batch."""
        if not stale:
            return []
        self._forget_unwatched(now)
        room = -len(stale) % self.batch
        others = [n for n in self._asked if n not in stale and not self._fresh(n, now)]
        others.sort(key=lambda n: self._states.get(n, (float("-inf"), None))[0])
        return stale + others[:room]

    def _forget_unwatched(self, now: float) -> None:
        for name, asked in list(self._asked.items()):
            if now - asked > INTEREST_FOR:
                del self._asked[name]
                self._states.pop(name, None)
