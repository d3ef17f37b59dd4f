"""Everyday command-line conventions: `--version`, `python -m bluegreen`, shell completion,
NO_COLOR, help that fits 80 columns without eaten `[…]`, and a start-up that loads none
of the heavy modules for `--help` / `--version`."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from benchmark_modules import load_benchmark
from typer.testing import CliRunner

from bluegreen.cli import app, shared
from bluegreen.cli.logs import configure_logging

ROOT = Path(__file__).resolve().parents[2]
# SGR colour parameters: 30–39/40–49 (8 colours, 38/48 extended), 90–97/100–107 (bright).
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
BOX = str.maketrans("", "", "│╭╮╰╯─")


def python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("flag", ["--version", "-V"])
@pytest.mark.parametrize("entry", [["-m", "bluegreen"], ["-m", "bluegreen.cli"]])
def test_version_prints_the_installed_distribution_version(entry: list[str], flag: str) -> None:
    done = python(*entry, flag)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"bluegreen {version('bluegreen')}\n",
        "",
    )


def test_python_dash_m_runs_the_command_line() -> None:
    done = python("-m", "bluegreen", "--help")
    assert done.returncode == 0
    assert "deploy" in done.stdout and "rollback" in done.stdout


def test_show_completion_prints_a_bash_completion_script() -> None:
    done = python(
        "-c",
        "from bluegreen.cli import app; app(prog_name='bluegreen')",
        "--show-completion",
        "bash",
    )
    assert done.returncode == 0, done.stderr
    assert "_bluegreen_completion()" in done.stdout
    assert "complete -o default -F _bluegreen_completion bluegreen" in done.stdout


def test_install_completion_is_offered() -> None:
    assert "--install-completion" in CliRunner().invoke(app, ["--help"]).output


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_load_none_of_the_heavy_modules(flag: str) -> None:
    """The probe benchmarks/startup.py reports: the entry point run, then sys.modules."""
    startup = load_benchmark("startup")
    assert set(startup.HEAVY) >= {"boto3", "botocore", "pydantic", "moto", "scipy", "numpy"}
    assert startup.heavy_modules_after(flag, ROOT) == []


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_answered_before_the_command_line_loads(flag: str) -> None:
    startup = load_benchmark("startup")
    heavy = startup.HEAVY + startup.COMMAND_LINE
    assert startup.heavy_modules_after(flag, ROOT, heavy) == []


def test_the_api_still_loads_its_names_on_first_use() -> None:
    done = python(
        "-c",
        "import bluegreen; print(bluegreen.Deployer.__name__, "
        "bluegreen.load_config.__name__, bluegreen.DeploymentResult.__name__)",
    )
    assert done.stdout.split() == ["Deployer", "load_config", "DeploymentResult"]
    missing = python("-c", "import bluegreen; bluegreen.Nope")
    assert "has no attribute 'Nope'" in missing.stderr


# --- colour -------------------------------------------------------------------------


def test_no_color_takes_the_colour_out_of_the_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # a terminal, as far as rich knows
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert COLOUR.search(_printed(shared.console()))  # the check sees colour when there is

    monkeypatch.setenv("NO_COLOR", "1")
    for console in (shared.console(), shared.console(stderr=True)):
        text = _printed(console)
        assert "\x1b[1m" in text and not COLOUR.search(text)  # bold stays; colour goes


def test_an_empty_no_color_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "")
    assert COLOUR.search(_printed(shared.console()))


def _printed(console: typer.rich_utils.Console) -> str:  # type: ignore[name-defined]
    console.file = io.StringIO()
    console.print("[bold red]FAILED[/] [green]blue=100[/]")
    return console.file.getvalue()  # type: ignore[attr-defined]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("no_color", "coloured"), [("1", False), ("", True)])
def test_no_color_takes_the_colour_out_of_the_logs(
    monkeypatch: pytest.MonkeyPatch, no_color: str, coloured: bool
) -> None:
    import structlog

    monkeypatch.setenv("NO_COLOR", no_color)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    configure_logging()
    structlog.get_logger().error("green unhealthy", target="10.0.0.7")
    assert "green unhealthy" in terminal.getvalue()
    assert bool(COLOUR.search(terminal.getvalue())) is coloured


@pytest.mark.parametrize("env", [{"NO_COLOR": "1", "FORCE_COLOR": "1"}, {"FORCE_COLOR": "1"}])
def test_the_help_is_plain_text(env: dict[str, str]) -> None:
    """Help is click's plain layout, never rich's (whose import alone is a third of the
    start-up): no escape codes whatever the terminal claims."""
    done = python("-m", "bluegreen", "deploy", "--help", env=env)
    assert done.returncode == 0 and "Usage:" in done.stdout and "\x1b[" not in done.stdout


# --- help at 80 columns -------------------------------------------------------------


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    if hasattr(command, "commands"):  # a group (typer carries its own click)
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "-" for p, _ in COMMANDS]
)
def test_help_fits_80_columns_and_keeps_every_word(path: tuple[str, ...], command: Any) -> None:
    """In a real process on an 80-column terminal (CliRunner forces a width of its own):
    no line longer, no word cut (a hyphenated value split at its hyphen included), no
    summary in a command list cut short with "…"."""
    result = python("-m", "bluegreen", *path, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    commands = result.stdout.partition("\nCommands:\n")[2]
    assert "..." not in commands, f"a summary is cut in `{' '.join(path)} --help`:\n{commands}"
    rendered = " ".join(result.stdout.translate(BOX).split())
    sources = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    for source in sources:
        for word in source.split():  # rich markup would swallow `[analysis]`-like words
            assert word in rendered, f"{word!r} of {source!r} is not in `{' '.join(path)} --help`"
    for param in command.params:  # a metavar too wide for its column is cut mid-word
        if getattr(param, "metavar", None):
            assert param.metavar in rendered, f"{param.metavar!r} is cut in `{' '.join(path)}`"


def test_the_command_list_shows_one_line_summaries() -> None:
    """A docstring's first paragraph is the summary in `bluegreen --help`: a hard line
    break there shows as a broken line in the listing."""
    for path, command in COMMANDS[1:]:
        summary = (command.help or "").split("\n\n")[0]
        assert "\n" not in summary.strip(), f"{' '.join(path)}: {summary!r}"


def test_the_consoles_are_made_once_on_first_use_and_can_be_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`out`/`err` are plain rich Consoles (made by the module's __getattr__), so tests and
    code set their attributes or replace them like any module attribute."""
    from rich.console import Console

    assert isinstance(shared.out, Console) and shared.out is shared.out
    assert shared.err.stderr and not shared.out.stderr
    monkeypatch.setattr(shared.out, "width", 400)
    assert shared.out.width == 400
    with pytest.raises(AttributeError):
        shared.nope  # type: ignore[attr-defined]  # noqa: B018
