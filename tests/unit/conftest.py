from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import recording_hooks
from fakes import FakeCloud, World, build_world

from bluegreen.clock import VirtualClock
from bluegreen.config import parse_config
from bluegreen.deployer import Deployer
from bluegreen.machine import HookEvent

BASE: dict[str, Any] = {
    "service": {"cluster": "prod", "name": "web"},
    "target_groups": {"blue": "web-blue", "green": "web-green"},
    "listeners": [{"arn": "arn:listener/http"}, {"arn": "arn:listener/https"}],
    "strategy": {
        "type": "steps",
        "steps": [{"weight": 10, "bake": "1m"}, {"weight": 50, "bake": "1m"}, {"weight": 100}],
    },
    "health": {"timeout": "5m", "poll_interval": "5s"},
    "gates": {"bake_after_shift": "2m", "termination_wait": "1m"},
    "hooks": [{"event": e.value, "python": "recording_hooks:record"} for e in HookEvent],
}


@pytest.fixture(autouse=True)
def _reset_hooks() -> None:
    recording_hooks.CALLS.clear()
    recording_hooks.FAIL_AT.clear()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def world(clock: VirtualClock) -> World:
    return build_world(clock)


@pytest.fixture
def make_deployer(tmp_path: Path, clock: VirtualClock, world: World) -> Callable[..., Deployer]:
    def make(**overrides: Any) -> Deployer:
        config = parse_config(BASE, source=tmp_path / "bluegreen.toml", overrides=overrides)
        return Deployer(config, cloud=FakeCloud(world), clock=clock)

    return make
