"""The S3 state store and its adapter against moto: records with compare-and-swap, the lock
with its lease (broken only once lapsed, kept alive by renewal), requests taken once, and
the configuration errors that must come before any AWS call."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from s3_state import BUCKET, SERVICE, T0, MakeStore, record
from structlog.testing import capture_logs

from bluegreen.aws import connect_s3
from bluegreen.aws.s3 import PreconditionFailed, S3Objects
from bluegreen.clock import VirtualClock
from bluegreen.errors import (
    AwsError,
    ConfigError,
    LockHeldError,
    LockNotReleased,
    MissingResourceError,
)
from bluegreen.machine import State
from bluegreen.record import Request
from bluegreen.store import open_store
from bluegreen.store.s3 import ConcurrentWriteError, S3Store

# ---------------------------------------------------------------------- the adapter


def test_conditional_writes_and_deletes(objects: S3Objects) -> None:
    first = objects.put_if_absent("k", b"one")
    with pytest.raises(PreconditionFailed):
        objects.put_if_absent("k", b"two")
    second = objects.put_if_match("k", b"two", first)
    with pytest.raises(PreconditionFailed):
        objects.put_if_match("k", b"three", first)  # a stale ETag
    with pytest.raises(PreconditionFailed):
        objects.delete("k", first)
    assert objects.get("k") == (b"two", second)

    objects.delete("k", second)
    assert objects.get("k") is None
    with pytest.raises(PreconditionFailed):
        objects.put_if_match("k", b"four", second)  # the version we read is gone
    with pytest.raises(PreconditionFailed):
        objects.delete("k", second)
    objects.delete("k")  # unconditionally: already gone is fine


def test_a_conditional_write_that_already_landed_counts_as_done(objects: S3Objects) -> None:
    # What a retry after a lost answer looks like: our own body is already there.
    etag = objects.put_if_absent("k", b"ours")
    assert objects.put_if_absent("k", b"ours") == etag


def test_list_is_by_prefix(objects: S3Objects) -> None:
    for key in ("a/1", "a/2", "ab/3", "b/4"):
        objects.put(key, b"")
    assert objects.list("a/") == ["a/1", "a/2"]


def test_a_missing_bucket_says_how_to_fix_it(aws: None) -> None:
    store = S3Store(connect_s3("no-such-bucket", clock=VirtualClock()), "p")
    with pytest.raises(MissingResourceError) as raised:
        store.latest(SERVICE)
    assert raised.value.exit_code == 2
    assert "no-such-bucket does not exist" in str(raised.value)
    assert "create the bucket" in str(raised.value) and "state.backend" in str(raised.value)
    with pytest.raises(MissingResourceError):
        store.acquire_lock(SERVICE, "bg-1")


# ---------------------------------------------------------------------- records


def test_records_round_trip_and_replace(make_store: MakeStore, objects: S3Objects) -> None:
    store = make_store()
    rec = record()
    store.save(rec)
    rec.move_to(State.PREFLIGHT, T0 + 1)
    store.save(rec)  # replaced, compare-and-swap on the ETag of the first save

    assert store.load(SERVICE, rec.id) == rec
    assert objects.list("bluegreen/state/") == [f"bluegreen/state/{SERVICE}/{rec.id}.json"]
    with pytest.raises(MissingResourceError, match="bg-nope is not recorded"):
        store.load(SERVICE, "bg-nope")


def test_latest_and_history_newest_first(make_store: MakeStore) -> None:
    store = make_store()
    recs = [record(T0 + n) for n in (5, 1, 300)]
    twin = record(T0 + 300.5)  # the same second as the newest: created_at decides
    for rec in [*recs, twin]:
        store.save(rec)
    store.post_request(SERVICE, twin.id, Request(kind="promote"))
    store.acquire_lock(SERVICE, twin.id)

    assert [r.id for r in store.history(SERVICE)] == [twin.id, recs[2].id, recs[0].id, recs[1].id]
    assert store.latest(SERVICE) == twin
    assert make_store().latest("prod__other") is None
    assert make_store().history("prod__other") == []


def test_a_write_over_another_processs_write_is_refused(make_store: MakeStore) -> None:
    runner, laptop = make_store("ci@runner pid 1"), make_store("me@laptop pid 2")
    rec = record()
    runner.save(rec)

    theirs = laptop.load(SERVICE, rec.id)
    theirs.move_to(State.PREFLIGHT, T0 + 1)
    laptop.save(theirs)

    rec.note(T0 + 2, "still running here")
    with pytest.raises(ConcurrentWriteError) as raised:
        runner.save(rec)
    assert raised.value.exit_code == 4
    assert "two processes wrote the same deployment" in str(raised.value)
    assert runner.load(SERVICE, rec.id) == theirs  # nothing overwritten

    runner.save(rec)  # having read the current version, this process may write again


def test_creating_a_record_that_exists_is_refused(make_store: MakeStore) -> None:
    rec = record()
    make_store().save(rec)
    rec.note(T0 + 1, "a different body")
    with pytest.raises(ConcurrentWriteError):
        make_store().save(rec)  # never read: it must not overwrite


# ---------------------------------------------------------------------- requests


def test_requests_are_taken_once_in_order(make_store: MakeStore) -> None:
    laptop, runner = make_store(), make_store()
    laptop.post_request(SERVICE, "bg-1", Request(kind="promote", full=True, by="me"))
    laptop.post_request(SERVICE, "bg-1", Request(kind="rollback", reason="latency"))
    laptop.post_request(SERVICE, "bg-2", Request(kind="promote"))

    taken = runner.take_requests(SERVICE, "bg-1")

    assert [(r.kind, r.full, r.reason) for r in taken] == [
        ("promote", True, None),
        ("rollback", False, "latency"),
    ]
    assert runner.take_requests(SERVICE, "bg-1") == []
    assert laptop.take_requests(SERVICE, "bg-1") == []
    assert [r.kind for r in laptop.take_requests(SERVICE, "bg-2")] == ["promote"]


# ---------------------------------------------------------------------- the lock


def test_the_lock_is_exclusive_and_names_its_holder(make_store: MakeStore) -> None:
    runner, laptop = make_store("ci@runner pid 41"), make_store("me@laptop pid 7")
    lock = runner.acquire_lock(SERVICE, "bg-1")

    with pytest.raises(LockHeldError) as raised:
        laptop.acquire_lock(SERVICE, "bg-2")
    assert raised.value.exit_code == 4
    message = str(raised.value)
    assert "bg-1 (held by ci@runner pid 41 since 2027-01-15 08:00:00Z" in message
    assert "wait for it" in message
    assert laptop.lock_holder(SERVICE) == (
        "bg-1 (held by ci@runner pid 41 since 2027-01-15 08:00:00Z; "
        "its lease runs until 2027-01-15 08:01:00Z)"
    )

    lock.release()
    assert laptop.lock_holder(SERVICE) is None
    laptop.acquire_lock(SERVICE, "bg-2")  # released: the next one takes it
    assert "me@laptop pid 7" in (runner.lock_holder(SERVICE) or "")


def test_a_lapsed_lease_is_broken_and_the_log_says_whose(
    make_store: MakeStore, lease_clock: VirtualClock
) -> None:
    crashed = make_store("ci@runner pid 41", lease_seconds=30.0).acquire_lock(SERVICE, "bg-1")
    laptop = make_store("me@laptop pid 7", lease_seconds=30.0)

    lease_clock.advance(29.0)
    with pytest.raises(LockHeldError, match="its lease runs until 2027-01-15 08:00:30Z"):
        laptop.acquire_lock(SERVICE, "bg-2")

    lease_clock.advance(2.0)  # past the lease: its holder stopped renewing
    with capture_logs() as logs:
        lock = laptop.acquire_lock(SERVICE, "bg-2")

    assert lock.broke is not None and lock.broke.holder == "ci@runner pid 41"
    [broken] = [e for e in logs if e["event"] == "store.lock_broken"]
    assert broken["was_held_by"] == "ci@runner pid 41"
    assert broken["was_deployment"] == "bg-1"
    assert broken["held_since"] == "2027-01-15 08:00:00Z"
    assert "me@laptop pid 7" in (laptop.lock_holder(SERVICE) or "")

    # The old holder, back from the dead, must not delete the lock it no longer holds.
    crashed.release()
    assert "me@laptop pid 7" in (laptop.lock_holder(SERVICE) or "")


def test_a_lock_whose_delete_is_refused_says_it_lapses_and_how_to_clear_it(
    make_store: MakeStore, lease_clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store("ci@runner pid 41", lease_seconds=30.0)
    lock = store.acquire_lock(SERVICE, "bg-1")

    def refused(key: str, etag: str | None = None) -> None:
        raise AwsError("s3://bucket/key", "AccessDenied", "Access Denied")

    monkeypatch.setattr(lock._objects, "delete", refused)
    with pytest.raises(LockNotReleased) as raised:
        lock.release()

    message = str(raised.value)
    assert "could not be released: AWS s3://bucket/key failed: AccessDenied" in message
    assert "it lapses by itself at 2027-01-15 08:00:30Z" in message
    assert f"aws s3 rm s3://{BUCKET}/" in message and message.rstrip().endswith("/lock")
    assert warning_of(lock) is None  # released once: a second release does nothing
    monkeypatch.undo()
    lease_clock.advance(31.0)  # no longer renewed: the next deployment takes it over
    assert make_store("me@laptop pid 7").acquire_lock(SERVICE, "bg-2").broke is not None


def warning_of(lock: object) -> str | None:
    from bluegreen.store import release_or_warn

    return release_or_warn(lock)  # type: ignore[arg-type]


def test_renewal_keeps_a_live_holders_lease(make_store: MakeStore) -> None:
    real = make_store("ci@runner pid 41", clock=_RealTime(), lease_seconds=0.6)
    lock = real.acquire_lock(SERVICE, "bg-1")
    first_expiry = lock.lease.expires_at

    time.sleep(1.0)  # longer than the lease: only renewal keeps it

    assert lock.lease.expires_at > first_expiry + 0.3
    other = make_store("me@laptop pid 7", clock=_RealTime(), lease_seconds=0.6)
    with pytest.raises(LockHeldError, match="ci@runner pid 41"):
        other.acquire_lock(SERVICE, "bg-2")
    lock.release()
    other.acquire_lock(SERVICE, "bg-2")


def test_a_holder_whose_lease_was_taken_over_stops_renewing(make_store: MakeStore) -> None:
    # A stalled machine: its clock says the lease runs, everyone else's says it lapsed.
    stalled = make_store("ci@runner pid 41", clock=VirtualClock(T0), lease_seconds=0.3)
    laptop = make_store("me@laptop pid 7", clock=VirtualClock(T0 + 100))
    with capture_logs() as logs:
        lost = stalled.acquire_lock(SERVICE, "bg-1")
        laptop.acquire_lock(SERVICE, "bg-2")
        deadline = time.monotonic() + 2.0
        while not lost.lost and time.monotonic() < deadline:
            time.sleep(0.02)

    assert lost.lost  # its next renewal found the lock changed
    assert any(e["event"] == "store.lock_lost" for e in logs)
    lost.release()
    assert "me@laptop pid 7" in (laptop.lock_holder(SERVICE) or "")


class _RealTime:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        raise AssertionError("the lease never sleeps on its clock")


# ---------------------------------------------------------------------- open_store


def test_open_store_makes_an_s3_store_without_calling_aws(tmp_path: Path) -> None:
    asked: list[str] = []

    def bucket(name: str) -> S3Objects:
        asked.append(name)
        raise AssertionError("opening the store must not connect")

    store = open_store("s3://my-state.bucket/bluegreen//prod/", tmp_path, s3=bucket)

    assert isinstance(store, S3Store)
    assert asked == []


def test_open_store_on_the_environments_aws(objects: S3Objects, tmp_path: Path) -> None:
    store = open_store(f"s3://{BUCKET}/team", tmp_path)
    rec = record()
    store.save(rec)
    assert store.load(SERVICE, rec.id) == rec
    assert objects.list("team/") == [f"team/{SERVICE}/{rec.id}.json"]


@pytest.mark.parametrize(
    "backend", ["s3://", "s3:///prefix", "s3://ab/p", "s3://My_Bucket/p", "gs://bucket/p"]
)
def test_a_bad_backend_is_a_config_error(backend: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        open_store(backend, tmp_path)
    assert raised.value.exit_code == 2
    assert "s3://bucket/prefix" in str(raised.value)
