"""The judge: each rule of bluegreen.analysis.judge, and the one-line mutations that would
break it (the bad direction flipped, the tolerance ignored, inconclusive counted as a pass,
blue's floor missing, minutes of one colour only counted, data outside the window counted).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bluegreen.analysis import CheckData, ColourData, Outcome, Verdict, Window, judge
from bluegreen.config import MetricCheckConfig

T0 = 1_800_000_000.0  # a whole minute
MINUTE = 60.0
WINDOW = Window(T0, T0 + 10 * MINUTE)
PROPERTY = settings(derandomize=True, max_examples=40, deadline=None)


def check(**fields: Any) -> MetricCheckConfig:
    return MetricCheckConfig.model_validate(fields)


def counts(errors: int, requests: int, minutes: int = 10) -> ColourData:
    """`requests` and `errors` spread over the window's first `minutes` minutes."""
    share = [requests // minutes + (i < requests % minutes) for i in range(minutes)]
    errs = [errors // minutes + (i < errors % minutes) for i in range(minutes)]
    return ColourData(
        requests={T0 + i * MINUTE: float(n) for i, n in enumerate(share) if n},
        errors={T0 + i * MINUTE: float(e) for i, e in enumerate(errs) if e},
    )


def per_minute(values: list[float], start: float = T0) -> ColourData:
    return ColourData(values={start + i * MINUTE: v for i, v in enumerate(values)})


def rates(green: tuple[int, int], blue: tuple[int, int], **fields: Any) -> Verdict:
    rule = check(name="error_rate", **({"max_increase": "25%"} | fields))
    return judge(rule, CheckData(counts(*green), counts(*blue)), WINDOW, MINUTE)


def latencies(green: list[float], blue: list[float], **fields: Any) -> Verdict:
    rule = check(name="latency", **({"max_increase": "20%"} | fields))
    return judge(rule, CheckData(per_minute(green), per_minute(blue)), WINDOW, MINUTE)


def wobble(base: float, n: int, phase: float = 0.0) -> list[float]:
    return [base * (1 + 0.03 * math.sin(i * 1.7 + phase)) for i in range(n)]


# ---------------------------------------------------------------- error_rate against blue


def test_an_error_rate_regression_fails_naming_both_rates() -> None:
    verdict = rates(green=(100, 2000), blue=(90, 18000))
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reason.startswith("error_rate: green 5.00% vs blue 0.50% (+900%)")
    assert "beyond the tolerated +25%" in verdict.reason
    assert (verdict.green, verdict.blue) == (0.05, 0.005)
    assert verdict.samples == (2000, 18000) and verdict.p_value is not None
    assert verdict.p_value < 0.02 and verdict.u is not None


def test_one_minute_of_canary_traffic_can_decide() -> None:
    one_minute = Window(T0, T0 + MINUTE)
    data = CheckData(counts(40, 600, minutes=1), counts(27, 5400, minutes=1))
    verdict = judge(check(name="error_rate", max_increase="25%"), data, one_minute, MINUTE)
    assert verdict.outcome is Outcome.FAIL


def test_an_improvement_passes_the_bad_direction_is_increase() -> None:
    verdict = rates(green=(2, 5000), blue=(900, 45000))
    assert verdict.outcome is Outcome.PASS and verdict.effect is not None and verdict.effect < 0


def test_a_significant_change_within_the_tolerance_passes() -> None:
    # +20 % on 50,000 requests a colour is significant, but tolerated (25 %)
    verdict = rates(green=(1800, 50000), blue=(1500, 50000))
    assert verdict.p_value is not None and verdict.p_value < 0.001
    assert verdict.outcome is Outcome.PASS and "within the tolerated +25%" in verdict.reason
    assert rates(green=(1800, 50000), blue=(1500, 50000), max_increase="10%").failed


def test_a_large_effect_that_is_not_significant_passes() -> None:
    verdict = rates(green=(2, 400), blue=(1, 400))  # +100 %, on three errors
    assert verdict.outcome is Outcome.PASS and "not significant" in verdict.reason


@pytest.mark.parametrize(
    ("green", "blue", "why"),
    [
        ((0, 150), (10, 9000), "green 150 requests, blue 9000 (min_requests 200)"),
        ((30, 150), (10, 9000), "green 150 requests"),  # a bad green: still not a verdict
        ((0, 5000), (0, 150), "blue 150"),
        ((0, 5000), (0, 0), "blue had no traffic in the window"),
    ],
)
def test_too_little_traffic_is_inconclusive_never_a_pass(
    green: tuple[int, int], blue: tuple[int, int], why: str
) -> None:
    verdict = rates(green, blue)
    assert verdict.outcome is Outcome.INCONCLUSIVE and why in verdict.reason
    assert not verdict.passed and not verdict.failed


def test_blue_without_errors_is_floored_at_one_request() -> None:
    # blue 0 of 10,000: its rate counts as 1/10,000, so green's 5 errors are +500 %,
    # not infinite; the test is significant at 98 %.
    tolerant = rates(green=(5, 10000), blue=(0, 10000), max_increase="600%")
    assert tolerant.outcome is Outcome.PASS and tolerant.effect == pytest.approx(5.0)
    assert tolerant.p_value is not None and tolerant.p_value < 0.02
    # and the floor is one of blue's requests, not a coarser one (1/min_requests: +10 %)
    assert rates(green=(5, 10000), blue=(0, 10000), max_increase="300%").failed


def test_a_drop_fails_where_a_decrease_is_bad() -> None:
    rule = check(name="ok_rate", max_decrease="10%", query=_query("Sum"))
    drop = CheckData(per_minute(wobble(100, 8)), per_minute(wobble(150, 8, 1.0)))
    rise = CheckData(per_minute(wobble(150, 8)), per_minute(wobble(100, 8, 1.0)))
    assert judge(rule, drop, WINDOW, MINUTE).failed
    assert judge(rule, rise, WINDOW, MINUTE).outcome is Outcome.PASS
    assert "-10%" in judge(rule, drop, WINDOW, MINUTE).reason


def test_data_outside_the_window_is_not_counted() -> None:
    green = counts(0, 3000)
    bad = {T0 - MINUTE: 500.0, WINDOW.end: 500.0}  # before the traffic, and not yet complete
    green = ColourData(
        requests={**green.requests, **bad}, errors={**green.errors, **{t: 500.0 for t in bad}}
    )
    verdict = judge(
        check(name="error_rate", max_increase="25%", max=0.01),
        CheckData(green, counts(30, 27000)),
        WINDOW,
        MINUTE,
    )
    assert verdict.outcome is Outcome.PASS and verdict.samples == (3000, 27000)


# ---------------------------------------------------------------- per-minute against blue


def test_a_latency_regression_fails_naming_both_values() -> None:
    verdict = latencies(wobble(0.300, 8), wobble(0.200, 8, 2.0))
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reason.startswith("latency p99: green 299ms vs blue 201ms (+49%)")
    assert verdict.samples == (8, 8) and verdict.effect == pytest.approx(0.5, abs=0.06)


def test_a_latency_shift_within_tolerance_passes() -> None:
    verdict = latencies(wobble(0.220, 8), wobble(0.200, 8, 2.0))
    assert verdict.outcome is Outcome.PASS
    assert verdict.p_value is not None and verdict.p_value < 0.02  # significant, tolerated


def test_only_minutes_where_both_colours_have_data_count() -> None:
    # green's three extra minutes are dreadful, but blue has no data then: not compared
    green = per_minute([*wobble(0.2, 5), 9.0, 9.0, 9.0])
    blue = per_minute(wobble(0.2, 5, 1.0))
    verdict = judge(check(name="latency", max_increase="20%"), CheckData(green, blue), WINDOW, 60)
    assert verdict.outcome is Outcome.PASS and verdict.samples == (5, 5)


def test_fewer_shared_minutes_than_min_samples_is_inconclusive() -> None:
    verdict = latencies(wobble(0.9, 4), wobble(0.2, 6))
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "only 4 minute(s) with data from both colours (min_samples 5)" in verdict.reason


def test_a_blue_median_of_zero_makes_any_significant_rise_fail() -> None:
    rule = check(name="checkout", query=_query("Sum"), max_increase="1000%")
    data = CheckData(per_minute([3.0, 4.0, 2.0, 5.0, 3.0, 4.0]), per_minute([0.0] * 6))
    verdict = judge(rule, data, WINDOW, MINUTE)
    assert verdict.failed and verdict.effect == math.inf and "(+∞)" in verdict.reason


def test_identical_minutes_pass() -> None:
    assert latencies([0.2] * 6, [0.2] * 6).outcome is Outcome.PASS


# ---------------------------------------------------------------- absolute bounds


def test_error_rate_above_max_over_the_latest_minute_fails_naming_blue_too() -> None:
    green = ColourData(requests={WINDOW.end - MINUTE: 400.0}, errors={WINDOW.end - MINUTE: 8.0})
    blue = ColourData(requests={WINDOW.end - MINUTE: 3600.0}, errors={WINDOW.end - MINUTE: 4.0})
    verdict = judge(check(name="error_rate", max=0.01), CheckData(green, blue), WINDOW, 60)
    assert verdict.failed
    assert verdict.reason == (
        "error_rate: green 2.00% over the last 1m (blue 0.11%) is above max 1.00%"
    )


def test_bounds_widen_back_until_min_requests() -> None:
    # the latest minute has 50 requests; three minutes back there are 250, all fine
    minutes = [WINDOW.end - i * MINUTE for i in (1, 2, 3, 4)]
    green = ColourData(requests=dict.fromkeys(minutes, 50.0) | {minutes[3]: 100.0})
    verdict = judge(check(name="error_rate", max=0.01), CheckData(green, ColourData()), WINDOW, 60)
    assert verdict.outcome is Outcome.PASS and verdict.samples == (250, 0)
    assert "over the last 4m (blue no data)" in verdict.reason


def test_bounds_without_enough_traffic_are_inconclusive() -> None:
    green = ColourData(requests={T0: 150.0}, errors={T0: 150.0})
    verdict = judge(check(name="error_rate", max=0.01), CheckData(green, ColourData()), WINDOW, 60)
    assert verdict.outcome is Outcome.INCONCLUSIVE and "150 requests in 10m" in verdict.reason


def test_latency_bounds_judge_the_latest_interval_only() -> None:
    rule = check(name="latency", statistic="p99", max="500ms")
    early_spike = CheckData(per_minute([2.0, *[0.3] * 9]), ColourData())
    assert judge(rule, early_spike, WINDOW, MINUTE).outcome is Outcome.PASS
    late_spike = CheckData(per_minute([*[0.3] * 9, 0.8]), per_minute([0.25] * 10))
    verdict = judge(rule, late_spike, WINDOW, MINUTE)
    assert verdict.failed
    assert (
        verdict.reason
        == "latency p99: green 800ms over the last 1m (blue 250ms) is above max 500ms"
    )


def test_latency_bounds_widen_back_to_the_latest_minute_with_data() -> None:
    rule = check(name="latency", max=0.5)
    data = CheckData(per_minute([0.3] * 6), ColourData())  # nothing in the last 4 minutes
    verdict = judge(rule, data, WINDOW, MINUTE)
    assert verdict.outcome is Outcome.PASS and "over the last 5m" in verdict.reason
    empty = judge(rule, CheckData(ColourData(), ColourData()), WINDOW, MINUTE)
    assert empty.outcome is Outcome.INCONCLUSIVE


def test_request_count_is_green_requests_per_minute_a_silent_minute_is_zero() -> None:
    rule = check(name="request_count", min=100)
    green = ColourData(requests={WINDOW.end - 2 * MINUTE: 300.0})  # last minute: nothing
    verdict = judge(rule, CheckData(green, ColourData()), WINDOW, 2 * MINUTE)
    assert verdict.outcome is Outcome.PASS and verdict.green == 150.0
    verdict = judge(rule, CheckData(green, ColourData()), WINDOW, MINUTE)
    assert verdict.failed and "green 0/min over the last 1m" in verdict.reason


def test_both_parts_must_pass() -> None:
    bounded = {"max": 0.02}
    assert rates((100, 2000), (90, 18000), **bounded).failed  # the comparison fails
    assert rates((60, 2000), (540, 18000), max=0.01).failed  # the bound fails (3 %)
    low_traffic = rates((0, 150), (10, 9000), **bounded)
    assert low_traffic.outcome is Outcome.INCONCLUSIVE
    both = rates((10, 2000), (90, 18000), **bounded)
    assert both.outcome is Outcome.PASS
    assert "vs blue" in both.reason and "within max 2.00%" in both.reason


# ---------------------------------------------------------------- properties


@PROPERTY
@given(
    base=st.floats(0.01, 5.0),
    noise=st.lists(st.floats(-0.2, 0.2), min_size=5, max_size=30),
)
def test_identical_colours_never_fail(base: float, noise: list[float]) -> None:
    values = [base * (1 + e) for e in noise]
    assert not latencies(values, values, max_increase="0%").failed


@PROPERTY
@given(
    base=st.floats(0.01, 5.0),
    noise=st.lists(st.floats(-0.05, 0.05), min_size=8, max_size=30),
    tolerance=st.integers(0, 100),
    excess=st.floats(0.5, 3.0),
)
def test_a_shift_well_beyond_tolerance_with_enough_minutes_always_fails(
    base: float, noise: list[float], tolerance: int, excess: float
) -> None:
    blue = [base * (1 + e) for e in noise]
    green = [v * (1 + tolerance / 100 + excess) for v in blue]
    assert latencies(green, blue, max_increase=f"{tolerance}%").failed


@PROPERTY
@given(
    rate=st.floats(0.001, 0.05),
    requests=st.integers(5000, 200_000),
    tolerance=st.integers(0, 100),
)
def test_an_error_rate_well_beyond_tolerance_with_enough_requests_always_fails(
    rate: float, requests: int, tolerance: int
) -> None:
    green_rate = min(1.0, rate * (1 + tolerance / 100) * 3)
    blue = (round(rate * requests * 9), requests * 9)
    verdict = rates((round(green_rate * requests), requests), blue, max_increase=f"{tolerance}%")
    assert verdict.failed


def test_one_distribution_fails_no_more_often_than_the_confidence_allows() -> None:
    """Same distribution for both colours, no tolerance at all: the verdict fails only as
    often as the test's level (2 % at 98 % confidence). Seeded, so it never flakes."""
    rng = np.random.default_rng(20260101)
    trials = 400
    latency_fails = sum(
        latencies(
            list(rng.lognormal(-1.5, 0.3, 10)),
            list(rng.lognormal(-1.5, 0.3, 10)),
            max_increase="0%",
        ).failed
        for _ in range(trials)
    )
    rate_fails = sum(
        rates(
            (int(rng.binomial(3000, 0.01)), 3000),
            (int(rng.binomial(27000, 0.01)), 27000),
            max_increase="0%",
        ).failed
        for _ in range(trials)
    )
    allowed = trials * 0.02 + 3 * math.sqrt(trials * 0.02 * 0.98)  # level + 3 sigma
    assert latency_fails <= allowed and rate_fails <= allowed


def _query(statistic: str) -> dict[str, Any]:
    return {
        "namespace": "MyApp",
        "metric": "Checkouts",
        "dimensions": {"TargetGroup": "{target_group}"},
        "statistic": statistic,
    }
