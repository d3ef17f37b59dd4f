"""The end-to-end harness: run the CLI in this process against the sandbox, and read what
AWS shows (listener weights, task sets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from typer.testing import CliRunner

from bluegreen import cli
from bluegreen.deployer import Deployer
from bluegreen.sandbox.stack import SandboxStack

STEPS = [{"weight": 10, "bake": "1m"}, {"weight": 50, "bake": "1m"}, {"weight": 100}]


BASE: dict[str, Any] = {
    "strategy": {"type": "steps", "steps": STEPS},
    "health": {"timeout": "5m", "poll_interval": "5s"},
    "gates": {"bake_after_shift": "2m", "termination_wait": "1m"},
}


@dataclass
class Cli:
    config: Path
    stack: SandboxStack
    deployers: list[Deployer] = field(default_factory=list)

    def __call__(self, *args: str) -> Any:
        yes = ["--yes"] if args[0] == "deploy" else []
        return CliRunner().invoke(cli.app, [*args, "--config", str(self.config), *yes])

    def configure(self, **changes: Any) -> None:
        """(Re)write bluegreen.toml for the stack: BASE with `changes` merged over it."""
        self.config.write_text(self.stack.config_toml(**{**BASE, **changes}))


def weights(stack: SandboxStack, listener: str) -> dict[str, int]:
    elb = boto3.client("elbv2", region_name=stack.region)
    action = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
    names = {stack.blue_tg_arn: "blue", stack.green_tg_arn: "green"}
    groups = action["ForwardConfig"]["TargetGroups"]
    return {names[t["TargetGroupArn"]]: t["Weight"] for t in groups}


def task_sets(stack: SandboxStack) -> list[dict[str, Any]]:
    ecs = boto3.client("ecs", region_name=stack.region)
    found: list[dict[str, Any]] = ecs.describe_task_sets(
        cluster=stack.cluster, service=stack.service
    )["taskSets"]
    return found
