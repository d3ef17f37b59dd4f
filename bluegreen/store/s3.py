"""The S3 store: `state.backend = "s3://bucket/prefix"`, so a deployment started on a CI runner
can be promoted, rolled back or resumed from a laptop. The same layout as the file store:

    <prefix>/<service>/<id>.json                          one record per deployment
    <prefix>/<service>/lock                               the per-service lock, with a lease
    <prefix>/<service>/<id>.requests/<time_ns>-<kind>.json  promote/rollback requests

Rules:
- Every write is one atomic PutObject. A record is created with If-None-Match and replaced
  with If-Match on the ETag this store last read or wrote for it: a 412 means another
  process wrote the deployment meanwhile, and this one stops (ConcurrentWriteError) rather
  than overwrite it. That compare-and-swap, not the lock, is what makes two runners of one
  deployment safe: a runner whose lease lapsed and was taken over fails its next save.
- The lock is created with If-None-Match. Its body says who holds it (user, host, pid) and
  until when (`expires_at`, on the lease clock: real time unless a test injects one). The
  holder renews it every lease/3 seconds of real time from a daemon thread, with If-Match
  on its ETag, so a crashed holder's lock lapses within one lease. A lock is broken once
  its lease has expired, or at once when its holder ran on this host and that process is gone —
  replaced with If-Match on the stale ETag, so of two breakers one wins — and the log names
  whom it was taken from. Machines' clocks must agree to well within the lease.
- `release()` stops the renewal and deletes the lock with If-Match: never someone else's.
- A request is taken by reading it and deleting that version: of two takers, one gets it.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace

import structlog

from bluegreen.aws import connect_s3
from bluegreen.aws.s3 import PreconditionFailed, S3Objects
from bluegreen.clock import Clock, RealClock
from bluegreen.errors import ConfigError, LockHeldError, MissingResourceError
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store.holder import LockHolder, process_space, user_at_host, utc

log = structlog.get_logger(__name__)

DEFAULT_LEASE_SECONDS = 60.0
# S3's rules for new bucket names: 3–63 lower-case letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Deployment ids are `bg-<UTC second>-<random>` (record.new_deployment_id): the id sorts
# by the second it was created in.
_ID_STAMP = re.compile(r"^(bg-\d{8}T\d{6}Z)-")


class ConcurrentWriteError(LockHeldError):
    """Another process wrote this deployment since this one read it (exit 4)."""


def parse_backend(backend: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` → ("bucket", "some/prefix"); ConfigError if malformed."""
    bucket, _, path = backend.removeprefix("s3://").partition("/")
    if not backend.startswith("s3://") or not _BUCKET.match(bucket):
        raise ConfigError(
            f'state.backend = "{backend}" is not an S3 location',
            hint='write it as "s3://bucket/prefix": a bucket name of 3–63 lower-case '
            "letters, digits, dots and hyphens, then an optional key prefix",
        )
    return bucket, "/".join(part for part in path.split("/") if part)


def connect_from_environment(bucket: str) -> S3Objects:
    """The bucket on the environment's AWS settings (AWS_PROFILE, AWS_REGION…)."""
    return connect_s3(bucket)


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


