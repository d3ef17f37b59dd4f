"""After the last step all traffic is on green and blue is being retired: the release has
succeeded. A refusal to retire blue (DeleteTaskSet denied) must never be reported as a
failed rollback: the deployment ends SUCCEEDED with the clean-up incomplete, exit 3 (a
person must act) with the command that finishes it, and `bluegreen resume` finishes it.

A lock that cannot be released after a deployment ended (s3:DeleteObject denied) changes
neither its outcome nor its exit code: it is a warning on the result, whatever the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import recording_hooks
import typer
from fakes import BLUE, GREEN, HTTP, HTTPS, World

from bluegreen.cli import shared as cli
from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer, DeploymentResult
from bluegreen.engine.rollback import ROUNDS
from bluegreen.errors import AwsError, CleanupIncomplete, HealthCheckFailed, LockNotReleased
from bluegreen.machine import State
from bluegreen.model import TaskSetStatus
from bluegreen.report import render
from bluegreen.store import FileStore

V2 = {"web": "repo/web:v2"}
V3 = {"web": "repo/web:v3"}
MakeDeployer = Callable[..., Deployer]


def denied(operation: str, times: int = 1_000_000, *, transient: bool = False) -> Any:
    """The first `times` calls fail: access denied, or (transient) throttled to the end."""
    left = [times]

    def fail() -> Exception | None:
        if left[0] == 0:
            return None
        left[0] -= 1
        if transient:
            return AwsError(operation, "Throttling", "Rate exceeded", transient=True)
        return AwsError(operation, "AccessDeniedException", f"not authorized: ecs:{operation}")

    return fail


def task_sets(world: World) -> dict[str, TaskSetStatus]:
    """Target group → the status of the task set on it."""
    return {ts.target_group: ts.status for ts in world.task_sets.values()}


def blue_task_set(world: World) -> str:
    (found,) = [ts.id for ts in world.task_sets.values() if ts.target_group == BLUE]
    return found


# -- blue's retirement refused --------------------------------------------------------------


def test_delete_task_set_denied_ends_succeeded_with_the_clean_up_left_and_exit_3(
    make_deployer: MakeDeployer, world: World
) -> None:
    blue = blue_task_set(world)
    world.fail["DeleteTaskSet"] = denied("DeleteTaskSet")

    with pytest.raises(CleanupIncomplete) as caught:
        make_deployer().deploy(V2)

    # what AWS shows: production on green, green primary, blue kept (not rolled back)
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    assert task_sets(world) == {BLUE: TaskSetStatus.ACTIVE, GREEN: TaskSetStatus.PRIMARY}
    assert world.violations == []
    # what is reported: a success a person must finish, never a failed rollback
    error, result = caught.value, caught.value.result  # type: ignore[attr-defined]
    assert error.exit_code == 3 and result.exit_code == 3
    assert result.state is State.SUCCEEDED and result.outcome == "succeeded"
    assert "succeeded: green serves all production traffic" in error.message
    assert "not authorized: ecs:DeleteTaskSet" in error.message
    assert "nothing to roll back" not in str(error)
    command = f"aws ecs delete-task-set --cluster prod --service web --task-set {blue} --force"
    assert f"`{command}`" in (error.hint or "") and "bluegreen resume" in (error.hint or "")
    rec = result.record
    assert rec.cleanup_left is not None and rec.cleanup_left.command == command
    assert rec.failed_in is None and rec.reason is None
    assert State.ROLLING_BACK not in {e.state for e in rec.events}
    assert result.to_dict()["cleanup_incomplete"]["command"] == command
    assert "clean-up incomplete: blue still runs" in render(rec, "markdown")  # job summary


def test_the_outcome_hooks_see_a_success_whose_clean_up_is_incomplete(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.fail["DeleteTaskSet"] = denied("DeleteTaskSet")

    with pytest.raises(CleanupIncomplete):
        make_deployer().deploy(V2)

    events = [c["event"] for c in recording_hooks.CALLS]
    assert events[-3:] == ["pre_cleanup", "on_success", "finally"]
    assert "on_failure" not in events and "on_rollback" not in events
    for context in recording_hooks.CALLS[-2:]:
        assert context["state"] == "SUCCEEDED"
        assert "ecs:DeleteTaskSet" in context["cleanup_incomplete"]
    assert "cleanup_incomplete" not in recording_hooks.CALLS[-3]  # pre_cleanup: not yet


def test_a_transient_refusal_is_tried_again_and_the_deployment_succeeds(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    world.fail["DeleteTaskSet"] = denied("DeleteTaskSet", times=ROUNDS - 1, transient=True)

    result = make_deployer().deploy(V2)

    assert result.outcome == "succeeded" and result.exit_code == 0
    assert result.record.cleanup_left is None
    assert task_sets(world) == {GREEN: TaskSetStatus.PRIMARY}
    assert any("retiring blue stopped by" in e.message for e in result.record.events)


def test_a_transient_refusal_that_outlasts_the_rounds_leaves_the_clean_up(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.fail["DeleteTaskSet"] = denied("DeleteTaskSet", transient=True)
    world.calls.clear()

    with pytest.raises(CleanupIncomplete) as caught:
        make_deployer().deploy(V2)

    assert world.calls.count("DeleteTaskSet") == ROUNDS
    assert caught.value.result.state is State.SUCCEEDED  # type: ignore[attr-defined]
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}


def _succeeded_with_blue_left(make_deployer: MakeDeployer, world: World) -> Deployer:
    """A deployment that succeeded but could not retire blue: DeleteTaskSet is refused."""
    deployer = make_deployer()
    world.fail["DeleteTaskSet"] = denied("DeleteTaskSet")
    with pytest.raises(CleanupIncomplete):
        deployer.deploy(V2)
    return deployer


def test_resume_finishes_the_clean_up_once_it_is_allowed(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = _succeeded_with_blue_left(make_deployer, world)
    (warning,) = deployer.status().warnings  # `bluegreen status` says what is left
    assert "could not be retired" in warning and "aws ecs delete-task-set" in warning
    with pytest.raises(CleanupIncomplete):  # still refused: says so again, exit 3
        deployer.resume()
    assert task_sets(world) == {BLUE: TaskSetStatus.ACTIVE, GREEN: TaskSetStatus.PRIMARY}
    del world.fail["DeleteTaskSet"]

    result = deployer.resume()

    assert result.state is State.SUCCEEDED and result.exit_code == 0
    assert task_sets(world) == {GREEN: TaskSetStatus.PRIMARY}
    saved = deployer.store.latest(deployer.config.service_key)
    assert saved is not None and saved.cleanup_left is None
    assert saved.events[-1].message == "clean-up finished: blue is retired"
    assert deployer.status().warnings == []
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}


def test_the_next_deployment_retires_the_blue_that_was_left(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = _succeeded_with_blue_left(make_deployer, world)
    del world.fail["DeleteTaskSet"]

    result = deployer.deploy(V3)  # the old blue sits on this deployment's green group

    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert task_sets(world) == {BLUE: TaskSetStatus.PRIMARY}
    assert world.violations == []


def test_the_cli_prints_the_success_and_the_command_and_exits_3(
    make_deployer: MakeDeployer, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fail["DeleteTaskSet"] = denied("DeleteTaskSet")

    with pytest.raises(typer.Exit) as caught:
        cli.run(cli.Output.text, lambda: make_deployer().deploy(V2), cli.print_result)

    assert caught.value.exit_code == 3
    printed = capsys.readouterr()
    assert any(line.startswith("SUCCEEDED bg-") for line in printed.out.splitlines())
    assert "aws ecs delete-task-set --cluster prod --service web" in " ".join(printed.err.split())


# -- the lock cannot be released ------------------------------------------------------------


class KeptLock:
    """A lock whose release is refused, as the S3 lock's is without s3:DeleteObject."""

    taken_from = None

    def release(self) -> None:
        raise LockNotReleased(
            "the lock s3://state/prod__web/lock could not be released: AWS DeleteObject "
            "failed: AccessDenied: Access Denied",
            hint="it lapses by itself when its lease ends",
        )


