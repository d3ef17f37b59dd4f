"""Deployment records and the per-service lock: `file` (store/file.py) or
`s3://bucket/prefix` (store/s3.py).

The S3 store is imported only when asked for: it brings boto3, which the file store and the
CLI's start-up do without.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import structlog

from bluegreen.errors import BluegreenError, ConfigError
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store.file import FileStore
from bluegreen.store.holder import LockHolder

if TYPE_CHECKING:
    from bluegreen.aws.s3 import S3Objects

log = structlog.get_logger("bluegreen")


class Lock(Protocol):
    @property
    def taken_from(self) -> LockHolder | None:
        """The holder whose lock this one replaced (its process gone, or its lease lapsed)."""
        ...

    def release(self) -> None: ...


class Store(Protocol):
    def save(self, record: DeploymentRecord) -> None: ...

    def load(self, service_key: str, deployment_id: str) -> DeploymentRecord: ...

    def latest(self, service_key: str) -> DeploymentRecord | None: ...

    def history(self, service_key: str) -> list[DeploymentRecord]: ...

    def acquire_lock(self, service_key: str, deployment_id: str) -> Lock: ...

    def who_holds(self, service_key: str) -> LockHolder | None: ...

    def lock_holder(self, service_key: str) -> str | None: ...

    def post_request(self, service_key: str, deployment_id: str, request: Request) -> None: ...

    def take_requests(self, service_key: str, deployment_id: str) -> list[Request]: ...


def release_or_warn(lock: Lock) -> str | None:
    """Release `lock`; never raises. What went wrong is logged and returned, for the
    caller to add to what it reports: a lock that was not released must never hide or
    change a deployment's outcome (the S3 lock lapses with its lease by itself)."""
    try:
        lock.release()
    except (BluegreenError, OSError) as exc:
        warning = str(exc)
        log.warning("store.lock_not_released", error=warning)
        return warning
    return None


def open_store(
    backend: str,
    base_dir: Path,
    *,
    s3: Callable[[str], S3Objects] | None = None,
    lease_seconds: float = 60.0,
) -> Store:
    """The store `state.backend` names. Nothing is read or written yet: `s3(bucket)` gives
    the bucket's objects (connected on the caller's AWS settings) on the store's first use;
    without it, the environment's AWS settings are used."""
    if backend == "file":
        return FileStore(base_dir / ".bluegreen")
    if backend.startswith("s3://"):
        from bluegreen.store.s3 import S3Store, connect_from_environment, parse_backend

        bucket, prefix = parse_backend(backend)
        connect = s3 or connect_from_environment
        return S3Store(lambda: connect(bucket), prefix, lease_seconds=lease_seconds)
    raise ConfigError(
        f'state.backend = "{backend}" is not supported',
        hint='use backend = "file" or backend = "s3://bucket/prefix"',
    )


__all__ = ["FileStore", "Lock", "LockHolder", "Store", "open_store", "release_or_warn"]
