"""The report as GitHub-flavoured Markdown: for a terminal, a pull request, and a CI job's
summary ($GITHUB_STEP_SUMMARY).

Rules: no plotting library and no image files. A job summary cannot show a local SVG, so
the timeline is drawn with Mermaid `xychart-beta` blocks, which GitHub renders itself
(elsewhere they read as the numbers they are). Table cells are escaped: a reason is free
text and must not break the table.
"""

from __future__ import annotations

from bluegreen.record import DeploymentRecord
from bluegreen.report.facts import Facts, facts_of
from bluegreen.report.series import Series, Steps, grid, series_of, value_at
from bluegreen.report.tables import result_sections, stage_table, summary_rows

MARKS = {"succeeded": "✅", "rolled_back": "↩️", "failed": "❌", "paused": "⏸️"}
POINTS = 40  # the charts' x axis: evenly spaced moments, so the axis is time
WEIGHT_COLOURS = "#1a9850, #762a83, #66a61e, #1b7837, #5aae61"
HEALTH_COLOURS = "#2166ac, #1a9850"


def markdown(rec: DeploymentRecord) -> str:
    f = facts_of(rec)
    s = series_of(rec)
    mark = MARKS.get(f.outcome, "⚠️")
    parts = [
        f"## {mark} {f.service}: {f.headline.lower()} ({f.id})",
        table(["", ""], [[f"**{k}**", v] for k, v in summary_rows(f)]),
        "### Stages",
        table(*stage_table(f)),
        "### Timeline",
        *timeline_charts(f, s),
        *_verdicts(f),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def timeline_charts(f: Facts, s: Series) -> list[str]:
    if not s.green_healthy:
        return ["No timeline was recorded (a record from before bluegreen kept one)."]
    minutes = grid(s.end, POINTS)
    weights = [(label, steps) for label, steps in s.weights.items() if steps]
    if s.test:
        weights.append((f"{f.test_route} (test)", s.test))
    weight_lines = [_line(steps, minutes) for _, steps in weights]
    health_lines = [_line(s.blue_healthy, minutes), _line(s.green_healthy, minutes)]
    top = max(1, *(max(line) for line in health_lines))
    legend = "; ".join(f"line {n}: {label}" for n, (label, _) in enumerate(weights, 1))
    return [
        _chart("Green's weight (%) on every route", minutes, weight_lines, 100, WEIGHT_COLOURS),
        f"Minutes from the start. {legend}.",
        _chart("Healthy targets: blue, green", minutes, health_lines, top, HEALTH_COLOURS),
        _verdict_line(s),
    ]


def _line(steps: Steps, minutes: list[float]) -> list[float]:
    return [value_at(steps, m) or 0 for m in minutes]


def _chart(
    title: str, minutes: list[float], lines: list[list[float]], top: float, colours: str
) -> str:
    init = '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + colours + '"}}}}%%'
    body = [
        init,
        "xychart-beta",
        f'    title "{title}"',
        f'    x-axis "minutes" 0 --> {minutes[-1]:.1f}',  # the points spread evenly on it
        f"    y-axis 0 --> {top:g}",
        *(f"    line [{', '.join(f'{v:g}' for v in line)}]" for line in lines),
    ]
    return "```mermaid\n" + "\n".join(body) + "\n```"


def _verdict_line(s: Series) -> str:
    """The verdicts over time, in one line: `2.0 min error_rate pass · 3.0 min …`."""
    if not s.verdicts and s.rollback_at is None:
        return ""
    shown = [f"{p.minute:.1f} min {p.check} **{p.status}**" for p in s.verdicts[-20:]]
    if s.rollback_at is not None:
        shown.append(f"{s.rollback_at:.1f} min **rollback started**")
    return "Verdicts over time: " + " · ".join(shown)


def _verdicts(f: Facts) -> list[str]:
    parts = []
    for section in result_sections(f):
        parts.append(f"### {section.title}")
        if section.note:
            parts.append(section.note)
        parts.append(table(section.header, section.rows))
    return parts


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def cell(text: str) -> str:
    """Free text made safe in a table cell: no pipe, no line break, no HTML."""
    return (
        " ".join(text.split())
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )
