"""SIGTERM to a real `bluegreen deploy` (a cancelled CI job) against the sandbox server:
the AWS call in progress finishes, then the deployment rolls back — or, with
`on_interrupt = "leave"`, stays resumable and `bluegreen resume` finishes it."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from server_harness import NEW_IMAGE, run_bluegreen, start_bluegreen, task_sets, weights

from bluegreen.sandbox.server import SandboxServer
from bluegreen.sandbox.stack import SandboxStack

# A canary bake long enough (20 virtual minutes: 4 s real at the harness's speed) for the
# test to see the 10 % stage and signal the process inside it.
SLOW_CANARY: dict[str, Any] = {
    "strategy": {"type": "canary", "percent": 10, "bake": "20m"},
    "health": {"timeout": "30m", "poll_interval": "5s"},
    "gates": {"bake_after_shift": "1m", "termination_wait": "30s"},
}


def wait_for_canary(config: Path, timeout: float = 20.0) -> None:
    """Until the deployment record says step 1 is live (the file store, beside the config)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in (config.parent / ".bluegreen").rglob("bg-*.json"):
            record = json.loads(path.read_text())
            if record["state"] == "SHIFTING" and record["green_percent"] == 10:
                return
        time.sleep(0.05)
    raise AssertionError("the deployment never reached its canary stage")


def deploy_and_terminate(server: SandboxServer, config: Path) -> tuple[int, str]:
    process = start_bluegreen(server, config, "deploy", "--image", f"web={NEW_IMAGE}", "--yes")
    try:
        wait_for_canary(config)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    return process.returncode, stderr


@pytest.mark.slow
def test_sigterm_mid_canary_rolls_back(
    server: SandboxServer, world: SandboxStack, tmp_path: Path
) -> None:
    config = tmp_path / "bluegreen.toml"
    config.write_text(world.config_toml(**SLOW_CANARY))

    code, stderr = deploy_and_terminate(server, config)

    assert code == 1, stderr
    assert "interrupted by SIGTERM" in stderr and "rolled back" in stderr
    assert weights(server, world) == [(100, 0), (100, 0)]
    assert [ts["loadBalancers"][0]["targetGroupArn"] for ts in task_sets(server, world)] == [
        world.blue_tg_arn
    ]


@pytest.mark.slow
def test_sigterm_with_on_interrupt_leave_is_resumable(
    server: SandboxServer, world: SandboxStack, tmp_path: Path
) -> None:
    config = tmp_path / "bluegreen.toml"
    config.write_text(world.config_toml(on_interrupt="leave", **SLOW_CANARY))

    code, stderr = deploy_and_terminate(server, config)

    assert code == 1, stderr
    assert "left in SHIFTING at 10% green" in " ".join(stderr.split())
    assert "bluegreen resume" in stderr
    assert weights(server, world) == [(90, 10), (90, 10)]

    resumed = run_bluegreen(server, config, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert weights(server, world) == [(0, 100), (0, 100)]
