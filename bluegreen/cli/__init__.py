"""The `bluegreen` command: parse, call the Python API, print, map errors to exit codes.

No deployment logic lives here. Every BluegreenError is printed as its message (never a
traceback) and exits with its code (SPEC §2).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bluegreen.cli.logs import configure_logging
from bluegreen.cli.view import render_status
from bluegreen.deployer import Deployer, DeploymentResult
from bluegreen.engine.plan import Plan
from bluegreen.engine.status import Status
from bluegreen.engine.taskdef import parse_image_args
from bluegreen.errors import BluegreenError, UsageError
from bluegreen.record import DeploymentRecord, Event

app = typer.Typer(
    help="Blue/green deployments for Amazon ECS services behind Elastic Load Balancing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

T = TypeVar("T")


class Output(StrEnum):
    text = "text"
    json = "json"


class LogFormat(StrEnum):
    console = "console"
    json = "json"


class StrategyName(StrEnum):
    all_at_once = "all-at-once"
    canary = "canary"
    linear = "linear"
    steps = "steps"


ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Path to bluegreen.toml.")]
ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile.", envvar="AWS_PROFILE")]
RegionOpt = Annotated[str | None, typer.Option(help="AWS region.", envvar="AWS_REGION")]
EndpointOpt = Annotated[
    str | None,
    typer.Option(help="AWS endpoint URL (e.g. a simulated AWS).", envvar="AWS_ENDPOINT_URL"),
]
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="text or json (on stdout).")]
LogOpt = Annotated[LogFormat, typer.Option("--log-format", help="Logs on stderr: console or json.")]
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
    StrategyName | None, typer.Option(help="Override the strategy type of bluegreen.toml.")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")]

# Tests (and the sandbox) replace this to hand the Deployer a cloud and a clock.
deployer_factory: Callable[..., Deployer] = Deployer.from_config


class Common:
    def __init__(
        self,
        config: Path,
        profile: str | None,
        region: str | None,
        endpoint_url: str | None,
        output: Output,
        log_format: LogFormat,
        verbose: bool,
    ) -> None:
        self.config, self.output = config, output
        self.aws = {"profile": profile, "region": region, "endpoint_url": endpoint_url}
        configure_logging(log_format.value, verbose)

    def deployer(self, overrides: dict[str, Any] | None = None) -> Deployer:
        return deployer_factory(self.config, overrides=overrides, **self.aws, **_sandbox_clock())


def _sandbox_clock() -> dict[str, Any]:
    """`clock=RemoteClock(url)` when BLUEGREEN_SANDBOX_CLOCK names a sandbox server's clock
    (`bluegreen sandbox serve`): then this process waits on the server's virtual time."""
    from bluegreen.sandbox.remote_clock import ENV_VAR, RemoteClock

    url = os.environ.get(ENV_VAR)
    return {"clock": RemoteClock(url)} if url else {}


COMMON_OPTIONS = {
    "config": (ConfigOpt, Path("bluegreen.toml")),
    "profile": (ProfileOpt, None),
    "region": (RegionOpt, None),
    "endpoint_url": (EndpointOpt, None),
    "output": (OutputOpt, Output.text),
    "log_format": (LogOpt, LogFormat.console),
    "verbose": (VerboseOpt, False),
}
NO_COMMON: Any = None  # replaced by `command` with the parsed common options


def command(func: Callable[..., None]) -> Callable[..., None]:
    """Register `func` as a command that also takes every common option (SPEC §2): they
    are added to its signature for typer, and handed to it as one `common` object."""
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "common"]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
        for name, (kind, default) in COMMON_OPTIONS.items()
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        common = Common(**{name: kwargs.pop(name) for name in COMMON_OPTIONS})
        func(*args, common=common, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=own + extra)  # type: ignore[attr-defined]
    app.command()(wrapper)
    return func


