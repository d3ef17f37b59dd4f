"""The deployment's timeline, as the record keeps it for its report: green's weight on
every route and the healthy targets of each colour, over time.

Rules:
- A sample is kept only when something in it changed (weights or a healthy count), so a
  quiet hour of polling adds nothing; what a sample does not say is carried over from the
  one before (the engine reads blue's health at transitions only, green's at every poll).
- The list is bounded: past MAX_SAMPLES the older samples are thinned (every other one
  dropped, the first and the latest kept), so a flapping target over a day-long pause
  cannot grow the record without limit; the picture loses detail, never its ends.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_SAMPLES = 400


class Sample(BaseModel):
    """What was true from `at` until the next sample."""

    at: float
    step: int = 0  # the stage traffic was moved to (1 = the first); 0: before the first
    green: list[int] = Field(default_factory=list)  # green's weight per route, record order
    test: int | None = None  # green's weight on the test route; None: there is none
    healthy: list[int] = Field(default_factory=lambda: [0, 0])  # blue, green

    def same_as(self, other: Sample) -> bool:
        mine = (self.step, self.green, self.test, self.healthy)
        return mine == (other.step, other.green, other.test, other.healthy)


def observed(
    samples: list[Sample],
    at: float,
    *,
    step: int | None = None,
    green: list[int] | None = None,
    test: int | None = None,
    blue_healthy: int | None = None,
    green_healthy: int | None = None,
) -> list[Sample]:
    """`samples` with what was seen at `at` (None: as before), when anything changed."""
    last = samples[-1] if samples else Sample(at=at)
    healthy = [
        last.healthy[0] if blue_healthy is None else blue_healthy,
        last.healthy[1] if green_healthy is None else green_healthy,
    ]
    sample = Sample(
        at=at,
        step=last.step if step is None else step,
        green=last.green if green is None else list(green),
        test=last.test if test is None else test,
        healthy=healthy,
    )
    if samples and sample.same_as(last):
        return samples
    return thinned([*samples, sample])


def thinned(samples: list[Sample], limit: int = MAX_SAMPLES) -> list[Sample]:
    """At most `limit` samples: every other one of the older half dropped until they fit."""
    while len(samples) > limit:
        half = len(samples) // 2
        older, newer = samples[:half], samples[half:]
        samples = [older[0], *older[2::2], *newer]
    return samples
