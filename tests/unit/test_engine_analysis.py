"""Metric analysis in the engine, on the fakes and a virtual clock: judged during every
bake and pause, rolled back on a regression, extended or paused when it cannot tell, and
never decided by a CloudWatch error.

The clock starts on a whole minute (T0); green turns healthy and takes its first traffic
at about T0+55s, so the analysis window starts at T0+60s and, with delay = 1m, the first
evaluation is due at T0+180s."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
import recording_hooks
from fakes import BLUE, GREEN, HTTP, HTTPS, World

from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer
from bluegreen.errors import AnalysisFailed, AwsError, ConfigError
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord

V2 = {"web": "repo/web:v2"}
T0 = 1_800_000_000.0
FIRST_EVALUATION = T0 + 180
MakeDeployer = Callable[..., Deployer]
ERROR_RATE = {"name": "error_rate", "max_increase": "25%"}
CANARY = {"type": "steps", "steps": [{"weight": 10, "bake": "5m"}, {"weight": 100}]}


def analysis(*metrics: dict[str, Any], **table: Any) -> dict[str, Any]:
    return {"metrics": list(metrics or [ERROR_RATE]), **table}


def record(deployer: Deployer) -> DeploymentRecord:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def messages(deployer: Deployer) -> list[str]:
    return [e.message for e in record(deployer).events]


def assert_on_blue(world: World) -> None:
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]
    assert world.violations == []


def cloudwatch_down(world: World, until: float = float("inf")) -> None:
    def fail() -> Exception | None:
        if world.clock.now() < until:
            return AwsError("GetMetricData", "ServiceUnavailable", "down", transient=True)
        return None

    world.fail["GetMetricData"] = fail


@pytest.mark.usefixtures("polls_on_the_grid")
def test_an_error_rate_regression_rolls_back_at_the_first_evaluation(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = {GREEN: 0.05, BLUE: 0.005}
    deployer = make_deployer(strategy=CANARY, analysis=analysis())

    with pytest.raises(AnalysisFailed) as caught:
        deployer.deploy(V2)

    assert caught.value.exit_code == 1
    assert_on_blue(world)
    rec = record(deployer)
    assert rec.state is State.ROLLED_BACK and rec.failed_in is State.SHIFTING
    assert rec.reason is not None and rec.reason in str(caught.value)
    assert rec.reason.startswith(
        "analysis failed at 10% green: error_rate: green 5.00% vs blue 0.50% (+900%), "
        "beyond the tolerated +25% (p="
    )
    (entry,) = rec.analysis
    assert entry.at == FIRST_EVALUATION and entry.window == [T0 + 60, T0 + 120]
    (verdict,) = entry.checks
    assert (verdict.status, verdict.green, verdict.blue) == ("fail", 0.05, 0.005)
    assert verdict.samples == [600, 5400] and verdict.p_value is not None
    # the weights went back to blue at that evaluation, four minutes before the bake's end
    assert [(t, w[GREEN]) for t, ref, w in world.writes if ref == HTTP][-1] == (
        FIRST_EVALUATION,
        0,
    )
    # the preflight's read of blue's last hour (requests and 5XX counts), then one read
    # for the evaluation: both colours'
    assert world.metric_reads == [(T0, 2), (FIRST_EVALUATION, 4)]


def test_green_within_tolerance_succeeds_every_bake_judged(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = {GREEN: 0.011, BLUE: 0.010}
    latency = {"name": "latency", "statistic": "p99", "max_increase": "20%"}
    deployer = make_deployer(analysis=analysis(ERROR_RATE, latency))

    result = deployer.deploy(V2)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    rec = record(deployer)
    stages = [e.stage for e in rec.analysis if e.passed]
    assert {"step 1/3 at 10%", "step 2/3 at 50%", "bake at 100%"} <= set(stages)
    assert rec.analysis[-1].passed
    # a 1m bake ends before latency has its 5 shared minutes: extended, never passed early
    said = messages(deployer)
    assert "bake extended by 60s (1/10)" in " ".join(said)
    assert all(
        e.checks[1].status != "pass" for e in rec.analysis if e.window[1] - e.window[0] < 300
    )
    assert any(m.startswith("analysis, step 1/3 at 10%, ") for m in said)
    preflight, *evaluations = world.metric_reads
    assert preflight == (T0, 3)  # blue's requests, 5XX counts and latency
    assert len(evaluations) == len(rec.analysis)  # one read per evaluation
    assert {queries for _, queries in evaluations} == {6}


def test_too_little_traffic_extends_then_pauses(make_deployer: MakeDeployer, world: World) -> None:
    world.traffic.per_minute = 100  # green gets 10 requests a minute at 10 %
    deployer = make_deployer(analysis=analysis(inconclusive_limit=2))

    paused = deployer.deploy(V2, detach_at_pause=True)

    assert paused.outcome == "paused" and paused.exit_code == 0
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 90, GREEN: 10}
    rec = record(deployer)
    assert rec.state is State.PAUSED and rec.analysis
    assert all(c.status == "inconclusive" for e in rec.analysis for c in e.checks)
    said = " | ".join(messages(deployer))
    assert "bake extended by 60s (1/2)" in said and "bake extended by 60s (2/2)" in said
    assert "(3/2)" not in said
    assert "analysis inconclusive at the end of the bake: paused" in said
    assert "too little traffic to compare: green" in said
    # `status` shows the latest verdicts, as text and as JSON
    status = deployer.status().to_dict()
    latest = json.loads(json.dumps(status))["deployment"]["analysis"]
    assert latest["stage"] == "step 1/3 at 10%" and latest["checks"][0]["status"] == "inconclusive"

    world.traffic.per_minute = 6000
    assert deployer.promote().outcome == "succeeded"
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}


def test_a_cloudwatch_error_delays_but_never_decides(
    make_deployer: MakeDeployer, world: World
) -> None:
    cloudwatch_down(world, until=T0 + 400)
    world.traffic.error_rate = {GREEN: 0.01, BLUE: 0.01}
    deployer = make_deployer(analysis=analysis())

    assert deployer.deploy(V2).outcome == "succeeded"

    rec = record(deployer)
    assert rec.analysis and min(e.at for e in rec.analysis) >= T0 + 400
    skipped = [m for m in messages(deployer) if m.startswith("analysis skipped")]
    assert len(skipped) == 4  # T0+180 … T0+360, one a minute
    assert "ServiceUnavailable" in skipped[0]


def test_a_cloudwatch_that_never_answers_pauses_never_passes(
    make_deployer: MakeDeployer, world: World
) -> None:
    cloudwatch_down(world)
    world.traffic.error_rate = {GREEN: 0.5, BLUE: 0.0}  # dreadful, but nobody can see it
    deployer = make_deployer(analysis=analysis(inconclusive_limit=3))

    assert deployer.deploy(V2, detach_at_pause=True).outcome == "paused"

    rec = record(deployer)
    assert rec.analysis == [] and rec.green_percent == 10
    assert any("no evaluation during this bake yet" in m for m in messages(deployer))


@pytest.mark.usefixtures("polls_on_the_grid")
def test_failure_limit_two_needs_two_failed_evaluations_in_a_row(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = {GREEN: 0.05, BLUE: 0.005}
    deployer = make_deployer(strategy=CANARY, analysis=analysis(failure_limit=2))

    with pytest.raises(AnalysisFailed, match=r"\(2 evaluations in a row\): error_rate: green"):
        deployer.deploy(V2)

    assert [e.failed for e in record(deployer).analysis] == [True, True]
    assert [(t, w[GREEN]) for t, ref, w in world.writes if ref == HTTP][-1] == (
        FIRST_EVALUATION + 60,
        0,
    )
    assert_on_blue(world)


@pytest.mark.parametrize(("limit", "outcome"), [(2, "succeeded"), (1, "rolled_back")])
def test_failures_that_are_not_in_a_row_do_not_add_up(
    make_deployer: MakeDeployer, world: World, limit: int, outcome: str
) -> None:
    # green fails its bound in every other minute: never twice in a row
    world.traffic.error_rate = {GREEN: lambda minute: 0.05 if minute % 120 == 0 else 0.0}
    bound = {"name": "error_rate", "max": 0.01}
    deployer = make_deployer(strategy=CANARY, analysis=analysis(bound, failure_limit=limit))

    try:
        result = deployer.deploy(V2).outcome
    except AnalysisFailed as failed:
        result = failed.result.outcome  # type: ignore[attr-defined]

    assert result == outcome
    failed = [e.failed for e in record(deployer).analysis]
    assert True in failed
    assert limit == 1 or not any(a and b for a, b in itertools.pairwise(failed))


def test_a_failing_evaluation_during_a_pause_rolls_back(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = {GREEN: 0.05, BLUE: 0.005}
    steps = {"type": "steps", "steps": [{"weight": 10, "pause": True}, {"weight": 100}]}
    deployer = make_deployer(strategy=steps, analysis=analysis())

    with pytest.raises(AnalysisFailed, match=r"error_rate: green 5\.00% vs blue 0\.50%"):
        deployer.deploy(V2)

    rec = record(deployer)
    assert rec.failed_in is State.PAUSED and rec.analysis[-1].stage == "paused at 10%"
    assert_on_blue(world)


def test_the_bake_after_the_shift_pauses_then_promote_retires_blue(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    def cloudwatch_down_at_100(_now: float) -> None:
        if world.routes[HTTP].get(GREEN) == 100 and "GetMetricData" not in world.fail:
            cloudwatch_down(world)

    clock.on_advance(cloudwatch_down_at_100)
    deployer = make_deployer(strategy=CANARY, analysis=analysis(on_inconclusive="pause"))

    paused = deployer.deploy(V2, detach_at_pause=True)

    assert paused.outcome == "paused" and record(deployer).baked
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100} and len(world.task_sets) == 2
    world.fail.clear()
    assert deployer.promote().outcome == "succeeded"
    assert [ts.target_group for ts in world.task_sets.values()] == [GREEN]
    seen = [e.state.value for e in record(deployer).events]
    tail = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s][-5:]
    assert tail == ["BAKING", "PAUSED", "BAKING", "CLEANING_UP", "SUCCEEDED"]
    assert [c["event"] for c in recording_hooks.CALLS].count("pre_cleanup") == 1


def test_on_inconclusive_fail_rolls_back(make_deployer: MakeDeployer, world: World) -> None:
    world.traffic.per_minute = 100
    deployer = make_deployer(analysis=analysis(on_inconclusive="fail"))
    with pytest.raises(AnalysisFailed, match="analysis inconclusive at the end of the bake at 10%"):
        deployer.deploy(V2)
    assert_on_blue(world)


def test_on_inconclusive_continue_goes_on(make_deployer: MakeDeployer, world: World) -> None:
    world.traffic.per_minute = 100
    deployer = make_deployer(analysis=analysis(on_inconclusive="continue"))
    assert deployer.deploy(V2).outcome == "succeeded"
    assert any("bake ends with the analysis unsettled" in m for m in messages(deployer))


def test_plan_lists_the_checks(make_deployer: MakeDeployer) -> None:
    latency = {"name": "latency", "statistic": "p99", "max": "800ms", "max_increase": "20%"}
    plan = make_deployer(analysis=analysis(ERROR_RATE, latency)).plan(V2)
    steps = [(s.action, s.detail) for s in plan.steps]
    assert (
        "metric check",
        "error_rate: target 5XX / requests of each colour's target group; "
        "against blue at most +25% (98% confidence, ≥ 200 requests each)",
    ) in steps
    assert (
        "metric check",
        "latency p99: target response time (p99) per minute; green at "
        "most 800ms; against blue at most +20% (98% confidence, ≥ 5 shared minutes)",
    ) in steps
    assert any(
        a == "metric analysis"
        and d.startswith(
            "every 60s, 60s behind, judging the latest 600s (at 100 % green, against blue's "
            "as long before the final shift); rollback after 1"
        )
        for a, d in steps
    )


def test_builtins_behind_a_network_load_balancer_are_refused_before_any_change(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.lb_type = "network"
    with pytest.raises(ConfigError, match="no production route is on an Application Load"):
        make_deployer(analysis=analysis()).deploy(V2)
    assert world.writes == [] and "CreateTaskSet" not in world.calls


def test_status_text_shows_the_latest_verdicts(make_deployer: MakeDeployer, world: World) -> None:
    from rich.console import Console

    from bluegreen.cli.view import render_status

    world.traffic.per_minute = 100
    deployer = make_deployer(analysis=analysis(inconclusive_limit=2))
    deployer.deploy(V2, detach_at_pause=True)
    console = Console(record=True, width=200)
    console.print(render_status(deployer.status()))
    text = console.export_text()
    assert "  analysis, step 1/3 at 10%:" in text
    assert "    inconclusive  error_rate: too little traffic to compare: green 30" in text


@pytest.mark.parametrize(("lookback", "minutes"), [(None, 10), ("all", 13), ("5m", 5)])
def test_each_evaluation_judges_the_latest_lookback_minutes(
    make_deployer: MakeDeployer, world: World, lookback: str | None, minutes: int
) -> None:
    """A 15-minute bake: its last evaluation's window holds the lookback (10 minutes by
    default), or every minute since green's first traffic with "all"."""
    table = {"lookback": lookback} if lookback else {}
    long_bake = {"type": "steps", "steps": [{"weight": 10, "bake": "15m"}, {"weight": 100}]}
    deployer = make_deployer(strategy=long_bake, analysis=analysis(**table))

    deployer.deploy(V2)

    at_ten = [e for e in record(deployer).analysis if e.stage.endswith("at 10%")]
    start, end = at_ten[-1].window
    assert (end - start) / 60 == minutes
    assert at_ten[0].window[0] == T0 + 60  # the first minute of green's traffic