def run(output: Output, action: Callable[[], T], show: Callable[[T], None]) -> None:
    """Call the API; print the result; turn every BluegreenError into its exit code."""
    try:
        show(action())
    except BluegreenError as exc:
        result = getattr(exc, "result", None)
        if output is Output.json:
            doc = result.to_dict() if isinstance(result, DeploymentResult) else {}
            print(
                json.dumps(
                    {**doc, "error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code},
                    indent=2,
                    default=str,
                )
            )
        elif isinstance(result, DeploymentResult):
            _print_result(result, with_reason=False)  # the error below says why
        err.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


DetachAtPause = Annotated[
    bool, typer.Option("--detach-at-pause", help="Exit 0 at the next pause (state PAUSED).")
]


def _print_event(event: Event) -> None:
    err.print(Text.assemble((f"{event.state.value:<16} ", "dim"), event.message), highlight=False)


def _event_sink(output: Output) -> Callable[[Event], None] | None:
    """Events narrated on stderr for people; JSON output stays one document."""
    return _print_event if output is Output.text else None


def _print_result(result: DeploymentResult, *, with_reason: bool = True) -> None:
    rec = result.record
    colour = {"succeeded": "green", "paused": "yellow"}.get(result.outcome, "red")
    out.print(f"[bold {colour}]{result.outcome.upper()}[/] {rec.id}  state {rec.state.value}")
    if rec.reason and with_reason:
        out.print(Text(f"reason: {rec.reason}"), highlight=False)
    for route, weights in result.final_weights.items():
        split = ", ".join(f"{_short(a)}={w}" for a, w in weights.items())
        out.print(f"  {_short(route)}: {split}", highlight=False)


def _short(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _show_deploy(output: Output) -> Callable[[Any], None]:
    def show(value: Any) -> None:
        if isinstance(value, Plan):
            _show_plan(output)(value)
        elif output is Output.json:
            print(json.dumps(value.to_dict(), indent=2, default=str))
        else:
            _print_result(value)
            if value.outcome == "paused":
                out.print("PAUSED: continue with `bluegreen promote`, or `bluegreen rollback`")

    return show


def _show_plan(output: Output) -> Callable[[Plan], None]:
    def show(plan: Plan) -> None:
        if output is Output.json:
            print(json.dumps(plan.to_dict(), indent=2, default=str))
            return
        out.print(f"[bold]Plan[/] for service {plan.service} (cluster {plan.cluster})")
        out.print(Text(f"  release: {plan.release}"), highlight=False)
        table = Table("#", "action", "detail", show_header=True)
        for number, step in enumerate(plan.steps, 1):
            table.add_row(str(number), Text(step.action), Text(step.detail))
        out.print(table)
        out.print(f"at least {plan.minimum_seconds:g}s of bakes and waits; nothing was changed")

    return show


def _show_status(output: Output) -> Callable[[Status], None]:
    def show(status: Status) -> None:
        if output is Output.json:
            print(json.dumps(status.to_dict(), indent=2, default=str))
        else:
            out.print(render_status(status), highlight=False)

    return show


@command
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
    common: Common = NO_COMMON,
) -> None:
    """Run a deployment: green up, traffic shifted in stages, blue retired; rollback on failure."""
    output = common.output

    def action() -> DeploymentResult | Plan:
        overrides: dict[str, Any] = {}
        if strategy:
            overrides["strategy"] = {"type": strategy.value}
        if timeout:
            overrides["timeout"] = timeout
        images = parse_image_args(image or [])
        deployer = common.deployer(overrides)
        if dry_run:
            return deployer.plan(images, task_definition)
        if not yes and sys.stdin.isatty() and not _confirm(deployer.plan(images, task_definition)):
            raise UsageError("cancelled: nothing was changed")
        sink = _event_sink(output)
        return deployer.deploy(
            images, task_definition, detach_at_pause=detach_at_pause, on_event=sink
        )

    run(output, action, _show_deploy(output))


def _confirm(plan: Plan) -> bool:
    _show_plan(Output.text)(plan)
    return typer.confirm("Deploy?", default=False)


@command
def plan(
    image: ImageOpt = None,
    task_definition: TaskDefinitionOpt = None,
    strategy: StrategyOpt = None,
    common: Common = NO_COMMON,
) -> None:
    """Show what `deploy` would do, step by step. Changes nothing in AWS."""
    output = common.output
    overrides = {"strategy": {"type": strategy.value}} if strategy else None
    run(
        output,
        lambda: common.deployer(overrides).plan(parse_image_args(image or []), task_definition),
        _show_plan(output),
    )


@command
def verify(common: Common = NO_COMMON) -> None:
    """Preflight: every resource exists and fits together. Exit 0 when nothing failed
    (warnings allowed), 2 otherwise. Changes nothing in AWS."""
    from bluegreen.cli.view import render_verify
    from bluegreen.errors import PreflightError
    from bluegreen.preflight import Report

    output = common.output

    def show(report: Report) -> None:
        if output is Output.json:
            print(json.dumps(report.to_dict(), indent=2, default=str))
        else:
            out.print(render_verify(report), highlight=False)
        if not report.ok:
            raise typer.Exit(PreflightError.exit_code)

    run(output, lambda: common.deployer().verify(), show)


@command
def status(
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh in place.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.2, help="Seconds between refreshes with --watch.")
    ] = 2.0,
    count: Annotated[
        int, typer.Option(min=0, help="With --watch: stop after N refreshes (0: until Ctrl-C).")
    ] = 0,
    common: Common = NO_COMMON,
) -> None:
    """Live colour, weights on every listener, health, task sets, the deployment in flight."""
    output = common.output
    if not watch:
        run(output, lambda: common.deployer().status(), _show_status(output))
        return
    run(output, lambda: _watch_status(common.deployer(), interval, count, output), lambda _: None)