class S3Store:
    """Records, requests and the per-service lock in one S3 bucket under `prefix`.

    `objects` may be a function giving them, called on first use: opening the store must not
    reach AWS, so configuration errors are reported first. `clock` times the lease only.
    """

    def __init__(
        self,
        objects: S3Objects | Callable[[], S3Objects],
        prefix: str = "",
        *,
        clock: Clock | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        holder: str | None = None,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        self._objects = objects
        self._base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.clock: Clock = clock or RealClock()
        self.lease_seconds = lease_seconds
        self.holder = holder or default_holder()
        self.host = host or process_space()
        self.pid = pid or os.getpid()
        self._etags: dict[str, str] = {}  # key → the ETag this store last read or wrote

    @property
    def objects(self) -> S3Objects:
        if not isinstance(self._objects, S3Objects):
            self._objects = self._objects()
        return self._objects

    def _key(self, service_key: str, name: str) -> str:
        return f"{self._base}{service_key}/{name}"

    # ------------------------------------------------------------------ records

    def save(self, record: DeploymentRecord) -> None:
        key = self._key(record.service_key, f"{record.id}.json")
        body = record.model_dump_json(indent=2).encode("utf-8")
        etag = self._etags.get(key)
        try:
            if etag:
                self._etags[key] = self.objects.put_if_match(key, body, etag)
            else:
                self._etags[key] = self.objects.put_if_absent(key, body)
        except PreconditionFailed as exc:
            raise ConcurrentWriteError(
                f"deployment {record.id} was written by another process since this one "
                f"read it ({self.objects.url(key)}): two processes wrote the same deployment, "
                "so this one stops",
                hint="see who runs it with `bluegreen status`; a runner whose lock lease "
                "lapsed (a stalled machine) is taken over by the next `bluegreen resume`",
            ) from exc

    def load(self, service_key: str, deployment_id: str) -> DeploymentRecord:
        key = self._key(service_key, f"{deployment_id}.json")
        record = self._read(key)
        if record is None:
            raise MissingResourceError(
                f"deployment {deployment_id} is not recorded at {self.objects.url(key)}",
                hint="`bluegreen history` lists the deployments of this service",
            )
        return record

    def history(self, service_key: str) -> list[DeploymentRecord]:
        keys = self._record_keys(service_key)
        return _newest_first(r for r in map(self._read, keys) if r is not None)

    def latest(self, service_key: str) -> DeploymentRecord | None:
        keys = _of_newest_second(self._record_keys(service_key))
        records = _newest_first(r for r in map(self._read, keys) if r is not None)
        return records[0] if records else None

    def _record_keys(self, service_key: str) -> list[str]:
        folder = self._key(service_key, "")
        return [
            key
            for key in self.objects.list(folder)
            if key.endswith(".json") and "/" not in key[len(folder) :]
        ]

    def _read(self, key: str) -> DeploymentRecord | None:
        found = self.objects.get(key)
        if found is None:
            return None
        body, self._etags[key] = found
        return DeploymentRecord.model_validate_json(body)

    # ------------------------------------------------------------------ requests

    def post_request(self, service_key: str, deployment_id: str, request: Request) -> None:
        name = f"{deployment_id}.requests/{time.time_ns()}-{request.kind}.json"
        self.objects.put(self._key(service_key, name), request.model_dump_json().encode())

    def take_requests(self, service_key: str, deployment_id: str) -> list[Request]:
        folder = self._key(service_key, f"{deployment_id}.requests/")
        taken = []
        for key in sorted(self.objects.list(folder), key=_posted_at):
            found = self.objects.get(key)
            if found is None:
                continue
            try:
                self.objects.delete(key, found[1])
            except PreconditionFailed:
                continue  # another process took it first
            taken.append(Request.model_validate_json(found[0]))
        return taken

    # ------------------------------------------------------------------ the lock

    def acquire_lock(self, service_key: str, deployment_id: str) -> S3Lock:
        key = self._key(service_key, "lock")
        for _ in range(3):  # the lock may come and go between our calls: look again
            now = self.clock.now()
            lease = Lease(
                deployment_id, self.holder, now, now + self.lease_seconds, self.host, self.pid
            )
            try:
                return self._lock(key, lease, self.objects.put_if_absent(key, lease.body()))
            except PreconditionFailed:
                pass
            found = self.objects.get(key)
            if found is None:
                continue  # released since our write: try again
            held = Lease.parse(found[0])
            if held is None or (now < held.expires_at and not held.as_holder(now).process_gone):
                raise self._held(key, held, now)
            lock = self._break(key, lease, held, found[1])
            if lock:
                return lock
        raise LockHeldError(
            f"could not take the lock at {self.objects.url(key)}: it kept changing hands",
            hint="another deployment of this service is starting: try again in a minute",
        )

    def _break(self, key: str, lease: Lease, held: Lease, etag: str) -> S3Lock | None:
        """Take over a lapsed lock; None if its holder renewed it or another process broke
        it first (If-Match on the lapsed version lets only one of us through)."""
        try:
            new_etag = self.objects.put_if_match(key, lease.body(), etag)
        except PreconditionFailed:
            return None
        log.warning(
            "store.lock_broken",
            lock=self.objects.url(key),
            deployment_id=lease.deployment_id,
            was_held_by=held.holder,
            was_deployment=held.deployment_id,
            held_since=utc(held.acquired_at),
            lease_lapsed_at=utc(held.expires_at),
            why="lease lapsed" if lease.acquired_at >= held.expires_at else "process gone",
        )
        return self._lock(key, lease, new_etag, broke=held)

    def _lock(self, key: str, lease: Lease, etag: str, broke: Lease | None = None) -> S3Lock:
        return S3Lock(
            self.objects,
            key,
            lease,
            etag,
            clock=self.clock,
            lease_seconds=self.lease_seconds,
            broke=broke,
        )

    def _held(self, key: str, held: Lease | None, now: float) -> LockHeldError:
        url = self.objects.url(key)
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

    def who_holds(self, service_key: str) -> LockHolder | None:
        """Who holds the lock now; an unreadable lock is named as such."""
        key = self._key(service_key, "lock")
        found = self.objects.get(key)
        if found is None:
            return None
        held, now = Lease.parse(found[0]), self.clock.now()
        if held is None:  # not ours to judge: never taken over, never lapses
            return LockHolder("an unreadable lock", self.objects.url(key), 0, now)
        return held.as_holder(now)

    def lock_holder(self, service_key: str) -> str | None:
        held = self.who_holds(service_key)
        return held.describe() if held else None


def _newest_first(records: Iterable[DeploymentRecord]) -> list[DeploymentRecord]:
    return sorted(records, key=lambda r: r.created_at, reverse=True)


def _of_newest_second(keys: list[str]) -> list[str]:
    """The record keys whose ids were made in the newest second: only those can hold the
    latest record, and reading them instead of every record keeps `latest` one or two GETs
    however long the history. All keys if some id is not one of ours."""
    stamps = {key: _ID_STAMP.match(key.rsplit("/", 1)[-1]) for key in keys}
    found = [m.group(1) for m in stamps.values() if m]
    if not keys or len(found) < len(keys):
        return keys
    return [key for key, m in stamps.items() if m and m.group(1) == max(found)]


def _posted_at(key: str) -> int:
    """The time_ns a request was posted at, from its name: `<time_ns>-<kind>.json`."""
    stamp = key.rsplit("/", 1)[-1].split("-", 1)[0]
    return int(stamp) if stamp.isdigit() else 0
