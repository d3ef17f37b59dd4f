"""The rehearsal commands, on the simulated AWS (bluegreen.sandbox; moto, from the
`sandbox` extra): `demo` (three deployments, drawn live) and the `sandbox` group (`serve`:
the simulated AWS on 127.0.0.1 for `bluegreen` commands in other shells).

Rules: never for production. bluegreen.sandbox is imported inside the commands, so the
rest of the command line works without moto; a missing module is a usage error with a
hint, never a traceback. Printing goes through `shared.out` / `shared.err`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bluegreen.cli import shared
from bluegreen.cli.logs import configure_logging
from bluegreen.cli.shared import LogFormat, LogOpt, Output, OutputOpt, VerboseOpt
from bluegreen.errors import UsageError


def demo(
    speed: Annotated[
        float,
        typer.Option(help="Virtual seconds per real second for the live view; 0 = no pacing."),
    ] = 40.0,
    output: OutputOpt = Output.text,
    log_format: LogOpt = LogFormat.console,
    verbose: VerboseOpt = False,
) -> None:
    """Rehearse deployments on a simulated AWS: no account needed.

    Three deployments on the embedded simulated AWS, with no account and no credentials:
    a canary that succeeds, a green that fails its health check and is rolled back, and a
    release whose extra errors the metric analysis catches and rolls back."""
    try:
        from bluegreen.sandbox.demo import run_demo
    except ModuleNotFoundError as missing:
        _missing_sandbox(missing)

    # Logs would tear through the live view: only warnings, unless asked for.
    configure_logging(log_format.value, verbose, quiet=not verbose)
    live = output is Output.text and shared.out.is_terminal
    # Nobody watching (a pipe, CI, --output json): as fast as it goes.
    reports = _demo_live(run_demo, speed) if live else run_demo(speed=0.0)
    if output is Output.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, default=str))
    else:
        from bluegreen.cli.view import render_summary

        shared.out.print(render_summary(reports))
    if any(r.outcome != r.expected for r in reports):
        raise typer.Exit(1)


def _demo_live(run_demo: Callable[..., Any], speed: float) -> Any:
    from rich.live import Live

    from bluegreen.cli.view import render_frame

    with Live(console=shared.out, refresh_per_second=12, transient=False) as live:
        return run_demo(on_frame=lambda frame: live.update(render_frame(frame)), speed=speed)


def _missing_sandbox(missing: ModuleNotFoundError) -> NoReturn:
    """moto comes with the `sandbox` extra only: say so, never a traceback."""
    message = f"the simulated AWS needs {missing.name}, which is not installed"
    hint = "pip install 'bluegreen[sandbox]'"
    shared.print_error(f"{message}\n  → {hint}")
    raise typer.Exit(UsageError.exit_code)


sandbox_app = typer.Typer(
    help="Rehearsal tools: the simulated AWS, with no account. Never for production.",
    no_args_is_help=True,
)


@sandbox_app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.")] = 0,
    speed: Annotated[float, typer.Option(min=0.01, help="Virtual seconds per real second.")] = 60.0,
    config_out: Annotated[
        Path, typer.Option("--config-out", help="Where to write bluegreen.toml for the stack.")
    ] = Path("bluegreen.toml"),
    test_listener: Annotated[
        bool,
        typer.Option(
            "--test-listener",
            help="Give the stack an HTTP :8080 test listener (smoke checks go through it).",
        ),
    ] = False,
    api_limits: Annotated[
        float,
        typer.Option(
            "--api-limits",
            min=0.0,
            help="Scale AWS's API request limits (token buckets per account and region): "
            "1 = AWS's own, 0.1 = a tenth of each, 0 = none.",
        ),
    ] = 1.0,
) -> None:
    """Serve the simulated AWS with the demo stack on 127.0.0.1.

    For `bluegreen` commands in other shells: run the printed exports there. Ctrl-C
    stops it."""
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

    err = shared.err
    configure_logging("console", False, quiet=True)
    try:
        world = Sandbox(api_limit_scale=api_limits)
        server = SandboxServer(world, port=port, speed=speed).start()
    except OSError as exc:
        message = f"cannot serve on 127.0.0.1:{port}: {exc}"
        shared.print_error(message)
        raise typer.Exit(UsageError.exit_code) from None
    try:
        with stopped_by_signal() as stop:
            stack = build_demo_world(server, test_listener=test_listener)
            config_out.write_text(stack.config_toml())
            message = f"simulated AWS on {server.endpoint_url} at {speed:g}x; wrote {config_out}"
            err.print(message, markup=False, highlight=False)
            err.print("rehearsal only; in another shell, run:")
            print("\n".join(shell_lines(server)), flush=True)
            wait(stop)
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were in place
        pass
    finally:
        err.print("stopping")
        server.stop()