def _watch_status(deployer: Deployer, interval: float, count: int, output: Output) -> None:
    """Refresh in place (a terminal) or print each snapshot (a pipe, JSON lines)."""
    from rich.live import Live

    refreshes = itertools.count(1)
    live = Live(console=out, auto_refresh=False) if output is Output.text else None
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


@command
def rollback(
    reason: Annotated[str | None, typer.Option(help="Why; kept in the record.")] = None,
    common: Common = NO_COMMON,
) -> None:
    """Abort the deployment in flight: production back on blue, green retired."""
    output = common.output
    sink = _event_sink(output)

    # A rollback that put blue back is what was asked: exit 0 (SPEC §2).
    run(output, lambda: common.deployer().rollback(reason, on_event=sink), _show_deploy(output))


@command
def promote(
    full: Annotated[
        bool, typer.Option("--full", help="Skip the remaining steps and bakes.")
    ] = False,
    detach_at_pause: DetachAtPause = False,
    common: Common = NO_COMMON,
) -> None:
    """Continue a paused deployment."""
    output = common.output
    sink = _event_sink(output)
    run(
        output,
        lambda: common.deployer().promote(
            full=full, on_event=sink, detach_at_pause=detach_at_pause
        ),
        _show_deploy(output),
    )


@command
def resume(
    detach_at_pause: DetachAtPause = False,
    common: Common = NO_COMMON,
) -> None:
    """Continue a deployment whose process died, from its record."""
    output = common.output
    sink = _event_sink(output)
    run(
        output,
        lambda: common.deployer().resume(on_event=sink, detach_at_pause=detach_at_pause),
        _show_deploy(output),
    )


@command
def history(
    common: Common = NO_COMMON,
) -> None:
    """Past deployments of the service: id, versions, outcome, duration, reason."""
    output = common.output

    def show(records: list[DeploymentRecord]) -> None:
        if output is Output.json:
            print(json.dumps([r.summary() for r in records], indent=2, default=str))
            return
        table = Table("deployment", "outcome", "to", "duration", "reason")
        for r in records:
            s = r.summary()
            table.add_row(
                r.id,
                r.outcome,
                _short(r.to_task_definition or "-"),
                f"{s['duration_seconds']:.0f}s",
                r.reason or "",
            )
        out.print(table)

    run(output, lambda: common.deployer().history(), show)


@command
def init(
    cluster: Annotated[str, typer.Option(help="The ECS cluster.")],
    service: Annotated[str, typer.Option(help="The service serving production now.")],
    green_target_group: Annotated[
        str | None, typer.Option(help="Green's target group (default: blue's name, blue→green).")
    ] = None,
    green_service: Annotated[
        str | None,
        typer.Option(help="ECS-controller services: the second service (created if missing)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a different existing --config file.")
    ] = False,
    common: Common = NO_COMMON,
) -> None:
    """Locate or create the green target group (a copy of blue's), add it at weight 0 to the
    production listeners, and write a starter bluegreen.toml (to --config)."""
    from bluegreen.aws import connect
    from bluegreen.onboarding.initialize import InitResult, initialize

    output = common.output

    def action() -> InitResult:
        aws = common.aws
        cloud = connect(
            aws["profile"], aws["region"], aws["endpoint_url"], _sandbox_clock().get("clock")
        )
        return initialize(
            cloud,
            cluster=cluster,
            service=service,
            green_target_group=green_target_group,
            green_service=green_service,
            config_path=common.config,
            force=force,
        )

    def show(result: InitResult) -> None:
        if output is Output.json:
            print(json.dumps(result.to_dict(), indent=2, default=str))
            return
        pair = f" + {result.green_service}" if result.green_service else ""
        lines = [
            f"service {result.service}{pair} in cluster {result.cluster} ({result.mode}), "
            f"container {result.container}:{result.container_port}",
            f"  blue target group  {result.blue_target_group} (live)",
            f"  green target group {result.green_target_group}",
            *(f"  route {r.label}: {r.weights}" for r in result.routes),
            *(f"  did: {change}" for change in result.changes),
            *(f"    {line}" for line in result.config_changes),
            *(f"  warning: {w}" for w in result.warnings),
        ]
        if not result.changed:
            lines.append(f"nothing to change: AWS and {result.config_path} are already set up")
        for line in lines:
            out.print(Text(line), highlight=False, soft_wrap=True)

    run(output, action, show)


