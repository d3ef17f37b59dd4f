"""Driving the simulated AWS as a server (bluegreen.sandbox.server) from tests: the server
and its demo world as fixtures, boto3 clients pointed at it, and real `bluegreen`
subprocesses that import the source tree under test and sleep on the server's clock.

moto's in-process mock must not be active beside the server (it refuses): tests using
these fixtures use neither the `aws` nor the `sandbox` fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

import bluegreen
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.server import SandboxServer, build_demo_world
from bluegreen.sandbox.stack import SandboxStack

SOURCE_ROOT = str(Path(bluegreen.__file__).resolve().parent.parent)
SPEED = 300.0
NEW_IMAGE = "public.ecr.aws/bluegreen/demo-web:2.0.0"
BROKEN_IMAGE = "public.ecr.aws/bluegreen/demo-web:3.0.0"
# Short enough that a whole deployment is a few real seconds at SPEED. The server's time
# runs on while the other process is slow (a loaded CI): a generous health timeout (30m:
# 6 s real) keeps a stall from failing a deployment that should succeed.
FAST: dict[str, Any] = {
    "strategy": {"type": "canary", "percent": 10, "bake": "1m"},
    "health": {"timeout": "30m", "poll_interval": "5s"},
    "gates": {"bake_after_shift": "1m", "termination_wait": "30s"},
}


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(Sandbox(), speed=SPEED) as running:
        yield running
    assert running.time.errors == []  # no simulator failed on a tick


@pytest.fixture
def world(server: SandboxServer) -> SandboxStack:
    return build_demo_world(server)


def client(server: SandboxServer, service: str, **config: Any) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=server.endpoint_url,
        region_name=server.sandbox.region,
        config=Config(**config),
    )


def weights(server: SandboxServer, stack: SandboxStack) -> list[tuple[int, int]]:
    """(blue, green) weights of each listener, as the server answers them."""
    found = []
    for listener in client(server, "elbv2").describe_listeners(LoadBalancerArn=stack.lb_arn)[
        "Listeners"
    ]:
        groups = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
        by_arn = {g["TargetGroupArn"]: g["Weight"] for g in groups}
        found.append((by_arn[stack.blue_tg_arn], by_arn[stack.green_tg_arn]))
    return found


def task_sets(server: SandboxServer, stack: SandboxStack) -> list[dict[str, Any]]:
    ecs = client(server, "ecs")
    services = ecs.describe_services(cluster=stack.cluster, services=[stack.service])
    found: list[dict[str, Any]] = services["services"][0]["taskSets"]
    return found


def run_bluegreen(
    server: SandboxServer, config: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bluegreen.cli <args> --config <config>` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "bluegreen.cli", *args, "--config", str(config)],
        env=child_env(server.client_env()),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=config.parent,
    )


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment and `extra`, importing the bluegreen under test — not whatever
    `pip install -e` last pointed site-packages at — and no proxy for loopback."""
    path = os.pathsep.join(filter(None, [SOURCE_ROOT, os.environ.get("PYTHONPATH")]))
    loopback = {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return {**os.environ, **extra, **loopback, "PYTHONPATH": path}


def start_bluegreen(server: SandboxServer, config: Path, *args: str) -> subprocess.Popen[str]:
    """Like run_bluegreen, but returns at once: the test signals or kills it."""
    return subprocess.Popen(
        [sys.executable, "-m", "bluegreen.cli", *args, "--config", str(config)],
        env=child_env(server.client_env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
    )


def read_exports(process: subprocess.Popen[str]) -> dict[str, str]:
    """What `bluegreen sandbox serve` prints for clients to export: name → value."""
    assert process.stdout is not None
    exports: dict[str, str] = {}
    while "BLUEGREEN_SANDBOX_CLOCK" not in exports:
        line = process.stdout.readline()
        assert line, "bluegreen sandbox serve exited before printing its exports"
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = value
    return exports
