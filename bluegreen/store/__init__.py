"""Deployment records and the per-service lock. `file` now; `s3` later (issue 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bluegreen.errors import ConfigError
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store.file import FileStore


class Lock(Protocol):
    def release(self) -> None: ...


class Store(Protocol):
    def save(self, record: DeploymentRecord) -> None: ...

    def load(self, service_key: str, deployment_id: str) -> DeploymentRecord: ...

    def latest(self, service_key: str) -> DeploymentRecord | None: ...

    def history(self, service_key: str) -> list[DeploymentRecord]: ...

    def acquire_lock(self, service_key: str, deployment_id: str) -> Lock: ...

    def lock_holder(self, service_key: str) -> str | None: ...

    def post_request(self, service_key: str, deployment_id: str, request: Request) -> None: ...

    def take_requests(self, service_key: str, deployment_id: str) -> list[Request]: ...


def open_store(backend: str, base_dir: Path) -> Store:
    if backend == "file":
        return FileStore(base_dir / ".bluegreen")
    raise ConfigError(
        f'state.backend = "{backend}" is not supported yet', hint='use backend = "file"'
    )


__all__ = ["FileStore", "Lock", "Store", "open_store"]
