"""What judging one check says: pass, fail or inconclusive, with the numbers behind it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"  # too little data: never a pass


@dataclass(frozen=True)
class Verdict:
    """One check's verdict. `green`/`blue` are the values compared (a rate, seconds, the
    metric's unit); `effect` green's change relative to blue; `u` and `p_value` the
    Mann-Whitney U test's; `samples` (green, blue) requests or minutes. `reason` is one line
    naming the metric with both values. `baseline_until`: blue was judged on its baseline
    frozen at its last traffic, whose minutes end then (epoch seconds). `lasting`: an
    inconclusive verdict that waiting cannot settle — blue's frozen baseline is too thin,
    and blue will not take traffic again."""

    check: str
    outcome: Outcome
    reason: str
    green: float | None = None
    blue: float | None = None
    effect: float | None = None
    u: float | None = None
    p_value: float | None = None
    samples: tuple[int, int] = (0, 0)
    baseline_until: float | None = None
    lasting: bool = False

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAIL

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: an infinite effect (blue's median 0) is None; the reason says ∞."""
        return {
            "check": self.check,
            "status": self.outcome.value,
            "green": self.green,
            "blue": self.blue,
            "effect": self.effect if self.effect is None or math.isfinite(self.effect) else None,
            "u": self.u,
            "p_value": self.p_value,
            "samples": list(self.samples),
            "reason": self.reason,
            "baseline_until": self.baseline_until,
            "lasting": self.lasting,
        }
