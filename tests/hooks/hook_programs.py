"""Running the ready-made hook programs (hooks/) as a command hook runs them: a real
subprocess, the deployment context (built by the engine's own `hook_context`) as JSON on
stdin, its `BLUEGREEN_*` variables in the environment, only the variables a test gives
besides. Their HTTP goes to the `receiver` fixture (tests/webhook_receiver.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bluegreen.engine.hook_context import hook_context
from bluegreen.hooks.process import context_environment
from bluegreen.machine import HookEvent, State
from bluegreen.record import DeploymentRecord, StageEntry

HOOKS = Path(__file__).resolve().parents[2] / "hooks"
FROM_TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:41"
TO_TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42"


def context(event: HookEvent, state: State, reason: str | None = None) -> dict[str, Any]:
    """What the engine hands a hook at `event`, as the runner sends it (JSON-ready)."""
    rec = DeploymentRecord(
        id="d-7f3a",
        service_key="prod/web",
        cluster="prod",
        service="web",
        state=state,
        created_at=0.0,
        updated_at=0.0,
        stages=[StageEntry(weight=10), StageEntry(weight=100)],
        green_percent=10,
        from_task_definition=FROM_TD,
        to_task_definition=TO_TD,
        blue_target_group="arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/blue/1",
        green_target_group="arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/green/2",
        reason=reason,
    )
    found: dict[str, Any] = json.loads(json.dumps(hook_context(rec, event), default=str))
    return found


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


Run = Callable[..., Ran]


@pytest.fixture
def run_hook() -> Run:
    def run(
        program: str,
        *args: str,
        ctx: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Ran:
        ctx = ctx if ctx is not None else context(HookEvent.POST_SHIFT, State.SHIFTING)
        # Nothing of the test process's environment but what Python needs: a variable the
        # program reads must come from the test. NO_PROXY keeps loopback direct.
        base = {k: os.environ[k] for k in ("PATH", "HOME", "SYSTEMROOT") if k in os.environ}
        done = subprocess.run(
            [sys.executable, str(HOOKS / program), *args],
            input=json.dumps(ctx),
            env={**base, "NO_PROXY": "*", **context_environment(ctx), **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Ran(done.returncode, done.stdout, done.stderr)

    return run
