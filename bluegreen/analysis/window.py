"""Which minutes an evaluation judges, and when the next one is due.

A window runs from the first whole minute after green first took production traffic (a
minute that began before the shift mixes traffic from before it) — or, with a lookback,
from `lookback` before its end when that is later — to the last whole minute that ended at
least `delay` ago (the load balancers' metrics for a minute arrive late).
Its bounds are whole minutes, start inclusive, end exclusive. An evaluation is due every
`interval` once its window holds a minute.

Blue's baseline: once green takes 100 % on every route, blue serves nothing, so a
comparison judges green's window against blue's minutes frozen at the moment blue last had
traffic — the window of the same length (`lookback`, or green's whole window without one)
that ends with the last whole minute before the final shift. Until the judged window
reaches past that minute, blue's own minutes in it are still live and nothing is frozen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bluegreen.model import METRIC_PERIOD

MINUTE = METRIC_PERIOD


def minute_floor(t: float) -> float:
    return math.floor(t / MINUTE) * MINUTE


def minute_ceil(t: float) -> float:
    return math.ceil(t / MINUTE) * MINUTE


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    @property
    def minutes(self) -> int:
        return max(0, round((self.end - self.start) / MINUTE))

    def holds(self, t: float) -> bool:
        return self.start <= t < self.end

    def latest(self, seconds: float) -> Window:
        """Its last `seconds` (its whole self when shorter)."""
        return Window(max(self.start, self.end - seconds), self.end)


def window_at(
    now: float, traffic_since: float, delay: float, lookback: float | None = None
) -> Window | None:
    """The window judged at `now` — its latest `lookback` seconds only, when given; None
    until it holds one whole minute."""
    end = minute_floor(now - delay)
    start = minute_ceil(traffic_since)
    if lookback is not None:
        start = max(start, end - lookback)
    window = Window(start, end)
    return window if window.minutes >= 1 else None


def baseline_window(
    window: Window, blue_until: float | None, lookback: float | None = None
) -> Window | None:
    """Blue's frozen baseline for `window`, when blue stopped taking traffic at
    `blue_until` before the window's end; None while blue's minutes in it are live."""
    if blue_until is None:
        return None
    end = minute_floor(blue_until)
    if end >= window.end:
        return None
    length = lookback if lookback is not None else window.end - window.start
    return Window(end - max(length, MINUTE), end)


def first_due(traffic_since: float, delay: float) -> float:
    """When the first window holds a minute: its end, plus the delay."""
    return minute_ceil(traffic_since) + MINUTE + delay
