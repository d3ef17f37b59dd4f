"""The CLI skin: errors become exit codes and messages printed exactly as written."""

from __future__ import annotations

import pytest
import typer

from bluegreen.cli import shared as cli
from bluegreen.errors import ConflictError, LockHeldError


def fail(error: Exception) -> None:
    raise error


def test_an_error_prints_its_message_verbatim_and_exits_with_its_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = ConflictError("codes: [404] in [target_groups]", hint="fix [strategy] steps")
    with pytest.raises(typer.Exit) as caught:
        cli.run(cli.Output.text, lambda: fail(error), print)
    assert caught.value.exit_code == 2
    printed = " ".join(capsys.readouterr().err.split())
    assert "codes: [404] in [target_groups]" in printed and "fix [strategy] steps" in printed


def test_json_output_carries_the_error_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as caught:
        cli.run(cli.Output.json, lambda: fail(LockHeldError("held by bg-1")), print)
    assert caught.value.exit_code == 4
    assert '"exit_code": 4' in capsys.readouterr().out
