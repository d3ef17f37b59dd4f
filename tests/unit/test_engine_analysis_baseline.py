"""Comparisons with blue once blue takes no traffic, on the fakes and a virtual clock.

At 100 % green (the bake after the shift, a bake or a pause at a weight-100 step) blue
serves nothing: a comparison judges green's latest minutes against blue's baseline frozen
at the final shift. With the README's settings (lookback 10m, bake_after_shift 10m) a good
release used to go inconclusive, extend, pause and be rolled back by the pause timeout.

The clock starts on a whole minute (T0); green takes its first traffic at about T0+55s.
Before T0 blue answered 5 % of its requests with 500 (an incident before the deployment),
so a baseline frozen at the first shift instead of the last would excuse a bad green.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, World
from rich.console import Console

from bluegreen.analysis import minute_floor
from bluegreen.cli import view
from bluegreen.deployer import Deployer
from bluegreen.errors import AnalysisFailed
from bluegreen.record import DeploymentRecord
from bluegreen.report import tables
from bluegreen.report.facts import facts_of

V2 = {"web": "repo/web:v2"}
T0 = 1_800_000_000.0
MakeDeployer = Callable[..., Deployer]
CANARY = [{"weight": 10, "bake": "5m"}, {"weight": 50, "bake": "5m"}]
README_ANALYSIS = {
    "interval": "1m",
    "delay": "1m",
    "lookback": "10m",
    "failure_limit": 1,
    "on_inconclusive": "extend",
    "inconclusive_limit": 10,
}
ERROR_RATE = {"name": "error_rate", "max_increase": "25%", "max": "1%"}
LATENCY = {"name": "latency", "statistic": "p99", "max_increase": "20%", "max": "500ms"}
# Where green holds 100 % with blue still running: (strategy steps after the canary, gates)
AT_100: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "bake_after_shift": ([{"weight": 100}], {"bake_after_shift": "10m"}),
    "a bake at 100": ([{"weight": 100, "bake": "10m"}], {"bake_after_shift": "0s"}),
    "a pause at 100": ([{"weight": 100, "pause": True}], {"bake_after_shift": "0s"}),
}


def deployer_for(
    make_deployer: MakeDeployer,
    *metrics: dict[str, Any],
    at_100: str = "bake_after_shift",
    canary: list[dict[str, Any]] = CANARY,
    **table: Any,
) -> Deployer:
    steps, gates = AT_100[at_100]
    settings = {"metrics": list(metrics), **README_ANALYSIS, **table}
    if settings["on_inconclusive"] != "extend":
        del settings["inconclusive_limit"]
    return make_deployer(
        strategy={"type": "steps", "steps": [*canary, *steps], "pause_timeout": "1h"},
        gates={"termination_wait": "1m", **gates},
        analysis=settings,
    )


def final_shift(world: World) -> float:
    """When every production route took 100 % green."""
    return next(at for at, ref, weights in world.writes if ref == HTTP and weights[GREEN] == 100)


def after_final_shift(world: World, before: float, after: float) -> Callable[[float], float]:
    """A per-minute number that is `after` from the minute green took 100 % on."""

    def at(minute: float) -> float:
        shifted = [t for t, ref, w in world.writes if ref == HTTP and w[GREEN] == 100]
        return after if shifted and minute >= minute_floor(shifted[0]) else before

    return at


def blue_with_an_earlier_incident(world: World, rate: float = 0.005) -> None:
    world.traffic.error_rate[BLUE] = lambda minute: 0.05 if minute < T0 else rate


def record(deployer: Deployer) -> DeploymentRecord:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def messages(deployer: Deployer, since: float = 0.0) -> str:
    return " | ".join(e.message for e in record(deployer).events if e.at >= since)


def hh_mm(t: float) -> str:
    return time.strftime("%H:%M", time.gmtime(t))


def test_readme_settings_a_good_release_succeeds_against_blues_frozen_baseline(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = {GREEN: 0.002, BLUE: 0.002}
    deployer = deployer_for(make_deployer, ERROR_RATE, LATENCY)

    result = deployer.deploy(V2)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    assert [ts.target_group for ts in world.task_sets.values()] == [GREEN]
    shift = final_shift(world)
    said = messages(deployer, since=shift)
    assert "bake extended" not in said and "paused" not in said
    rec = record(deployer)
    assert rec.blue_traffic_until == shift
    frozen = [minute_floor(shift) - 600, minute_floor(shift)]
    bake = [e for e in rec.analysis if e.stage == "bake at 100%"]
    assert bake and all(e.passed for e in bake)
    # frozen from the first window that reaches past blue's last minute of traffic
    assert [e.baseline for e in bake] == [frozen if e.window[1] > frozen[1] else None for e in bake]
    assert bake[-1].baseline == frozen
    error_rate, latency = bake[-1].checks
    # blue's ten minutes before the shift against green's latest ten, nearly all at 100 %
    assert latency.samples == [10, 10] and latency.baseline_until == frozen[1]
    assert error_rate.samples[1] > 0 and error_rate.baseline_until == frozen[1]
    assert f"(baseline until {hh_mm(frozen[1])} UTC, " in latency.reason
    assert f"UTC (blue: baseline until {hh_mm(frozen[1])}): PASS error_rate" in said
    # while blue still served, nothing was frozen
    assert all(e.baseline is None for e in rec.analysis if not e.stage.endswith("100%"))
    # the verdict tables say which blue was judged: `status` and the report
    console = Console(record=True, width=200)
    console.print(view.verdict_table(bake[-1].model_dump()))
    assert f"(baseline until {hh_mm(frozen[1])})" in console.export_text()
    _, rows, _ = tables.verdict_table(facts_of(rec))
    assert rows[-1][4].endswith(f" (baseline until {hh_mm(frozen[1])})")


@pytest.mark.parametrize("at_100", list(AT_100))
def test_a_bad_release_at_100_is_rolled_back_against_blues_frozen_baseline(
    make_deployer: MakeDeployer, world: World, at_100: str
) -> None:
    """Green is good at 10 % and 50 % and answers 5 % of requests with 500 once it takes
    everything; blue, 0.5 % since T0, had an incident before the deployment."""
    world.traffic.error_rate = {GREEN: after_final_shift(world, 0.005, 0.05)}
    blue_with_an_earlier_incident(world)
    deployer = deployer_for(
        make_deployer, {"name": "error_rate", "max_increase": "25%"}, LATENCY, at_100=at_100
    )

    with pytest.raises(AnalysisFailed) as caught:
        deployer.deploy(V2)

    shift = final_shift(world)
    until = hh_mm(minute_floor(shift))
    assert re.search(
        r"was rolled back: analysis failed at 100% green: error_rate: green [\d.]+% vs blue "
        rf"0\.50% \(baseline until {until} UTC, \+\d+%\), beyond the tolerated \+25%",
        str(caught.value),
    )
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]
    # at the first evaluation whose window is mostly green's 100 %, well inside the 10 minutes
    back = next(at for at, ref, w in world.writes if ref == HTTP and at > shift)
    assert back - shift < 600
    assert "bake extended" not in messages(deployer, since=shift)


@pytest.mark.parametrize("on_inconclusive", ["extend", "pause", "fail"])
def test_a_baseline_too_thin_to_compare_ends_the_bake_on_what_can_be_judged(
    make_deployer: MakeDeployer, world: World, on_inconclusive: str
) -> None:
    """All at once on a quiet service that gets busy: blue's last ten minutes hold 150
    requests (min_requests 200), so error_rate's comparison can never be made; waiting
    would not change that, so the bake ends on green's bound, without a rollback."""
    world.traffic.per_minute = after_final_shift(world, 15, 600)
    world.traffic.error_rate = {GREEN: 0.002, BLUE: 0.002}
    deployer = deployer_for(make_deployer, ERROR_RATE, canary=[], on_inconclusive=on_inconclusive)

    assert deployer.deploy(V2).outcome == "succeeded"

    rec = record(deployer)
    (check,) = rec.analysis[-1].checks
    assert (check.status, check.lasting, check.samples[1]) == ("inconclusive", True, 150)
    until = hh_mm(minute_floor(final_shift(world)))
    assert f"blue's baseline until {until} UTC (its last 10m of traffic) holds only " in (
        check.reason
    )
    assert "is within max 1.00%" in check.reason  # the bound was judged, and passed
    said = messages(deployer)
    assert "bake ends with what can be judged: inconclusive error_rate: " in said
    assert "bake extended" not in said and "paused" not in said


def test_a_thin_baseline_still_enforces_greens_bounds(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.per_minute = after_final_shift(world, 15, 600)
    world.traffic.error_rate = {GREEN: 0.03, BLUE: 0.002}
    deployer = deployer_for(make_deployer, ERROR_RATE, canary=[])

    with pytest.raises(AnalysisFailed, match=r"error_rate: green 3\.00% over the last 1m"):
        deployer.deploy(V2)

    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}


def test_a_live_blue_with_too_little_traffic_is_still_waited_for(
    make_deployer: MakeDeployer, world: World
) -> None:
    """Only a frozen baseline is thin for good: at 10 % green, too little traffic extends
    the bake as ever (more minutes can settle it)."""
    world.traffic.per_minute = 100
    deployer = deployer_for(
        make_deployer, ERROR_RATE, canary=[{"weight": 10, "bake": "1m"}], inconclusive_limit=2
    )

    paused = deployer.deploy(V2, detach_at_pause=True)

    assert paused.outcome == "paused"
    assert world.weights(HTTP) == {BLUE: 90, GREEN: 10}
    assert not any(c.lasting for e in record(deployer).analysis for c in e.checks)