class KeptLockStore(FileStore):
    def acquire_lock(self, service_key: str, deployment_id: str) -> Any:
        super().acquire_lock(service_key, deployment_id).release()
        return KeptLock()


@pytest.fixture
def kept_lock(tmp_path: Path, make_deployer: MakeDeployer) -> Callable[..., Deployer]:
    """make_deployer's deployers, on a store whose lock cannot be released."""

    def make(**overrides: Any) -> Deployer:
        deployer = make_deployer(**overrides)
        deployer.store = KeptLockStore(tmp_path / ".bluegreen")
        return deployer

    return make


def test_a_lock_that_cannot_be_released_leaves_a_success_a_success(
    kept_lock: MakeDeployer, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    result = kept_lock().deploy(V2)

    assert result.outcome == "succeeded" and result.exit_code == 0
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    (warning,) = result.warnings
    assert "could not be released" in warning and "lapses by itself" in warning
    assert result.to_dict()["warnings"] == [warning]
    cli.print_result(result)  # exit 0: print_result raises nothing
    printed = capsys.readouterr()
    assert any(line.startswith("SUCCEEDED bg-") for line in printed.out.splitlines())
    assert "warning: the lock s3://state/prod__web/lock could not be released" in printed.err


def test_a_lock_that_cannot_be_released_never_hides_a_rollback(
    kept_lock: MakeDeployer, world: World
) -> None:
    world.behaviour["repo/web:v2"] = "unhealthy"

    with pytest.raises(HealthCheckFailed) as caught:
        kept_lock().deploy(V2)

    assert caught.value.exit_code == 1
    result: DeploymentResult = caught.value.result  # type: ignore[attr-defined]
    assert result.state is State.ROLLED_BACK and "could not be released" in result.warnings[0]
    assert world.weights(HTTP) == {BLUE: 100, GREEN: 0}


def test_a_lock_that_cannot_be_released_after_promote_leaves_its_outcome(
    kept_lock: MakeDeployer, world: World
) -> None:
    steps = [{"weight": 30, "pause": True}, {"weight": 100}]
    deployer = kept_lock(strategy={"type": "steps", "steps": steps})
    paused = deployer.deploy(V2, detach_at_pause=True)
    assert paused.outcome == "paused" and paused.warnings

    result = deployer.promote()

    assert result.outcome == "succeeded" and result.exit_code == 0 and result.warnings
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}
