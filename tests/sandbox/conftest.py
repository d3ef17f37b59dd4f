"""The simulator and end-to-end tests run on the sandbox's stack: `stack` is it here (a
module overrides `stack` to deploy another topology), and `make(**overrides)` is a
Deployer for it on the sandbox's clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bluegreen import Deployer
from bluegreen.config import parse_config
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack


@pytest.fixture
def stack(sandbox_stack: SandboxStack) -> SandboxStack:
    return sandbox_stack


@pytest.fixture
def make(sandbox: Sandbox, stack: SandboxStack, tmp_path: Path) -> Any:
    def deployer(**overrides: Any) -> Deployer:
        config = parse_config(stack.config(**overrides), source=tmp_path / "bluegreen.toml")
        return Deployer(config, clock=sandbox.clock)

    return deployer
