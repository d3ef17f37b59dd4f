"""A release whose process dies at any point, then `resume` or `rollback` of the release:
every service ends the same way — all green or all blue. The process dies in-process here
(an exception no engine catches, in every thread at once, its locks then freed as a dead
process's are); tests/e2e drive a real `kill -9`."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import ReleaseWorld, release_world

from bluegreen.errors import DeploymentFailed, UsageError
from bluegreen.machine import State
from bluegreen.record import Event
from bluegreen.release import Release
from bluegreen.release_record import ReleaseState
from bluegreen.sandbox import Sandbox
from bluegreen.turns import TurnClock

ALL_GREEN = [{"blue": 0, "green": 100}] * 2
ALL_BLUE = [{"blue": 100, "green": 0}] * 2

# (service, the event it is killed at) — before green, mid-shift, baking, at the commit,
# retiring blue.
KILL_POINTS = [
    ("web", "created green task set"),
    ("api", "waiting at stage 1"),
    ("worker", "step 1/2"),
    ("web", "step 2/2"),
    ("api", "baking"),
    ("worker", "entered CLEANING_UP"),
    ("api", "retired blue"),
]


class Crash(BaseException):
    """The process dies: nothing of ours catches it."""


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path) -> ReleaseWorld:
    return release_world(sandbox, tmp_path, ["api", "web", "worker"])


def crashed_at(world: ReleaseWorld, service: str, prefix: str) -> Release:
    world.write()
    return crashed_at_written(world, service, prefix)


def crashed_at_written(world: ReleaseWorld, service: str, prefix: str) -> Release:
    """Run the release file as written, killed at `service`'s event `prefix`."""
    release = Release.from_file(world.folder / "release.toml", clock=world.sandbox.clock)
    dead = False
    sleep = TurnClock.sleep

    def dies_sleeping(turns: TurnClock, seconds: float) -> None:
        if dead:
            raise Crash
        sleep(turns, seconds)

    def on_event(name: str, event: Event) -> None:
        nonlocal dead
        if dead or (name == service and event.message.startswith(prefix)):
            dead = True
            raise Crash

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TurnClock, "sleep", dies_sleeping)
        with pytest.raises(Crash):
            release.run(on_event=on_event)
    return Release.from_file(world.folder / "release.toml", clock=world.sandbox.clock)


def committed(release: Release) -> bool:
    return release.history()[0].state is ReleaseState.COMMITTED


@pytest.mark.parametrize(("service", "prefix"), KILL_POINTS)
def test_resume_after_a_crash_ends_all_green(
    world: ReleaseWorld, service: str, prefix: str
) -> None:
    release = crashed_at(world, service, prefix)

    result = release.resume()

    assert result.state is ReleaseState.SUCCEEDED
    for name in world.stacks:
        assert world.weights(name) == ALL_GREEN
        assert result.members[name].record.state is State.SUCCEEDED


@pytest.mark.parametrize(("service", "prefix"), KILL_POINTS)
def test_rollback_after_a_crash_ends_all_blue_unless_committed(
    world: ReleaseWorld, service: str, prefix: str
) -> None:
    release = crashed_at(world, service, prefix)
    if committed(release):
        with pytest.raises(UsageError, match="committed"):
            release.rollback("changed our minds")
        assert release.resume().state is ReleaseState.SUCCEEDED
        return

    result = release.rollback("changed our minds")  # as asked: returned, not raised

    assert result.state is ReleaseState.ROLLED_BACK
    for name in world.stacks:
        assert world.weights(name) == ALL_BLUE
        assert result.members[name].record.state in (State.ROLLED_BACK, State.STOPPED)


def test_resume_after_a_crash_during_the_rollback_puts_every_service_back(
    world: ReleaseWorld, sandbox: Sandbox
) -> None:
    from bluegreen.sandbox.world import AppModel

    sandbox.apps["public.ecr.aws/bluegreen/demo-web:2.0.1-broken"] = AppModel(crashes_after=150)
    world.write(
        [{"name": "worker", "images": {"web": "public.ecr.aws/bluegreen/demo-web:2.0.1-broken"}}]
    )
    release = crashed_at_written(world, "api", "entered ROLLING_BACK")

    with pytest.raises(DeploymentFailed) as rolled_back:
        release.resume()

    result = rolled_back.value.result  # type: ignore[attr-defined]
    assert result.record.failed_member == "worker"
    for name in world.stacks:
        assert world.weights(name) == ALL_BLUE
        assert result.members[name].record.state is State.ROLLED_BACK
