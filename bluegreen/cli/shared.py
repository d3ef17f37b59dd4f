"""What every command of the `bluegreen` command line shares: the typer app, the common
options, the consoles, the Deployer factory, and `run`, which calls the Python
API, prints the result and maps every BluegreenError to its exit code.

No deployment logic lives in the CLI. Every BluegreenError is printed as its message (never
a traceback) and exits with its code (the README's exit codes).

Rules: this module imports no command module (bluegreen/cli/__init__.py assembles them).
Tests patch `deployer_factory` and `out` here. So `deployer_factory` is read only by
`Common.deployer`, at call time, and command modules reach `out` and `err` through this
module (`shared.out`), never with `from … import`: a copied name would miss a replacement.

Start-up: `bluegreen --help` imports this module and every command module, so none of them
imports the Deployer (boto3, pydantic, scipy), structlog or rich at the top: those load
inside the commands, when one runs (help is click's plain text; `out` and `err` are made
on first use). The consoles honour NO_COLOR.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bluegreen.cli.logs import configure_logging, no_color
from bluegreen.errors import BluegreenError

if TYPE_CHECKING:
    from rich.console import Console

    from bluegreen.deployer import Deployer, DeploymentResult
    from bluegreen.release import Release

app = typer.Typer(
    help="Blue/green deployments for Amazon ECS services behind Elastic Load Balancing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def console(*, stderr: bool = False) -> Console:
    """A console for the CLI: no colour when NO_COLOR is set, whatever the terminal
    (rich reads NO_COLOR too; saying it here keeps that promise ours). FORCE_COLOR is
    left to rich."""
    from rich.console import Console

    return Console(stderr=stderr, no_color=no_color() or None)


# `out` and `err`: rich Consoles made on first use by __getattr__ below, then kept as this
# module's own attributes (which tests replace). rich's import is a third of
# `bluegreen --help`'s start-up, and help never prints through a console.
out: Console
err: Console


def __getattr__(name: str) -> Console:
    if name not in ("out", "err"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    made = console(stderr=name == "err")
    globals()[name] = made
    return made


def _console_named(name: str) -> Console:
    """`out` or `err` from inside this module, where a plain name never reaches __getattr__."""
    made: Console | None = globals().get(name)
    return made if made is not None else __getattr__(name)


def package_version() -> str:
    """The package's version: one literal in bluegreen/__init__.py, which pyproject.toml
    reads too, so what pip installed and what this prints cannot differ (and reading it
    costs no importlib.metadata)."""
    from bluegreen import __version__

    return __version__


def _print_version(value: bool) -> None:
    if value:
        print(f"bluegreen {package_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Options before the command apply to the whole program."""


T = TypeVar("T")


class Output(StrEnum):
    text = "text"
    json = "json"


class LogFormat(StrEnum):
    console = "console"
    json = "json"


ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Path to bluegreen.toml.")]
ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile.", envvar="AWS_PROFILE")]
RegionOpt = Annotated[str | None, typer.Option(help="AWS region.", envvar="AWS_REGION")]
EndpointOpt = Annotated[
    str | None,
    typer.Option(help="AWS endpoint URL (e.g. a simulated AWS).", envvar="AWS_ENDPOINT_URL"),
]
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="text or json (on stdout).")]
LogOpt = Annotated[LogFormat, typer.Option("--log-format", help="Logs on stderr: console or json.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")]

# Tests (and the sandbox) replace this to hand the Deployer a cloud and a clock. None:
# Deployer.from_config, imported when a command first needs AWS.
deployer_factory: Callable[..., Deployer] | None = None
release_factory: Callable[..., Release] | None = None  # Release.from_file's stand-in, for tests


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
        factory = deployer_factory or _from_config
        return factory(self.config, overrides=overrides, **self.aws, **sandbox_clock())


def _from_config(*args: Any, **kwargs: Any) -> Deployer:
    from bluegreen.deployer import Deployer

    return Deployer.from_config(*args, **kwargs)


def sandbox_clock() -> dict[str, Any]:
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
NO_COMMON: Any = None  # replaced by `with_common_options` with the parsed common options


def with_common_options(func: Callable[..., None]) -> Callable[..., None]:
    """`func` as a command that also takes every common option: they are added
    to its signature for typer, and handed to it as one `common` object. Registered with
    the app in bluegreen/cli/__init__.py, which keeps the order of `bluegreen --help`."""
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
    return wrapper


def run(output: Output, action: Callable[[], T], show: Callable[[T], None]) -> None:
    """Call the API; print the result; turn every BluegreenError into its exit code."""
    try:
        show(action())
    except BluegreenError as exc:
        from bluegreen.deployer import DeploymentResult

        result: Any = getattr(exc, "result", None)
        if output is Output.json:
            doc = result.to_dict() if hasattr(result, "to_dict") else {}
            print(
                json.dumps(
                    {**doc, "error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code},
                    indent=2,
                    default=str,
                )
            )
        elif isinstance(result, DeploymentResult):
            print_result(result, with_reason=False)  # the error below says why
        elif hasattr(result, "describe"):  # a release's: each service's end
            for line in result.describe()[1:]:
                _console_named("out").print(line, highlight=False, markup=False)
        print_error(str(exc))
        raise typer.Exit(exc.exit_code) from None


def print_error(message: str) -> None:
    """`error: <message>` on stderr, the message as it is (no rich markup read in it)."""
    from rich.text import Text

    err = _console_named("err")
    err.print(Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True)


def print_warning(message: str) -> None:
    """`warning: <message>` on stderr, the message as it is: something went wrong that
    changes neither the outcome nor the exit code."""
    from rich.text import Text

    err = _console_named("err")
    err.print(Text.assemble(("warning: ", "bold yellow"), message), highlight=False)


def print_result(result: DeploymentResult, *, with_reason: bool = True) -> None:
    from rich.text import Text

    rec, out = result.record, _console_named("out")
    colour = {"succeeded": "green", "paused": "yellow"}.get(result.outcome, "red")
    out.print(f"[bold {colour}]{result.outcome.upper()}[/] {rec.id}  state {rec.state.value}")
    if rec.reason and with_reason:
        out.print(Text(f"reason: {rec.reason}"), highlight=False)
    if rec.skip_analysis:
        out.print(Text(f"metric analysis skipped: {rec.skip_analysis.describe()}"), highlight=False)
    for route, weights in result.final_weights.items():
        split = ", ".join(f"{short_arn(a)}={w}" for a, w in weights.items())
        out.print(f"  {short_arn(route)}: {split}", highlight=False)
    for warning in result.warnings:  # after it ended: they change neither outcome nor exit code
        print_warning(warning)


def short_arn(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
