"""Blue's frozen baseline, pure: which minutes it is (window.baseline_window) and how the
judge compares green with it — and the mutations that would break it: the baseline ending
at the shift's minute instead of before it, blue read over green's window, per-minute
samples still paired on shared minutes (none once blue is idle), a thin baseline not
marked lasting, a lasting part hiding a failure or an ordinary inconclusive one."""

from __future__ import annotations

import math
from typing import Any

from bluegreen.analysis import CheckData, ColourData, Outcome, Window, baseline_window, judge
from bluegreen.config import MetricCheckConfig

T0 = 1_800_000_000.0  # a whole minute: 2027-01-15 08:00 UTC
MINUTE = 60.0
SHIFT = T0 + 10 * MINUTE + 25  # green took 100 % at 08:10:25
WINDOW = Window(T0 + 12 * MINUTE, T0 + 22 * MINUTE)  # green's latest ten, blue idle
BASELINE = Window(T0, T0 + 10 * MINUTE)


def test_the_baseline_is_the_lookback_before_the_minute_of_the_final_shift() -> None:
    assert baseline_window(WINDOW, SHIFT, 600) == BASELINE
    # without a lookback: as long as green's window
    assert baseline_window(Window(T0 + 12 * MINUTE, T0 + 15 * MINUTE), SHIFT) == Window(
        T0 + 7 * MINUTE, T0 + 10 * MINUTE
    )


def test_nothing_is_frozen_while_blue_still_served_the_windows_minutes() -> None:
    assert baseline_window(WINDOW, None, 600) is None  # never at 100 %
    assert baseline_window(Window(T0, T0 + 10 * MINUTE), SHIFT, 600) is None
    assert baseline_window(Window(T0 + MINUTE, T0 + 11 * MINUTE), SHIFT, 600) == BASELINE


def check(**fields: Any) -> MetricCheckConfig:
    return MetricCheckConfig.model_validate(fields)


def minutes(values: list[float], start: float) -> dict[float, float]:
    return {start + i * MINUTE: v for i, v in enumerate(values)}


def wobble(base: float, n: int, phase: float = 0.0) -> list[float]:
    return [base * (1 + 0.03 * math.sin(i * 1.7 + phase)) for i in range(n)]


def counts(rate: float, per_minute: float, window: Window) -> ColourData:
    n = window.minutes
    return ColourData(
        requests=minutes([per_minute] * n, window.start),
        errors=minutes([round(per_minute * rate)] * n, window.start),
    )


def test_error_rate_judges_green_against_blues_frozen_minutes() -> None:
    rule = check(name="error_rate", max_increase="25%")
    data = CheckData(green=counts(0.05, 600, WINDOW), blue=counts(0.005, 600, BASELINE))

    verdict = judge(rule, data, WINDOW, MINUTE, BASELINE)

    assert verdict.outcome is Outcome.FAIL and verdict.baseline_until == BASELINE.end
    assert (verdict.green, verdict.blue, verdict.samples) == (0.05, 0.005, (6000, 6000))
    assert "green 5.00% vs blue 0.50% (baseline until 08:10 UTC, +900%)" in verdict.reason
    # without the baseline, blue has nothing in green's window
    assert judge(rule, data, WINDOW, MINUTE).outcome is Outcome.INCONCLUSIVE


def test_per_minute_metrics_compare_each_colours_own_minutes() -> None:
    rule = check(name="latency", max_increase="20%")
    slower = CheckData(
        green=ColourData(values=minutes(wobble(0.3, 10), WINDOW.start)),
        blue=ColourData(values=minutes(wobble(0.2, 10, 1.0), BASELINE.start)),
    )

    verdict = judge(rule, slower, WINDOW, MINUTE, BASELINE)

    assert verdict.outcome is Outcome.FAIL and verdict.samples == (10, 10)
    assert verdict.baseline_until == BASELINE.end


def test_a_thin_frozen_baseline_is_inconclusive_for_good() -> None:
    rule = check(name="error_rate", max_increase="25%", max="1%")
    data = CheckData(green=counts(0.002, 1000, WINDOW), blue=counts(0.002, 15, BASELINE))

    verdict = judge(rule, data, WINDOW, MINUTE, BASELINE)

    assert verdict.outcome is Outcome.INCONCLUSIVE and verdict.lasting
    assert verdict.samples == (10000, 150)
    assert verdict.reason.startswith(
        "error_rate: blue's baseline until 08:10 UTC (its last 10m of traffic) holds only "
        "150 requests (min_requests 200): no comparison with blue"
    )
    assert "green 0.20% over the last 1m (blue no data) is within max 1.00%" in verdict.reason
    # a bound that fails still fails
    hot = CheckData(green=counts(0.03, 600, WINDOW), blue=data.blue)
    assert judge(rule, hot, WINDOW, MINUTE, BASELINE).outcome is Outcome.FAIL


def test_too_little_from_green_against_a_frozen_baseline_can_still_be_waited_for() -> None:
    rule = check(name="latency", max_increase="20%")
    data = CheckData(
        green=ColourData(values=minutes(wobble(0.2, 3), WINDOW.end - 3 * MINUTE)),
        blue=ColourData(values=minutes(wobble(0.2, 10), BASELINE.start)),
    )

    verdict = judge(rule, data, WINDOW, MINUTE, BASELINE)

    assert verdict.outcome is Outcome.INCONCLUSIVE and not verdict.lasting
    assert "only 3 minute(s) with data from green (min_samples 5)" in verdict.reason
