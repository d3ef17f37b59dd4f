"""examples/release.py against a sandbox server, as a user would run it: a process of its
own, pointed at the simulated AWS with --endpoint-url, waiting on the server's virtual
clock. A good release succeeds and ends on green; a release whose health check cannot pass
is rolled back and exits 1; a malformed --image exits 2 before any AWS call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from example_files import SCRIPTS
from server_harness import FAST, NEW_IMAGE, child_env, weights

from bluegreen.sandbox import AppModel
from bluegreen.sandbox.server import SandboxServer
from bluegreen.sandbox.stack import SandboxStack

BROKEN = "public.ecr.aws/bluegreen/demo-web:3.1.0"


def release(server: SandboxServer, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env(server.client_env())
    del env["AWS_ENDPOINT_URL"]  # the script's own --endpoint-url must be what reaches it
    return subprocess.run(
        [sys.executable, str(SCRIPTS[0]), "--config", str(config), *args,
         "--endpoint-url", server.endpoint_url],
        env=env, capture_output=True, text=True, timeout=120, cwd=config.parent,
    )  # fmt: skip


@pytest.fixture
def config(world: SandboxStack, tmp_path: Path) -> Path:
    path = tmp_path / "bluegreen.toml"
    path.write_text(world.config_toml(**FAST), encoding="utf-8")
    return path


def test_a_good_release_succeeds_and_prints_where_traffic_is(
    server: SandboxServer, world: SandboxStack, config: Path
) -> None:
    ran = release(server, config, "--image", f"web={NEW_IMAGE}")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert weights(server, world) == [(0, 100), (0, 100)]
    assert "SUCCEEDED: bg-" in ran.stdout
    assert "SHIFTING" in ran.stdout  # the events, as they happened
    assert "status: web, live: web-green" in ran.stdout
    assert "web-green: 2 healthy, 0 unhealthy" in ran.stdout


def test_a_release_that_never_becomes_healthy_is_rolled_back_with_exit_1(
    server: SandboxServer, world: SandboxStack, config: Path
) -> None:
    server.sandbox.apps[BROKEN] = AppModel(serves=("/api",))  # /health answers 404

    ran = release(server, config, "--image", f"web={BROKEN}")

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert weights(server, world) == [(100, 0), (100, 0)]
    assert "ROLLED BACK: blue serves production." in ran.stdout
    assert "status: web, live: web-blue" in ran.stdout


def test_a_malformed_image_exits_2_and_changes_nothing(
    server: SandboxServer, world: SandboxStack, config: Path
) -> None:
    ran = release(server, config, "--image", NEW_IMAGE)  # no CONTAINER=

    assert ran.returncode == 2
    assert "expected CONTAINER=URI" in ran.stderr
    assert weights(server, world) == [(100, 0), (100, 0)]
