"""The deployment record: everything needed to resume or roll back a deployment from
another process, given what AWS shows. Saved on every transition, before the action.

Nothing secret goes in here: no task-definition environment, no hook output.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from bluegreen.machine import State, check_transition
from bluegreen.model import RouteKind, RouteRef
from bluegreen.scaling import ScalingHold
from bluegreen.strategies import Stage
from bluegreen.timeline import Sample, observed


class RouteEntry(BaseModel):
    kind: RouteKind
    arn: str
    swap: bool = False

    @property
    def ref(self) -> RouteRef:
        return RouteRef(self.kind, self.arn, self.swap)

    @classmethod
    def of(cls, ref: RouteRef) -> RouteEntry:
        return cls(kind=ref.kind, arn=ref.arn, swap=ref.swap)


class StageEntry(BaseModel):
    weight: int
    bake: float = 0.0
    pause: bool = False

    @property
    def stage(self) -> Stage:
        return Stage(self.weight, self.bake, self.pause)

    @classmethod
    def of(cls, stage: Stage) -> StageEntry:
        return cls(weight=stage.weight, bake=stage.bake, pause=stage.pause)


class Request(BaseModel):
    """Promote or rollback, asked for from another process (or this one). `id` lets the
    asker find what the running deployment did about it (DeploymentRecord.promotions)."""

    kind: Literal["promote", "rollback"]
    full: bool = False
    skip_analysis: bool = False  # promote: no metric analysis for the rest of the run
    reason: str | None = None
    at: float = 0.0
    by: str = ""
    id: str = Field(default_factory=lambda: secrets.token_hex(4))


class Promotion(BaseModel):
    """A promote request the running deployment took: who asked, when, and what came of
    it (`ignored` says why when it could not act)."""

    request: str  # Request.id
    at: float  # when it was taken
    by: str
    full: bool = False
    skip_analysis: bool = False
    during: str = ""  # "paused at 10%", "bake at 10%"
    ignored: str | None = None


class SkipAnalysis(BaseModel):
    """Who turned the metric analysis off for the rest of a deployment, when, and how."""

    by: str
    at: float
    via: Literal["deploy", "promote", "resume"]

    def describe(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.at))
        return f"asked by {self.by or 'unknown'} at {stamp} ({self.via} --skip-analysis)"


class CheckEntry(BaseModel):
    """One check's verdict, as the record keeps it (bluegreen.analysis.Verdict.to_dict)."""

    check: str
    status: Literal["pass", "fail", "inconclusive"]
    green: float | None = None
    blue: float | None = None
    effect: float | None = None  # green's change relative to blue
    u: float | None = None
    p_value: float | None = None
    samples: list[int] = Field(default_factory=lambda: [0, 0])  # green, blue
    reason: str = ""
    baseline_until: float | None = None  # blue judged on its minutes frozen until then
    lasting: bool = False  # inconclusive for good: blue's frozen baseline is too thin


class AnalysisEntry(BaseModel):
    """One evaluation of the metric checks: when, during which stage, over which minutes."""

    at: float
    stage: str
    window: list[float]  # [start, end): whole minutes, epoch seconds
    checks: list[CheckEntry]
    # blue's minutes a comparison judged, once blue took no more traffic: [start, end)
    baseline: list[float] | None = None

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    @property
    def passed(self) -> bool:
        return all(c.status == "pass" for c in self.checks)

    @property
    def settled(self) -> bool:
        """Nothing left that waiting could decide: every check passed, or is inconclusive
        only because blue's frozen baseline is too thin to compare with."""
        return all(
            c.status == "pass" or (c.status == "inconclusive" and c.lasting) for c in self.checks
        )


class SmokeEntry(BaseModel):
    """One smoke check's verdict (bluegreen.smoke.SmokeVerdict.to_dict); headers never."""

    check: str
    status: Literal["pass", "fail"]
    url: str
    requests: int
    passed: int
    reason: str = ""
    at: float = 0.0


class CleanupLeft(BaseModel):
    """A deployment that succeeded but could not retire blue: what AWS answered, and the
    command that retires it by hand (`bluegreen resume` tries again)."""

    error: str
    command: str


class Event(BaseModel):
    at: float
    state: State
    message: str
    # the evaluation an analysis event tells of, for a live view; never saved twice
    analysis: AnalysisEntry | None = Field(default=None, exclude=True)


# The record keeps the latest evaluations only: a day's pause at one a minute would
# otherwise make every save of the record larger.
MAX_ANALYSIS_ENTRIES = 240


def new_deployment_id(now: float) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return f"bg-{stamp}-{secrets.token_hex(3)}"


