"""TurnClock: threads take turns; time moves only when every thread sleeps."""

from __future__ import annotations

import time

import pytest

from bluegreen.clock import RealClock, VirtualClock
from bluegreen.turns import TurnClock


def test_threads_run_one_at_a_time_in_wake_up_order() -> None:
    turns = TurnClock(VirtualClock(start=0.0))
    seen: list[tuple[str, float]] = []

    def body(name: str, naps: list[float]) -> None:
        for nap in naps:
            seen.append((name, turns.now()))
            turns.sleep(nap)
        seen.append((name, turns.now()))

    turns.run_all([lambda: body("a", [10, 10]), lambda: body("b", [5, 30])], ["a", "b"])

    assert seen == [
        ("a", 0.0),
        ("b", 0.0),
        ("b", 5.0),
        ("a", 10.0),
        ("a", 20.0),
        ("b", 35.0),
    ]
    assert turns.now() == 35.0  # time moved only as far as the last wake-up


def test_wake_all_brings_every_sleeper_to_now() -> None:
    turns = TurnClock(VirtualClock(start=0.0))
    woke: list[float] = []
    ready: list[bool] = []

    def waiter() -> None:
        while not ready:
            turns.sleep(100)
        woke.append(turns.now())

    def announcer() -> None:
        turns.sleep(7)
        ready.append(True)
        turns.wake_all()

    turns.run_all([waiter, announcer], ["waiter", "announcer"])

    assert woke == [7.0]  # not 100: it saw the news at once


def test_an_exception_in_one_body_is_raised_once_all_have_ended() -> None:
    turns = TurnClock(VirtualClock(start=0.0))
    finished: list[str] = []

    def fails() -> None:
        turns.sleep(1)
        raise RuntimeError("boom")

    def carries_on() -> None:
        turns.sleep(5)
        finished.append("carried on")

    with pytest.raises(RuntimeError, match="boom"):
        turns.run_all([fails, carries_on], ["fails", "carries_on"])
    assert finished == ["carried on"]


def test_a_thread_not_taking_turns_sleeps_on_the_base_clock() -> None:
    base = VirtualClock(start=0.0)
    TurnClock(base).sleep(3)
    assert base.now() == 3.0


def test_on_the_real_clock_others_take_turns_while_one_is_away() -> None:
    turns = TurnClock(RealClock())
    seen: list[str] = []
    back_at: list[float] = []

    def hook() -> None:
        with turns.away():  # a hook's process: 0.4 s of real time, not on the clock
            time.sleep(0.4)
        back_at.append(time.monotonic())
        seen.append("hook done")

    def poller() -> None:
        for _ in range(4):
            seen.append("poll")
            turns.sleep(0.05)

    started = time.monotonic()
    turns.run_all([hook, poller], ["hook", "poller"])

    assert seen == ["poll"] * 4 + ["hook done"]  # every poll while the hook ran
    assert back_at[0] - started < 0.6


def test_one_back_from_away_goes_before_a_thread_waiting_for_its_time() -> None:
    turns = TurnClock(RealClock())
    seen: list[tuple[str, float]] = []
    started = time.monotonic()

    def hook() -> None:
        with turns.away():
            time.sleep(0.2)
        seen.append(("hook done", round(time.monotonic() - started, 1)))

    def baker() -> None:
        turns.sleep(1.5)  # holds the turn, waiting for its time, when the hook comes back
        seen.append(("baked", round(time.monotonic() - started, 1)))

    turns.run_all([hook, baker], ["hook", "baker"])

    assert seen == [("hook done", 0.2), ("baked", 1.5)]


def test_on_a_virtual_clock_away_keeps_the_turn() -> None:
    turns = TurnClock(VirtualClock(start=0.0))
    seen: list[str] = []

    def hook() -> None:
        with turns.away():
            time.sleep(0.1)  # real time: nobody else runs meanwhile, the run repeats exactly
            seen.append("hook done")

    def poller() -> None:
        seen.append("poll")
        turns.sleep(0.01)
        seen.append("poll")

    turns.run_all([hook, poller], ["hook", "poller"])

    assert seen == ["hook done", "poll", "poll"]
