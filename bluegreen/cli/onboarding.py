"""The commands that set a service up for bluegreen: `init` (green target group, listener
rules, a starter bluegreen.toml), `verify` (preflight: everything exists and fits),
`iam-policy` (the least-privilege IAM policy the configuration needs) and `schema` (the
JSON Schema of bluegreen.toml, for editors).

Rules: the work is done by bluegreen.onboarding and the Deployer's preflight; this module
parses, calls, prints (through `shared.out`, looked up at call time) and sets exit codes.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bluegreen.cli import shared
from bluegreen.cli.shared import NO_COMMON, Common, Output, run, sandbox_clock, with_common_options


@with_common_options
def verify(common: Common = NO_COMMON) -> None:
    """Preflight: every resource exists and fits together. Changes nothing in AWS.

    Exit 0 when nothing failed (warnings allowed), 2 otherwise."""
    from bluegreen.cli.view import render_verify
    from bluegreen.errors import PreflightError
    from bluegreen.preflight import Report

    output = common.output

    def show(report: Report) -> None:
        if output is Output.json:
            print(json.dumps(report.to_dict(), indent=2, default=str))
        else:
            shared.out.print(render_verify(report), highlight=False)
        if not report.ok:
            raise typer.Exit(PreflightError.exit_code)

    run(output, lambda: common.deployer().verify(), show)


@with_common_options
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
    """Set a service up: green target group, rules, bluegreen.toml.

    Locates or creates the green target group (a copy of blue's), adds it at weight 0 to
    the production listeners, and writes a starter bluegreen.toml (to --config)."""
    from bluegreen.aws import connect
    from bluegreen.onboarding.initialize import InitResult, initialize

    output = common.output

    def action() -> InitResult:
        aws = common.aws
        cloud = connect(
            aws["profile"], aws["region"], aws["endpoint_url"], sandbox_clock().get("clock")
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
            shared.out.print(line, markup=False, highlight=False, soft_wrap=True)

    run(output, action, show)


@with_common_options
def iam_policy(
    task_definition: Annotated[
        str | None,
        typer.Option(
            "--task-definition",
            metavar="FILE|ARN",
            help="The task definition you will deploy (default: the running one's family "
            "and roles).",
        ),
    ] = None,
    common: Common = NO_COMMON,
) -> None:
    """The least-privilege IAM policy this configuration needs.

    Scoped to the configuration's ARNs wherever IAM allows. JSON (an IAM policy document)
    on stdout; `--output text` adds what each statement is for, on stderr. Reads the
    running task definition (its family and roles) unless --task-definition names a file.
    Changes nothing in AWS."""
    from bluegreen.iam import Policy

    def show(policy: Policy) -> None:
        print(json.dumps(policy.to_dict(), indent=2))
        if common.output is Output.text:
            for statement in policy.statements:
                line = f"# {statement.sid}: {statement.purpose}"
                shared.err.print(line, markup=False, highlight=False)

    run(common.output, lambda: common.deployer().iam_policy(task_definition), show)


def schema() -> None:
    """Print the JSON Schema of bluegreen.toml, for editors.

    `bluegreen schema > bluegreen.schema.json`, then `#:schema ./bluegreen.schema.json` as
    the first line of bluegreen.toml (taplo, Even Better TOML)."""
    from bluegreen.config import config_json_schema

    print(json.dumps(config_json_schema(), indent=2))
