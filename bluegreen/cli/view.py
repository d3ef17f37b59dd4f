"""What the CLI draws with rich: a plan, `status` (plain, or refreshed in place by `--watch`), the
verdicts of the metric analysis (in `status` and as `deploy` narrates its events) and
the live view of `bluegreen demo`. Presentation only; the core never imports it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from bluegreen.engine.plan import Plan
    from bluegreen.engine.status import Status
    from bluegreen.preflight import Report
    from bluegreen.sandbox.demo import Frame, RunReport

BAR_WIDTH = 40
HEALTH_STYLES = {"healthy": "green", "initial": "yellow", "unhealthy": "red", "draining": "magenta"}


def render_plan(plan: Plan) -> RenderableType:
    """A deployment's plan: its steps, and the least time its bakes and waits take."""
    table = Table("#", "action", "detail", show_header=True)
    for number, step in enumerate(plan.steps, 1):
        table.add_row(str(number), Text(step.action), Text(step.detail))
    return Group(
        Text.assemble(("Plan", "bold"), f" for service {plan.service} (cluster {plan.cluster})"),
        Text(f"  release: {plan.release}"),
        table,
        Text(f"at least {plan.minimum_seconds:g}s of bakes and waits"),
    )


def weight_bar(weights: dict[str, int]) -> Text:
    total = sum(weights.values()) or 1
    green = round(BAR_WIDTH * weights.get("green", 0) / total)
    bar = Text()
    bar.append("█" * (BAR_WIDTH - green), style="blue")
    bar.append("█" * green, style="green")
    percent = round(100 * weights.get("green", 0) / total)
    bar.append(f"  blue {100 - percent:>3}%  green {percent:>3}%")
    return bar


def render_frame(frame: Frame) -> RenderableType:
    minutes, seconds = divmod(int(frame.virtual_seconds), 60)
    head = Text.assemble(
        (frame.scenario, "bold"),
        f"   {frame.state}   ",
        (f"t+{minutes:02d}:{seconds:02d} (virtual)", "dim"),
    )
    listeners = Table.grid(padding=(0, 2))
    for name, weights in frame.weights.items():
        listeners.add_row(Text(name, style="bold"), weight_bar(weights))
    health = Table.grid(padding=(0, 2))
    for colour, counts in frame.health.items():
        cells = Text()
        for state, count in sorted(counts.items()):
            cells.append(f"{count} {state}  ", style=HEALTH_STYLES.get(state, ""))
        health.add_row(Text(colour, style=colour), cells or Text("no targets", style="dim"))
    events = Text("\n".join(frame.events), style="dim")
    return Panel(
        Group(head, Text(), listeners, Text(), health, Text(), events),
        title="bluegreen demo",
        border_style="cyan",
    )


def render_summary(reports: list[RunReport]) -> RenderableType:
    table = Table("#", "deployment", "outcome", "expected", "virtual", "real", title="Summary")
    reasons = []
    for number, report in enumerate(reports, 1):
        style = "green" if report.outcome == report.expected else "red"
        table.add_row(
            str(number),
            report.scenario,
            Text(report.outcome, style=style),
            report.expected,
            f"{report.virtual_seconds:.0f}s",
            f"{report.real_seconds:.1f}s",
        )
        if report.reason:
            reasons.append(Text(f"{number}. why: {report.reason}"))
    return Group(table, *reasons)


def render_status(status: Status) -> RenderableType:
    lines: list[RenderableType] = [
        Text.assemble((status.service, "bold"), f": live target group {status.live or '(split)'}")
    ]
    for route in status.routes:
        split = ", ".join(f"{name}={weight}" for name, weight in route["weights"].items())
        lines.append(Text(f"  {route['route']}: {split}"))
    for group in status.target_groups:
        counts = {
            state: count
            for state, count in group.items()
            if state not in ("name", "arn", "reasons") and (count or state == "healthy")
        }
        lines.append(Text(f"  {group['name']}: {counts} {group['reasons'] or ''}"))
    for ts in status.task_sets:
        lines.append(
            Text(
                f"  task set {ts['id']} {ts['status']} {ts['task_definition']} "
                f"→ {', '.join(ts['target_groups'])}"
            )
        )
    for svc in status.services:
        lines.append(
            Text(
                f"  service {svc['name']} {svc['running']}/{svc['desired']} running "
                f"{svc['task_definition']} rollout {svc['rollout']} "
                f"→ {', '.join(svc['target_groups'])}"
            )
        )
    if status.deployment:
        d = status.deployment
        lines.append(
            Text(
                f"  deployment {d['deployment_id']}: {d['state']} step {d['step']}/"
                f"{d['steps']} at {d['green_percent']}% green"
            )
        )
        lines += _smoke_lines(d.get("smoke_checks") or [])

        lines += skip_line(d.get("skip_analysis"))
        lines += _analysis_lines(d.get("analysis"))
    lines += [Text.assemble(("warning: ", "yellow"), warning) for warning in status.warnings]
    return Group(*lines)


