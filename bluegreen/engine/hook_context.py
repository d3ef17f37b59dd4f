"""What a hook is told about the deployment: one flat dictionary, the same for every hook
kind (how each kind receives it is hooks/runner.py's business), and the outcome hooks a
deployment that ended runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from bluegreen.errors import DeploymentStopped, HookFailed
from bluegreen.hooks.runner import HookRunner, HookSpec
from bluegreen.machine import FATAL_EVENTS, HookEvent, State
from bluegreen.record import DeploymentRecord

log = structlog.get_logger("bluegreen")


def hook_context(rec: DeploymentRecord, event: HookEvent, **extra: Any) -> dict[str, Any]:
    return {
        "event": event.value,
        "deployment_id": rec.id,
        "cluster": rec.cluster,
        "service": rec.service,
        "state": rec.state.value,
        "step": rec.step + 1,
        "steps": len(rec.stages),
        "blue_target_group": rec.blue_target_group,
        "green_target_group": rec.green_target_group,
        "from_task_definition": rec.from_task_definition,
        "to_task_definition": rec.to_task_definition,
        "green_weight": rec.green_percent,
        "from_weight": rec.green_percent,
        "reason": rec.reason,
        # Only with a test listener: where green answers before production moves.
        **({"test_url": rec.test_url} if rec.test_url else {}),
        **extra,
    }


def state_hooks(
    runner: HookRunner,
    hook_specs: list[HookSpec],
    rec: DeploymentRecord,
    event: HookEvent,
    *,
    check_signals: Callable[[], None],
    note: Callable[[DeploymentRecord, str], None],
    stop_only: bool = False,
    **extra: Any,
) -> None:
    """`event`'s hooks. A failure of a fatal event raises HookFailed (the engine rolls
    back) or, with `stop_only` (before anything changed), DeploymentStopped; any other
    failure is noted and the deployment goes on. A signal that stopped a hook decides,
    not the hook (`check_signals` raises it)."""
    specs = [s for s in hook_specs if s.event is event]
    if not specs:
        return
    results = runner.run_event(event, specs, hook_context(rec, event, **extra))
    check_signals()
    for result in results:
        if result.succeeded:
            continue
        message = f"hook {result.spec.name} failed at {event.value}: {result.error}"
        if event not in FATAL_EVENTS:
            note(rec, message)  # informational events: logged, never fatal
            continue
        if stop_only:
            raise DeploymentStopped(message, hint="nothing was changed in AWS")
        raise HookFailed(message)


def outcome_hooks(runner: HookRunner, hook_specs: list[HookSpec], rec: DeploymentRecord) -> None:
    """The outcome's event, then `finally`; a failure is logged, never raised (it ended).
    A success that could not retire blue says so (`cleanup_incomplete`): it is still a
    success, so `on_success` runs."""
    event = {
        State.SUCCEEDED: HookEvent.ON_SUCCESS,
        State.ROLLED_BACK: HookEvent.ON_ROLLBACK,
    }.get(rec.state, HookEvent.ON_FAILURE)
    extra = {"cleanup_incomplete": rec.cleanup_left.error} if rec.cleanup_left else {}
    for each in (event, HookEvent.FINALLY):
        specs = [s for s in hook_specs if s.event is each]
        if not specs:
            continue
        for result in runner.run_event(each, specs, hook_context(rec, each, **extra)):
            if not result.succeeded:
                log.warning(
                    "hook_failed",
                    hook=result.spec.name,
                    hook_event=each.value,
                    error=result.error,
                    deployment_id=rec.id,
                )
