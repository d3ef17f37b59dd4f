"""A release detached at its pause (`bluegreen release --detach-at-pause`): the process
ends with every service waiting at the pause, and `promote --release` (or `rollback
--release`) drives the release on later, from another process."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import ReleaseWorld, release_world

from bluegreen.errors import DeploymentFailed, UsageError
from bluegreen.machine import State
from bluegreen.record import Event, Request
from bluegreen.release import Release, ReleaseResult
from bluegreen.release_record import ReleaseState
from bluegreen.sandbox import Sandbox

ALL_GREEN = {"blue": 0, "green": 100}
ALL_BLUE = {"blue": 100, "green": 0}
NAMES = ["api", "web"]


def at(percent: int) -> dict[str, int]:
    return {"blue": 100 - percent, "green": percent}


def detached_release(
    sandbox: Sandbox, tmp_path: Path, steps: list[dict[str, object]]
) -> tuple[ReleaseWorld, Path, ReleaseResult]:
    world = release_world(sandbox, tmp_path, NAMES)
    path = world.write(strategy={"type": "steps", "steps": steps})
    result = Release.from_file(path, clock=sandbox.clock).run(detach_at_pause=True)
    return world, path, result


def test_a_release_detaches_once_every_service_waits_at_the_pause(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    steps = [{"weight": 25, "pause": True}, {"weight": 100}]
    world, path, result = detached_release(sandbox, tmp_path, steps)

    assert result.detached and result.state is ReleaseState.RUNNING  # returned: exit 0
    assert any("promote --release" in line for line in result.describe())
    for name in NAMES:
        assert result.members[name].record.state is State.PAUSED
        assert world.weights(name) == [at(25), at(25)]

    done = Release.from_file(path, clock=sandbox.clock).promote()  # nobody runs it: drives it

    assert isinstance(done, ReleaseResult) and done.state is ReleaseState.SUCCEEDED
    for name in NAMES:
        assert world.weights(name) == [ALL_GREEN, ALL_GREEN]
        assert done.members[name].record.state is State.SUCCEEDED


def test_promote_detaching_again_goes_on_to_the_next_pause(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    steps = [{"weight": 10, "pause": True}, {"weight": 50, "pause": True}, {"weight": 100}]
    world, path, _ = detached_release(sandbox, tmp_path, steps)

    release = Release.from_file(path, clock=sandbox.clock)
    at_next = release.promote(detach_at_pause=True)

    assert isinstance(at_next, ReleaseResult) and at_next.detached
    for name in NAMES:
        assert world.weights(name) == [at(50), at(50)]
    done = release.promote()
    assert isinstance(done, ReleaseResult) and done.state is ReleaseState.SUCCEEDED


def test_a_detached_release_rolls_back_every_service(sandbox: Sandbox, tmp_path: Path) -> None:
    steps = [{"weight": 25, "pause": True}, {"weight": 100}]
    world, path, _ = detached_release(sandbox, tmp_path, steps)

    result = Release.from_file(path, clock=sandbox.clock).rollback("not today")  # as asked

    assert result.state is ReleaseState.ROLLED_BACK
    for name in NAMES:
        assert world.weights(name) == [ALL_BLUE, ALL_BLUE]


def test_a_service_failing_after_the_others_detached_takes_them_back_too(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    world = release_world(sandbox, tmp_path, NAMES)
    path = world.write(
        strategy={"type": "steps", "steps": [{"weight": 25, "pause": True}, {"weight": 100}]}
    )
    release = Release.from_file(path, clock=sandbox.clock)
    detached: list[str] = []

    def on_event(name: str, event: Event) -> None:
        if event.message.startswith("detached at the pause") and not detached:
            detached.append(name)  # it has left; the other, at this same instant, has not:
            (other,) = [m for m in release.members if m.name != name]  # it fails at its look
            rec = other.deployer.store.latest(other.service_key)
            assert rec is not None and not rec.detached
            request = Request(kind="rollback", reason="not this one", at=event.at)
            other.deployer.store.post_request(rec.service_key, rec.id, request)

    with pytest.raises(DeploymentFailed) as caught:
        release.run(on_event=on_event, detach_at_pause=True)

    result = caught.value.result  # type: ignore[attr-defined]
    (other,) = set(NAMES) - set(detached)
    assert result.state is ReleaseState.ROLLED_BACK and result.record.failed_member == other
    assert result.members[detached[0]].record.state is State.ROLLED_BACK
    for name in NAMES:
        assert world.weights(name) == [ALL_BLUE, ALL_BLUE]


def test_a_release_in_waves_cannot_detach_at_a_pause(sandbox: Sandbox, tmp_path: Path) -> None:
    world = release_world(sandbox, tmp_path, NAMES)
    path = world.write(
        [{"name": "web", "shift_after": ["api"]}],
        strategy={"type": "steps", "steps": [{"weight": 25, "pause": True}, {"weight": 100}]},
    )
    with pytest.raises(UsageError, match="web shift after other services reach 100%"):
        Release.from_file(path, clock=sandbox.clock).run(detach_at_pause=True)
    for name in NAMES:
        assert world.weights(name) == [ALL_BLUE, ALL_BLUE]  # refused before anything moved
