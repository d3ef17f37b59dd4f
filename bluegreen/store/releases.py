"""Where release records are kept: the release file's `[state] backend`, beside the
deployments' own records.

    file:  .bluegreen/releases/<release name>/<release id>.json   beside the release file
    s3:    <prefix>/releases/<release name>/<release id>.json

A release record is written by the one process that holds every service's lock, so a plain
write (atomic rename, or a whole S3 object) is enough; the services' own records keep their
own guards.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bluegreen.errors import UsageError
from bluegreen.release_record import ReleaseRecord

if TYPE_CHECKING:
    from bluegreen.aws.s3 import S3Objects

HINT = "`bluegreen history --release FILE` lists the releases"


class ReleaseStore(Protocol):
    def save(self, record: ReleaseRecord) -> None: ...

    def history(self, name: str) -> list[ReleaseRecord]: ...


def latest_release(store: ReleaseStore, name: str) -> ReleaseRecord:
    records = store.history(name)
    if not records:
        raise UsageError(f"release {name!r} has not run yet: no record of it", hint=HINT)
    return records[0]


class FileReleaseStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "releases"

    def save(self, record: ReleaseRecord) -> None:
        folder = self.root / record.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{record.id}.json"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(record.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def history(self, name: str) -> list[ReleaseRecord]:
        folder = self.root / name
        records = [
            ReleaseRecord.model_validate_json(p.read_text(encoding="utf-8"))
            for p in (folder.glob("rel-*.json") if folder.is_dir() else [])
        ]
        return sorted(records, key=lambda r: r.created_at, reverse=True)


class S3ReleaseStore:
    def __init__(self, objects: Callable[[], S3Objects], prefix: str) -> None:
        self._connect = objects
        self._objects: S3Objects | None = None
        self._base = f"{prefix.strip('/')}/releases/" if prefix.strip("/") else "releases/"

    @property
    def objects(self) -> S3Objects:
        if self._objects is None:
            self._objects = self._connect()
        return self._objects

    def save(self, record: ReleaseRecord) -> None:
        key = f"{self._base}{record.name}/{record.id}.json"
        self.objects.put(key, record.model_dump_json(indent=2).encode("utf-8"))

    def history(self, name: str) -> list[ReleaseRecord]:
        records = []
        for key in self.objects.list(f"{self._base}{name}/"):
            found = self.objects.get(key) if key.endswith(".json") else None
            if found is not None:
                records.append(ReleaseRecord.model_validate_json(found[0]))
        return sorted(records, key=lambda r: r.created_at, reverse=True)


def open_release_store(
    backend: str, base_dir: Path, s3: Callable[[str], S3Objects] | None = None
) -> ReleaseStore:
    if backend.startswith("s3://"):
        from bluegreen.store.s3 import connect_from_environment, parse_backend

        bucket, prefix = parse_backend(backend)
        connect = s3 or connect_from_environment
        return S3ReleaseStore(lambda: connect(bucket), prefix)
    return FileReleaseStore(base_dir / ".bluegreen")
