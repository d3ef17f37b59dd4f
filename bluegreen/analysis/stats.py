"""The statistics behind a comparison, from scipy and numpy: nothing hand-written.

- `mann_whitney`: scipy's one-sided Mann-Whitney U test of green against blue, in the bad
  direction only ("greater": green higher than blue), exact for small samples without
  ties and tie-corrected normal otherwise; a p-value scipy cannot give (no spread at all)
  is 1 — no evidence.
- `hodges_lehmann`: the median of every pairwise difference green − blue, the shift the
  U test is about; robust to a single odd minute.
- `request_samples`: requests as samples, 1 an error and 0 not. Above MAX_REQUEST_SAMPLES
  requests a colour's counts are scaled down to that many, keeping its rate: the test
  keeps the power of 50,000 requests (ample for any effect worth a rollback) and a busy
  service is judged in milliseconds rather than by ranking millions of values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import mannwhitneyu

MAX_REQUEST_SAMPLES = 50_000

Direction = Literal["greater", "less"]
Samples = Sequence[float] | NDArray[np.float64]


@dataclass(frozen=True)
class UTest:
    u: float
    p_value: float


def mann_whitney(green: Samples, blue: Samples, worse: Direction) -> UTest:
    """Is green `worse` ("greater" or "less") than blue? U is green's statistic."""
    result = mannwhitneyu(np.asarray(green, float), np.asarray(blue, float), alternative=worse)
    p_value = float(result.pvalue)
    return UTest(float(result.statistic), p_value if math.isfinite(p_value) else 1.0)


def hodges_lehmann(green: Samples, blue: Samples) -> float:
    return float(np.median(np.subtract.outer(np.asarray(green, float), np.asarray(blue, float))))


def median(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, float)))


def request_samples(errors: int, requests: int) -> NDArray[np.float64]:
    """`requests` samples of which `errors` are 1, the rest 0 (scaled down, see above)."""
    if requests > MAX_REQUEST_SAMPLES:
        errors = math.floor(errors * MAX_REQUEST_SAMPLES / requests + 0.5)
        requests = MAX_REQUEST_SAMPLES
    samples = np.zeros(requests)
    samples[: min(errors, requests)] = 1.0
    return samples
