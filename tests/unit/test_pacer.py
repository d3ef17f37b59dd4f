"""aws/pacer.py: bluegreen's own calls kept to a share of AWS's buckets, waiting on the
clock; a poll's reads leave a reserve to the calls that act."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bluegreen.aws.pacer import RESERVE, SHARE, Pacer, polls_slowed
from bluegreen.clock import VirtualClock
from bluegreen.turns import TurnClock
from bluegreen.urgency import is_watching, watching

ELB = "elbv2"


def taken_within(pacer: Pacer, clock: VirtualClock, count: int, operation: str) -> float:
    started = clock.now()
    for _ in range(count):
        pacer.take(ELB, operation)
    return clock.now() - started


def test_a_burst_within_the_share_waits_for_nothing() -> None:
    clock = VirtualClock(start=0.0)
    burst = int(40 * SHARE)  # ELB's account-level bucket: 40
    assert taken_within(Pacer(clock), clock, burst, "DescribeTargetHealth") == 0.0


def test_past_the_share_calls_wait_for_the_refill() -> None:
    clock = VirtualClock(start=0.0)
    pacer = Pacer(clock)
    burst = int(40 * SHARE)
    waited = taken_within(pacer, clock, burst + 15, "DescribeTargetHealth")
    assert waited == pytest.approx(15 / (10 * SHARE), abs=0.05)  # refill: 10 a second
    assert pacer.waited == pytest.approx(waited, abs=0.05)


def test_changes_draw_on_the_smaller_mutating_bucket_too() -> None:
    clock = VirtualClock(start=0.0)
    pacer = Pacer(clock)
    mutating = int(20 * SHARE)  # ELB mutating: 20, refill 3
    assert taken_within(pacer, clock, mutating, "ModifyListener") == 0.0
    assert taken_within(pacer, clock, 1, "ModifyListener") == pytest.approx(
        1 / (3 * SHARE), abs=0.02
    )


def test_a_poll_leaves_the_reserve_to_the_calls_that_act() -> None:
    clock = VirtualClock(start=0.0)
    pacer = Pacer(clock)
    acting = int(40 * SHARE * (1 - RESERVE))
    taken_within(pacer, clock, acting, "DescribeListeners")
    with watching():
        assert is_watching()
        waited = taken_within(pacer, clock, 1, "DescribeTargetHealth")
    assert not is_watching()
    assert waited > 0  # the poll waited while the reserve stayed for shifts
    assert taken_within(pacer, clock, 1, "DescribeListeners") == 0.0  # acting: no wait


def test_services_without_limits_are_not_paced() -> None:
    clock = VirtualClock(start=0.0)
    pacer = Pacer(clock)
    for _ in range(500):
        pacer.take("s3", "GetObject")
    assert clock.now() == 0.0


def test_a_wait_always_moves_a_clock_at_epoch_scale() -> None:
    clock = VirtualClock()  # 1.8e9: a float there cannot move by a nanosecond
    pacer = Pacer(clock)
    started = clock.now()
    taken_within(pacer, clock, 200, "DescribeTargetHealth")  # returns: no endless tiny waits
    assert clock.now() > started


def test_callers_waiting_for_the_same_bucket_are_served_first_come_first() -> None:
    """Fifty services polling faster than the account allows: each is answered in turn.
    Without the line, whichever thread woke first took every token and the last service's
    polls were never answered (a release of fifty rolled back)."""
    clock = VirtualClock(start=0.0)
    turns, pacer = TurnClock(clock), Pacer(clock)
    pacer.clock = turns
    answered: dict[str, list[float]] = {}

    def service(name: str) -> Callable[[], None]:
        def polls() -> None:
            with watching():
                for _ in range(10):
                    pacer.take(ELB, "DescribeTargetHealth")
                    answered.setdefault(name, []).append(clock.now())

        return polls

    taken_within(pacer, clock, int(40 * SHARE), "DescribeListeners")  # no burst left
    names = [f"svc{n}" for n in range(8)]
    turns.run_all([service(name) for name in names], names)
    rate = 10 * SHARE  # the refill of ELB's account bucket, at our share
    last_calls = sorted(times[-1] for times in answered.values())
    # every service's last answer within about one round of the others' (8 calls' time)
    assert last_calls[-1] - last_calls[0] <= len(names) / rate + 0.5


def test_a_call_that_dies_waiting_leaves_the_line() -> None:
    class Dies(Exception):
        pass

    class DyingClock(VirtualClock):
        dead = False
        sleeps = 0

        def sleep(self, seconds: float) -> None:
            if self.dead:
                self.dead = False
                raise Dies
            self.sleeps += 1
            assert self.sleeps < 100, "still waiting behind a call that died"
            super().sleep(seconds)

    clock = DyingClock(start=0.0)
    pacer = Pacer(clock)
    taken_within(pacer, clock, int(40 * SHARE), "DescribeTargetHealth")  # the burst, gone
    clock.dead = True
    with pytest.raises(Dies):
        pacer.take(ELB, "DescribeTargetHealth")
    # the next call is first in line: it waits for one token, not for the dead call
    assert taken_within(pacer, clock, 1, "DescribeTargetHealth") == pytest.approx(
        1 / (10 * SHARE), abs=0.02
    )


def test_a_poll_waits_while_calls_that_act_wait_for_its_bucket() -> None:
    clock = VirtualClock(start=0.0)
    turns, pacer = TurnClock(clock), Pacer(clock)
    pacer.clock = turns
    taken_within(pacer, clock, int(40 * SHARE), "DescribeListeners")  # no burst left
    answered: list[str] = []

    def poll() -> None:
        with watching():
            pacer.take(ELB, "DescribeTargetHealth")
        answered.append("poll")

    def shift() -> None:
        pacer.take(ELB, "ModifyListener")
        answered.append("shift")

    bodies = [poll] + [shift] * 30  # the poll came first
    turns.run_all(bodies, [f"t{n}" for n in range(len(bodies))])
    assert answered[-1] == "poll"


def test_polls_slowed_is_what_the_share_of_elb_s_refill_allows() -> None:
    assert polls_slowed([5.0] * 20) == 1.0  # 4 reads a second: on time
    assert polls_slowed([5.0] * 50) == pytest.approx(10 / (10 * SHARE))  # 10 asked, 7.5 kept
    assert polls_slowed([5.0] * 50, share=1.0) == 1.0
