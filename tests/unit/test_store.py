"""The file store: atomic records, the per-service lock, requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bluegreen.clock import VirtualClock
from bluegreen.errors import LockHeldError
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store import FileStore
from bluegreen.store.takeover import TakeOver


def record(n: int) -> DeploymentRecord:
    return DeploymentRecord(
        id=f"bg-{n}",
        service_key="prod__web",
        cluster="prod",
        service="web",
        created_at=float(n),
        updated_at=float(n),
    )


def test_records_round_trip_and_latest_is_newest(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    for n in (1, 3, 2):
        store.save(record(n))
    assert store.latest("prod__web").id == "bg-3"  # type: ignore[union-attr]
    assert [r.id for r in store.history("prod__web")] == ["bg-3", "bg-2", "bg-1"]
    assert store.load("prod__web", "bg-2") == record(2)


def test_lock_is_exclusive_and_names_the_holder(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    lock = store.acquire_lock("prod__web", "bg-1")
    with pytest.raises(LockHeldError, match="bg-1"):
        store.acquire_lock("prod__web", "bg-2")
    lock.release()
    store.acquire_lock("prod__web", "bg-2").release()


def test_a_dead_holders_lock_is_broken(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.acquire_lock("prod__web", "bg-1")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = tmp_path / "prod__web" / "lock"
    held = json.loads(path.read_text())
    path.write_text(json.dumps({**held, "pid": int(dead)}))
    lock = store.acquire_lock("prod__web", "bg-2")
    assert lock.taken_from is not None and lock.taken_from.pid == int(dead)
    lock.release()


def test_a_live_holder_on_this_host_keeps_it(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.acquire_lock("prod__web", "bg-1")
    assert str(os.getpid()) in (store.lock_holder("prod__web") or "")
    with pytest.raises(LockHeldError):
        store.acquire_lock("prod__web", "bg-2")


def test_a_live_holder_is_waited_on_for_a_request_and_refused_to_resume(
    tmp_path: Path,
) -> None:
    # This process holds the lock: alive, and the file store has no lease to run out.
    store, clock, said = FileStore(tmp_path), VirtualClock(), []
    store.acquire_lock("prod__web", "bg-1")
    waiting = TakeOver(store, clock, 5.0, said.append, patience_seconds=30.0)

    with pytest.raises(LockHeldError, match="has not acted on the request within 30s"):
        waiting.lock(record(1), lambda: None)  # a rollback nobody answers
    assert said == [
        f"waiting: bg-1 is held by pid {os.getpid()} on {socket.gethostname()}, "
        "which acts on the request within a poll"
    ]
    assert clock.now() - VirtualClock().now() == 30.0

    with pytest.raises(LockHeldError, match="holds the lock: bg-1"):
        waiting.lock(record(1))  # resume: nothing to hand over, so at once
    assert clock.now() - VirtualClock().now() == 30.0


def test_requests_are_taken_once_in_order(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.post_request("prod__web", "bg-1", Request(kind="promote"))
    store.post_request("prod__web", "bg-1", Request(kind="rollback", reason="x"))
    assert [r.kind for r in store.take_requests("prod__web", "bg-1")] == ["promote", "rollback"]
    assert store.take_requests("prod__web", "bg-1") == []
