"""Strategies become stages: all-at-once, canary, linear and steps → a list of weighted stages.

A stage is "move production to `weight` % green, then bake for `bake` seconds watching the
gates, then (if `pause`) wait for a person". The last stage is always 100 %; the bake after
it is `gates.bake_after_shift`, not part of the stages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bluegreen.config import StrategyConfig


@dataclass(frozen=True)
class Stage:
    weight: int  # percent of production traffic on green
    bake: float = 0.0
    pause: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stages_for(strategy: StrategyConfig) -> list[Stage]:
    if strategy.type == "all-at-once":
        return [Stage(100)]
    if strategy.type == "canary":
        return [Stage(strategy.percent, bake=strategy.bake), Stage(100)]
    if strategy.type == "linear":
        return _linear(strategy.step_percent, strategy.interval)
    return [Stage(s.weight, bake=s.bake, pause=s.pause) for s in strategy.steps]


def _linear(step_percent: int, interval: float) -> list[Stage]:
    weights = [*list(range(step_percent, 100, step_percent)), 100]
    return [Stage(w, bake=0.0 if w == 100 else interval) for w in weights]


def weights_for(percent_green: int, blue_arn: str, green_arn: str) -> dict[str, int]:
    """Listener weights for a percentage. Both groups stay in the forward action (blue at 0
    once green has it all) so the next deployment finds its idle group already wired."""
    return {blue_arn: 100 - percent_green, green_arn: percent_green}
