"""A release on the command line: `bluegreen release FILE` (cli/release.py) and the
`--release FILE` of status, promote, rollback, resume and history (cli/deployment.py) call
these, which call bluegreen.release.Release and print what it returns.

Narration goes to stderr, each line led by the service's name; `--output json` prints one
document on stdout.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bluegreen.cli import shared
from bluegreen.cli.shared import Common, Output, run, sandbox_clock
from bluegreen.cli.summary import with_step_summary
from bluegreen.errors import UsageError

if TYPE_CHECKING:
    from bluegreen.record import Event
    from bluegreen.release import Release, ReleasePlan, ReleaseResult, ReleaseStatus
    from bluegreen.release_record import ReleaseRecord

ReleaseOpt = Annotated[
    Path | None,
    typer.Option(
        "--release",
        metavar="FILE",
        help="Act on the release this release file describes (bluegreen release).",
    ),
]


def release_api(path: Path, common: Common, images: list[str] | None = None) -> Release:
    from bluegreen.config.release import parse_release_images
    from bluegreen.release import Release

    parsed = parse_release_images(images or [])
    aws = common.aws
    factory = shared.release_factory or Release.from_file
    return factory(
        path,
        images=parsed,
        profile=aws["profile"],
        region=aws["region"],
        endpoint_url=aws["endpoint_url"],
        **sandbox_clock(),
    )


def deploy(
    path: Path,
    images: list[str] | None,
    common: Common,
    *,
    dry_run: bool,
    confirm: bool,
    detach_at_pause: bool = False,
) -> None:
    """Run the release; with `dry_run` print its plan instead. On a terminal, the plan is
    shown and confirmed first (unless `confirm` is False: --yes)."""
    output = common.output

    def action() -> ReleaseResult | ReleasePlan:
        release = release_api(path, common, images)
        if dry_run:
            return release.plan()
        if confirm and sys.stdin.isatty():
            _print_plan(release.plan())
            if not typer.confirm("Release?", default=False):
                raise UsageError("cancelled: nothing was changed")
        return release.run(on_event=_event_sink(output), detach_at_pause=detach_at_pause)

    def show(value: ReleaseResult | ReleasePlan) -> None:
        from bluegreen.release import ReleasePlan

        if isinstance(value, ReleasePlan):
            if output is Output.json:
                print(json.dumps(value.to_dict(), indent=2, default=str))
            else:
                _print_plan(value)
                shared.out.print("nothing was changed")
        else:
            _show_result(output)(value)

    run(output, with_step_summary(action), show)


def _print_plan(plan: ReleasePlan) -> None:
    from bluegreen.cli.view import render_plan

    shared.out.print(f"[bold]Release[/] {plan.name}", highlight=False)
    for line in plan.order:
        shared.out.print(f"  {line}", highlight=False, markup=False)
    for name, service in plan.plans.items():
        shared.out.print(f"\n[bold]{name}[/]", highlight=False)
        shared.out.print(render_plan(service), highlight=False)


def status(
    path: Path, common: Common, *, watch: bool = False, every: float = 2.0, count: int = 0
) -> None:
    """The release's status; with `watch`, again every `every` seconds (`count` times, or
    until Ctrl-C): one document a line with --output json."""
    show = _show_status(common.output)
    if not watch:
        run(common.output, lambda: release_api(path, common).status(), show)
        return

    def refreshed() -> None:
        release = release_api(path, common)
        try:
            for done in itertools.count(1):
                show(release.status())
                if count and done >= count:
                    return
                time.sleep(every)  # a person watching: real time, whatever the clock
        except KeyboardInterrupt:
            return

    run(common.output, refreshed, lambda _: None)


def rollback(path: Path, reason: str | None, common: Common) -> None:
    sink = _event_sink(common.output)
    run(
        common.output,
        with_step_summary(lambda: release_api(path, common).rollback(reason, on_event=sink)),
        _show_result(common.output),
    )


def resume(path: Path, common: Common, *, detach_at_pause: bool = False) -> None:
    sink = _event_sink(common.output)
    run(
        common.output,
        with_step_summary(
            lambda: release_api(path, common).resume(on_event=sink, detach_at_pause=detach_at_pause)
        ),
        _show_result(common.output),
    )


def promote(path: Path, common: Common, *, detach_at_pause: bool = False) -> None:
    """Ask the process running the release to go on; or, when the release detached at
    its pause, drive it on here."""
    sink = _event_sink(common.output)

    def show(done: ReleaseResult | list[str]) -> None:
        if not isinstance(done, list):
            return _show_result(common.output)(done)
        if common.output is Output.json:
            print(json.dumps({"promoted": done}))
        else:
            shared.out.print(f"asked {', '.join(done)} to go on", highlight=False)

    def action() -> ReleaseResult | list[str]:
        return release_api(path, common).promote(on_event=sink, detach_at_pause=detach_at_pause)

    run(common.output, with_step_summary(action), show)


def history(path: Path, common: Common) -> None:
    def show(records: list[ReleaseRecord]) -> None:
        if common.output is Output.json:
            print(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
            return
        from rich.table import Table

        table = Table("release", "state", "services", "duration", "reason")
        for r in records:
            took = (r.ended_at or r.updated_at) - r.created_at
            why = f"{r.failed_member}: {r.reason}" if r.failed_member else (r.reason or "")
            names = ", ".join(m.name for m in r.members)
            table.add_row(r.id, r.state.value, names, f"{took:.0f}s", why)
        shared.out.print(table)

    run(common.output, lambda: release_api(path, common).history(), show)


def _event_sink(output: Output) -> Callable[[str, Event], None] | None:
    if output is not Output.text:
        return None

    def show(name: str, event: Event) -> None:
        from rich.text import Text

        shared.err.print(
            Text.assemble((f"{name:<12} ", "bold"), (f"{event.state.value:<16} ", "dim"))
            + Text(event.message),
            highlight=False,
        )

    return show


def _show_result(output: Output) -> Callable[[ReleaseResult], None]:
    def show(result: ReleaseResult) -> None:
        if output is Output.json:
            print(json.dumps(result.to_dict(), indent=2, default=str))
            return
        for line in result.describe():
            shared.out.print(line, highlight=False, markup=False)
        for warning in result.warnings:
            shared.print_warning(warning)

    return show


def _show_status(output: Output) -> Callable[[ReleaseStatus], None]:
    def show(status: ReleaseStatus) -> None:
        if output is Output.json:
            print(json.dumps(status.to_dict(), default=str), flush=True)
            return
        from bluegreen.cli.view import render_status

        record = status.record
        shared.out.print(
            f"release {record.name} {record.id}: {record.state.value}",
            highlight=False,
            markup=False,
        )
        for name, service in status.services.items():
            shared.out.print(f"\n[bold]{name}[/]")
            shared.out.print(render_status(service), highlight=False)

    return show
