"""AWS throttling absorbed, never a rollback (bluegreen/engine/pacing.py, acting.py,
aws/retry.py): windows of virtual time in which AWS answers every call of an operation
with Throttling, opened at a moment of the deployment. Each test asserts what AWS shows
at the end (the listeners' weights, the task sets) and what the record tells.

Before this, a bake whose DescribeTargetHealth was throttled for a minute rolled back:
"AWS DescribeTargetHealth failed: Throttling: Rate exceeded → gave up after 6 attempts".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sim_helpers import production_weights as weights
from test_e2e import V2, serving

from bluegreen.errors import GateFailed
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord, Event
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack

STEPS = [{"weight": 10, "bake": "3m"}, {"weight": 100}]


class Windows:
    """Throttling windows opened by events of the deployment: (event prefix, operation,
    seconds[, seconds after the event]). Records when each window opened and closed."""

    def __init__(self, sandbox: Sandbox, *windows: tuple[Any, ...]) -> None:
        self.sandbox = sandbox
        self.pending = list(windows)
        # (event prefix, operation) → (from, until)
        self.opened: dict[tuple[str, str], tuple[float, float]] = {}

    def __call__(self, event: Event) -> None:
        for window in list(self.pending):
            prefix, operation, seconds, *later = window
            if event.message.startswith(prefix):
                self.pending.remove(window)
                start = event.at + (later[0] if later else 0)
                self._open_at(start, (prefix, operation), seconds)

    def _open_at(self, start: float, key: tuple[str, str], seconds: float) -> None:
        faults = self.sandbox.faults

        def tick(at: float) -> None:
            if at >= start and key not in self.opened:
                self.opened[key] = (at, at + seconds)
                rules.append(faults.throttle(key[1]))
            elif key in self.opened and at >= self.opened[key][1] and rules:
                faults.remove(rules.pop())

        rules: list[Any] = []
        self.sandbox.on_tick(tick)
        tick(self.sandbox.clock.now())


def record_of(deployer: Any) -> DeploymentRecord:
    rec: DeploymentRecord | None = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def moment(rec: DeploymentRecord, prefix: str) -> float:
    return next(e.at for e in rec.events if e.message.startswith(prefix))


def messages(rec: DeploymentRecord) -> list[str]:
    return [e.message for e in rec.events]


def test_throttled_reads_in_every_wait_and_a_throttled_shift_still_succeed(
    make: Callable[..., Any], sandbox: Sandbox, stack: SandboxStack
) -> None:
    windows = Windows(
        sandbox,
        ("entered WAITING_HEALTHY", "DescribeTargetHealth", 40),
        ("entered SHIFTING", "ModifyListener", 150),  # longer than a change is tried
        ("step 1/2", "DescribeTargetHealth", 60),
    )
    deployer = make(strategy={"type": "steps", "steps": STEPS})

    result = deployer.deploy({"web": V2}, on_event=windows)

    assert result.outcome == "succeeded"
    assert weights(stack) == {(0, 100)}
    assert serving(stack) == [(stack.green_tg_arn, "PRIMARY")]
    rec = record_of(deployer)
    assert rec.failed_in is None and not windows.pending
    assert rec.skipped_polls >= 4  # 40 s and 60 s without target health, a poll every 5 s
    said = messages(rec)
    assert (
        sum(m.startswith("poll skipped: AWS DescribeTargetHealth failed: Throttling") for m in said)
        == 2
    )
    assert sum(m.startswith("gates read again after") for m in said) == 2
    assert any(m.startswith("shift stopped by AWS ModifyListener failed: Throttling") for m in said)
    # the first shift went through once ModifyListener was answered again, not before
    assert moment(rec, "step 1/2") >= windows.opened["entered SHIFTING", "ModifyListener"][1]
    assert sandbox.faults.injected[("ModifyListener", "Throttling")] > 6


def test_weight_moves_only_once_the_gates_are_read_again(
    make: Callable[..., Any], sandbox: Sandbox, stack: SandboxStack
) -> None:
    # The alarms cannot be read from the last minute of the bake until well after it: the
    # shift to 100 % waits for a poll that reads them (the shift itself reads no alarm).
    # Kills acting.confirm returning at once, and a skipped poll counted as read.
    stack.add_5xx_alarm("web-green-5xx", stack.green_tg_arn)
    # 2m into the 3m bake, for 2m: a minute past the bake's end
    windows = Windows(sandbox, ("step 1/2", "DescribeAlarms", 120, 120))
    deployer = make(strategy={"type": "steps", "steps": STEPS}, gates={"alarms": ["web-green-5xx"]})

    result = deployer.deploy({"web": V2}, on_event=windows)

    assert result.outcome == "succeeded"
    rec = record_of(deployer)
    _, closed = windows.opened["step 1/2", "DescribeAlarms"]
    assert moment(rec, "step 1/2") + 180 < closed  # the bake ended inside the window
    assert moment(rec, "step 2/2") >= closed
    assert rec.skipped_polls >= 12
    assert any(m.startswith("poll skipped: AWS DescribeAlarms failed") for m in messages(rec))


def test_an_alarm_read_fails_the_deployment_while_target_health_is_throttled(
    make: Callable[..., Any], sandbox: Sandbox, stack: SandboxStack
) -> None:
    # A skipped poll still judges what it could read. Kills skipping the whole poll on
    # its first unanswered read.
    sandbox.apps[V2] = AppModel(error_rate=0.5)  # 5xx alarm fires within the bake
    stack.add_5xx_alarm("web-green-5xx", stack.green_tg_arn, threshold=10)
    windows = Windows(sandbox, ("step 1/2", "DescribeTargetHealth", 90))
    deployer = make(strategy={"type": "steps", "steps": STEPS}, gates={"alarms": ["web-green-5xx"]})

    with pytest.raises(GateFailed, match="web-green-5xx") as caught:
        deployer.deploy({"web": V2}, on_event=windows)

    rec = caught.value.result.record  # type: ignore[attr-defined]
    _, closed = windows.opened["step 1/2", "DescribeTargetHealth"]
    assert rec.failed_in is State.SHIFTING and moment(rec, "entered ROLLING_BACK") < closed
    assert rec.skipped_polls > 0
    assert rec.state is State.ROLLED_BACK and weights(stack) == {(100, 0)}


def test_a_rollback_under_throttling_ends_rolled_back_on_blue(
    make: Callable[..., Any], sandbox: Sandbox, stack: SandboxStack
) -> None:
    sandbox.apps[V2] = AppModel(crashes_after=120)  # healthy first, then crashes while baking
    # Round 1 stops at DescribeListeners (its reads' retries: seconds), round 2 comes 30 s
    # later and ModifyListener is throttled through a change's 60 s of tries (ending some
    # 96-113 s in, as the back-off's jitter falls), round 3 comes 60 s after that (≥ 156 s).
    # 130 s lies between the two whatever the jitter: at 100 s, round 2's tries sometimes
    # outlasted the window and succeeded, and the test failed by chance.
    windows = Windows(
        sandbox,
        ("entered ROLLING_BACK", "ModifyListener", 130),
        ("entered ROLLING_BACK", "DescribeListeners", 20),
    )
    deployer = make(strategy={"type": "steps", "steps": STEPS})

    with pytest.raises(GateFailed, match="unhealthy") as caught:
        deployer.deploy({"web": V2}, on_event=windows)

    rec = caught.value.result.record  # type: ignore[attr-defined]
    assert rec.state is State.ROLLED_BACK
    assert weights(stack) == {(100, 0)}
    assert serving(stack) == [(stack.blue_tg_arn, "PRIMARY")]
    assert any(m.startswith("rollback stopped by AWS ModifyListener") for m in messages(rec))
