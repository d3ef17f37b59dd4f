"""The report's tables as plain strings (header, rows), for Markdown and HTML alike: the
summary, the stages with green's weight on every route, the verdicts, the smoke checks."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bluegreen.record import CheckEntry
from bluegreen.report.facts import Facts, StageRow, clock, duration, short_version

Table = tuple[list[str], list[list[str]]]

# A summary shown in a CI job must stay readable: the most recent evaluations only.
MAX_VERDICT_ROWS = 40


def summary_rows(f: Facts) -> list[tuple[str, str]]:
    rows = [
        ("Outcome", f"{f.headline} (state {f.state})"),
        ("Service", f"{f.service} (cluster {f.cluster})"),
        ("Blue (from)", short_version(f.blue_version)),
        ("Green (to)", short_version(f.green_version)),
        ("Started", f"{clock(f.started_at)} by {f.started_by}"),
        ("Ended", clock(f.ended_at) if f.ended_at else "not yet"),
        ("Duration", duration(f.duration)),
    ]
    rows += [("Promoted by", promotion) for promotion in f.promotions]
    if f.outcome in ("rolled_back", "failed") or f.rolled_back_from:
        who = f"asked by {f.rollback_by}" if f.rollback_by else "by bluegreen, on its own"
        where = f", from {f.rolled_back_from}" if f.rolled_back_from else ""
        rows.append(("Rolled back", who + where))
    if f.reason:
        rows.append(("Reason", f.reason))
    if f.skipped_analysis:
        rows.append(("Metric analysis skipped", f.skipped_analysis))
    return rows


def stage_table(f: Facts) -> Table:
    header = ["#", "green weight", *f.routes, "bake", "pause", "reached", "analysis"]
    rows = [
        [
            str(s.number),
            f"{s.weight}%",
            *(f"{s.routes[r]}%" if r in s.routes else "-" for r in f.routes),
            duration(s.bake) if s.bake else "-",
            "yes" if s.pause else "-",
            time.strftime("%H:%M:%S", time.gmtime(s.reached_at)) if s.reached_at else "not reached",
            stage_verdicts(s),
        ]
        for s in f.stages
    ]
    return header, rows


def stage_verdicts(stage: StageRow) -> str:
    """`3 pass, 1 inconclusive` over the stage's evaluations; `-` without any."""
    counts: dict[str, int] = {}
    for entry in stage.verdicts:
        verdict = "fail" if entry.failed else "pass" if entry.passed else "inconclusive"
        counts[verdict] = counts.get(verdict, 0) + 1
    order = ("fail", "inconclusive", "pass")
    return ", ".join(f"{counts[v]} {v}" for v in order if v in counts) or "-"


def verdict_table(
    f: Facts, limit: int = MAX_VERDICT_ROWS
) -> tuple[list[str], list[list[str]], int]:
    """One row per check of each evaluation, the latest `limit` rows; and how many were left
    out."""
    header = ["time", "stage", "check", "green", "blue", "change", "p-value", "verdict", "why"]
    rows = [
        [
            time.strftime("%H:%M:%S", time.gmtime(entry.at)),
            entry.stage,
            check.check,
            _number(check.green),
            _blue(check),
            "-" if check.effect is None else f"{check.effect:+.0%}",
            _number(check.p_value),
            check.status,
            _why(check),
        ]
        for entry in f.verdicts
        for check in entry.checks
    ]
    return header, rows[-limit:], max(0, len(rows) - limit)


def _blue(check: CheckEntry) -> str:
    """Blue's value; "(baseline until HH:MM)" when it came from blue's frozen minutes."""
    if check.baseline_until is None:
        return _number(check.blue)
    frozen = time.strftime("%H:%M", time.gmtime(check.baseline_until))
    return f"{_number(check.blue)} (baseline until {frozen})"


def smoke_table(f: Facts) -> Table:
    rows = [
        [time.strftime("%H:%M:%S", time.gmtime(at)), check, said] for at, check, said in f.smoke
    ]
    return ["time", "smoke check", "verdict"], rows


@dataclass(frozen=True)
class Section:
    """A table after the stages, under its title, with a note when rows were left out."""

    title: str
    note: str | None
    header: list[str]
    rows: list[list[str]]


def result_sections(f: Facts) -> list[Section]:
    """The metric analysis's verdicts, then the smoke checks: each only when it has rows."""
    sections = []
    header, rows, left_out = verdict_table(f)
    if rows:
        note = f"The latest {len(rows)} verdicts ({left_out} earlier ones left out)."
        sections.append(Section("Metric analysis", note if left_out else None, header, rows))
    header, rows = smoke_table(f)
    if rows:
        sections.append(Section("Smoke checks", None, header, rows))
    return sections


def _why(check: CheckEntry) -> str:
    return "" if check.status == "pass" else check.reason


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
