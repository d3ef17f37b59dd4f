"""Judging one check: its data over a window → pass, fail or inconclusive. Pure.

Samples
- error_rate (HTTPCode_Target_5XX_Count / RequestCount) is judged on the requests
  themselves: every request of the window is a sample, 1 an error and 0 not (counts summed
  over the window), so a single minute of canary traffic can already decide. The effect is
  the difference of the two rates relative to blue's, blue's rate floored at one request's
  worth (1 / blue's requests): a blue with no errors does not make every green error an
  infinite increase.
- Per-minute metrics (latency pNN or average, custom metrics) are judged on one sample per
  minute, counting only the minutes where BOTH colours have data (the same minutes). The
  effect is the Hodges–Lehmann shift (median of the pairwise differences green − blue)
  relative to blue's median; when blue's median is 0, any shift is an infinite change.

A comparison with blue FAILS iff the one-sided Mann-Whitney U test in the bad direction
(max_increase: green higher; max_decrease: green lower) is significant at `confidence` AND
the effect is beyond the tolerance in that direction. It PASSES when there is enough data
and it does not fail: a significant change within the tolerance passes, and so does any
change in the good direction. Too little data — fewer than min_requests requests on
either colour, fewer than min_samples shared minutes, blue with no traffic in the window —
is INCONCLUSIVE, never a pass.

Absolute bounds (max / min) judge green's value over the latest interval of the window,
widened back toward the window's start, a minute at a time, until it holds min_requests
requests (error_rate) or one minute of data (per-minute metrics); otherwise inconclusive.
error_rate's value is errors / requests over that span; a per-minute metric's is the mean
of green's minutes in it; request_count's is green's requests per minute over the latest
interval (no request in a minute is 0: the load balancer publishes nothing then).
request_count has bounds only: the colours take different shares of traffic.

Blue's frozen baseline (window.py: once green takes 100 % on every route, blue serves
nothing): a comparison then judges green's window against blue's minutes before its last
traffic — for per-minute metrics each colour's own minutes, min_samples of each, as the
minutes can no longer be the same. The reason says "baseline until HH:MM UTC". A baseline
holding fewer than min_requests requests / min_samples minutes leaves the comparison
inconclusive for good (`lasting`): blue will not take traffic again, so no wait can
settle it, and the end of a bake does not wait for it (engine/analysis.py). Bounds judge
green alone and are unchanged.

A check with both bounds and a comparison fails when either part fails, is inconclusive
when neither fails and one is inconclusive (lasting only when nothing else is), and passes
when both pass.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace

from bluegreen.analysis.describe import shown
from bluegreen.analysis.series import CheckData, ColourData
from bluegreen.analysis.stats import (
    Direction,
    Samples,
    UTest,
    hodges_lehmann,
    mann_whitney,
    median,
    request_samples,
)
from bluegreen.analysis.verdict import Outcome, Verdict
from bluegreen.analysis.window import MINUTE, Window
from bluegreen.config import MetricCheckConfig


def judge(
    check: MetricCheckConfig,
    data: CheckData,
    window: Window,
    interval: float,
    baseline: Window | None = None,
) -> Verdict:
    """`baseline`: blue's frozen minutes, once blue takes no traffic (window.py); a
    comparison then judges blue over them instead of `window`."""
    parts = []
    if check.max is not None or check.min is not None:
        parts.append(_bounds(check, data, window, interval))
    if check.compares:
        parts.append(_compare(check, data, window, baseline))
    inconclusive = sorted(
        (p for p in parts if p.outcome is Outcome.INCONCLUSIVE), key=lambda p: p.lasting
    )
    decisive = next((p for p in parts if p.failed), None) or next(iter(inconclusive), None)
    chosen = decisive or parts[-1]  # all passed: the comparison's numbers, if any
    # said whole: what passed too, when only a lasting inconclusive part is left
    whole = decisive is None or (decisive.lasting and not decisive.failed)
    reasons = [p.reason for p in reversed(parts)] if whole else [chosen.reason]
    return replace(chosen, check=check.name, reason=f"{check.label}: {'; '.join(reasons)}")


# ---------------------------------------------------------------- comparison with blue


def _compare(
    check: MetricCheckConfig, data: CheckData, window: Window, baseline: Window | None
) -> Verdict:
    if check.request_based:
        verdict = _compare_requests(check, data, window, baseline)
    else:
        verdict = _compare_minutes(check, data, window, baseline)
    return replace(verdict, baseline_until=baseline.end) if baseline else verdict


def _compare_requests(
    check: MetricCheckConfig, data: CheckData, window: Window, baseline: Window | None
) -> Verdict:
    errors_g, requests_g = _totals(data.green, window)
    errors_b, requests_b = _totals(data.blue, baseline or window)
    counted = (requests_g, requests_b)
    if baseline and requests_b < check.min_requests:
        return _thin_baseline(check, baseline, f"{requests_b} requests", counted)
    if requests_b == 0:
        return _inconclusive("blue had no traffic in the window: nothing to compare", counted)
    if min(counted) < check.min_requests:
        return _inconclusive(
            f"too little traffic to compare: green {requests_g} requests, blue {requests_b} "
            f"(min_requests {check.min_requests})",
            counted,
        )
    rate_g, rate_b = errors_g / requests_g, errors_b / requests_b
    effect = (rate_g - rate_b) / max(rate_b, 1 / requests_b)
    samples_g = request_samples(errors_g, requests_g)
    samples_b = request_samples(errors_b, requests_b)
    until = baseline.end if baseline else None
    return _decide(check, effect, samples_g, samples_b, (rate_g, rate_b), counted, until)


def _compare_minutes(
    check: MetricCheckConfig, data: CheckData, window: Window, baseline: Window | None
) -> Verdict:
    green, blue = _finite(data.green.values, window), _finite(data.blue.values, baseline or window)
    if baseline:  # blue's minutes are before green's: each colour's own minutes
        if len(blue) < check.min_samples:
            return _thin_baseline(
                check, baseline, f"{len(blue)} minute(s)", (len(green), len(blue))
            )
        green_minutes, blue_minutes = sorted(green), sorted(blue)
        if len(green) < check.min_samples:
            return _inconclusive(
                f"only {len(green)} minute(s) with data from green "
                f"(min_samples {check.min_samples})",
                (len(green), len(blue)),
            )
    else:  # the same minutes of both: a busy minute weighs on both colours alike
        green_minutes = blue_minutes = sorted(green.keys() & blue.keys())
        if len(green_minutes) < check.min_samples:
            return _inconclusive(
                f"only {len(green_minutes)} minute(s) with data from both colours "
                f"(min_samples {check.min_samples})",
                (len(green_minutes), len(green_minutes)),
            )
    samples_g, samples_b = [green[m] for m in green_minutes], [blue[m] for m in blue_minutes]
    typical_b = median(samples_b)
    effect = _relative(hodges_lehmann(samples_g, samples_b), typical_b)
    values = (median(samples_g), typical_b)
    counted = (len(samples_g), len(samples_b))
    until = baseline.end if baseline else None
    return _decide(check, effect, samples_g, samples_b, values, counted, until)


def _thin_baseline(
    check: MetricCheckConfig, baseline: Window, held: str, counted: tuple[int, int]
) -> Verdict:
    """Blue's frozen baseline is too thin to compare with: inconclusive, and for good."""
    enough = (
        f"min_requests {check.min_requests}"
        if check.request_based
        else f"min_samples {check.min_samples}"
    )
    why = (
        f"blue's baseline until {hh_mm(baseline.end)} UTC (its last {baseline.minutes}m of "
        f"traffic) holds only {held} ({enough}): no comparison with blue, and blue takes "
        "no more traffic"
    )
    return replace(_inconclusive(why, counted), lasting=True)


