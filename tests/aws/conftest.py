"""Fixtures for the adapter tests, on top of tests/conftest.py (fake credentials, `aws`,
`stack`, speed-ups): an AwsCloud on a virtual clock, so retries never really sleep; the S3
state store's bucket and stores on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from s3_state import BUCKET, T0, MakeStore

from bluegreen.aws import AwsCloud, connect, connect_s3
from bluegreen.aws.s3 import S3Objects
from bluegreen.clock import Clock, VirtualClock
from bluegreen.store.s3 import S3Lock, S3Store


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cloud(aws: None, clock: VirtualClock) -> AwsCloud:
    return connect(clock=clock)


@pytest.fixture
def objects(aws: None) -> S3Objects:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return connect_s3(BUCKET, clock=VirtualClock())


@pytest.fixture
def lease_clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def make_store(objects: S3Objects, lease_clock: VirtualClock) -> Iterator[MakeStore]:
    """Stores on one prefix, like processes on two machines. Every lock they take is
    released at the end: no renewal thread may outlive moto's mock."""
    locks: list[S3Lock] = []

    def make(holder: str = "ci@runner pid 1", clock: Clock = lease_clock, **kw: Any) -> S3Store:
        store = S3Store(objects, "bluegreen/state", clock=clock, holder=holder, **kw)
        take = store.acquire_lock

        def acquire(service_key: str, deployment_id: str) -> S3Lock:
            lock = take(service_key, deployment_id)
            locks.append(lock)
            return lock

        store.acquire_lock = acquire  # type: ignore[method-assign]
        return store

    yield make
    for lock in locks:
        lock.release()
