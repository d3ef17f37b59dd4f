"""aws/pacer.py: bluegreen's own calls kept to a share of AWS's buckets, waiting on the
clock; a poll's reads leave a reserve to the calls that act."""

from __future__ import annotations

import pytest

from bluegreen.aws.pacer import RESERVE, SHARE, Pacer
from bluegreen.clock import VirtualClock
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
