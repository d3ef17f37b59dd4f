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
- The lock is an object holding a lease, taken, renewed, broken and released as s3_lock.py
  says.
- A request is taken by reading it and deleting that version: of two takers, one gets it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable

from bluegreen.aws import connect_s3
from bluegreen.aws.s3 import PreconditionFailed, S3Objects
from bluegreen.clock import Clock, RealClock
from bluegreen.errors import ConfigError, LockHeldError, MissingResourceError
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store.holder import LockHolder, process_space
from bluegreen.store.s3_lock import DEFAULT_LEASE_SECONDS, LockObject, S3Lock, default_holder

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

    # ------------------------------------------------------------------ the lock (s3_lock.py)

    def acquire_lock(self, service_key: str, deployment_id: str) -> S3Lock:
        return self._lock(service_key).acquire(deployment_id)

    def who_holds(self, service_key: str) -> LockHolder | None:
        """Who holds the lock now; an unreadable lock is named as such."""
        return self._lock(service_key).who_holds()

    def lock_holder(self, service_key: str) -> str | None:
        held = self.who_holds(service_key)
        return held.describe() if held else None

    def _lock(self, service_key: str) -> LockObject:
        return LockObject(
            self.objects,
            self._key(service_key, "lock"),
            self.clock,
            self.lease_seconds,
            self.holder,
            self.host,
            self.pid,
        )


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


__all__ = ["ConcurrentWriteError", "S3Lock", "S3Store", "connect_from_environment", "parse_backend"]
