"""The data a check is judged on: per colour, minute (its start, epoch seconds) → value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColourData:
    """One colour's minutes. Request-based checks fill `requests` and `errors` (counts);
    per-minute checks fill `values`. A minute with no data is absent."""

    requests: Mapping[float, float] = field(default_factory=dict)
    errors: Mapping[float, float] = field(default_factory=dict)
    values: Mapping[float, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckData:
    green: ColourData
    blue: ColourData
