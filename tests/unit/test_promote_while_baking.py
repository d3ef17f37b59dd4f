"""The emergency path, on the fakes and a virtual clock: a promote ends a bake early (a
stage's, an analysis-extended one, the bake after the shift), `--full` goes straight to
100% on every listener, and `--skip-analysis` turns the metric analysis off for the rest
of the deployment, recorded with who asked, while health gates and alarms still act.

Every stage here bakes an hour, so anything that happens sooner was the promote's doing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, World, replace_health

from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer
from bluegreen.errors import GateFailed, UsageError
from bluegreen.machine import State
from bluegreen.model import AlarmState, HealthState
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store.holder import actor

V2 = {"web": "repo/web:v2"}
HOUR = 3600.0
MakeDeployer = Callable[..., Deployer]
LONG = {
    "type": "steps",
    "steps": [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "1h"}, {"weight": 100}],
}
LONG_BAKES = {"strategy": LONG, "gates": {"bake_after_shift": "1h", "termination_wait": "0s"}}
BAD_GREEN = {GREEN: 0.05, BLUE: 0.005}  # the analysis rolls this back at its first look
ERROR_RATE = {"metrics": [{"name": "error_rate", "max_increase": "25%"}]}


def record(deployer: Deployer) -> DeploymentRecord:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def green_writes(world: World) -> list[tuple[float, int]]:
    return [(t, w[GREEN]) for t, ref, w in world.writes if ref == HTTP]


def post_once(
    deployer: Deployer,
    clock: VirtualClock,
    when: Callable[[DeploymentRecord], bool],
    **request: Any,
) -> list[float]:
    """Post a promote request (as `bluegreen promote` does) the first time `when` holds;
    returns the list the posting time is put in."""
    posted: list[float] = []

    def maybe(now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        if not posted and rec is not None and when(rec):
            posted.append(now)
            req = Request(kind="promote", at=now, by="oncall@laptop", **request)
            deployer.store.post_request(rec.service_key, rec.id, req)

    clock.on_advance(maybe)
    return posted


def test_promote_full_while_a_stage_bakes_moves_every_listener_to_green_at_once(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    deployer = make_deployer(**LONG_BAKES)
    posted = post_once(deployer, clock, lambda r: r.green_percent == 10, full=True)

    result = deployer.deploy(V2)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    (t10, _), (t100, _) = writes = green_writes(world)
    assert [w for _, w in writes] == [10, 100]  # 50% skipped
    # within one poll of the request, not at the end of the hour's bake
    assert posted and t100 - posted[0] <= 5 and t100 - t10 < HOUR
    # the bake after the shift is skipped too: blue retired right after
    rec = record(deployer)
    assert rec.ended_at is not None and rec.ended_at - t100 < 60
    (taken,) = rec.promotions
    assert (taken.by, taken.full, taken.ignored) == ("oncall@laptop", True, None)
    assert taken.during == "step 1/3 at 10%"
    said = [e.message for e in rec.events]
    assert (
        "promoted --full by oncall@laptop: bake ended (step 1/3 at 10%); on to 100% green, "
        "no more bakes" in said
    )
    assert world.violations == []


def test_promote_while_a_stage_bakes_ends_that_bake_only(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    deployer = make_deployer(**LONG_BAKES)
    posted = post_once(deployer, clock, lambda r: r.green_percent == 10)

    assert deployer.deploy(V2).outcome == "succeeded"

    writes = green_writes(world)
    assert [w for _, w in writes] == [10, 50, 100]
    (_, _), (t50, _), (t100, _) = writes
    assert t50 - posted[0] <= 5  # the 10% bake ended at the promote
    assert t100 - t50 >= HOUR  # the 50% stage baked its whole hour
    rec = record(deployer)
    assert rec.ended_at is not None and rec.ended_at - t100 >= HOUR  # and so did the last bake
    assert not rec.promoted_full


def test_promote_during_the_bake_after_the_shift_ends_it(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    deployer = make_deployer(strategy={"type": "all-at-once"}, gates=LONG_BAKES["gates"])
    posted = post_once(deployer, clock, lambda r: r.state is State.BAKING)

    assert deployer.deploy(V2).outcome == "succeeded"

    rec = record(deployer)
    assert rec.ended_at is not None and rec.ended_at - posted[0] <= 5
    assert rec.promotions[0].during == "bake at 100%" and rec.baked
    assert [ts.target_group for ts in world.task_sets.values()] == [GREEN]


def test_promote_full_ends_a_bake_the_analysis_keeps_extending(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    world.traffic.per_minute = 100  # too little traffic: inconclusive, extended again and again
    analysis = {**ERROR_RATE, "inconclusive_limit": 50}
    deployer = make_deployer(analysis=analysis)  # 1m bakes, extended a minute at a time
    posted = post_once(
        deployer,
        clock,
        lambda r: any("bake extended by 60s (3/50)" in e.message for e in r.events),
        full=True,
    )

    assert deployer.deploy(V2).outcome == "succeeded"

    assert [w for _, w in green_writes(world)] == [10, 100]
    assert green_writes(world)[-1][0] - posted[0] <= 5
    said = " | ".join(e.message for e in record(deployer).events)
    assert "(4/50)" not in said.split("promoted --full")[0]


def test_a_green_without_a_healthy_target_is_never_promoted_to(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    deployer = make_deployer(**LONG_BAKES)
    done: list[bool] = []

    def green_down_when_promoted(_now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        if rec and rec.green_percent == 10 and not done:
            done.append(True)
            replace_health(world, GREEN, HealthState.UNHEALTHY, "Target.Timeout")
            req = Request(kind="promote", full=True, by="oncall@laptop")
            deployer.store.post_request(rec.service_key, rec.id, req)

    clock.on_advance(green_down_when_promoted)

    with pytest.raises(GateFailed):
        deployer.deploy(V2)

    assert 100 not in [w for _, w in green_writes(world)]
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}


def test_promote_from_the_api_after_the_process_died_mid_bake(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    class Killed(BaseException):
        pass

    deployer = make_deployer(**LONG_BAKES)

    def kill_mid_bake(now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        baking = rec and rec.state is State.SHIFTING and rec.green_percent == 10
        if baking and rec and now - rec.updated_at > 600:
            raise Killed

    clock.on_advance(kill_mid_bake)
    with pytest.raises(Killed):
        deployer.deploy(V2)
    clock._listeners.remove(kill_mid_bake)
    assert record(deployer).state is State.SHIFTING

    result = make_deployer(**LONG_BAKES).promote(full=True)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    assert 50 not in [w for _, w in green_writes(world)]
    assert record(deployer).promotions[0].by == actor()


def test_promote_is_refused_before_green_takes_traffic(
    make_deployer: MakeDeployer, clock: VirtualClock
) -> None:
    class Killed(BaseException):
        pass

    deployer = make_deployer(**LONG_BAKES)

    def kill_while_waiting(_now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        if rec and rec.state is State.WAITING_HEALTHY:
            raise Killed

    clock.on_advance(kill_while_waiting)
    with pytest.raises(Killed):
        deployer.deploy(V2)

    with pytest.raises(UsageError) as refused:
        deployer.promote(full=True)
    assert "is WAITING_HEALTHY: a promote acts at a pause or while traffic bakes" in str(
        refused.value
    )
    assert refused.value.exit_code == 2


def test_a_promote_taken_while_waiting_for_health_is_ignored_and_says_so(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    deployer = make_deployer()
    post_once(deployer, clock, lambda r: r.state is State.WAITING_HEALTHY, full=True)

    assert deployer.deploy(V2).outcome == "succeeded"

    rec = record(deployer)
    (ignored,) = rec.promotions
    assert ignored.ignored == "the deployment is WAITING_HEALTHY, neither paused nor baking"
    assert not rec.promoted_full
    assert [w for _, w in green_writes(world)] == [10, 50, 100]  # not acted on later


# ------------------------------------------------------------------ --skip-analysis


def test_skip_analysis_lets_a_release_through_a_failing_analysis(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = BAD_GREEN
    deployer = make_deployer(analysis=ERROR_RATE)

    result = deployer.deploy(V2, skip_analysis=True)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    rec = record(deployer)
    assert rec.analysis == [] and world.metric_reads == []
    assert rec.skip_analysis is not None
    assert (rec.skip_analysis.by, rec.skip_analysis.via) == (actor(), "deploy")
    assert rec.skip_analysis.at == rec.created_at
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["skip_analysis"]["by"] == actor()
    assert summary["skip_analysis"]["via"] == "deploy"
    said = [e.message for e in rec.events]
    assert any(
        m.startswith(
            f"metric analysis skipped for the rest of the deployment, asked by {actor()} at "
        )
        and m.endswith("(deploy --skip-analysis); health gates and alarms are still watched")
        for m in said
    )


def test_without_skip_analysis_the_same_release_is_rolled_back(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = BAD_GREEN
    with pytest.raises(Exception, match="analysis failed"):
        make_deployer(analysis=ERROR_RATE).deploy(V2)
    assert world.weights(HTTP) == {BLUE: 100, GREEN: 0}


def test_skip_analysis_keeps_the_alarms(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    world.traffic.error_rate = BAD_GREEN
    world.alarms["web-5xx"] = AlarmState.OK
    deployer = make_deployer(analysis=ERROR_RATE, gates={"alarms": ["web-5xx"]})

    def alarm_at_50(_now: float) -> None:
        if world.routes[HTTP].get(GREEN) == 50:
            world.alarms["web-5xx"] = AlarmState.ALARM

    clock.on_advance(alarm_at_50)
    with pytest.raises(GateFailed, match="web-5xx"):
        deployer.deploy(V2, skip_analysis=True)
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}


def test_promote_skip_analysis_at_a_pause_stops_the_analysis_from_then_on(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.per_minute = 100  # inconclusive: the bake pauses for a person
    deployer = make_deployer(analysis={**ERROR_RATE, "inconclusive_limit": 3})
    assert deployer.deploy(V2, detach_at_pause=True).outcome == "paused"
    reads_before = len(world.metric_reads)
    assert reads_before > 0

    result = deployer.promote(skip_analysis=True)

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}
    assert len(world.metric_reads) == reads_before  # the 50% and 100% bakes read nothing
    rec = record(deployer)
    assert rec.skip_analysis is not None and rec.skip_analysis.via == "promote"
    assert rec.skip_analysis.by == actor() and rec.promotions[0].skip_analysis


def test_resume_skip_analysis_after_the_process_died(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    class Killed(BaseException):
        pass

    world.traffic.error_rate = BAD_GREEN
    deployer = make_deployer(analysis=ERROR_RATE)

    def kill_at_10(_now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        if rec and rec.green_percent == 10 and rec.state is State.SHIFTING:
            raise Killed  # before the first evaluation (three minutes after green's traffic)

    clock.on_advance(kill_at_10)
    with pytest.raises(Killed):
        deployer.deploy(V2)
    clock._listeners.remove(kill_at_10)

    assert deployer.resume(skip_analysis=True).outcome == "succeeded"
    rec = record(deployer)
    assert rec.analysis == [] and rec.skip_analysis is not None
    assert rec.skip_analysis.via == "resume"


def test_plan_says_the_analysis_is_skipped(make_deployer: MakeDeployer) -> None:
    deployer = make_deployer(analysis=ERROR_RATE)
    steps = [(s.action, s.detail) for s in deployer.plan(V2, skip_analysis=True).steps]
    assert (
        "metric analysis",
        "skipped (--skip-analysis): no metric check is run; the gates above are",
    ) in steps
    assert not any(a == "metric check" for a, _ in steps)
    assert any(a == "metric check" for a, _ in [(s.action, 0) for s in deployer.plan(V2).steps])


def test_skip_analysis_passes_an_analysis_that_cannot_be_read(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.lb_type = "network"  # the built-in checks need an Application Load Balancer
    deployer = make_deployer(analysis=ERROR_RATE)
    assert deployer.deploy(V2, skip_analysis=True).outcome == "succeeded"
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}


def test_the_verdicts_an_event_carries_are_not_saved_twice(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.traffic.error_rate = {GREEN: 0.01, BLUE: 0.01}
    seen = []
    deployer = make_deployer(analysis=ERROR_RATE)
    deployer.deploy(V2, on_event=seen.append)

    told = [e for e in seen if e.analysis is not None]
    assert told and all(e.message.startswith("analysis, ") for e in told)
    assert told[-1].analysis == record(deployer).analysis[-1]
    saved = record(deployer).model_dump()
    assert all("analysis" not in e for e in saved["events"])
