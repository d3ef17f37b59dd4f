"""Metric analysis: pure judges of green against blue over data already fetched. No I/O.

The engine (engine/analysis.py) asks `plan_queries` which CloudWatch queries an
evaluation needs, reads them in one request, and hands each check's data and window to
`judge`, which returns a Verdict: pass, fail or inconclusive, with both colours' values,
the test statistic, the sample counts and a one-line reason. The rules — samples, the
test, tolerances, what is too little data — are in judge.py's docstring; windows in
window.py; the statistics (scipy) in stats.py.
"""

from bluegreen.analysis.describe import describe_analysis, describe_check, shown
from bluegreen.analysis.judge import judge
from bluegreen.analysis.queries import Colour, QueryPlan, colour_of, dimension_of, plan_queries
from bluegreen.analysis.series import CheckData, ColourData
from bluegreen.analysis.verdict import Outcome, Verdict
from bluegreen.analysis.window import (
    Window,
    baseline_window,
    first_due,
    minute_ceil,
    minute_floor,
    window_at,
)

__all__ = [
    "CheckData",
    "Colour",
    "ColourData",
    "Outcome",
    "QueryPlan",
    "Verdict",
    "Window",
    "baseline_window",
    "colour_of",
    "describe_analysis",
    "describe_check",
    "dimension_of",
    "first_due",
    "judge",
    "minute_ceil",
    "minute_floor",
    "plan_queries",
    "shown",
    "window_at",
]
