"""`plan`, `plan -o json` and `deploy --dry-run` show a hook's command line as the logs
would: its secrets masked. On the simulated AWS, through the CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_harness import Cli, task_sets

from bluegreen.cli import shared as cli

SECRET = "hunter2secret"
V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"

HOOKS: dict[str, dict[str, Any]] = {
    "argv": {"command": ["sh", "-c", f"echo DB_PASSWORD={SECRET}"]},
    "shell": {"command": [f"echo DB_PASSWORD={SECRET} | cat"], "shell": True},
    "flag": {"command": ["mysql", "--password", SECRET, "-e", "select 1"]},
    # A secret-named env value, passed on the command line under an innocent flag.
    "env value": {"command": ["migrate", "--with", SECRET], "env": {"DB_TOKEN": SECRET}},
}


@pytest.mark.parametrize("hook", HOOKS.values(), ids=HOOKS.keys())
def test_plan_and_dry_run_never_show_a_hooks_secret(
    run_cli: Cli, hook: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One line per table row: a secret wrapped over two lines would hide from `in`.
    monkeypatch.setattr(cli.out, "width", 400)
    run_cli.configure(hooks=[{"event": "pre_provision", **hook}])
    before = task_sets(run_cli.stack)

    shown = {
        "plan": run_cli("plan", "--image", f"web={V2}"),
        "plan json": run_cli("plan", "--image", f"web={V2}", "--output", "json"),
        "dry-run": run_cli("deploy", "--image", f"web={V2}", "--dry-run"),
        "dry-run json": run_cli("deploy", "--image", f"web={V2}", "--dry-run", "-o", "json"),
    }

    for how, result in shown.items():
        assert result.exit_code == 0, (how, result.output)
        assert SECRET not in result.output, how
        assert "hook pre_provision" in result.output and "***" in result.output, how
    steps = json.loads(shown["plan json"].stdout)["steps"]
    (hook_step,) = [s for s in steps if s["action"] == "hook pre_provision"]
    assert hook_step["detail"].split()[0] == hook["command"][0].split()[0]  # still recognisable
    assert task_sets(run_cli.stack) == before


def test_a_failing_hooks_secret_stays_out_of_the_result_and_the_record(run_cli: Cli) -> None:
    failing = {"event": "pre_provision", "command": ["sh", "-c", f"exit 3 # TOKEN={SECRET}"]}
    run_cli.configure(hooks=[failing])

    result = run_cli("deploy", "--image", f"web={V2}", "--output", "json")

    assert result.exit_code == 1, result.output
    assert "hook sh -c exit 3 # TOKEN=*** failed" in json.loads(result.stdout)["reason"]
    records = list((run_cli.config.parent / ".bluegreen").rglob("*.json"))
    assert records and all(SECRET not in r.read_text() for r in records)
    assert SECRET not in result.output
