"""The S3 store's per-service lock: `<prefix>/<service>/lock`, an object holding a lease.

Rules:
- The lock is created with If-None-Match. Its body says who holds it (user, host, pid) and
  until when (`expires_at`, on the lease clock: real time unless a test injects one). The
  holder renews it every lease/3 seconds of real time from a daemon thread, with If-Match
  on its ETag, so a crashed holder's lock lapses within one lease. A lock is broken once
  its lease has expired, or at once when its holder ran on this host and that process is gone —
  replaced with If-Match on the stale ETag, so of two breakers one wins — and the log names
  whom it was taken from. Machines' clocks must agree to well within the lease.
- `release()` stops the renewal and deletes the lock with If-Match: never someone else's.
  When the delete fails (LockNotReleased) the lock is no longer renewed: it lapses within
  one lease.
- The lock alone does not make two runners of one deployment safe: the records' ETags do
  (s3.py), so a runner whose lease lapsed and was taken over fails its next save.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, replace

import structlog

from bluegreen.aws.s3 import PreconditionFailed, S3Objects
from bluegreen.clock import Clock
from bluegreen.errors import AwsError, LockHeldError, LockNotReleased
from bluegreen.store.holder import LockHolder, user_at_host, utc

log = structlog.get_logger(__name__)

DEFAULT_LEASE_SECONDS = 60.0


def default_holder() -> str:
    """`user@host pid N`: enough to find the process that holds a lock."""
    return f"{user_at_host()} pid {os.getpid()}"


@dataclass(frozen=True)
class Lease:
    """The lock's body."""

    deployment_id: str
    holder: str
    acquired_at: float
    expires_at: float
    host: str | None = None  # the holder's process space: a dead process there is taken over
    pid: int | None = None

    def body(self) -> bytes:
        return json.dumps(asdict(self)).encode("utf-8")

    @classmethod
    def parse(cls, body: bytes) -> Lease | None:
        try:
            data = json.loads(body)
            pid = data.get("pid")
            return cls(
                str(data["deployment_id"]),
                str(data["holder"]),
                float(data["acquired_at"]),
                float(data["expires_at"]),
                str(data["host"]) if data.get("host") else None,
                int(pid) if isinstance(pid, int) else None,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def as_holder(self, now: float) -> LockHolder:
        return LockHolder(
            self.deployment_id,
            self.holder,
            self.acquired_at,
            now,
            self.expires_at,
            self.host,
            self.pid,
        )

    def describe(self, now: float) -> str:
        return self.as_holder(now).describe()


class S3Lock:
    """A held lock: renewed from a daemon thread until `release()`."""

    def __init__(
        self,
        objects: S3Objects,
        key: str,
        lease: Lease,
        etag: str,
        *,
        clock: Clock,
        lease_seconds: float,
        broke: Lease | None = None,
    ) -> None:
        self.lease = lease
        self.broke = broke  # the lapsed (or dead holder's) lease this lock replaced, if any
        self.lost = False  # someone broke our lease: we no longer hold the lock
        self._objects = objects
        self._key = key
        self._etag = etag
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_until_stopped, name=f"bluegreen-lease {key}", daemon=True
        )
        self._thread.start()

    @property
    def taken_from(self) -> LockHolder | None:
        return self.broke.as_holder(self.lease.acquired_at) if self.broke else None

    def release(self) -> None:
        """Stop renewing and delete the lock, unless someone else holds it by now."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()  # no renewal may land after the delete
        if self.lost:
            return
        try:
            self._objects.delete(self._key, self._etag)
        except PreconditionFailed:
            log.warning("store.lock_not_ours", lock=self._objects.url(self._key))
        except AwsError as exc:  # no longer renewed: it lapses with its lease by itself
            url = self._objects.url(self._key)
            raise LockNotReleased(
                f"the lock {url} could not be released: {exc.message}",
                hint=f"it lapses by itself at {utc(self.lease.expires_at)}, when its lease "
                f"ends, and the next deployment then takes it over; to clear it now: "
                f"aws s3 rm {url}",
            ) from exc

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self._lease_seconds / 3) and self._renew():
            pass

    def _renew(self) -> bool:
        """Push the lease's end one lease ahead; False once the lock is someone else's."""
        renewed = replace(self.lease, expires_at=self._clock.now() + self._lease_seconds)
        try:
            self._etag = self._objects.put_if_match(self._key, renewed.body(), self._etag)
        except PreconditionFailed:
            self.lost = True
            log.error(
                "store.lock_lost",
                lock=self._objects.url(self._key),
                deployment_id=self.lease.deployment_id,
                detail="our lease lapsed and another process took the lock",
            )
            return False
        except Exception as exc:  # a failed renewal is retried next time, before the lapse
            log.warning("store.lock_renewal_failed", error=str(exc))
            return True
        self.lease = renewed
        return True


@dataclass(frozen=True)
class LockObject:
    """One service's lock, as this process takes it or reads who holds it. S3Store makes
    one from its settings for each call: it keeps nothing between calls."""

    objects: S3Objects
    key: str
    clock: Clock  # the lease clock
    lease_seconds: float
    holder: str  # who we are, as our leases name us: `user@host pid N`
    host: str  # our process space (holder.process_space())
    pid: int

    def acquire(self, deployment_id: str) -> S3Lock:
        key = self.key
        for _ in range(3):  # the lock may come and go between our calls: look again
            now = self.clock.now()
            lease = Lease(
                deployment_id, self.holder, now, now + self.lease_seconds, self.host, self.pid
            )
            try:
                return self._lock(lease, self.objects.put_if_absent(key, lease.body()))
            except PreconditionFailed:
                pass
            found = self.objects.get(key)
            if found is None:
                continue  # released since our write: try again
            held = Lease.parse(found[0])
            if held is None or (now < held.expires_at and not held.as_holder(now).process_gone):
                raise self._held(held, now)
            lock = self._break(lease, held, found[1])
            if lock:
                return lock
        raise LockHeldError(
            f"could not take the lock at {self.objects.url(key)}: it kept changing hands",
            hint="another deployment of this service is starting: try again in a minute",
        )

    def _break(self, lease: Lease, held: Lease, etag: str) -> S3Lock | None:
        """Take over a lapsed lock; None if its holder renewed it or another process broke
        it first (If-Match on the lapsed version lets only one of us through)."""
        try:
            new_etag = self.objects.put_if_match(self.key, lease.body(), etag)
        except PreconditionFailed:
            return None
        log.warning(
            "store.lock_broken",
            lock=self.objects.url(self.key),
            deployment_id=lease.deployment_id,
            was_held_by=held.holder,
            was_deployment=held.deployment_id,
            held_since=utc(held.acquired_at),
            lease_lapsed_at=utc(held.expires_at),
            why="lease lapsed" if lease.acquired_at >= held.expires_at else "process gone",
        )
        return self._lock(lease, new_etag, broke=held)

    def _lock(self, lease: Lease, etag: str, broke: Lease | None = None) -> S3Lock:
        return S3Lock(
            self.objects,
            self.key,
            lease,
            etag,
            clock=self.clock,
            lease_seconds=self.lease_seconds,
            broke=broke,
        )

    def _held(self, held: Lease | None, now: float) -> LockHeldError:
        url = self.objects.url(self.key)
        if held is None:
            return LockHeldError(
                f"the lock at {url} is held, but it is not a bluegreen lock",
                hint=f"if no deployment of this service runs, delete it: aws s3 rm {url}",
            )
        return LockHeldError(
            f"another deployment of this service holds the lock: {held.describe(now)}",
            hint="wait for it, or see it with `bluegreen status`; if its process died, the "
            f"lock is taken over once its lease lapses ({utc(held.expires_at)}): "
            "`bluegreen rollback` and `bluegreen resume` wait for that by themselves",
        )

    def who_holds(self) -> LockHolder | None:
        """Who holds the lock now; an unreadable lock is named as such."""
        found = self.objects.get(self.key)
        if found is None:
            return None
        held, now = Lease.parse(found[0]), self.clock.now()
        if held is None:  # not ours to judge: never taken over, never lapses
            return LockHolder("an unreadable lock", self.objects.url(self.key), 0, now)
        return held.as_holder(now)
