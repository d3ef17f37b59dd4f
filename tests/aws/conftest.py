"""Fixtures for the adapter tests, on top of tests/conftest.py (fake credentials, `aws`,
`stack`): an AwsCloud on a virtual clock, so retries never really sleep, and two speed-ups
that keep this folder well under 20 s."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest

from bluegreen.aws import AwsCloud, connect
from bluegreen.clock import VirtualClock


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """One botocore data loader for every session: moto resets boto3's default session and
    each test connects anew, and re-reading the service JSON files costs ~0.1 s a session."""
    loader = botocore.loaders.create_loader()
    original = botocore.session.create_loader
    botocore.session.create_loader = lambda search_paths_string=None: loader
    yield
    botocore.session.create_loader = original


@pytest.fixture(autouse=True)
def _no_default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's EC2 loads hundreds of default AMIs per region (~0.15 s); no test needs one.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cloud(aws: None, clock: VirtualClock) -> AwsCloud:
    return connect(clock=clock)
