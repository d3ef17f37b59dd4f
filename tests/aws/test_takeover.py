"""Taking a deployment's lock for rollback, promote and resume (bluegreen/store/takeover.py) on the
S3 store against moto: a dead holder on this host is taken over at once, one elsewhere once
its lease lapses (counting down meanwhile), a live one is left to act on the request, and
resume refuses a holder that renews its lease. One virtual clock is both the lease clock and
the poll clock, so waiting a lease out takes no real time."""

from __future__ import annotations

import subprocess
import sys

import pytest
from s3_state import SERVICE, T0, MakeStore, record

from bluegreen.clock import VirtualClock
from bluegreen.errors import LockHeldError
from bluegreen.record import DeploymentRecord
from bluegreen.store.holder import process_space
from bluegreen.store.s3 import S3Lock, S3Store
from bluegreen.store.takeover import TakeOver

POLL = 5.0
LEASE = 60.0


def dead_pid() -> int:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(finished.stdout)


def take_over(store: S3Store, clock: VirtualClock, said: list[str]) -> TakeOver:
    return TakeOver(store, clock, POLL, said.append, patience_seconds=600.0)


def held_elsewhere(
    make_store: MakeStore, rec: DeploymentRecord, renewing_on: VirtualClock | None = None
) -> tuple[S3Store, S3Lock]:
    """The lock, held by a process on another machine: alive (renewing its lease as
    `renewing_on` advances), or crashed (renewing nothing)."""
    store = make_store("ci@runner-7 pid 4242", host="runner-7 pid:[1]", pid=4242)
    lock = store.acquire_lock(SERVICE, rec.id)
    if renewing_on is not None:
        renewing_on.on_advance(lambda _now: lock._renew())
    else:
        lock._stop.set()  # its renewal thread is as dead as its process
    return store, lock


def test_a_dead_process_on_this_host_loses_its_lock_at_once(make_store: MakeStore) -> None:
    pid = dead_pid()
    make_store(f"ci@here pid {pid}", host=process_space(), pid=pid).acquire_lock(SERVICE, "bg-1")
    laptop = make_store("me@laptop pid 7")

    lock = laptop.acquire_lock(SERVICE, "bg-1")  # T0: its lease runs for another minute

    assert lock.taken_from is not None and lock.taken_from.pid == pid
    assert "me@laptop pid 7" in (laptop.lock_holder(SERVICE) or "")


def test_a_live_process_on_this_host_keeps_its_lock(make_store: MakeStore) -> None:
    make_store(host=process_space()).acquire_lock(SERVICE, "bg-1")  # our own pid: alive
    with pytest.raises(LockHeldError, match="held by ci@runner pid 1"):
        make_store("me@laptop pid 7").acquire_lock(SERVICE, "bg-1")


def test_a_holder_elsewhere_is_waited_out_with_a_countdown_then_taken_over(
    make_store: MakeStore, lease_clock: VirtualClock
) -> None:
    rec = record()
    held_elsewhere(make_store, rec)
    laptop, said = make_store("me@laptop pid 7"), []

    lock = take_over(laptop, lease_clock, said).lock(rec)

    assert isinstance(lock, S3Lock)
    assert LEASE <= lease_clock.now() - T0 <= LEASE + POLL  # at the lapse, within one poll
    countdown = [line for line in said if "its lease lapses in" in line]
    assert countdown[0].endswith(
        "lapses in 60s and the lock is taken over, unless that process is alive and renews it"
    )
    assert "held by ci@runner-7 pid 4242" in countdown[0]
    assert len(countdown) == len(set(countdown)) == LEASE / POLL  # one line per poll, no repeats
    assert said[-1].startswith(f"took the lock over from {rec.id} (held by ci@runner-7 pid 4242")


def test_resume_stops_when_the_holder_renews_its_lease(
    make_store: MakeStore, lease_clock: VirtualClock
) -> None:
    rec = record()
    held_elsewhere(make_store, rec, renewing_on=lease_clock)
    said: list[str] = []

    with pytest.raises(LockHeldError, match="is running in a live process") as refused:
        take_over(make_store("me@laptop pid 7"), lease_clock, said).lock(rec)

    assert refused.value.exit_code == 4
    assert "bluegreen rollback" in (refused.value.hint or "")
    assert lease_clock.now() - T0 <= 2 * POLL  # seen at the first renewal, not at a lapse


def test_a_live_holder_that_acts_on_the_request_is_not_taken_over(
    make_store: MakeStore, lease_clock: VirtualClock
) -> None:
    rec = record()
    live, _ = held_elsewhere(make_store, rec, renewing_on=lease_clock)
    polls: list[float] = []

    def answered() -> str | None:
        polls.append(lease_clock.now())
        return "rolled back by its runner" if len(polls) == 3 else None

    answer = take_over(make_store("me@laptop pid 7"), lease_clock, []).lock(rec, answered)

    assert answer == "rolled back by its runner"
    assert polls == [T0, T0 + POLL, T0 + 2 * POLL]  # asked at every poll
    assert "ci@runner-7 pid 4242" in (live.lock_holder(SERVICE) or "")  # never taken


def test_a_holder_that_acted_and_let_go_is_answered_not_run_again(
    make_store: MakeStore, lease_clock: VirtualClock
) -> None:
    rec = record()
    laptop = make_store("me@laptop pid 7")  # the lock is free: the runner finished

    answer = take_over(laptop, lease_clock, []).lock(rec, lambda: "it had rolled back")

    assert answer == "it had rolled back"
    assert laptop.lock_holder(SERVICE) is None  # taken only to look, and let go


def test_a_live_holder_that_never_acts_is_given_up_on(
    make_store: MakeStore, lease_clock: VirtualClock
) -> None:
    rec = record()
    held_elsewhere(make_store, rec, renewing_on=lease_clock)
    patient = TakeOver(make_store("me@laptop pid 7"), lease_clock, POLL, print, 30.0)

    with pytest.raises(LockHeldError, match="has not acted on the request within 30s"):
        patient.lock(rec, lambda: None)


def test_a_lease_running_out_is_waited_for_past_the_patience_for_live_holders(
    make_store: MakeStore, lease_clock: VirtualClock
) -> None:
    # The rollback's request is never answered (the holder is dead) and the lease outlasts
    # the patience given to a live holder: it still runs out, and the lock is taken over.
    rec = record()
    held_elsewhere(make_store, rec)
    patient = TakeOver(make_store("me@laptop pid 7"), lease_clock, POLL, print, 30.0)

    lock = patient.lock(rec, lambda: None)

    assert isinstance(lock, S3Lock) and lock.taken_from is not None
    assert LEASE <= lease_clock.now() - T0 <= LEASE + POLL