VERDICT_STYLES = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}


def _analysis_lines(entry: dict[str, Any] | None) -> list[RenderableType]:
    """The latest evaluation of the metric checks: its verdicts, then why for each check
    that did not pass."""
    if not entry:
        return []
    lines: list[RenderableType] = [Text(f"  analysis, {entry['stage']}:"), verdict_table(entry)]
    for check in entry["checks"]:
        status = check["status"]
        if status != "pass":
            shown = (f"{status:<12}  ", VERDICT_STYLES.get(status, ""))
            lines.append(Text.assemble("    ", shown, check["reason"]))
    return lines


def _smoke_lines(entries: list[dict[str, Any]]) -> list[Text]:
    """The smoke checks' verdicts: one line per check."""
    lines = [Text("  smoke checks:")] if entries else []
    for entry in entries:
        status = entry["status"]
        shown = (f"{status:<12}  ", VERDICT_STYLES.get(status, ""))
        said = entry["reason"] or f"{entry['check']}: {entry['passed']}/{entry['requests']} passed"
        lines.append(Text.assemble("    ", shown, said))
    return lines


def verdict_table(entry: dict[str, Any]) -> Table:
    """One row per check of an evaluation (AnalysisEntry.model_dump()): the metric, the
    values of green and blue, green's change, the test's U and p-value, the samples
    (green/blue) and the verdict. Used by `status` and by `deploy`'s narration."""
    table = Table(
        "check", "green", "blue", "change", "U", "p-value", "samples", "verdict", padding=(0, 1)
    )
    for c in entry["checks"]:
        effect = c.get("effect")
        samples = c.get("samples") or [0, 0]
        table.add_row(
            c["check"],
            _number(c.get("green")),
            _blue(c),
            "-" if effect is None else f"{effect:+.0%}",
            _number(c.get("u")),
            _number(c.get("p_value")),
            f"{samples[0]}/{samples[1]}",
            Text(c["status"], style=VERDICT_STYLES.get(c["status"], "")),
        )
    return table


def _blue(check: dict[str, Any]) -> str:
    """Blue's value; "(baseline until HH:MM)" when it came from blue's frozen minutes."""
    until = check.get("baseline_until")
    if until is None:
        return _number(check.get("blue"))
    frozen = time.strftime("%H:%M", time.gmtime(until))
    return f"{_number(check.get('blue'))} (baseline until {frozen})"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def skip_line(skip: dict[str, Any] | None) -> list[Text]:
    """Who switched the metric analysis off (`--skip-analysis`), when and how."""
    if not skip:
        return []
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(skip["at"]))
    said = f": asked by {skip['by']} at {stamp} ({skip['via']} --skip-analysis)"
    return [Text.assemble("  ", ("metric analysis skipped", "bold yellow"), said)]


VERIFY_STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def render_verify(report: Report) -> RenderableType:
    """`bluegreen verify`: one row per check, the fix under each failure and warning."""
    table = Table("check", "result", "detail", show_header=True)
    for check in report.checks:
        detail = Text(check.detail)
        if check.fix:
            detail.append("\nfix: ", style="bold")
            detail.append(check.fix)
        result = check.result.value
        table.add_row(Text(check.name), Text(result, style=VERIFY_STYLES.get(result, "")), detail)
    failed, warned = len(report.failures), len(report.warnings)
    verdict = Text.assemble(
        ("FAILED" if failed else "OK", "bold red" if failed else "bold green"),
        f": {failed} failed, {warned} warning(s), {len(report.checks)} checks; nothing was changed",
    )
    return Group(table, verdict)
