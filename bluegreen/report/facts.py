"""What a deployment report says, read out of a deployment record: every format (Markdown,
HTML, SVG) draws these facts, so they agree with each other.

Rules: the record only, no AWS (a report of last month's deployment must not depend on
what the account holds today); times are UTC; nothing here formats for one medium.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bluegreen.record import AnalysisEntry, DeploymentRecord, RouteEntry

OUTCOMES = {
    "succeeded": "Succeeded",
    "rolled_back": "Rolled back",
    "failed": "Rollback failed",
    "stopped": "Stopped before any change",
    "paused": "Paused, waiting for a promote",
    "interrupted": "Interrupted, resumable",
    "in_progress": "In progress",
}


@dataclass(frozen=True)
class StageRow:
    number: int
    weight: int  # green's weight the stage asks for on every route
    bake: float
    pause: bool
    reached_at: float | None  # when the engine moved traffic to it; None: never reached
    routes: dict[str, int] = field(default_factory=dict)  # route label → green's weight
    verdicts: list[AnalysisEntry] = field(default_factory=list)  # evaluated during it


@dataclass(frozen=True)
class Facts:
    id: str
    service: str
    cluster: str
    outcome: str  # the record's outcome: succeeded, rolled_back, ...
    headline: str  # the outcome for people
    state: str
    reason: str | None
    blue_version: str
    green_version: str
    started_at: float
    ended_at: float | None
    duration: float
    started_by: str
    rollback_by: str | None
    rolled_back_from: str | None
    promotions: list[str]
    stages: list[StageRow]
    routes: list[str]  # labels, in the record's route order
    test_route: str | None
    verdicts: list[AnalysisEntry]  # every evaluation the record kept, oldest first
    smoke: list[tuple[float, str, str]]  # at, check, "pass"/"fail: why"
    skipped_analysis: str | None


def facts_of(rec: DeploymentRecord) -> Facts:
    end = rec.ended_at or rec.updated_at
    routes = [route_label(entry) for entry in rec.routes]
    return Facts(
        id=rec.id,
        service=rec.service,
        cluster=rec.cluster,
        outcome=rec.outcome,
        headline=OUTCOMES.get(rec.outcome, rec.outcome)
        + (", clean-up incomplete: blue still runs" if rec.cleanup_left else ""),
        state=rec.state.value,
        reason=rec.reason,
        blue_version=rec.from_task_definition or "-",
        green_version=green_version(rec),
        started_at=rec.created_at,
        ended_at=rec.ended_at,
        duration=end - rec.created_at,
        started_by=rec.started_by or "unknown",
        rollback_by=rec.rollback_by,
        rolled_back_from=rec.failed_in.value if rec.failed_in else None,
        promotions=[
            f"{p.by or 'unknown'} at {clock(p.at)}"
            + (" (--full)" if p.full else "")
            + (f" during {p.during}" if p.during else "")
            + (f": ignored, {p.ignored}" if p.ignored else "")
            for p in rec.promotions
        ],
        stages=stages_of(rec, routes),
        routes=routes,
        test_route=route_label(rec.test_route) if rec.test_route else None,
        verdicts=list(rec.analysis),
        smoke=[
            (s.at, s.check, "pass" if s.status == "pass" else f"fail: {s.reason}")
            for s in rec.smoke
        ],
        skipped_analysis=rec.skip_analysis.describe() if rec.skip_analysis else None,
    )


def stages_of(rec: DeploymentRecord, routes: list[str]) -> list[StageRow]:
    rows = []
    for number, stage in enumerate(rec.stages, 1):
        # the timeline's sample of the shift to the stage: when, and the weights written
        shift = next((s for s in rec.timeline if s.step == number), None)
        at = shift.at if shift else None
        weights = dict(zip(routes, shift.green, strict=False)) if shift else {}
        label = f"step {number}/{len(rec.stages)} "
        verdicts = [e for e in rec.analysis if e.stage.startswith(label)]
        if number == len(rec.stages):  # the bake after the shift, and its pause, too
            verdicts += [e for e in rec.analysis if not e.stage.startswith("step ")]
        rows.append(StageRow(number, stage.weight, stage.bake, stage.pause, at, weights, verdicts))
    return rows


def green_version(rec: DeploymentRecord) -> str:
    if rec.to_task_definition:
        return rec.to_task_definition
    images = ", ".join(f"{name}={uri}" for name, uri in sorted(rec.images.items()))
    return images or rec.task_definition_source or "-"


def route_label(entry: RouteEntry) -> str:
    """`listener web/f2f7dc8e`: the load balancer's name and the start of the route's id
    (the ARN's last two parts), short enough for a table and a legend."""
    parts = entry.arn.split(":")[-1].split("/")
    name = parts[2] if len(parts) > 2 else parts[0]
    return f"{entry.kind.value} {name}/{parts[-1][:8]}"


def short_version(arn: str) -> str:
    """`web:7` for a task definition ARN; anything else as it is."""
    return arn.rsplit("/", 1)[-1] if arn.startswith("arn:") else arn


def clock(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"