class DeploymentRecord(BaseModel):
    id: str
    service_key: str
    cluster: str
    service: str
    state: State = State.PENDING
    created_at: float
    updated_at: float
    ended_at: float | None = None
    blue_target_group: str | None = None
    green_target_group: str | None = None
    routes: list[RouteEntry] = Field(default_factory=list)
    test_route: RouteEntry | None = None
    test_route_weights: dict[str, int] | None = None  # as found
    test_route_moved: bool = False
    test_url: str | None = None  # the test listener's address, for hooks (http_smoke.py)
    stages: list[StageEntry] = Field(default_factory=list)
    step: int = 0
    green_percent: int = 0
    from_task_definition: str | None = None
    to_task_definition: str | None = None
    images: dict[str, str] = Field(default_factory=dict)
    blue_task_set: str | None = None
    green_task_set: str | None = None
    green_is_primary: bool = False
    blue_retiring: bool = False  # set before blue's task set is deleted: no way back after
    cleanup_left: CleanupLeft | None = None  # SUCCEEDED, but blue could not be retired
    leftover_task_sets: list[str] = Field(default_factory=list)
    blue_service: str | None = None  # service-pair mode: the service serving blue
    green_service: str | None = None
    container: str | None = None
    container_port: int | None = None
    desired_count: int = 1  # green's size: blue's desired count when green was brought up
    scaling_holds: list[ScalingHold] = Field(default_factory=list)  # engine/scaling_hold.py
    task_definition_source: str | None = None  # an ARN or a JSON file given by the user
    paused_at: float | None = None
    baked: bool = False  # the bake after the shift ended (paused on its analysis, promoted)
    green_traffic_since: float | None = None  # the first production weight on green
    blue_traffic_until: float | None = None  # green took 100 % on every route: blue's last
    analysis: list[AnalysisEntry] = Field(default_factory=list)  # the latest evaluations
    smoke: list[SmokeEntry] = Field(default_factory=list)  # the smoke checks' verdicts

    skip_analysis: SkipAnalysis | None = None  # set: no metric analysis from then on
    promoted_full: bool = False  # `promote --full`: no more stages, bakes or pauses
    promotions: list[Promotion] = Field(default_factory=list)
    deadline: float | None = None
    skipped_polls: int = 0  # polls whose reads AWS would not answer (engine/pacing.py)
    detached: bool = False
    interrupted: str | None = None  # the signal that stopped a deployment left resumable
    reason: str | None = None
    failed_in: State | None = None  # the state a rollback started from
    # Who acted, for the report: a CI login ($GITHUB_ACTOR, $GITLAB_USER_LOGIN) or user@host
    started_by: str = ""
    release_id: str | None = None  # the release it is part of (bluegreen/release_record.py)
    rollback_by: str | None = None  # who asked for the rollback; None: the tool decided
    events: list[Event] = Field(default_factory=list)
    timeline: list[Sample] = Field(default_factory=list)  # bounded: bluegreen/timeline.py

    @property
    def outcome(self) -> str:
        return {
            State.SUCCEEDED: "succeeded",
            State.ROLLED_BACK: "rolled_back",
            State.STOPPED: "stopped",
            State.FAILED: "failed",
        }.get(self.state, self._unfinished_outcome())

    def _unfinished_outcome(self) -> str:
        if self.interrupted:
            return "interrupted"
        return "paused" if self.state is State.PAUSED else "in_progress"

    @property
    def warnings(self) -> list[str]:
        """What is left undone that changes nothing of the outcome: auto scaling not
        restored, each with the command that restores it."""
        return [hold.left for hold in self.scaling_holds if hold.left]

    @property
    def current_stage(self) -> Stage | None:
        return self.stages[self.step].stage if self.step < len(self.stages) else None

    def move_to(self, state: State, now: float, message: str = "") -> None:
        check_transition(self.state, state)
        self.state = state
        self.updated_at = now
        if state.terminal:
            self.ended_at = now
        self.note(now, message or f"entered {state}")

    def note(self, now: float, message: str) -> None:
        self.events.append(Event(at=now, state=self.state, message=message))
        self.updated_at = now

    def observe(
        self,
        now: float,
        *,
        step: int | None = None,
        green: list[int] | None = None,
        test: int | None = None,
        blue_healthy: int | None = None,
        green_healthy: int | None = None,
    ) -> None:
        """Keep what was seen of the weights and health in the timeline (when it changed)."""
        self.timeline = observed(
            self.timeline,
            now,
            step=step,
            green=green,
            test=test,
            blue_healthy=blue_healthy,
            green_healthy=green_healthy,
        )

    def add_analysis(self, entry: AnalysisEntry) -> None:
        self.analysis = [*self.analysis, entry][-MAX_ANALYSIS_ENTRIES:]

    def summary(self) -> dict[str, Any]:
        """The `--output json` document and the API result's view."""
        return {
            "deployment_id": self.id,
            "release_id": self.release_id,
            "service": self.service,
            "cluster": self.cluster,
            "state": self.state.value,
            "outcome": self.outcome,
            "reason": self.reason,
            "from_task_definition": self.from_task_definition,
            "to_task_definition": self.to_task_definition,
            "blue_target_group": self.blue_target_group,
            "green_target_group": self.green_target_group,
            "green_percent": self.green_percent,
            "skip_analysis": self.skip_analysis.model_dump() if self.skip_analysis else None,
            "step": self.step + 1 if self.stages else 0,
            "steps": len(self.stages),
            "started_at": self.created_at,
            "ended_at": self.ended_at,
            "duration_seconds": (self.ended_at or self.updated_at) - self.created_at,
            "smoke_checks": [entry.model_dump() for entry in self.smoke],
            "cleanup_incomplete": self.cleanup_left.model_dump() if self.cleanup_left else None,
        }
