"""End to end through the CLI, in this process, on the simulated AWS (bluegreen.sandbox):
ECS starts green's tasks and registers them, ELB health-checks them, all on the sandbox's
virtual clock, which the CLI's Deployer sleeps on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_harness import Cli

from bluegreen.cli import shared as cli
from bluegreen.deployer import Deployer
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack


@pytest.fixture
def stack(sandbox_stack: SandboxStack) -> SandboxStack:
    return sandbox_stack


@pytest.fixture
def run_cli(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    harness = Cli(tmp_path / "bluegreen.toml", stack)
    harness.configure()

    def factory(path: Path, overrides: Any = None, **aws: Any) -> Deployer:
        deployer = Deployer.from_config(path, overrides=overrides, clock=sandbox.clock, **aws)
        harness.deployers.append(deployer)
        return deployer

    monkeypatch.setattr(cli, "deployer_factory", factory)
    return harness
