"""What a promote does to a running deployment, and the override of the metric analysis.

Rules:
- A promote acts at a pause and while traffic bakes on green: a stage's bake (SHIFTING),
  its extensions by the analysis, and the bake after the shift (BAKING). It ends that bake
  (and the stage's pause, if it has one) and goes to the next step; `--full` also drops
  every remaining stage, bake and pause: the next step is 100% on every route, and the
  bake after the shift is skipped. Traffic still moves only through TrafficShifter, so a
  green without a healthy target never gets weight, and every route moves together.
- Taken anywhere else (provisioning, waiting for health, cleaning up), a promote is
  ignored and the record says why, so the person who asked gets an answer.
- Every promote taken is kept in the record (who, when, what), as is `--skip-analysis`:
  from then on the metric analysis is not evaluated and never holds a bake. Health gates
  and alarms are not affected: they guard the invariants, not the judgement.
"""

from __future__ import annotations

from collections.abc import Callable

from bluegreen.config import DeploymentConfig
from bluegreen.engine.analysis import stage_of
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord, Promotion, Request, SkipAnalysis, StageEntry

Note = Callable[[DeploymentRecord, str], None]


def accept(rec: DeploymentRecord, request: Request, now: float, note: Note) -> None:
    """Record the promote `request` taken at a pause or a bake and apply what it asks; the
    caller then goes to the next step (Engine._next_stage)."""
    during = stage_of(rec)
    rec.promotions.append(
        Promotion(
            request=request.id,
            at=now,
            by=request.by,
            full=request.full,
            skip_analysis=request.skip_analysis,
            during=during,
        )
    )
    if request.skip_analysis and rec.skip_analysis is None:
        rec.skip_analysis = SkipAnalysis(by=request.by, at=request.at or now, via="promote")
    if rec.state is State.BAKING:
        rec.baked = True  # the bake after the shift is over: a resume does not bake again
    if request.full:
        rec.promoted_full = True
        if rec.green_percent < 100 and rec.step < len(rec.stages):
            rec.stages = [*rec.stages[: rec.step + 1], StageEntry(weight=100)]
    who = f" by {request.by}" if request.by else ""
    what = "promoted --full" if request.full else "promoted"
    ending = "pause" if rec.state is State.PAUSED else "bake"
    then = "100% green, no more bakes" if request.full else "the next step"
    note(rec, f"{what}{who}: {ending} ended ({during}); on to {then}")
    if request.skip_analysis:
        note(rec, skipped_message(rec))


def ignore(rec: DeploymentRecord, request: Request, now: float, note: Note) -> None:
    """A promote taken where there is nothing to promote: said, and kept for the asker."""
    why = f"the deployment is {rec.state.value}, neither paused nor baking"
    rec.promotions.append(
        Promotion(request=request.id, at=now, by=request.by, full=request.full, ignored=why)
    )
    note(rec, f"promote ignored: {why}")


def skipped_message(rec: DeploymentRecord, config: DeploymentConfig | None = None) -> str:
    """What an event says when the metric analysis is switched off."""
    assert rec.skip_analysis is not None
    who = rec.skip_analysis.describe()
    if config is not None and config.analysis is None:
        return f"--skip-analysis {who}: no [analysis] is configured, nothing to skip"
    return (
        f"metric analysis skipped for the rest of the deployment, {who}; "
        "health gates and alarms are still watched"
    )
