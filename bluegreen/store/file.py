"""The file store: `.bluegreen/<service>/` beside the configuration.

    <id>.json            one record per deployment, replaced atomically (write, then rename)
    lock                 the per-service lock: created exclusively, holds who and since when
    <id>.requests/*.json promote/rollback requests, one file each, consumed by the runner

A lock whose holder was a process on this host that no longer exists is stale and broken
(saying so); any other held lock is reported with its holder (exit 4).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bluegreen.errors import LockHeldError
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store.holder import LockHolder, process_space


class FileLock:
    def __init__(self, path: Path, taken_from: LockHolder | None = None) -> None:
        self._path = path
        self.taken_from = taken_from  # a holder on this host whose process was gone

    def release(self) -> None:
        self._path.unlink(missing_ok=True)


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, service_key: str) -> Path:
        path = self.root / service_key
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save(self, record: DeploymentRecord) -> None:
        path = self._dir(record.service_key) / f"{record.id}.json"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(record.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def load(self, service_key: str, deployment_id: str) -> DeploymentRecord:
        path = self._dir(service_key) / f"{deployment_id}.json"
        return DeploymentRecord.model_validate_json(path.read_text(encoding="utf-8"))

    def history(self, service_key: str) -> list[DeploymentRecord]:
        records = [
            DeploymentRecord.model_validate_json(p.read_text(encoding="utf-8"))
            for p in self._dir(service_key).glob("bg-*.json")
        ]
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    def latest(self, service_key: str) -> DeploymentRecord | None:
        records = self.history(service_key)
        return records[0] if records else None

    def acquire_lock(self, service_key: str, deployment_id: str) -> FileLock:
        path = self._dir(service_key) / "lock"
        holder = {
            "deployment_id": deployment_id,
            "host": process_space(),
            "pid": os.getpid(),
            "since": time.time(),
        }
        taken_from = None
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                held = _holder_at(path)
                if held is not None and not held.process_gone:
                    raise LockHeldError(
                        f"another deployment of this service holds the lock: {held.describe()}",
                        hint="wait for it, or see it with `bluegreen status`",
                    ) from None
                if held is not None:  # its process is gone from this host: stale
                    path.unlink(missing_ok=True)
                    taken_from = held
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(holder, handle)
            return FileLock(path, taken_from)
        raise LockHeldError(f"could not take the lock at {path}")

    def who_holds(self, service_key: str) -> LockHolder | None:
        """Who holds the lock: a process, with no lease (held until that process ends)."""
        return _holder_at(self._dir(service_key) / "lock")

    def lock_holder(self, service_key: str) -> str | None:
        held = self.who_holds(service_key)
        return held.describe() if held else None

    def post_request(self, service_key: str, deployment_id: str, request: Request) -> None:
        folder = self._dir(service_key) / f"{deployment_id}.requests"
        folder.mkdir(exist_ok=True)
        name = f"{time.time_ns()}-{request.kind}.json"
        tmp = folder / f".{name}"
        tmp.write_text(request.model_dump_json(), encoding="utf-8")
        os.replace(tmp, folder / name)

    def take_requests(self, service_key: str, deployment_id: str) -> list[Request]:
        folder = self._dir(service_key) / f"{deployment_id}.requests"
        taken = []
        for path in sorted(folder.glob("[0-9]*.json")) if folder.exists() else []:
            taken.append(Request.model_validate_json(path.read_text(encoding="utf-8")))
            path.unlink(missing_ok=True)
        return taken


def _holder_at(path: Path) -> LockHolder | None:
    """The lock file's holder; None once it is gone. One we cannot read is never stale."""
    try:
        held = json.loads(path.read_text())
        pid, host = int(held["pid"]), str(held["host"])
        return LockHolder(
            str(held["deployment_id"]),
            f"pid {pid} on {host.split()[0]}",
            float(held.get("since", 0)),
            time.time(),
            host=host,
            pid=pid,
        )
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return LockHolder("an unreadable lock", str(path), 0, time.time())