def _decide(
    check: MetricCheckConfig,
    effect: float,
    green: Samples,
    blue: Samples,
    values: tuple[float, float],
    counted: tuple[int, int],
    until: float | None,
) -> Verdict:
    alpha = 1 - check.confidence
    tests: list[tuple[Direction, float, UTest]] = []
    if check.max_increase is not None:
        tests.append(("greater", check.max_increase, mann_whitney(green, blue, "greater")))
    if check.max_decrease is not None:
        tests.append(("less", check.max_decrease, mann_whitney(green, blue, "less")))
    of = f"{counted[0]} vs {counted[1]} {'requests' if check.request_based else 'minutes'}"
    for worse, tolerance, test in tests:
        beyond = effect > tolerance if worse == "greater" else -effect > tolerance
        if test.p_value < alpha and beyond:
            why = (
                f"{_versus(check, values, effect, until)}, beyond the tolerated "
                f"{_signed(tolerance, worse)} (p={test.p_value:.2g} < {alpha:.2g}; {of})"
            )
            return _verdict(Outcome.FAIL, why, values, effect, test, counted)
    worse, tolerance, test = tests[0]
    if effect > tolerance if worse == "greater" else -effect > tolerance:
        judged = f"beyond {_signed(tolerance, worse)} but not significant"
    else:
        judged = f"within the tolerated {_signed(tolerance, worse)}"
    why = f"{_versus(check, values, effect, until)}, {judged} (p={test.p_value:.2g}; {of})"
    return _verdict(Outcome.PASS, why, values, effect, test, counted)


# ---------------------------------------------------------------- absolute bounds


def _bounds(check: MetricCheckConfig, data: CheckData, window: Window, interval: float) -> Verdict:
    span = window.latest(interval)
    if check.kind == "request_count":
        green = sum(_within(data.green.requests, span).values()) / span.minutes
        blue = sum(_within(data.blue.requests, span).values()) / span.minutes
        return _against_bounds(check, green, blue, span, (span.minutes, span.minutes))
    if check.request_based:
        while _totals(data.green, span)[1] < check.min_requests and span.start > window.start:
            span = Window(span.start - MINUTE, span.end)
        errors_g, requests_g = _totals(data.green, span)
        errors_b, requests_b = _totals(data.blue, span)
        if requests_g < check.min_requests:
            return _inconclusive(
                f"too little traffic on green to judge its bounds: {requests_g} requests in "
                f"{span.minutes}m (min_requests {check.min_requests})",
                (requests_g, requests_b),
            )
        blue_rate = errors_b / requests_b if requests_b else None
        return _against_bounds(
            check, errors_g / requests_g, blue_rate, span, (requests_g, requests_b)
        )
    while not _finite(data.green.values, span) and span.start > window.start:
        span = Window(span.start - MINUTE, span.end)
    green_values = list(_finite(data.green.values, span).values())
    blue_values = list(_finite(data.blue.values, span).values())
    if not green_values:
        return _inconclusive(f"no data from green in the {span.minutes}m judged", (0, 0))
    blue_mean = sum(blue_values) / len(blue_values) if blue_values else None
    counted = (len(green_values), len(blue_values))
    return _against_bounds(check, sum(green_values) / len(green_values), blue_mean, span, counted)


def _against_bounds(
    check: MetricCheckConfig,
    green: float,
    blue: float | None,
    span: Window,
    counted: tuple[int, int],
) -> Verdict:
    shown_blue = shown(check, blue) if blue is not None else "no data"
    over = f"green {shown(check, green)} over the last {span.minutes}m (blue {shown_blue})"
    if check.max is not None and green > check.max:
        why, outcome = f"{over} is above max {shown(check, check.max)}", Outcome.FAIL
    elif check.min is not None and green < check.min:
        why, outcome = f"{over} is below min {shown(check, check.min)}", Outcome.FAIL
    else:
        bounds = [(k, v) for k, v in (("min", check.min), ("max", check.max)) if v is not None]
        within = " and ".join(f"{k} {shown(check, v)}" for k, v in bounds)
        why, outcome = f"{over} is within {within}", Outcome.PASS
    return _verdict(outcome, why, (green, blue), None, None, counted)


# ---------------------------------------------------------------- helpers


def _within(series: Mapping[float, float], span: Window) -> dict[float, float]:
    return {t: v for t, v in series.items() if span.holds(t)}


def _finite(series: Mapping[float, float], span: Window) -> dict[float, float]:
    return {t: v for t, v in _within(series, span).items() if math.isfinite(v)}


def _totals(colour: ColourData, span: Window) -> tuple[int, int]:
    """(errors, requests) summed over the span; errors never more than requests."""
    requests = round(sum(_finite(colour.requests, span).values()))
    errors = round(sum(_finite(colour.errors, span).values()))
    return min(errors, requests), requests


def _relative(shift: float, base: float) -> float:
    if base:
        return shift / abs(base)
    return 0.0 if shift == 0 else math.copysign(math.inf, shift)


def _inconclusive(why: str, counted: tuple[int, int]) -> Verdict:
    return Verdict("", Outcome.INCONCLUSIVE, why, samples=counted)


def _verdict(
    outcome: Outcome,
    why: str,
    values: tuple[float, float | None],
    effect: float | None,
    test: UTest | None,
    counted: tuple[int, int],
) -> Verdict:
    return Verdict(
        "",
        outcome,
        why,
        green=values[0],
        blue=values[1],
        effect=effect,
        u=test.u if test else None,
        p_value=test.p_value if test else None,
        samples=counted,
    )


def _versus(
    check: MetricCheckConfig, values: tuple[float, float], effect: float, until: float | None
) -> str:
    change = f"{effect:+.0%}" if math.isfinite(effect) else ("+∞" if effect > 0 else "-∞")
    frozen = f"baseline until {hh_mm(until)} UTC, " if until is not None else ""
    return f"green {shown(check, values[0])} vs blue {shown(check, values[1])} ({frozen}{change})"


def hh_mm(t: float) -> str:
    return time.strftime("%H:%M", time.gmtime(t))


def _signed(tolerance: float, worse: Direction) -> str:
    return f"{'+' if worse == 'greater' else '-'}{tolerance:.0%}"
