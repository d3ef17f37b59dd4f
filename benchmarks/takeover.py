"""Benchmark: how soon `bluegreen rollback` (or `resume`) run right after a pipeline was
killed puts blue back (or finishes), with the S3 state store and the default 60 s lease.

    python benchmarks/takeover.py [--verb rollback|resume] [--lease 60s]

On the simulated AWS as a server (real `bluegreen` processes, shared virtual clock): a
deploy is killed with SIGKILL during a bake at 50 % green, then the verb is run at once,
twice — with the killed process on this machine (its lock is taken over at once: the pid
is gone), and as if it had run on another machine (the lock names another host, so only
its lease can tell that it is gone). Prints the real seconds from the kill until the verb
held the lock and until it ended (a resume then runs the rest of the deployment: the
remaining bake, 1 h of virtual time, is a minute of real time), and the lease it had.
Needs nothing but the package (no AWS account).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.server import SandboxServer, build_demo_world

BUCKET, PREFIX = "bluegreen-state", "deployments"
SPEED = 60.0  # virtual seconds per real second: a 1 h bake outlives the measurement
IMAGE = "public.ecr.aws/bluegreen/demo-web:2.0.0"


def config(lease: str) -> dict[str, Any]:
    return {
        "strategy": {"type": "steps", "steps": [{"weight": 50, "bake": "1h"}, {"weight": 100}]},
        "health": {"timeout": "30m", "poll_interval": "5s"},
        "gates": {"bake_after_shift": "10s", "termination_wait": "10s"},
        "state": {"backend": f"s3://{BUCKET}/{PREFIX}", "lease": lease},
    }


def bluegreen(server: SandboxServer, folder: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_PROXY": "127.0.0.1"}
    return subprocess.Popen(
        [sys.executable, "-m", "bluegreen.cli", *args, "--config", str(folder / "bg.toml")],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def s3(server: SandboxServer) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.sandbox.region,
        config=Config(retries={"max_attempts": 2}),
    )


def newest_record(client: Any, folder: str) -> dict[str, Any] | None:
    keys = sorted(
        o["Key"]
        for o in client.list_objects_v2(Bucket=BUCKET, Prefix=folder).get("Contents", [])
        if o["Key"].endswith(".json") and "/" not in o["Key"][len(folder) :]
    )
    if not keys:
        return None
    found: dict[str, Any] = json.loads(
        client.get_object(Bucket=BUCKET, Key=keys[-1])["Body"].read()
    )
    return found


def one_run(verb: str, lease: str, elsewhere: bool) -> tuple[float, float, float, int]:
    """Real seconds from the kill until the verb's process held the lock, and until it
    exited; the lease's seconds left at the kill; the exit code."""
    with SandboxServer(Sandbox(), speed=SPEED) as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.update(server.client_env())  # ours and the `bluegreen` processes'
        world = build_demo_world(server)
        (folder / "bg.toml").write_text(world.config_toml(**config(lease)))
        client = s3(server)
        client.create_bucket(Bucket=BUCKET)
        records = f"{PREFIX}/demo__web/"
        deploy = bluegreen(server, folder, "deploy", "--image", f"web={IMAGE}", "--yes")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rec = newest_record(client, records)
            if rec and rec["state"] == "SHIFTING" and rec["green_percent"] == 50:
                break
            time.sleep(0.05)
        else:
            raise SystemExit("the deployment never reached its bake at 50 % green")
        os.kill(deploy.pid, signal.SIGKILL)
        deploy.wait()
        killed = time.time()
        lock_key = records + "lock"
        lock = json.loads(client.get_object(Bucket=BUCKET, Key=lock_key)["Body"].read())
        if elsewhere:
            lock.update(holder="ci@runner-7 pid 4242", host="runner-7 pid:[1]", pid=4242)
            client.put_object(Bucket=BUCKET, Key=lock_key, Body=json.dumps(lock).encode())
        run = bluegreen(server, folder, verb, *(["--reason", "benchmark"] * (verb == "rollback")))
        taken = None
        while run.poll() is None:
            if taken is None and _held_by(client, lock_key) == run.pid:
                taken = time.time() - killed
            time.sleep(0.05)
        ended = time.time() - killed
        return taken or ended, ended, lock["expires_at"] - killed, run.returncode


def _held_by(client: Any, key: str) -> int | None:
    try:
        pid: int = json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())["pid"]
    except client.exceptions.NoSuchKey:
        return None
    return pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verb", choices=["rollback", "resume"], default="rollback")
    parser.add_argument("--lease", default="60s", help="state.lease (default: 60s)")
    args = parser.parse_args()
    for elsewhere in (False, True):
        taken, ended, left, code = one_run(args.verb, args.lease, elsewhere)
        where = "on another machine" if elsewhere else "on this machine"
        print(
            f"{args.verb} run at once after a kill {where}: lock taken {taken:.1f}s and "
            f"{args.verb} done {ended:.1f}s after the kill (exit {code}); the lease had "
            f"{left:.1f}s left"
        )


if __name__ == "__main__":
    main()
