"""Fixtures for the adapter tests, on top of tests/conftest.py (fake credentials, `aws`,
`stack`, speed-ups): an AwsCloud on a virtual clock, so retries never really sleep."""

from __future__ import annotations

import pytest

from bluegreen.aws import AwsCloud, connect
from bluegreen.clock import VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def cloud(aws: None, clock: VirtualClock) -> AwsCloud:
    return connect(clock=clock)