@app.command()
def demo(
    speed: Annotated[
        float,
        typer.Option(help="Virtual seconds per real second for the live view; 0 = no pacing."),
    ] = 40.0,
    output: OutputOpt = Output.text,
    log_format: LogOpt = LogFormat.console,
    verbose: VerboseOpt = False,
) -> None:
    """Rehearse two deployments on the embedded simulated AWS: no account, no credentials."""
    try:
        from bluegreen.sandbox.demo import run_demo
    except ModuleNotFoundError as missing:
        _missing_sandbox(missing)

    # Logs would tear through the live view: only warnings, unless asked for.
    configure_logging(log_format.value, verbose, quiet=not verbose)
    live = output is Output.text and out.is_terminal
    # Nobody watching (a pipe, CI, --output json): as fast as it goes.
    reports = _demo_live(run_demo, speed) if live else run_demo(speed=0.0)
    if output is Output.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, default=str))
    else:
        from bluegreen.cli.view import render_summary

        out.print(render_summary(reports))
    if any(r.outcome != r.expected for r in reports):
        raise typer.Exit(1)


def _demo_live(run_demo: Callable[..., Any], speed: float) -> Any:
    from rich.live import Live

    from bluegreen.cli.view import render_frame

    with Live(console=out, refresh_per_second=12, transient=False) as live:
        return run_demo(on_frame=lambda frame: live.update(render_frame(frame)), speed=speed)


def _missing_sandbox(missing: ModuleNotFoundError) -> NoReturn:
    """moto comes with the `sandbox` extra only: say so, never a traceback."""
    message = f"the simulated AWS needs {missing.name}, which is not installed"
    hint = "pip install 'bluegreen[sandbox]'"
    err.print(Text.assemble(("error: ", "bold red"), message, "\n  → ", hint))
    raise typer.Exit(UsageError.exit_code)


sandbox_app = typer.Typer(
    help="Rehearsal tools: the simulated AWS, with no account. Never for production.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.")] = 0,
    speed: Annotated[float, typer.Option(min=0.01, help="Virtual seconds per real second.")] = 60.0,
    config_out: Annotated[
        Path, typer.Option("--config-out", help="Where to write bluegreen.toml for the stack.")
    ] = Path("bluegreen.toml"),
) -> None:
    """Rehearsal tool: serve the simulated AWS on 127.0.0.1 with the demo stack, for
    `bluegreen` commands in other shells (run the printed exports there). Ctrl-C stops it."""
    try:
        from bluegreen.sandbox import Sandbox
        from bluegreen.sandbox.server import (
            SandboxServer,
            build_demo_world,
            shell_lines,
            stopped_by_signal,
            wait,
        )
    except ModuleNotFoundError as missing:
        _missing_sandbox(missing)

    configure_logging("console", False, quiet=True)
    try:
        server = SandboxServer(Sandbox(), port=port, speed=speed).start()
    except OSError as exc:
        message = f"cannot serve on 127.0.0.1:{port}: {exc}"
        err.print(Text.assemble(("error: ", "bold red"), message))
        raise typer.Exit(UsageError.exit_code) from None
    try:
        with stopped_by_signal() as stop:
            config_out.write_text(build_demo_world(server).config_toml())
            message = f"simulated AWS on {server.endpoint_url} at {speed:g}x; wrote {config_out}"
            err.print(Text(message))
            err.print(Text("rehearsal only; in another shell, run:"))
            print("\n".join(shell_lines(server)), flush=True)
            wait(stop)
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were in place
        pass
    finally:
        err.print("stopping")
        server.stop()


def main() -> None:
    app()

