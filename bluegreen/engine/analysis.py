"""Metric analysis during a deployment: when to evaluate, the one read, what is recorded,
and what the end of a bake requires. The judging itself is bluegreen.analysis's (pure).

Rules:
- Evaluations run while a stage bakes, while the deployment is paused and during the bake
  after the shift (Watcher.watch with analyse=True). The first is due once the first
  whole minute after green first took production traffic is `delay` old; then one every
  `interval`, on CloudWatch's minutes. The window starts at that first minute, or
  `lookback` before its end when that is later.
- Once green takes 100 % on every route (the record's `blue_traffic_until`, set by the
  shift), blue serves nothing: comparisons judge blue's baseline frozen at that moment
  (analysis/window.py), read in the same one request, its window widened back to cover
  it. The event and the record say "blue: baseline until HH:MM".
- Each evaluation is ONE metric read for every check of both colours. Its verdicts are
  appended to the record (the latest MAX_ANALYSIS_ENTRIES) and told as one event.
- A CloudWatch error (after the AwsCaller's retries) skips the evaluation: an event says
  so, and it is no verdict — it neither counts as a failure nor resets the failures.
- An evaluation fails when any check fails; `failure_limit` failed evaluations in a row
  roll back, with a reason naming each failing metric with green's and blue's values.
- Once the record says `skip_analysis` (someone asked for it: `--skip-analysis`), nothing
  is evaluated and no bake is held for the analysis; health gates and alarms go on.
- At the end of a bake, the latest evaluation made during it must pass every check; if
  not (inconclusive, a failure short of the limit) `on_inconclusive` decides: extend (one
  more interval, up to `inconclusive_limit` times, then pause), pause, fail (roll back) or
  continue. A bake that ended before its first evaluation was due has not been judged:
  unless `continue`, it first bakes on until that evaluation.
- A comparison left inconclusive because blue's frozen baseline is too thin (`lasting`)
  cannot be settled by any wait — blue will not take traffic again — so it holds no bake,
  whatever `on_inconclusive` says: the bake ends on what can be judged (green's bounds,
  the other checks, each of which must pass) and an event says which comparison was not
  made. Failures still roll back as ever.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bluegreen.analysis import (
    Colour,
    QueryPlan,
    baseline_window,
    colour_of,
    first_due,
    judge,
    minute_floor,
    plan_queries,
    window_at,
)
from bluegreen.clock import Clock
from bluegreen.config import DeploymentConfig
from bluegreen.errors import AnalysisFailed, AwsError
from bluegreen.machine import State
from bluegreen.model import LoadBalancer
from bluegreen.ports import Cloud
from bluegreen.record import AnalysisEntry, CheckEntry, DeploymentRecord


class Note(Protocol):
    """Engine.event: an event in the record, logged and told; `analysis` is the evaluation
    it tells of, for a live view."""

    def __call__(
        self, rec: DeploymentRecord, message: str, /, *, analysis: AnalysisEntry | None = None
    ) -> Any: ...


class Analyst:
    def __init__(self, config: DeploymentConfig, cloud: Cloud, clock: Clock, note: Note) -> None:
        self.config = config
        self.analysis = config.analysis
        self.cloud = cloud
        self.clock = clock
        self._note = note
        self._plan: QueryPlan | None = None
        self._next_due: float | None = None

    def poll(self, rec: DeploymentRecord) -> None:
        """Evaluate if one is due. Raises AnalysisFailed at `failure_limit` in a row."""
        analysis = self.analysis
        if analysis is None or not self._judging(rec) or rec.green_traffic_since is None:
            return
        now = self.clock.now()
        if self._next_due is None:
            self._next_due = first_due(rec.green_traffic_since, analysis.delay)
        if now < self._next_due:
            return
        self._next_due = minute_floor(now - analysis.delay) + analysis.interval + analysis.delay
        lookback = analysis.lookback_seconds
        window = window_at(now, rec.green_traffic_since, analysis.delay, lookback)
        if window is None:
            return
        baseline = baseline_window(window, rec.blue_traffic_until, lookback)
        start = min(window.start, baseline.start) if baseline else window.start
        try:
            plan = self._plan_for(rec)
            answer = self.cloud.metrics.metric_data(plan.queries, start, window.end)
        except AwsError as exc:
            self._note(rec, f"analysis skipped ({stage_of(rec)}): {exc.message}")
            return
        verdicts = [
            judge(c, plan.data(c, answer), window, analysis.interval, baseline)
            for c in analysis.metrics
        ]
        entry = AnalysisEntry(
            at=now,
            stage=stage_of(rec),
            window=[window.start, window.end],
            checks=[CheckEntry.model_validate(v.to_dict()) for v in verdicts],
            baseline=[baseline.start, baseline.end] if baseline else None,
        )
        rec.add_analysis(entry)
        self._note(rec, describe_entry(entry), analysis=entry)
        self._fail_at_the_limit(rec)

    def settle(self, rec: DeploymentRecord, since: float, wait: Callable[[float], bool]) -> bool:
        """At the end of a bake that began at `since`: True when it may end, False when the
        deployment must pause. `wait(seconds)` bakes on (evaluating) for an extension; it
        returns True when a promote ended the bake, which then ends here too."""
        analysis = self.analysis
        if analysis is None or not self._judging(rec):
            return True
        if self._await_a_first_verdict(rec, since, wait):
            return True  # a promote ended the bake
        for extension in itertools.count(1):
            latest = next((e for e in reversed(rec.analysis) if e.at >= since), None)
            if latest is not None and latest.passed:
                return True
            if latest is not None and latest.settled:  # no wait can settle the rest
                self._note(rec, f"bake ends with what can be judged: {_not_passing(latest)}")
                return True
            why = _not_passing(latest)
            if analysis.on_inconclusive == "extend" and extension <= analysis.inconclusive_limit:
                self._note(
                    rec,
                    f"bake extended by {analysis.interval:g}s "
                    f"({extension}/{analysis.inconclusive_limit}): {why}",
                )
                if wait(analysis.interval):
                    return True
                continue
            if analysis.on_inconclusive == "continue":
                self._note(rec, f"bake ends with the analysis unsettled (continue): {why}")
                return True
            if analysis.on_inconclusive == "fail":
                raise AnalysisFailed(
                    f"analysis inconclusive at the end of the bake at {rec.green_percent}% "
                    f"green: {why}"
                )
            self._note(
                rec,
                f"analysis inconclusive at the end of the bake: paused for `bluegreen "
                f"promote` or `bluegreen rollback`: {why}",
            )
            return False
        raise AssertionError("unreachable")  # pragma: no cover

    def _judging(self, rec: DeploymentRecord) -> bool:
        """There are metric checks (not smoke checks only), and nobody switched them off."""
        return bool(self.analysis and self.analysis.metrics) and rec.skip_analysis is None

    def _await_a_first_verdict(
        self, rec: DeploymentRecord, since: float, wait: Callable[[float], bool]
    ) -> bool:
        """A bake that ends before its first evaluation was due has not been judged at
        all, which is not the same as inconclusive: it bakes on until that evaluation
        (at most an interval and the delay), unless the user chose `continue`. True when
        a promote ended that wait."""
        assert self.analysis is not None
        if self.analysis.on_inconclusive == "continue" or rec.green_traffic_since is None:
            return False
        if any(e.at >= since for e in rec.analysis):
            return False
        due = self._next_due or first_due(rec.green_traffic_since, self.analysis.delay)
        remaining = due - self.clock.now()
        if remaining <= 0:
            return False
        self._note(rec, f"bake extended by {remaining:g}s until the analysis's first verdict")
        return wait(remaining)

    def _plan_for(self, rec: DeploymentRecord) -> QueryPlan:
        if self._plan is None:
            assert self.analysis is not None
            albs = self._application_load_balancers(rec)
            self._plan = plan_queries(self.analysis.metrics, *colours_of(self.config, rec, albs))
        return self._plan

    def _application_load_balancers(self, rec: DeploymentRecord) -> tuple[str, ...]:
        routes = [self.cloud.elb.route(entry.ref) for entry in rec.routes]
        arns = dict.fromkeys(r.load_balancer_arn for r in routes if r.load_balancer_arn)
        return tuple(a for a in arns if self.cloud.elb.load_balancer(a).type == "application")

    def _fail_at_the_limit(self, rec: DeploymentRecord) -> None:
        assert self.analysis is not None
        in_a_row = sum(1 for _ in itertools.takewhile(lambda e: e.failed, reversed(rec.analysis)))
        if in_a_row < self.analysis.failure_limit:
            return
        failing = "; ".join(c.reason for c in rec.analysis[-1].checks if c.status == "fail")
        times = f" ({in_a_row} evaluations in a row)" if in_a_row > 1 else ""
        raise AnalysisFailed(f"analysis failed at {rec.green_percent}% green{times}: {failing}")


def mark_traffic(rec: DeploymentRecord, green_weight: int, now: float) -> None:
    """After a shift to `green_weight` on every route, the moments the analysis's windows
    hang on: green's first production traffic (its window starts) and blue's last (green
    at 100 %: blue's baseline freezes). The first of each is kept: a resume re-applies."""
    if green_weight and rec.green_traffic_since is None:
        rec.green_traffic_since = now
    if green_weight == 100 and rec.blue_traffic_until is None:
        rec.blue_traffic_until = now


def colours_of(
    config: DeploymentConfig, rec: DeploymentRecord, load_balancers: Sequence[str]
) -> tuple[Colour, Colour]:
    """What the placeholders of each colour stand for, from the record."""
    blue = (rec.blue_target_group, rec.blue_service, rec.blue_task_set)
    green = (rec.green_target_group, rec.green_service, rec.green_task_set)
    return colour_of(config, "blue", load_balancers, *blue), colour_of(
        config, "green", load_balancers, *green
    )


def check_readable(
    config: DeploymentConfig, target_groups: tuple[str, str], load_balancers: Sequence[LoadBalancer]
) -> None:
    """Before any change: the analysis's queries fit one read, and the built-in checks
    have an Application Load Balancer to read (ConfigError otherwise)."""
    if config.analysis and config.analysis.metrics:
        albs = [lb.arn for lb in load_balancers if lb.type == "application"]
        blue = colour_of(config, "blue", albs, target_groups[0])
        green = colour_of(config, "green", albs, target_groups[1])
        plan_queries(config.analysis.metrics, blue, green)


def stage_of(rec: DeploymentRecord) -> str:
    if rec.state is State.PAUSED:
        return f"paused at {rec.green_percent}%"
    if rec.state is State.BAKING:
        return f"bake at {rec.green_percent}%"
    return f"step {rec.step + 1}/{len(rec.stages)} at {rec.green_percent}%"


def describe_entry(entry: AnalysisEntry) -> str:
    """One line per evaluation: "analysis, step 1/3 at 10%, 10:01–10:04: FAIL error_rate: …"."""
    start, end = (time.strftime("%H:%M", time.gmtime(t)) for t in entry.window)
    checks = "; ".join(f"{c.status.upper()} {c.reason}" for c in entry.checks)
    frozen = ""
    if entry.baseline:
        frozen = f" (blue: baseline until {time.strftime('%H:%M', time.gmtime(entry.baseline[1]))})"
    return f"analysis, {entry.stage}, {start}–{end} UTC{frozen}: {checks}"


def _not_passing(entry: AnalysisEntry | None) -> str:
    if entry is None:
        return "no evaluation during this bake yet"
    return "; ".join(f"{c.status} {c.reason}" for c in entry.checks if c.status != "pass")
