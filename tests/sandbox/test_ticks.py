"""Sandbox.tick_every: the simulators run at every advance of the clock, or once it has
moved that far since they last ran (a cheap world for benchmarks of many services)."""

from __future__ import annotations

from bluegreen.clock import VirtualClock
from bluegreen.sandbox import Sandbox


def ticks_at(sandbox: Sandbox, advances: list[float]) -> list[float]:
    seen: list[float] = []
    sandbox.on_tick(seen.append)
    for seconds in advances:
        sandbox.clock.advance(seconds)
    return [round(at - 1000.0, 1) for at in seen]


def test_the_world_moves_at_every_advance_by_default() -> None:
    sandbox = Sandbox(clock=VirtualClock(start=1000.0))
    assert ticks_at(sandbox, [0.3, 0.3, 0.3]) == [0.3, 0.6, 0.9]


def test_with_tick_every_it_moves_once_that_much_time_has_passed() -> None:
    sandbox = Sandbox(clock=VirtualClock(start=1000.0), tick_every=1.0)
    assert ticks_at(sandbox, [0.3, 0.3, 0.3, 0.3, 0.5, 5.0]) == [0.3, 1.7, 6.7]
