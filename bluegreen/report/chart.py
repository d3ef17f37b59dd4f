"""The timeline as an SVG picture, drawn with matplotlib: green's weight on every route,
healthy targets per colour, and the verdicts over time, on one time axis.

Rules: matplotlib is the optional extra `bluegreen[report]`, imported here only, when a
picture is asked for (`plotting()` says how to install it when it is missing); a Figure is
drawn without pyplot, so no global state and no display; text is drawn as paths and
the SVG names no font or URL, so it shows the same anywhere, offline.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from bluegreen.errors import UsageError
from bluegreen.record import DeploymentRecord
from bluegreen.report.series import Series, Steps, series_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Green's weight on the first route: the colour a reader (and the browser test) looks for.
GREEN_WEIGHT = "#1a9850"
ROUTE_COLOURS = (GREEN_WEIGHT, "#66a61e", "#1b7837", "#a6d96a")
TEST_COLOUR = "#762a83"
HEALTH_COLOURS = {"blue": "#2166ac", "green": "#5aae61"}
VERDICT_STYLES = {
    "pass": ("o", "#4dac26"),
    "fail": ("X", "#d73027"),
    "inconclusive": ("s", "#fdae61"),
}
ROLLBACK = "#8c510a"  # the line where the rollback started (not the fail marks' red)
INSTALL = "pip install 'bluegreen[report]'"


def plotting() -> tuple[Any, Any]:
    """matplotlib's Figure and rc_context, or a UsageError (exit 2) naming the extra."""
    try:
        from matplotlib import rc_context
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(
            "the HTML and SVG reports draw with matplotlib, which is not installed",
            hint=f"{INSTALL} (the Markdown report needs nothing more: --format markdown)",
        ) from None
    return Figure, rc_context


def timeline_svg(rec: DeploymentRecord) -> str:
    """The timeline of `rec` as one SVG document."""
    figure_class, rc_context = plotting()
    s = series_of(rec)
    figure = figure_class(figsize=(10, 7.5), layout="constrained")
    weights, health, verdicts = figure.subplots(3, 1, sharex=True, height_ratios=[3, 2, 2])
    _weights(weights, s)
    _health(health, s)
    _verdicts(verdicts, s)
    end = max(s.end, 1.0) * 1.03  # room for a verdict at the very end
    for axes in (weights, health, verdicts):
        axes.set_xlim(0, end)
        axes.grid(True, alpha=0.3)
        if s.rollback_at is not None:
            axes.axvline(s.rollback_at, color=ROLLBACK, linestyle=":", linewidth=1.5)
    verdicts.set_xlabel("minutes from the start")
    figure.suptitle(f"{rec.service}: {rec.id} ({rec.outcome.replace('_', ' ')})")
    buffer = io.StringIO()
    # The same record draws the same file: ids salted with the deployment's, no date.
    with rc_context({"svg.hashsalt": rec.id, "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _weights(axes: Axes, s: Series) -> None:
    # Every route moves together, so their lines overlap: each next one is wider and drawn
    # under the one before, so all show, the first route's as the line in the middle.
    for n, (label, steps) in enumerate(s.weights.items()):
        colour = ROUTE_COLOURS[n % len(ROUTE_COLOURS)]
        _step(axes, steps, s.end, colour, label, width=2.5 + 2.0 * n, zorder=2.5 - 0.01 * n)
    if s.test:
        _step(axes, s.test, s.end, TEST_COLOUR, "test route", width=2.0, style="--")
    axes.set_ylim(-5, 105)
    axes.set_ylabel("green's weight (%)")
    _legend(axes)


def _health(axes: Axes, s: Series) -> None:
    _step(axes, s.blue_healthy, s.end, HEALTH_COLOURS["blue"], "blue", width=2.5)
    _step(axes, s.green_healthy, s.end, HEALTH_COLOURS["green"], "green", width=2.5, style="--")
    top = max([v for _, v in s.blue_healthy + s.green_healthy] or [1])
    axes.set_ylim(-0.2, top + 0.8)
    axes.set_ylabel("healthy targets")
    _legend(axes)


def _verdicts(axes: Axes, s: Series) -> None:
    checks = sorted({p.check for p in s.verdicts})
    rows = {check: n for n, check in enumerate(checks)}
    for status, (marker, colour) in VERDICT_STYLES.items():
        points = [p for p in s.verdicts if p.status == status]
        if points:
            axes.scatter(
                [p.minute for p in points],
                [rows[p.check] for p in points],
                marker=marker,
                color=colour,
                s=60,
                label=status,
                zorder=3,
            )
    axes.set_yticks(range(len(checks)), checks)
    axes.set_ylim(-0.7, max(len(checks), 1) - 0.3)
    axes.set_ylabel("verdicts")
    if not s.verdicts:
        axes.text(0.5, 0.5, "no checks ran", transform=axes.transAxes, ha="center")
    _legend(axes)


def _legend(axes: Axes) -> None:
    if axes.get_legend_handles_labels()[0]:  # a record with no timeline draws no line
        axes.legend(loc="upper left", fontsize="small")


def _step(
    axes: Axes,
    steps: Steps,
    end: float,
    colour: str,
    label: str,
    *,
    width: float,
    style: str = "-",
    zorder: float = 2.0,
) -> None:
    """A step line holding each value until the next point, and the last until `end`."""
    if not steps:
        return
    xs = [t for t, _ in steps] + [max(end, steps[-1][0])]
    ys = [v for _, v in steps] + [steps[-1][1]]
    axes.step(
        xs,
        ys,
        where="post",
        color=colour,
        label=label,
        linewidth=width,
        linestyle=style,
        zorder=zorder,
    )
