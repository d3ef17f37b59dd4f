"""Metric analysis end to end on the simulated AWS: the sandbox publishes each target
group's per-minute load-balancer metrics, bluegreen reads them with GetMetricData (Sum:
moto answers it) and judges green's error rate against blue's."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from test_deploy import IMAGE, deployer, weights

from bluegreen import Deployer
from bluegreen.errors import AnalysisFailed
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack

ERROR_RATE = {"metrics": [{"name": "error_rate", "max_increase": "25%"}]}


def test_green_erring_more_than_blue_is_rolled_back_naming_both_rates(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    sandbox.apps[f"{IMAGE}:4.0.0"] = AppModel(error_rate=0.2)

    with pytest.raises(AnalysisFailed) as caught:
        deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE).deploy(
            images={"web": f"{IMAGE}:4.0.0"}
        )

    assert "analysis failed at 10% green: error_rate: green 20" in str(caught.value)
    assert "vs blue 0.00%" in str(caught.value)
    assert weights(stack) == [(100, 0), (100, 0)]


def test_green_as_good_as_blue_goes_through(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)
    result = run.deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert result.outcome == "succeeded" and weights(stack) == [(0, 100), (0, 100)]
    latest = run.status().to_dict()["deployment"]["analysis"]
    assert latest["stage"] == "bake at 100%"
    assert [c["status"] for c in latest["checks"]] == ["pass"]


# ---------------------------------------------------------------- the scenarios
# Blue answers 0.1 % of requests with 500 and takes 50 ms (p99 200 ms); each scenario's
# green differs from it in one way. The sandbox sends 50 requests a second to each of the
# two production listeners: at the 10 % canary green gets about 600 a minute.

BLUE = AppModel(error_rate=0.001, latency=0.05, latency_p99=0.2)
LATENCY_P99 = {"metrics": [{"name": "latency", "statistic": "p99", "max_increase": "20%"}]}


def _release(sandbox: Sandbox, green: AppModel) -> str:
    sandbox.apps[f"{IMAGE}:1.0.0"] = BLUE
    sandbox.apps[f"{IMAGE}:5.0.0"] = green
    return f"{IMAGE}:5.0.0"


def _latest_record(run: Deployer) -> DeploymentRecord:
    (latest, *_) = run.history()
    return latest


def test_two_percent_errors_against_blues_tenth_is_rolled_back_at_the_first_verdict(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    image = _release(sandbox, replace(BLUE, error_rate=0.02))
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)

    with pytest.raises(AnalysisFailed) as caught:
        run.deploy(images={"web": image})

    record = _latest_record(run)
    assert weights(stack) == [(100, 0), (100, 0)]
    (first,) = record.analysis  # the first verdict decided it
    assert first.stage == "step 1/2 at 10%"
    (check,) = first.checks
    assert check.status == "fail" and check.check == "error_rate"
    assert 0.012 < check.green < 0.03 and check.blue < 0.003  # type: ignore[operator]
    message = str(caught.value)
    assert re.search(r"error_rate: green \d\.\d+% vs blue 0\.\d+%", message), message
    # The verdict comes one minute of canary traffic plus the metrics' delay after the shift.
    assert record.green_traffic_since is not None
    assert first.at - record.green_traffic_since <= 3 * 60


def test_forty_percent_slower_p99_against_a_twenty_percent_allowance_is_rolled_back(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    image = _release(sandbox, replace(BLUE, latency_p99=0.28))
    run = deployer(sandbox, stack, tmp_path, analysis=LATENCY_P99)

    with pytest.raises(AnalysisFailed) as caught:
        run.deploy(images={"web": image})

    assert weights(stack) == [(100, 0), (100, 0)]
    (check,) = _latest_record(run).analysis[-1].checks
    assert check.status == "fail" and check.samples[0] >= 5
    assert 0.24 < check.green < 0.33 and 0.17 < check.blue < 0.23  # type: ignore[operator]
    assert "latency p99: green" in str(caught.value)


def test_a_green_within_tolerance_of_blue_goes_through(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    image = _release(sandbox, replace(BLUE, error_rate=0.0011, latency_p99=0.21))
    both = {"metrics": [*ERROR_RATE["metrics"], *LATENCY_P99["metrics"]]}
    run = deployer(sandbox, stack, tmp_path, analysis=both)

    result = run.deploy(images={"web": image})

    assert result.outcome == "succeeded" and weights(stack) == [(0, 100), (0, 100)]
    assert _latest_record(run).analysis[-1].passed


def test_a_release_with_almost_no_traffic_is_inconclusive_and_pauses_as_configured(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    """By default an inconclusive bake is extended an interval at a time, ten times, then
    the deployment pauses for a person."""
    sandbox.request_rate = 0.5  # 30 requests a minute per listener: green gets 6 at 10 %
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)

    result = run.deploy(images={"web": f"{IMAGE}:2.0.0"}, detach_at_pause=True)

    record = _latest_record(run)
    assert (result.outcome, record.state) == ("paused", State.PAUSED)
    assert weights(stack) == [(90, 10), (90, 10)]  # never a pass: the canary stays put
    assert {c.status for e in record.analysis for c in e.checks} == {"inconclusive"}
    (last,) = record.analysis[-1].checks
    assert "too little traffic to compare" in last.reason and last.samples[0] < 200
    extended = [e.message for e in record.events if e.message.startswith("bake extended by 60s (")]
    assert len(extended) == 10 and "(10/10)" in extended[-1]


def test_a_release_with_almost_no_traffic_fails_when_so_configured(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    sandbox.request_rate = 0.5
    run = deployer(sandbox, stack, tmp_path, analysis={**ERROR_RATE, "on_inconclusive": "fail"})

    with pytest.raises(AnalysisFailed, match="analysis inconclusive at the end of the bake"):
        run.deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert weights(stack) == [(100, 0), (100, 0)]


def test_a_bake_shorter_than_the_first_verdict_waits_for_it_even_when_inconclusive_fails(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    """A two-minute bake ends before its first evaluation (a minute of traffic plus the
    delay): not judged is not inconclusive, so a good release is not rolled back."""
    run = deployer(sandbox, stack, tmp_path, analysis={**ERROR_RATE, "on_inconclusive": "fail"})

    result = run.deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert result.outcome == "succeeded" and weights(stack) == [(0, 100), (0, 100)]
    record = _latest_record(run)
    assert any("until the analysis's first verdict" in e.message for e in record.events)


def _throttle_metric_reads(sandbox: Sandbox, minutes: float) -> float:
    """Every GetMetricData call is throttled for `minutes` from now; returns when it ends."""
    faults = sandbox.faults
    throttled = faults.throttle("GetMetricData")
    until = sandbox.clock.now() + minutes * 60

    def lift(now: float) -> None:
        if throttled in faults.rules and now >= until:
            faults.remove(throttled)

    sandbox.on_tick(lift)
    return until


def test_cloudwatch_throttling_delays_a_verdict_but_never_decides_it(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    """Throttled for five minutes from the start: every evaluation then is skipped (no
    verdict, no failure); the bake is extended until one is made, and the good release
    goes through; the bad one is rolled back by the first verdict after the throttling."""
    image = _release(sandbox, replace(BLUE, error_rate=0.02))
    until = _throttle_metric_reads(sandbox, minutes=8)
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)

    with pytest.raises(AnalysisFailed):
        run.deploy(images={"web": image})

    record = _latest_record(run)
    skipped = [e.message for e in record.events if "analysis skipped" in e.message]
    assert skipped and all("Throttling" in m or "Rate exceeded" in m for m in skipped)
    assert sandbox.faults.injected["GetMetricData", "Throttling"] >= len(skipped)
    (verdict,) = record.analysis  # the throttled evaluations left no verdict
    assert verdict.at >= until and verdict.failed
    assert weights(stack) == [(100, 0), (100, 0)]


def test_cloudwatch_throttling_does_not_fail_a_good_release(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    _throttle_metric_reads(sandbox, minutes=8)
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)

    result = run.deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert result.outcome == "succeeded" and weights(stack) == [(0, 100), (0, 100)]
    assert any("bake extended" in e.message for e in _latest_record(run).events)


def test_skip_analysis_lets_a_release_through_an_analysis_that_fails_it(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    from bluegreen.store.holder import actor

    sandbox.apps[f"{IMAGE}:4.0.0"] = AppModel(error_rate=0.2)  # the analysis would roll back
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)

    result = run.deploy(images={"web": f"{IMAGE}:4.0.0"}, skip_analysis=True)

    assert result.outcome == "succeeded" and weights(stack) == [(0, 100), (0, 100)]
    shown = run.status().to_dict()["deployment"]
    assert shown["analysis"] is None  # never evaluated
    assert shown["skip_analysis"]["by"] == actor()
    assert shown["skip_analysis"]["via"] == "deploy"
    assert result.to_dict()["skip_analysis"] == shown["skip_analysis"]
