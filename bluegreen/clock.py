"""Real and virtual time. The engine never calls time.sleep: it is handed a Clock.

A VirtualClock advances only when something sleeps on it, so a 30-minute canary runs in
milliseconds. Listeners registered with `on_advance` run after every advance: the test
fakes and the simulated AWS use them to make the world move with time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._listeners: list[Callable[[float], None]] = []

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))

    def advance(self, seconds: float) -> None:
        self._now += seconds
        for listener in list(self._listeners):
            listener(self._now)

    def on_advance(self, listener: Callable[[float], None]) -> None:
        self._listeners.append(listener)
