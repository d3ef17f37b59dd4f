"""The `bluegreen` command: parse, call the Python API, print, map errors to exit codes.

A thin skin over bluegreen.deployer; no deployment logic lives here. The room:
- shared.py: the typer app, the common options, the consoles (`out`, `err`), the
  Deployer factory (`deployer_factory`, which tests replace), and `run`, which maps every
  BluegreenError to its message and exit code (the README's exit codes);
- deployment.py: deploy, plan, status, rollback, promote, resume, history;
- release.py: release (several services as one), and release_actions.py, which it and the
  `--release FILE` of status, rollback, promote, resume and history call;
- onboarding.py: init, verify, iam-policy and schema; report.py: report (summary.py
  appends it to a CI job's summary after deploy, promote, rollback and resume);
- sandbox.py: demo and `sandbox serve`, the rehearsals on the simulated AWS;
- view.py: what is drawn with rich; logs.py: the structlog set-up.

This file assembles the app: the command modules import shared.py, never this file and
never each other. Patch `bluegreen.cli.shared`, not this package, to reach the factory
or the consoles.
"""

from __future__ import annotations

from bluegreen.cli.deployment import deploy, history, plan, promote, resume, rollback, status
from bluegreen.cli.onboarding import iam_policy, init, schema, verify
from bluegreen.cli.release import release
from bluegreen.cli.report import report
from bluegreen.cli.sandbox import demo, sandbox_app
from bluegreen.cli.shared import app

# Registered here, in the order `bluegreen --help` lists them.
for command in (
    deploy,
    plan,
    verify,
    status,
    rollback,
    promote,
    resume,
    history,
    release,
    report,
    init,
    iam_policy,
    schema,
    demo,
):
    app.command()(command)
app.add_typer(sandbox_app, name="sandbox")

__all__ = ["app", "main"]


def main() -> None:
    app()
