"""A release killed with SIGKILL, then `resume --release` or `rollback --release` from a new
process: every service ends the same way — all green, or all blue — real `bluegreen`
processes against the sandbox server, with the file state store (a killed process's locks
name a pid that is gone, so the next process takes them at once).

Kill points are found by polling the records as the files are rewritten, and killing at
the first poll that shows the point *or anything after it*: a point shorter than a poll
may be passed, never waited for. `KILLED_AT` gathers which states were seen at each kill,
for the kill-point coverage `benchmarks/release.py --kill-points` prints.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from server_harness import NEW_IMAGE, child_env, client

from bluegreen.sandbox import AppModel
from bluegreen.sandbox.server import SandboxServer, build_demo_world
from bluegreen.sandbox.stack import SandboxStack

pytestmark = pytest.mark.slow

NAMES = ("api", "web", "worker")
BROKEN = "public.ecr.aws/bluegreen/demo-web:3.0.0-crashes"
# Bakes long enough to be seen (0.4 s real at 300×), short enough to keep the suite quick.
CONFIG: dict[str, Any] = {
    "strategy": {
        "type": "steps",
        "steps": [{"weight": 10, "bake": "2m"}, {"weight": 50, "bake": "2m"}, {"weight": 100}],
    },
    "health": {"timeout": "30m", "poll_interval": "5s"},
    "gates": {"bake_after_shift": "2m", "termination_wait": "1m"},
}
PROCESS_TIMEOUT = 90.0
WAIT_TIMEOUT = 45.0
ORDER = [
    "PENDING",
    "PREFLIGHT",
    "PROVISIONING",
    "WAITING_HEALTHY",
    "SHIFTING",
    "PAUSED",
    "BAKING",
    "CLEANING_UP",
    "SUCCEEDED",
]

Records = dict[str, dict[str, Any]]  # service → its deployment record
KILLED_AT: list[tuple[str, list[str]]] = []


def _rank(rec: dict[str, Any]) -> tuple[int, int]:
    state = rec["state"]
    return (ORDER.index(state) if state in ORDER else len(ORDER), rec.get("green_percent", 0))


# (name, what the records show at the kill, whether a service fails on its own)
KILL_POINTS: list[tuple[str, Callable[[Records, dict[str, Any] | None], bool], bool]] = [
    ("provisioning", lambda r, _: any(_rank(x)[0] >= 2 for x in r.values()), False),
    ("first weight", lambda r, _: any(x["green_percent"] > 0 for x in r.values()), False),
    ("stage 2", lambda r, _: any(x["green_percent"] >= 50 for x in r.values()), False),
    ("baking at 100%", lambda r, _: any(x["state"] == "BAKING" for x in r.values()), False),
    ("committed", lambda _, rel: bool(rel) and rel["state"] != "RUNNING", False),
    ("a blue retired", lambda r, _: any(x["state"] == "SUCCEEDED" for x in r.values()), False),
    ("rolling back", lambda r, _: any(x["state"].startswith("ROLL") for x in r.values()), True),
]


class ReleaseRun:
    def __init__(self, server: SandboxServer, folder: Path) -> None:
        self.server, self.folder = server, folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        n = len(self.processes)
        with (
            (self.folder / f"{n}.out").open("wb") as out,
            (self.folder / f"{n}.err").open("wb") as err,
        ):
            process = subprocess.Popen(
                [sys.executable, "-m", "bluegreen.cli", *args],
                env=child_env(self.server.client_env()),
                stdout=out,
                stderr=err,
                cwd=self.folder,
            )
        self.processes.append(process)
        return process

    def run(self, *args: str) -> int:
        process = self.start(*args)
        try:
            return process.wait(PROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            tail = self.output(len(self.processes) - 1)[-3000:]
            raise AssertionError(f"bluegreen {' '.join(args)} did not end:\n{tail}") from None

    def output(self, n: int) -> str:
        return (self.folder / f"{n}.out").read_text() + (self.folder / f"{n}.err").read_text()

    def records(self) -> Records:
        found = {}
        for name in NAMES:
            for path in (self.folder / name / ".bluegreen").glob("*/bg-*.json"):
                found[name] = _read(path)
        return found

    def release_record(self) -> dict[str, Any] | None:
        paths = sorted((self.folder / ".bluegreen" / "releases").glob("*/rel-*.json"))
        return _read(paths[-1]) if paths else None

    def kill_leftovers(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _read(path: Path) -> dict[str, Any]:
    for _ in range(5):  # a file is replaced whole (rename), but may be gone for a moment
        try:
            found: dict[str, Any] = json.loads(path.read_text())
            return found
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.005)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.fixture
def stacks(server: SandboxServer) -> dict[str, SandboxStack]:
    return {name: build_demo_world(server, service_name=name) for name in NAMES}


@pytest.fixture
def release(
    server: SandboxServer, stacks: dict[str, SandboxStack], tmp_path: Path
) -> Iterator[ReleaseRun]:
    entries = []
    for name, stack in stacks.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "bluegreen.toml").write_text(stack.config_toml(**CONFIG))
        entries.append(
            f'[[services]]\nname = "{name}"\nconfig = "{name}/bluegreen.toml"\n'
            f'images = {{ web = "{NEW_IMAGE}" }}\n'
        )
    (tmp_path / "release.toml").write_text("\n".join(entries))
    running = ReleaseRun(server, tmp_path)
    yield running
    running.kill_leftovers()


def weights(server: SandboxServer, stack: SandboxStack) -> set[tuple[int, int]]:
    found = set()
    elb = client(server, "elbv2")
    for listener in elb.describe_listeners(LoadBalancerArn=stack.lb_arn)["Listeners"]:
        by_arn = {
            g["TargetGroupArn"]: g["Weight"]
            for g in listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
        }
        found.add((by_arn[stack.blue_tg_arn], by_arn[stack.green_tg_arn]))
    return found


def killed_at(
    release: ReleaseRun,
    name: str,
    point: Callable[[Records, dict[str, Any] | None], bool],
    breaking: SandboxServer | None = None,
) -> bool:
    """Start the release (with `breaking`, the worker's new tasks crash on that server),
    SIGKILL it at `point`; True when it had committed by then."""
    if breaking:
        breaking.sandbox.apps[BROKEN] = AppModel(crashes_after=200)
        _break_worker(release)
    process = release.start("release", "release.toml", "--yes")
    deadline = time.monotonic() + WAIT_TIMEOUT
    while time.monotonic() < deadline:
        records, rel = release.records(), release.release_record()
        if records and point(records, rel):
            process.send_signal(signal.SIGKILL)
            process.wait()
            seen = sorted(f"{r['state']}@{r['green_percent']}" for r in records.values())
            KILLED_AT.append((name, seen))
            rel = release.release_record()
            return bool(rel) and rel["state"] in ("COMMITTED", "SUCCEEDED")
        if process.poll() is not None:
            raise AssertionError(f"the release ended (exit {process.returncode}) first")
        time.sleep(0.01)
    raise AssertionError("the kill point never came")


def assert_all(
    server: SandboxServer, stacks: dict[str, SandboxStack], colour: str, release: ReleaseRun
) -> None:
    expected = {(0, 100)} if colour == "green" else {(100, 0)}
    for name, stack in stacks.items():
        assert weights(server, stack) == expected, (name, release.records()[name]["state"])
    end = "SUCCEEDED" if colour == "green" else ("ROLLED_BACK", "STOPPED")
    for name, rec in release.records().items():
        assert rec["state"] in end, (name, rec["state"], rec.get("reason"))


@pytest.mark.parametrize(("name", "point", "fails"), KILL_POINTS, ids=[p[0] for p in KILL_POINTS])
def test_resume_after_kill_9_ends_every_service_the_same_way(
    server: SandboxServer,
    stacks: dict[str, SandboxStack],
    release: ReleaseRun,
    name: str,
    point: Callable[[Records, dict[str, Any] | None], bool],
    fails: bool,
) -> None:
    killed_at(release, name, point, server if fails else None)

    code = release.run("resume", "--release", "release.toml")

    assert code == (1 if fails else 0), release.output(1)
    assert_all(server, stacks, "blue" if fails else "green", release)


@pytest.mark.parametrize(("name", "point", "fails"), KILL_POINTS, ids=[p[0] for p in KILL_POINTS])
def test_rollback_after_kill_9_puts_every_service_back_unless_committed(
    server: SandboxServer,
    stacks: dict[str, SandboxStack],
    release: ReleaseRun,
    name: str,
    point: Callable[[Records, dict[str, Any] | None], bool],
    fails: bool,
) -> None:
    committed = killed_at(release, name, point, server if fails else None)

    code = release.run("rollback", "--release", "release.toml", "--reason", "kill -9 drill")

    if committed:
        assert code == 2 and "committed" in release.output(1)
        assert release.run("resume", "--release", "release.toml") == 0, release.output(2)
        assert_all(server, stacks, "green", release)
        return
    assert code == 0, release.output(1)
    assert_all(server, stacks, "blue", release)


def _break_worker(release: ReleaseRun) -> None:
    path = release.folder / "release.toml"
    worker = 'config = "worker/bluegreen.toml"\n'
    text = path.read_text()
    head, tail = text.split(worker)
    path.write_text(head + worker + tail.replace(NEW_IMAGE, BROKEN, 1))
    assert BROKEN in path.read_text()


def test_rollback_from_another_process_while_the_release_runs(
    server: SandboxServer, stacks: dict[str, SandboxStack], release: ReleaseRun
) -> None:
    """On call, from another shell: the running release is asked (each service's record
    gets the request), puts every service back, and the asking command waits for it."""
    running = release.start("release", "release.toml", "--yes")
    deadline = time.monotonic() + WAIT_TIMEOUT
    while not any(r["green_percent"] > 0 for r in release.records().values()):
        assert time.monotonic() < deadline and running.poll() is None, release.output(0)
        time.sleep(0.01)

    code = release.run("rollback", "--release", "release.toml", "--reason", "on call")

    assert code == 0, release.output(1)
    assert running.wait(PROCESS_TIMEOUT) == 1, release.output(0)  # rolled back, as asked
    assert_all(server, stacks, "blue", release)
    assert all(r["reason"].endswith("on call") for r in release.records().values())
