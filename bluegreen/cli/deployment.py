"""The commands of a deployment's life: `deploy` (and its `plan`), `status`, `rollback`,
`promote`, `resume` and `history`. Each parses its options, calls the Deployer and prints
the result (text or JSON); errors become exit codes in `shared.run`.

Rules: printing goes through `shared.out` / `shared.err` (looked up at call time, see
shared.py); narration of events goes to stderr, so JSON output stays one document.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bluegreen.cli import release_actions, shared
from bluegreen.cli.release_actions import ReleaseOpt
from bluegreen.cli.shared import (
    NO_COMMON,
    Common,
    Output,
    print_result,
    run,
    short_arn,
    with_common_options,
)
from bluegreen.cli.summary import with_step_summary
from bluegreen.errors import UsageError

if TYPE_CHECKING:  # at run time, inside the commands: `--help` must not load the Deployer
    from bluegreen.deployer import Deployer, DeploymentResult
    from bluegreen.engine.plan import Plan
    from bluegreen.engine.status import Status
    from bluegreen.record import DeploymentRecord, Event


class StrategyName(StrEnum):
    all_at_once = "all-at-once"
    canary = "canary"
    linear = "linear"
    steps = "steps"


ImageOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--image", metavar="CONTAINER=URI", help="New image for a container (repeatable)."
    ),
]
TaskDefinitionOpt = Annotated[
    str | None,
    typer.Option(
        "--task-definition", metavar="FILE|ARN", help="A whole task definition: JSON file or ARN."
    ),
]
StrategyOpt = Annotated[
    StrategyName | None,
    typer.Option(
        metavar="TYPE",  # the choices, listed in the help, are too wide for the column
        help="Strategy instead of bluegreen.toml's: canary, linear, steps, all-at-once.",
    ),
]
DetachAtPause = Annotated[
    bool, typer.Option("--detach-at-pause", help="Exit 0 at the next pause (state PAUSED).")
]
SkipAnalysis = Annotated[
    bool,
    typer.Option(
        "--skip-analysis",
        help="Switch the metric analysis off for the rest of the deployment, for when the "
        "analysis itself is broken; recorded with who asked. Health gates and alarms are "
        "still watched.",
    ),
]


def _print_event(event: Event) -> None:
    from rich.text import Text

    from bluegreen.cli.view import verdict_table

    shared.err.print(
        Text.assemble((f"{event.state.value:<16} ", "dim"), event.message), highlight=False
    )
    if event.analysis is not None:  # an evaluation: its verdicts, as `status` shows them
        shared.err.print(verdict_table(event.analysis.model_dump()), highlight=False)


def _event_sink(output: Output) -> Callable[[Event], None] | None:
    """Events narrated on stderr for people; JSON output stays one document."""
    return _print_event if output is Output.text else None


def _show_deploy(output: Output) -> Callable[[Any], None]:
    def show(value: Any) -> None:
        from bluegreen.engine.plan import Plan

        if isinstance(value, Plan):
            _show_plan(output)(value)
        elif output is Output.json:
            print(json.dumps(value.to_dict(), indent=2, default=str))
        else:
            print_result(value)
            if value.outcome == "paused":
                shared.out.print(
                    "PAUSED: continue with `bluegreen promote`, or `bluegreen rollback`"
                )

    return show


def _show_plan(output: Output) -> Callable[[Plan], None]:
    def show(plan: Plan) -> None:
        if output is Output.json:
            print(json.dumps(plan.to_dict(), indent=2, default=str))
            return
        from bluegreen.cli.view import render_plan

        shared.out.print(render_plan(plan), highlight=False)
        shared.out.print("nothing was changed")

    return show


def _show_status(output: Output) -> Callable[[Status], None]:
    def show(status: Status) -> None:
        if output is Output.json:
            print(json.dumps(status.to_dict(), indent=2, default=str))
        else:
            from bluegreen.cli.view import render_status

            shared.out.print(render_status(status), highlight=False)

    return show


@with_common_options
def deploy(
    image: ImageOpt = None,
    task_definition: TaskDefinitionOpt = None,
    strategy: StrategyOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    timeout: Annotated[
        str | None, typer.Option(help='Whole deployment, e.g. "2h"; then rollback.')
    ] = None,
    detach_at_pause: DetachAtPause = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    skip_analysis: SkipAnalysis = False,
    common: Common = NO_COMMON,
) -> None:
    """Deploy a new version: green up, traffic shifted, blue retired.

    Traffic moves in the configured stages, watched at every step; any failure rolls back."""
    from bluegreen.engine.taskdef import parse_image_args

    output = common.output

    def action() -> DeploymentResult | Plan:
        overrides: dict[str, Any] = {}
        if strategy:
            overrides["strategy"] = {"type": strategy.value}
        if timeout:
            overrides["timeout"] = timeout
        images = parse_image_args(image or [])
        deployer = common.deployer(overrides)
        skip = skip_analysis
        if dry_run:
            return deployer.plan(images, task_definition, skip_analysis=skip)
        if (
            not yes
            and sys.stdin.isatty()
            and not _confirm(deployer.plan(images, task_definition, skip_analysis=skip))
        ):
            raise UsageError("cancelled: nothing was changed")
        sink = _event_sink(output)
        return deployer.deploy(
            images,
            task_definition,
            detach_at_pause=detach_at_pause,
            on_event=sink,
            skip_analysis=skip,
        )

    run(output, with_step_summary(action), _show_deploy(output))


def _confirm(plan: Plan) -> bool:
    _show_plan(Output.text)(plan)
    return typer.confirm("Deploy?", default=False)


@with_common_options
def plan(
    image: ImageOpt = None,
    task_definition: TaskDefinitionOpt = None,
    strategy: StrategyOpt = None,
    skip_analysis: SkipAnalysis = False,
    common: Common = NO_COMMON,
) -> None:
    """Show what `deploy` would do, step by step. Changes nothing in AWS."""
    from bluegreen.engine.taskdef import parse_image_args

    output = common.output
    overrides = {"strategy": {"type": strategy.value}} if strategy else None
    run(
        output,
        lambda: common.deployer(overrides).plan(
            parse_image_args(image or []), task_definition, skip_analysis=skip_analysis
        ),
        _show_plan(output),
    )


@with_common_options
def status(
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh in place.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.2, help="Seconds between refreshes with --watch.")
    ] = 2.0,
    count: Annotated[
        int, typer.Option(min=0, help="With --watch: stop after N refreshes (0: until Ctrl-C).")
    ] = 0,
    release: ReleaseOpt = None,
    common: Common = NO_COMMON,
) -> None:
    """Live colour, weights, health and the deployment in flight.

    The weights on every listener, each target group's health, the task sets, and the
    deployment in flight with its analysis verdicts."""
    if release:
        return release_actions.status(release, common, watch=watch, every=interval, count=count)
    output = common.output
    if not watch:
        run(output, lambda: common.deployer().status(), _show_status(output))
        return
    run(output, lambda: _watch_status(common.deployer(), interval, count, output), lambda _: None)


def _watch_status(deployer: Deployer, interval: float, count: int, output: Output) -> None:
    """Refresh in place (a terminal) or print each snapshot (a pipe, JSON lines)."""
    from rich.live import Live

    from bluegreen.cli.view import render_status

    refreshes = itertools.count(1)
    live = Live(console=shared.out, auto_refresh=False) if output is Output.text else None
    with live or contextlib.nullcontext():
        try:
            for done in refreshes:
                status = deployer.status()
                if live is not None:
                    live.update(render_status(status), refresh=True)
                else:
                    print(json.dumps(status.to_dict(), default=str), flush=True)
                if count and done >= count:
                    return
                time.sleep(interval)  # a person watching: real time, whatever the clock
        except KeyboardInterrupt:
            return


@with_common_options
def rollback(
    reason: Annotated[str | None, typer.Option(help="Why; kept in the record.")] = None,
    release: ReleaseOpt = None,
    common: Common = NO_COMMON,
) -> None:
    """Abort the deployment in flight: production back on blue.

    Every listener returns to blue in one move, then green is retired."""
    if release:
        return release_actions.rollback(release, reason, common)
    output = common.output
    sink = _event_sink(output)

    # A rollback that put blue back is what was asked: exit 0.
    run(
        output,
        with_step_summary(lambda: common.deployer().rollback(reason, on_event=sink)),
        _show_deploy(output),
    )


@with_common_options
def promote(
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Straight to 100% green on every listener: skip the remaining steps, bakes "
            "and pauses (at a pause or while a stage bakes).",
        ),
    ] = False,
    detach_at_pause: DetachAtPause = False,
    skip_analysis: SkipAnalysis = False,
    release: ReleaseOpt = None,
    common: Common = NO_COMMON,
) -> None:
    """Continue a paused deployment, or end the bake in progress."""
    if release:
        return release_actions.promote(release, common, detach_at_pause=detach_at_pause)
    output = common.output
    sink = _event_sink(output)
    run(
        output,
        with_step_summary(
            lambda: common.deployer().promote(
                full=full,
                on_event=sink,
                detach_at_pause=detach_at_pause,
                skip_analysis=skip_analysis,
            )
        ),
        _show_deploy(output),
    )


@with_common_options
def resume(
    detach_at_pause: DetachAtPause = False,
    skip_analysis: SkipAnalysis = False,
    release: ReleaseOpt = None,
    common: Common = NO_COMMON,
) -> None:
    """Continue a deployment whose process died, from its record.

    After a success that could not retire blue (exit 3), retire it now."""
    if release:
        return release_actions.resume(release, common, detach_at_pause=detach_at_pause)
    output = common.output
    sink = _event_sink(output)
    run(
        output,
        with_step_summary(
            lambda: common.deployer().resume(
                on_event=sink, detach_at_pause=detach_at_pause, skip_analysis=skip_analysis
            )
        ),
        _show_deploy(output),
    )


@with_common_options
def history(
    release: ReleaseOpt = None,
    common: Common = NO_COMMON,
) -> None:
    """Past deployments: id, versions, outcome, duration, reason."""
    if release:
        return release_actions.history(release, common)
    output = common.output

    def show(records: list[DeploymentRecord]) -> None:
        if output is Output.json:
            print(json.dumps([r.summary() for r in records], indent=2, default=str))
            return
        from rich.table import Table

        table = Table("deployment", "outcome", "to", "duration", "reason")
        for r in records:
            s = r.summary()
            table.add_row(
                r.id,
                r.outcome,
                short_arn(r.to_task_definition or "-"),
                f"{s['duration_seconds']:.0f}s",
                r.reason or "",
            )
        shared.out.print(table)

    run(output, lambda: common.deployer().history(), show)
