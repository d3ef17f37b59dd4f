"""The simulated AWS as a server on loopback (bluegreen.sandbox.server): another process —
a boto3 client, a real `bluegreen deploy` — sees the same world on the same virtual time.

moto's in-process mock must not be active here (the server refuses): these tests use
neither the `aws` nor the `sandbox` fixture. Subprocesses get their environment explicitly
(the rootdir conftest clears AWS_ENDPOINT_URL for this process only).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.elbv2.models import FakeTargetGroup
from server_harness import (
    BROKEN_IMAGE,
    FAST,
    NEW_IMAGE,
    SPEED,
    child_env,
    client,
    read_exports,
    run_bluegreen,
    task_sets,
    weights,
)

from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.remote_clock import RemoteClock, RemoteClockError
from bluegreen.sandbox.server import SandboxServer
from bluegreen.sandbox.stack import SandboxStack

# -- the server ------------------------------------------------------------------------------


def test_another_client_sees_the_world_on_a_free_loopback_port(
    server: SandboxServer, world: SandboxStack
) -> None:
    assert server.endpoint_url.startswith("http://127.0.0.1:")
    assert server.port > 0
    assert weights(server, world) == [(100, 0), (100, 0)]
    health = client(server, "elbv2").describe_target_health(TargetGroupArn=world.blue_tg_arn)
    states = [d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]]
    assert states == ["healthy", "healthy"]  # blue serving: the simulators ran on build


def test_virtual_time_moves_at_about_speed_times_real_time(server: SandboxServer) -> None:
    remote = RemoteClock(server.clock_url)
    virtual, real = remote.now(), time.monotonic()
    time.sleep(0.3)
    moved = (remote.now() - virtual) / (time.monotonic() - real)
    assert SPEED * 0.5 < moved < SPEED * 1.5


def test_a_remote_sleep_waits_for_the_servers_clock(server: SandboxServer) -> None:
    remote = RemoteClock(server.clock_url)
    before, real = remote.now(), time.monotonic()
    remote.sleep(60)  # 0.2 s real at SPEED
    assert remote.now() - before >= 60
    assert time.monotonic() - real < 2.0
    assert server.time.now() == pytest.approx(remote.now(), abs=SPEED * 0.5)


def test_the_clock_endpoint_refuses_a_sleep_without_a_finite_deadline(
    server: SandboxServer,
) -> None:
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for query in ("", "?seconds=abc", "?until=nan"):
        request = urllib.request.Request(f"{server.clock_url}/sleep{query}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            no_proxy.open(request, timeout=5)
        assert refused.value.code == 400


def test_stop_releases_the_port_and_the_threads_and_puts_moto_back() -> None:
    original_health_for = FakeTargetGroup.health_for
    server = SandboxServer(Sandbox(), speed=SPEED).start()
    assert FakeTargetGroup.health_for is not original_health_for
    remote = RemoteClock(server.clock_url, timeout=2.0)
    remote.now()
    server.stop()
    assert FakeTargetGroup.health_for is original_health_for
    assert not [t for t in threading.enumerate() if t.name.startswith("bluegreen-sandbox")]
    with pytest.raises(RemoteClockError, match="did not answer"):
        remote.now()
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", server.port))


def test_a_port_in_use_is_an_os_error_and_leaves_moto_as_it_was() -> None:
    original_health_for = FakeTargetGroup.health_for
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            SandboxServer(Sandbox(), port=taken.getsockname()[1]).start()
    assert FakeTargetGroup.health_for is original_health_for


def test_refuses_to_start_beside_the_in_process_mock() -> None:
    with mock_aws(), pytest.raises(RuntimeError, match="in-process mock"):
        SandboxServer(Sandbox()).start()


def test_faults_are_injected_before_moto_answers(
    server: SandboxServer, world: SandboxStack
) -> None:
    server.sandbox.faults.throttle("DescribeTargetHealth", 1.0)
    elb = client(server, "elbv2", retries={"total_max_attempts": 1})
    with pytest.raises(ClientError) as caught:
        elb.describe_target_health(TargetGroupArn=world.blue_tg_arn)
    assert caught.value.response["Error"]["Code"] == "Throttling"
    assert server.sandbox.faults.injected["DescribeTargetHealth", "Throttling"] == 1
    elb.describe_target_groups(TargetGroupArns=[world.blue_tg_arn])  # other calls pass


def test_a_slow_call_waits_on_the_shared_time_without_stopping_it(
    server: SandboxServer, world: SandboxStack
) -> None:
    server.sandbox.faults.slow("DescribeTargetGroups", seconds=60)
    before, real = server.time.now(), time.monotonic()
    client(server, "elbv2").describe_target_groups(TargetGroupArns=[world.blue_tg_arn])
    assert server.time.now() - before >= 60
    assert time.monotonic() - real < 2.0  # 0.2 s at SPEED: virtual latency, paced


def test_advance_jumps_the_world_ahead(server: SandboxServer) -> None:
    before = server.time.now()
    server.time.advance(3600)
    assert RemoteClock(server.clock_url).now() - before >= 3600


# -- a real `bluegreen` process on the server ------------------------------------------------


def test_a_deploy_in_another_process_shifts_the_servers_listeners_to_green(
    server: SandboxServer, world: SandboxStack, tmp_path: Path
) -> None:
    config = tmp_path / "bluegreen.toml"
    config.write_text(world.config_toml(**FAST))
    started = server.time.now()

    done = run_bluegreen(
        server, config, "deploy", "--image", f"web={NEW_IMAGE}", "--yes", "-o", "json"
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "succeeded"
    assert weights(server, world) == [(0, 100), (0, 100)]
    remaining = task_sets(server, world)
    assert len(remaining) == 1
    assert remaining[0]["loadBalancers"][0]["targetGroupArn"] == world.green_tg_arn
    # The process lived on the server's timeline, not its own: the record's times are
    # virtual ones, and the bake, the bake after the shift and the wait all passed there.
    assert started <= result["started_at"] < result["ended_at"] <= server.time.now()
    assert result["duration_seconds"] >= 60 + 60 + 30


def test_a_deploy_whose_green_never_turns_healthy_exits_1_and_leaves_blue_live(
    server: SandboxServer, world: SandboxStack, tmp_path: Path
) -> None:
    config = tmp_path / "bluegreen.toml"
    config.write_text(world.config_toml(**{**FAST, "health": {"timeout": "3m"}}))
    # The world is the server's: an app model set here is what the other process meets.
    server.sandbox.apps[BROKEN_IMAGE] = AppModel(serves=("/api",))

    done = run_bluegreen(
        server, config, "deploy", "--image", f"web={BROKEN_IMAGE}", "--yes", "-o", "json"
    )

    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["outcome"] == "rolled_back"
    assert weights(server, world) == [(100, 0), (100, 0)]


def test_sandbox_serve_prints_the_exports_and_stops_cleanly_on_a_signal(tmp_path: Path) -> None:
    config = tmp_path / "rehearsal.toml"
    command = ["-m", "bluegreen.cli", "sandbox", "serve", "--speed", "600"]
    process = subprocess.Popen(
        [sys.executable, *command, "--config-out", str(config)],
        env=child_env({}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        exports = read_exports(process)
        assert config.read_text().count("[[listeners]]") == 2
        remote = RemoteClock(exports["BLUEGREEN_SANDBOX_CLOCK"])
        assert exports["BLUEGREEN_SANDBOX_CLOCK"].startswith(exports["AWS_ENDPOINT_URL"])
        assert remote.now() > 0
    finally:
        process.terminate()  # SIGTERM, as a harness stops it; Ctrl-C takes the same path
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "rehearsal" in stderr
