"""Crash safety, the per-service lock, and requests from a second process — real `bluegreen`
processes against the sandbox server, with the S3 state store (moto's S3 on the same server).

1. A `bluegreen deploy` is killed with SIGKILL at every state it passes through; at once,
   long before the killed process's lease would lapse (its pid is gone from this host),
   `bluegreen resume` finishes the deployment, or `bluegreen rollback` puts blue back —
   going straight back: from the rollback's start on, no weight moves toward green and
   nothing is provisioned (killed in PREFLIGHT, nothing had changed: it stops). Killed once
   blue's task set is being retired, rollback refuses (exit 3) and green keeps serving.
   A kill point is found by polling the deployment record in S3, as another machine would.
   States that are over in a few calls (PREFLIGHT, PROVISIONING, the first weight change, the
   start of blue's retirement) are held open by a slow fault on one of their calls, and the
   process is killed while that call is in flight: the call then lands after its caller
   died, as an AWS call can.
2. Two deploys of one service started together: one runs, the other exits 4 naming it.
3. A promote or a rollback from a second process takes effect within one poll interval,
   measured in virtual time from the request's arrival in S3 to the next state change.
4. A deploy killed on another machine (its lock names another host): `rollback` and `resume`
   run at once wait for its lease to lapse, counting down, then take over; a `resume` while
   the deployment's process is alive stops (exit 4) once it sees the lease renewed.

Across every run, the observer (bluegreen.sandbox.observe) checks the first promise: no
listener was ever given — or kept — weight on a target group without a healthy target.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from server_harness import NEW_IMAGE, child_env, client, task_sets, weights

from bluegreen.sandbox.observe import Observer
from bluegreen.sandbox.server import SandboxServer, build_demo_world
from bluegreen.sandbox.stack import SandboxStack

pytestmark = pytest.mark.slow

# The checkout under test, whatever `pip install -e` points at.
SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
BUCKET = "bluegreen-state"
PREFIX = "deployments"
SERVICE_KEY = "demo__web"  # the demo world's cluster "demo", service "web"
POLL = 5.0  # health.poll_interval, virtual seconds
# state.lease, real seconds: longer than any test waits, so a take-over within a test is
# the dead process's lock taken at once, never a lapsed lease.
LEASE = 60.0
HOLD = 150.0  # virtual seconds a held call stays in flight (0.5 s real at the server's 300×)
PROCESS_TIMEOUT = 60.0  # real seconds any `bluegreen` process may take
WAIT_TIMEOUT = 30.0  # real seconds to reach a kill point

# Short bakes (two polls each): a poll cycle is a few HTTP calls, and at 300× a long bake is
# many of them. A kill point that lands inside a wait gets a long one of its own (`window`).
STEPS = [{"weight": 10, "bake": "10s"}, {"weight": 50, "bake": "10s"}, {"weight": 100}]
STATE = {"backend": f"s3://{BUCKET}/{PREFIX}", "lease": f"{LEASE:g}s"}
CONFIG: dict[str, Any] = {
    "strategy": {"type": "steps", "steps": STEPS},
    "health": {"timeout": "30m", "poll_interval": f"{POLL:g}s"},
    "gates": {"bake_after_shift": "10s", "termination_wait": "10s"},
    "state": STATE,
}
WINDOW = "2m"  # a wait the test can see and kill inside: 0.4 s real at 300×

Record = dict[str, Any]


# -- fixtures and helpers ----------------------------------------------------------------------


@dataclass
class Run:
    """A `bluegreen` process, its output in files (a pipe nobody reads could fill up)."""

    name: str  # the command: "deploy", "resume"…
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float = PROCESS_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self} did not end within {timeout:g}s") from None

    @property
    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def __str__(self) -> str:
        return f"bluegreen {self.name} (pid {self.pid})"


@dataclass
class Bluegreen:
    """Starts `python -m bluegreen.cli … --config <config>` on the server; kills leftovers."""

    server: SandboxServer
    config: Path
    runs: list[Run] = field(default_factory=list)

    def start(self, *args: str) -> Run:
        n = len(self.runs) + 1
        out, err = (
            self.config.parent / f"{n}-{args[0]}.out",
            self.config.parent / f"{n}-{args[0]}.err",
        )
        env = {  # the harness's environment, importing the checkout this file is in
            **child_env(self.server.client_env()),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [SOURCE_ROOT, os.environ.get("PYTHONPATH")])
            ),
        }
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "bluegreen.cli", *args, "--config", str(self.config)],
                env=env,
                stdout=stdout,
                stderr=stderr,
                cwd=self.config.parent,
            )
        run = Run(args[0], process, out, err)
        self.runs.append(run)
        return run

    def run(self, *args: str) -> Run:
        run = self.start(*args)
        run.wait()
        return run

    def deploy(self, *extra: str) -> Run:
        return self.start("deploy", "--image", f"web={NEW_IMAGE}", "--yes", *extra)

    def kill_leftovers(self) -> None:
        for run in self.runs:
            if run.process.poll() is None:
                run.process.kill()
                run.process.wait()


class StateBucket:
    """The S3 state store's objects, read as another machine would: records and the lock."""

    def __init__(self, server: SandboxServer) -> None:
        self.s3 = client(server, "s3")
        self.s3.create_bucket(Bucket=BUCKET)
        self.folder = f"{PREFIX}/{SERVICE_KEY}/"

    def record_keys(self) -> list[str]:
        """`<prefix>/<service>/bg-….json`, oldest first (ids begin with their UTC second)."""
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=self.folder).get("Contents", [])
        return sorted(
            o["Key"]
            for o in listed
            if o["Key"].endswith(".json") and "/" not in o["Key"][len(self.folder) :]
        )

    def newest_record(self) -> Record | None:
        key = self._newest_key()
        return None if key is None else self._read(key)

    def _newest_key(self) -> str | None:
        keys = self.record_keys()
        return keys[-1] if keys else None

    def _read(self, key: str) -> Record:
        record: Record = json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        return record

    def wait_for(self, reached: Callable[[Record], bool], run: Run, what: str) -> Record:
        """Poll the deployment's record until `reached`; fail if `run` ends first. (One
        deployment per test: once its record exists, only that key is read.)"""
        deadline = time.monotonic() + WAIT_TIMEOUT
        key = None
        while time.monotonic() < deadline:
            key = key or self._newest_key()
            record = self._read(key) if key else None
            if record is not None and reached(record):
                return record
            if run.process.poll() is not None:
                raise AssertionError(f"{run} ended (exit {run.process.returncode}) before {what}")
            time.sleep(0.02)
        raise AssertionError(f"no record showed {what} within {WAIT_TIMEOUT:g}s")

    def lock(self) -> Record | None:
        try:
            body = self.s3.get_object(Bucket=BUCKET, Key=self.folder + "lock")["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        lease: Record = json.loads(body)
        return lease

    def write_lock(self, lease: Record) -> None:
        body = json.dumps(lease).encode()
        self.s3.put_object(Bucket=BUCKET, Key=self.folder + "lock", Body=body)


@pytest.fixture
def bucket(server: SandboxServer) -> StateBucket:
    return StateBucket(server)


@pytest.fixture
def observer(server: SandboxServer) -> Iterator[Observer]:
    """Installed by the test once its world is built (a world under construction forwards
    to target groups whose targets are not healthy yet)."""
    watching = Observer(server.sandbox)
    yield watching
    with server.lock:  # no request or tick inside moto while its methods are swapped
        watching.uninstall()


@pytest.fixture
def bluegreen(server: SandboxServer, tmp_path: Path) -> Iterator[Bluegreen]:
    runner = Bluegreen(server, tmp_path / "bluegreen.toml")
    yield runner
    runner.kill_leftovers()


def make_world(
    server: SandboxServer,
    observer: Observer,
    bluegreen: Bluegreen,
    config: dict[str, Any],
    **stack: Any,
) -> SandboxStack:
    world = build_demo_world(server, **stack)
    bluegreen.config.write_text(world.config_toml(**config))
    with server.lock:
        observer.install()
    return world


def live(server: SandboxServer, world: SandboxStack) -> list[tuple[str, str]]:
    """(target group colour, status) of every task set of the service."""
    colour = {world.blue_tg_arn: "blue", world.green_tg_arn: "green"}
    return [
        (colour[ts["loadBalancers"][0]["targetGroupArn"]], ts["status"])
        for ts in task_sets(server, world)
    ]


def assert_invariant_held(observer: Observer) -> None:
    assert observer.violations() == []
    assert observer.weight_changes, "the observer saw no weight change: is it installed?"


# -- 1. killed at every state, then resumed or rolled back ----------------------------------------


@dataclass(frozen=True)
class KillPoint:
    name: str
    reached: Callable[[Record], bool]  # on the newest record in S3
    state: str  # the state the record must still show after the kill
    hold: str | None = None  # an operation held in flight (a slow fault) when killed
    settle: float = 0.0  # virtual seconds to let pass after the point is seen
    window: dict[str, Any] = field(default_factory=dict)  # configuration merged over CONFIG
    stack: dict[str, Any] = field(default_factory=dict)  # build_demo_world options
    check_left: Callable[[SandboxServer, SandboxStack, Record], None] | None = None
    rolled_back: str = "ROLLED_BACK"  # the record's state after `bluegreen rollback`

    def __str__(self) -> str:
        return self.name

    @property
    def config(self) -> dict[str, Any]:
        return {k: {**v, **self.window.get(k, {})} for k, v in CONFIG.items()}


def _left_green_task_set_the_record_does_not_know(
    server: SandboxServer, world: SandboxStack, record: Record
) -> None:
    # The held CreateTaskSet landed after its caller died: resume adopts it by external id,
    # rollback deletes it by external id.
    assert record["green_task_set"] is None
    assert [ts["externalId"] for ts in task_sets(server, world)].count(record["id"]) == 1


def _left_listeners_split(server: SandboxServer, world: SandboxStack, record: Record) -> None:
    # The held ModifyListener (the first listener's) landed; the second was never sent.
    assert record["green_percent"] == 0
    assert weights(server, world) == [(90, 10), (100, 0)]


def _left_blue_deleted(server: SandboxServer, world: SandboxStack, record: Record) -> None:
    assert record["blue_retiring"] is True
    assert live(server, world) == [("green", "PRIMARY")]


def _state(name: str, **fields: Any) -> Callable[[Record], bool]:
    return lambda r: r["state"] == name and all(r[k] == v for k, v in fields.items())


KILL_POINTS = [
    # Resolving the service and its target groups: held on DescribeTargetGroups. Nothing has
    # changed yet, so a rollback just stops the deployment.
    KillPoint(
        "PREFLIGHT",
        _state("PREFLIGHT"),
        "PREFLIGHT",
        hold="DescribeTargetGroups",
        rolled_back="STOPPED",
    ),
    KillPoint(
        "PROVISIONING-create-task-set-in-flight",
        _state("PROVISIONING"),
        "PROVISIONING",
        hold="CreateTaskSet",
        check_left=_left_green_task_set_the_record_does_not_know,
    ),
    # Health checks every 30 s, 5 to pass: green's targets take 165 s to turn healthy.
    KillPoint(
        "WAITING_HEALTHY",
        _state("WAITING_HEALTHY"),
        "WAITING_HEALTHY",
        stack={"interval_seconds": 30, "healthy_threshold": 5},
    ),
    KillPoint(
        "SHIFTING-step-1-first-listener-in-flight",
        _state("SHIFTING", step=0),
        "SHIFTING",
        hold="ModifyListener",
        check_left=_left_listeners_split,
    ),
    KillPoint(
        "SHIFTING-step-2-mid-bake",
        _state("SHIFTING", step=1, green_percent=50),
        "SHIFTING",
        settle=60.0,
        window={"strategy": {"steps": [STEPS[0], {"weight": 50, "bake": WINDOW}, STEPS[2]]}},
    ),
    KillPoint(
        "BAKING",
        _state("BAKING"),
        "BAKING",
        settle=60.0,
        window={"gates": {"bake_after_shift": WINDOW}},
    ),
    KillPoint(
        "CLEANING_UP-green-primary",  # in the termination wait, blue still running
        _state("CLEANING_UP", green_is_primary=True),
        "CLEANING_UP",
        settle=60.0,
        window={"gates": {"termination_wait": WINDOW}},
    ),
    KillPoint(
        "CLEANING_UP-blue-retiring-delete-in-flight",
        _state("CLEANING_UP", blue_retiring=True),
        "CLEANING_UP",
        hold="DeleteTaskSet",
        check_left=_left_blue_deleted,
    ),
]
BLUE_RETIRING = KILL_POINTS[-1]


def deploy_and_kill(
    server: SandboxServer,
    bluegreen: Bluegreen,
    bucket: StateBucket,
    world: SandboxStack,
    point: KillPoint,
) -> Record:
    """Start a deploy, SIGKILL it at `point`; the record it left. Its lock is still there,
    with a lease that runs long after the test: only its dead pid lets it be taken over."""
    if point.hold:
        server.sandbox.faults.slow(point.hold, seconds=HOLD)
    deploy = bluegreen.deploy()
    seen = bucket.wait_for(point.reached, deploy, str(point))
    if point.hold:
        held = (point.hold, "Slow")
        deadline = time.monotonic() + WAIT_TIMEOUT
        while not server.sandbox.faults.injected[held] and time.monotonic() < deadline:
            time.sleep(0.005)
        assert server.sandbox.faults.injected[held] == 1, f"{point.hold} was never sent"
    if point.settle:
        server.time.wait_until(seen["updated_at"] + point.settle, timeout=WAIT_TIMEOUT)
    os.kill(deploy.pid, signal.SIGKILL)
    assert deploy.wait() == -signal.SIGKILL
    killed_at = server.time.now()
    server.sandbox.faults.clear()
    if point.hold:  # the held call lands after its caller died, as an AWS call can
        server.time.wait_until(killed_at + HOLD + POLL, timeout=WAIT_TIMEOUT)

    lease = bucket.lock()
    assert lease is not None and lease["pid"] == deploy.pid
    assert lease["expires_at"] > time.time() + LEASE / 2
    left = bucket.newest_record()
    assert left is not None and left["state"] == point.state, (
        f"the kill was meant to land in {point.state}; the record shows {left and left['state']}"
    )
    if point.check_left:
        point.check_left(server, world, left)
    step = f" step {left['step'] + 1}" if left["state"] == "SHIFTING" else ""
    print(
        f"\n{point}: killed in {left['state']}{step} at {left['green_percent']}% green, "
        f"{killed_at - left['created_at']:.0f}s (virtual) into the deployment"
    )
    return left


def assert_finished(bucket: StateBucket, left: Record, state: str, run: Run) -> None:
    """The deployment the killed process left ended in `state`, and `run` released the lock
    (having taken it over from the dead process)."""
    assert "took the lock over from" in run.output, run.output
    record = bucket.newest_record()
    assert record is not None and record["id"] == left["id"]  # the same deployment, continued
    events = "\n".join(f"  {e['at']:.0f} {e['state']}: {e['message']}" for e in record["events"])
    assert record["state"] == state, f"{record['reason']}\n{events}\n{run.output}"
    assert bucket.lock() is None  # released by the process that finished it


@pytest.mark.parametrize("point", KILL_POINTS, ids=str)
def test_killed_at_any_state_resume_finishes_the_deployment(
    server: SandboxServer,
    observer: Observer,
    bluegreen: Bluegreen,
    bucket: StateBucket,
    point: KillPoint,
) -> None:
    world = make_world(server, observer, bluegreen, point.config, **point.stack)
    left = deploy_and_kill(server, bluegreen, bucket, world, point)

    resume = bluegreen.run("resume")

    assert resume.process.returncode == 0, resume.output
    assert_finished(bucket, left, "SUCCEEDED", resume)
    assert weights(server, world) == [(0, 100), (0, 100)]
    assert live(server, world) == [("green", "PRIMARY")]
    assert_invariant_held(observer)


def assert_only_went_back(observer: Observer, world: SandboxStack, since: float) -> None:
    """Nothing done from `since` on (the rollback's run, in virtual time) moved the
    deployment forward: no weight toward green, no task definition or task set made, green's
    task set never made primary."""
    green = world.green_tg_arn
    forward: list[str] = []
    before = dict.fromkeys((world.http_listener_arn, world.https_listener_arn), 0)
    for change in observer.weight_changes:
        was, now = before.get(change.route, 0), change.weights.get(green, 0)
        if change.at >= since and now > was:
            forward.append(f"{change.route.rsplit('/', 1)[-1]}: green {was} → {now}")
        before[change.route] = now
    for made in observer.ecs_changes:
        primary = made.call == "update_service_primary_task_set"
        if made.at >= since and (
            made.call in ("register_task_definition", "create_task_set")
            or (primary and not made.arn.endswith(world.blue_task_set_id))
        ):
            forward.append(f"{made.call} {made.arn.rsplit('/', 1)[-1]}")
    assert not forward, f"before going back, the rollback did: {'; '.join(forward)}"


@pytest.mark.parametrize("point", [p for p in KILL_POINTS if p is not BLUE_RETIRING], ids=str)
def test_killed_at_any_state_rollback_restores_blue(
    server: SandboxServer,
    observer: Observer,
    bluegreen: Bluegreen,
    bucket: StateBucket,
    point: KillPoint,
) -> None:
    world = make_world(server, observer, bluegreen, point.config, **point.stack)
    left = deploy_and_kill(server, bluegreen, bucket, world, point)
    started = server.time.now()

    rollback = bluegreen.run("rollback", "--reason", f"killed at {point}")

    assert_finished(bucket, left, point.rolled_back, rollback)
    assert rollback.process.returncode == 0, rollback.output
    assert weights(server, world) == [(100, 0), (100, 0)]
    assert [ts["id"] for ts in task_sets(server, world)] == [world.blue_task_set_id]
    assert live(server, world) == [("blue", "PRIMARY")]
    assert observer.violations() == []
    assert_only_went_back(observer, world, since=started)


def test_killed_while_blue_is_being_retired_rollback_refuses_and_green_keeps_serving(
    server: SandboxServer, observer: Observer, bluegreen: Bluegreen, bucket: StateBucket
) -> None:
    world = make_world(server, observer, bluegreen, BLUE_RETIRING.config)
    left = deploy_and_kill(server, bluegreen, bucket, world, BLUE_RETIRING)
    started = server.time.now()

    rollback = bluegreen.run("rollback")

    # Blue's task set is gone: there is nothing to roll back to (rollback.py), exit 3.
    assert rollback.process.returncode == 3, rollback.output
    assert "already being retired" in rollback.output
    assert_finished(bucket, left, "FAILED", rollback)
    assert weights(server, world) == [(0, 100), (0, 100)]
    assert live(server, world) == [("green", "PRIMARY")]
    assert_invariant_held(observer)
    assert_only_went_back(observer, world, since=started)


# -- 2. two deploys at once -------------------------------------------------------------------


def test_two_deploys_at_once_one_runs_and_the_other_exits_4_naming_the_holder(
    server: SandboxServer, observer: Observer, bluegreen: Bluegreen, bucket: StateBucket
) -> None:
    quick = {**CONFIG, "strategy": {"type": "canary", "percent": 10, "bake": "30s"}}
    world = make_world(server, observer, bluegreen, quick)

    first, second = bluegreen.deploy("-o", "json"), bluegreen.deploy("-o", "json")
    codes = sorted((first.wait(), second.wait()))

    assert codes == [0, 4], first.output + second.output
    winner, loser = (first, second) if first.process.returncode == 0 else (second, first)
    won = json.loads(winner.stdout.read_text())
    refused = json.loads(loser.stdout.read_text())
    print(f"\nconcurrent deploys: exit 0 and exit 4: {refused['error']}")
    assert refused["exit_code"] == 4
    assert won["deployment_id"] in refused["error"]
    assert f"pid {winner.pid}" in refused["error"]  # the holder, findable on its machine
    assert len(bucket.record_keys()) == 1  # the refused one never started a deployment
    assert (bucket.newest_record() or {})["state"] == "SUCCEEDED"
    assert weights(server, world) == [(0, 100), (0, 100)]
    assert live(server, world) == [("green", "PRIMARY")]
    assert bucket.lock() is None
    assert_invariant_held(observer)


# -- 3. promote and rollback from a second process ----------------------------------------------

# While a request is measured, the world runs slower: a poll cycle costs a few HTTP calls of
# real time, and at 300× those alone would be worth more virtual seconds than the poll
# interval. At MEASURE_SPEED they are worth at most MARGIN.
MEASURE_SPEED = 5.0
MARGIN = MEASURE_SPEED * 0.5  # half a second of real time for the calls around one poll


@contextmanager
def slow_motion(server: SandboxServer, speed: float) -> Iterator[None]:
    fast, server.time.speed = server.time.speed, speed
    try:
        yield
    finally:
        server.time.speed = fast


def request_latency(observer: Observer, bucket: StateBucket, kind: str) -> tuple[float, float, str]:
    """(virtual seconds from the request's arrival in S3 to the deployment's next state
    change, to the request being taken; that state)."""
    posted = [
        o for o in observer.objects if o.key.endswith(f"-{kind}.json") and ".requests/" in o.key
    ]
    assert len(posted) == 2 and [o.action for o in posted] == ["put", "delete"], posted
    put, taken = posted
    record = bucket.newest_record()
    assert record is not None
    change = next(
        e for e in record["events"] if e["at"] >= put.at and e["message"].startswith("entered ")
    )
    return change["at"] - put.at, taken.at - put.at, change["state"]


def test_a_promote_from_another_process_takes_effect_within_one_poll_interval(
    server: SandboxServer, observer: Observer, bluegreen: Bluegreen, bucket: StateBucket
) -> None:
    paused = {
        **CONFIG,
        "strategy": {"type": "steps", "steps": [{"weight": 10, "pause": True}, {"weight": 100}]},
    }
    world = make_world(server, observer, bluegreen, paused)
    deploy = bluegreen.deploy()
    bucket.wait_for(_state("PAUSED"), deploy, "PAUSED")

    with slow_motion(server, MEASURE_SPEED):
        promote = bluegreen.run("promote")

    assert promote.process.returncode == 0, promote.output
    assert deploy.wait() == 0, deploy.output
    latency, taken, state = request_latency(observer, bucket, "promote")
    print(
        f"\npromote: taken {taken:.1f}s and {state} entered {latency:.1f}s (virtual) after the "
        f"request; poll interval {POLL:g}s, at {MEASURE_SPEED:g}× real time"
    )
    assert state == "SHIFTING"
    assert latency <= POLL + MARGIN
    assert weights(server, world) == [(0, 100), (0, 100)]
    assert live(server, world) == [("green", "PRIMARY")]
    assert bucket.lock() is None
    assert_invariant_held(observer)


def test_a_rollback_from_another_process_during_a_bake_takes_effect_within_one_poll_interval(
    server: SandboxServer, observer: Observer, bluegreen: Bluegreen, bucket: StateBucket
) -> None:
    baking = {**CONFIG, "strategy": {"type": "canary", "percent": 10, "bake": "1h"}}
    world = make_world(server, observer, bluegreen, baking)
    deploy = bluegreen.deploy()
    bucket.wait_for(_state("SHIFTING", green_percent=10), deploy, "the canary's bake")

    with slow_motion(server, MEASURE_SPEED):
        rollback = bluegreen.run("rollback", "--reason", "from another process")

    assert rollback.process.returncode == 0, rollback.output
    assert deploy.wait() == 1, deploy.output
    latency, taken, state = request_latency(observer, bucket, "rollback")
    print(
        f"\nrollback: taken {taken:.1f}s and {state} entered {latency:.1f}s (virtual) after "
        f"the request; poll interval {POLL:g}s, at {MEASURE_SPEED:g}× real time"
    )
    assert state == "ROLLING_BACK"
    assert latency <= POLL + MARGIN
    assert weights(server, world) == [(100, 0), (100, 0)]
    assert live(server, world) == [("blue", "PRIMARY")]
    assert bucket.lock() is None
    assert_invariant_held(observer)


def test_a_promote_full_from_another_process_during_a_bake_goes_straight_to_green(
    server: SandboxServer, observer: Observer, bluegreen: Bluegreen, bucket: StateBucket
) -> None:
    # Bakes of ten hours: at the server's speed any one of them outlasts PROCESS_TIMEOUT,
    # so the deploy ends in time only if the promote ended the canary's bake and skipped
    # the bake after the shift.
    baking = {
        **CONFIG,
        "strategy": {"type": "canary", "percent": 10, "bake": "10h"},
        "gates": {"bake_after_shift": "10h", "termination_wait": "10s"},
    }
    world = make_world(server, observer, bluegreen, baking)
    deploy = bluegreen.deploy()
    bucket.wait_for(_state("SHIFTING", green_percent=10), deploy, "the canary's bake")

    with slow_motion(server, MEASURE_SPEED):
        promote = bluegreen.run("promote", "--full", "--output", "json")

    assert promote.process.returncode == 0, promote.output
    assert deploy.wait() == 0, deploy.output
    latency, _taken, state = request_latency(observer, bucket, "promote")
    print(f"\npromote --full mid-bake: {state} entered {latency:.1f}s (virtual) after the request")
    assert state == "SHIFTING" and latency <= POLL + MARGIN  # the 100% step
    assert weights(server, world) == [(0, 100), (0, 100)]
    assert live(server, world) == [("green", "PRIMARY")]
    record = bucket.newest_record()
    assert record is not None and record["state"] == "SUCCEEDED"
    (promotion,) = record["promotions"]
    assert promotion["full"] and promotion["during"] == "step 1/2 at 10%"
    assert promotion["by"] and promotion["ignored"] is None
    assert json.loads(promote.stdout.read_text())["deployment_id"] == record["id"]
    assert bucket.lock() is None
    assert_invariant_held(observer)


# -- 4. the dead process ran on another machine, or is alive ------------------------------------

# The other machine's lease: long while the new `bluegreen` process starts (however slowly a
# loaded machine starts it), then cut to LEASE_LEFT real seconds once its countdown shows.
ELSEWHERE_LEASE = 120.0
LEASE_LEFT = 3.0
MID_BAKE = KILL_POINTS[4]  # SHIFTING, step 2, mid-bake at 50 % green


def wait_for_output(run: Run, text: str) -> None:
    """Until `run` has printed `text`; fail if it ends first or takes a minute."""
    deadline = time.monotonic() + 60
    while text not in run.output:
        if run.process.poll() is not None:
            raise AssertionError(f"{run} ended (exit {run.process.returncode}):\n{run.output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{run} never printed {text!r}:\n{run.output}")
        time.sleep(0.05)


def moved_to_another_machine(bucket: StateBucket) -> Record:
    """The killed deploy's lock, rewritten as if that process had run on another machine:
    its pid means nothing here, so only its lease can tell that it is gone."""
    lease = bucket.lock()
    assert lease is not None
    lease.update(
        holder="ci@runner-7 pid 4242",
        host="runner-7 pid:[4026531836]",
        pid=4242,
        expires_at=time.time() + ELSEWHERE_LEASE,
    )
    bucket.write_lock(lease)
    return lease


@pytest.mark.parametrize(
    ("verb", "state", "final"),
    [("rollback", "ROLLED_BACK", [(100, 0), (100, 0)]), ("resume", "SUCCEEDED", [(0, 100)] * 2)],
)
def test_killed_on_another_machine_rollback_or_resume_at_once_waits_for_the_lease_then_acts(
    server: SandboxServer,
    observer: Observer,
    bluegreen: Bluegreen,
    bucket: StateBucket,
    verb: str,
    state: str,
    final: list[tuple[int, int]],
) -> None:
    world = make_world(server, observer, bluegreen, MID_BAKE.config)
    left = deploy_and_kill(server, bluegreen, bucket, world, MID_BAKE)
    lease = moved_to_another_machine(bucket)

    run = bluegreen.start(verb)
    wait_for_output(run, "its lease lapses in")  # the countdown, while the lease runs
    lease["expires_at"] = time.time() + LEASE_LEFT  # the other machine's lease, nearly out
    bucket.write_lock(lease)
    started = time.monotonic()
    run.wait()
    took = time.monotonic() - started

    assert run.process.returncode == 0, run.output
    assert "held by ci@runner-7 pid 4242" in run.output
    assert_finished(bucket, left, state, run)
    # It acted once the lease lapsed (not before), within a few polls and the run after.
    assert time.time() >= lease["expires_at"]
    assert LEASE_LEFT - 0.5 <= took <= LEASE_LEFT + 10.0, took
    print(
        f"\n{verb} after a kill on another machine: {took:.1f}s real once {LEASE_LEFT:g}s were left"
    )
    assert weights(server, world) == final
    assert observer.violations() == []


def test_resume_while_the_deployment_runs_stops_once_it_sees_the_lease_renewed(
    server: SandboxServer, observer: Observer, bluegreen: Bluegreen, bucket: StateBucket
) -> None:
    short_lease = {**CONFIG, "state": {**STATE, "lease": "3s"}}  # renewed every second
    # 24h at the sandbox's speed is minutes of real time: the bake outlasts the test however
    # slowly a loaded machine starts `resume` and `rollback` (1h, 12 s real, did not).
    baking = {**short_lease, "strategy": {"type": "canary", "percent": 10, "bake": "24h"}}
    world = make_world(server, observer, bluegreen, baking)
    deploy = bluegreen.deploy()
    bucket.wait_for(_state("SHIFTING", green_percent=10), deploy, "the canary's bake")

    started = time.monotonic()
    resume = bluegreen.run("resume")

    assert resume.process.returncode == 4, resume.output
    assert "is running in a live process" in resume.output
    assert f"pid {deploy.pid}" in resume.output
    # Within a few polls of its start (a loaded machine takes seconds to start it), never
    # the bake's 24h.
    assert time.monotonic() - started < 30
    assert deploy.process.poll() is None  # untouched: it still runs the deployment
    rollback = bluegreen.run("rollback", "--reason", "done testing")
    assert rollback.process.returncode == 0, rollback.output
    assert deploy.wait() == 1
    assert weights(server, world) == [(100, 0), (100, 0)]
    assert observer.violations() == []
