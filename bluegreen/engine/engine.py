"""Runs a deployment through the state machine: hooks, gates, persistence, rollback.

Order of things in every state (the callback table):
1. the record moves to the state and is saved — before anything is done;
2. the state's action runs (idempotent: a resumed deployment runs it again);
3. its hooks run; a failing hook of a fatal event rolls back (machine.FATAL_EVENTS);
4. the next state is chosen; an exception in 2 or 3 moves to ROLLING_BACK (or STOPPED
   before anything changed); once blue is being retired nothing rolls back (cleanup.py).
   Outcome hooks (`on_success`, `on_rollback`, `on_failure`) and `finally` always run;
   their failures are logged, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from bluegreen.clock import Clock
from bluegreen.config import DeploymentConfig
from bluegreen.engine.acting import Acting
from bluegreen.engine.analysis import Analyst, mark_traffic
from bluegreen.engine.cleanup import retire_blue
from bluegreen.engine.green_targets import GreenTargets
from bluegreen.engine.health_wait import HealthWait
from bluegreen.engine.hook_context import outcome_hooks, state_hooks
from bluegreen.engine.interrupts import Interrupted, InterruptFlag
from bluegreen.engine.lockstep import COMMIT, PROVISION, SOLO, Lockstep, Point, wait_at
from bluegreen.engine.new_version import check_version, register_version
from bluegreen.engine.pacing import if_answered
from bluegreen.engine.plan import NewVersion, Resolved, resolve, stages_of
from bluegreen.engine.promotion import accept
from bluegreen.engine.reads import once
from bluegreen.engine.rollback import RollBack
from bluegreen.engine.scaling_hold import AutoScalingHold
from bluegreen.engine.smoke import SmokeChecks
from bluegreen.engine.traffic import TrafficShifter, observe
from bluegreen.engine.watch import BAKED, Watcher
from bluegreen.errors import (
    BluegreenError,
    DeploymentFailed,
    PreflightError,
    RollbackRequested,
)
from bluegreen.hooks.runner import HookRunner, HookSpec
from bluegreen.machine import HookEvent, State, can_roll_back
from bluegreen.ports import Cloud
from bluegreen.preflight import run_checks
from bluegreen.record import AnalysisEntry, DeploymentRecord, Event, Request, RouteEntry, StageEntry
from bluegreen.store import Store
from bluegreen.strategies import weights_for
from bluegreen.topology import topology_for

log = structlog.get_logger("bluegreen")

EventSink = Callable[[Event], None]


class Engine:
    def __init__(
        self,
        config: DeploymentConfig,
        cloud: Cloud,
        store: Store,
        clock: Clock,
        hooks: HookRunner,
        hook_specs: list[HookSpec],
        on_event: EventSink | None = None,
    ) -> None:
        self.config = config
        self.cloud = cloud
        self.store = store
        self.clock = clock
        self.hooks = hooks
        self.hook_specs = hook_specs
        self.on_event = on_event
        self.shifter = TrafficShifter(cloud.elb)
        self.topology = topology_for(config, cloud.ecs, self.event)
        self.interrupts = InterruptFlag()
        hooks.interrupted = self.interrupts.pending  # a signal stops a running hook at once
        self.lockstep: Lockstep = SOLO  # a release's: where to wait for its other services
        self.interrupts.also = lambda: self.lockstep.check(config.service_key)
        analyst = Analyst(config, cloud, clock, self.event)
        self.green_targets = GreenTargets(self.topology, self.event)
        self.watcher = Watcher(
            config, cloud, store, clock, self.event, self.interrupts, self.green_targets, analyst
        )
        self.acting = Acting(self.watcher, config.health.timeout, clock, self.event)
        self.health_wait = HealthWait(
            config, cloud.elb, self.topology, self.watcher, clock, self.event, self.green_targets
        )
        self.smoke = SmokeChecks(config, clock, self.event, self.interrupts.check)
        self.scaling = AutoScalingHold(config, cloud, store, self.event)
        self.detach_at_pause = False
        self._failure: BaseException | None = None
        self._handlers: dict[State, Callable[[DeploymentRecord], State | None]] = {
            State.PENDING: lambda rec: State.PREFLIGHT,
            State.PREFLIGHT: self._preflight,
            State.PROVISIONING: self._provision,
            State.WAITING_HEALTHY: self._wait_healthy,
            State.TEST_TRAFFIC: self._test_traffic,
            State.SHIFTING: self._shift,
            State.PAUSED: self._pause,
            State.BAKING: self._bake_after_shift,
            State.CLEANING_UP: self._clean_up,
            State.ROLLING_BACK: self._roll_back,
        }

    # ------------------------------------------------------------------ driving

    def run(self, rec: DeploymentRecord, version: NewVersion | None = None) -> DeploymentRecord:
        """Drive `rec` until it ends or detaches at a pause. The caller holds the lock."""
        self._version = version or NewVersion(
            images=dict(rec.images), task_definition=rec.task_definition_source
        )
        self._failure = None
        rec.interrupted = None
        with self.interrupts.installed():
            while not rec.state.terminal:
                following = self._step(rec)
                if following is None:  # detached at a pause, or left on an interrupt
                    return rec
                self._enter(rec, following)
        self._outcome_hooks(rec)
        return rec

    def _step(self, rec: DeploymentRecord) -> State | None:
        # Rolling back is never interrupted: stopping half way would leave listeners split.
        self.interrupts.ignoring = rec.state is State.ROLLING_BACK
        try:
            self.interrupts.check()
            return self._handlers[rec.state](rec)
        except Interrupted as exc:
            if self.config.on_interrupt == "leave" and can_roll_back(rec.state):
                self._leave(rec, exc)
                return None
            return self._on_failure(rec, exc)
        except (Exception, KeyboardInterrupt) as exc:
            return self._on_failure(rec, exc)

    def _leave(self, rec: DeploymentRecord, exc: Interrupted) -> None:
        self._failure = exc
        rec.interrupted = exc.message
        self.event(
            rec,
            f"{exc.message}: left in {rec.state.value} at {rec.green_percent}% "
            "green; continue with `bluegreen resume`, or `bluegreen rollback`",
        )
        return None

    def _enter(self, rec: DeploymentRecord, state: State, message: str = "") -> None:
        rec.move_to(state, self.clock.now(), message)
        self.store.save(rec)
        self._publish(rec, rec.events[-1])

    def event(
        self,
        rec: DeploymentRecord,
        message: str,
        analysis: AnalysisEntry | None = None,  # the evaluation told of, for a live view
        **fields: Any,
    ) -> None:
        rec.note(self.clock.now(), message)
        rec.events[-1].analysis = analysis  # never saved: the record has it in rec.analysis
        self.store.save(rec)
        self._publish(rec, rec.events[-1], **fields)

    def _publish(self, rec: DeploymentRecord, event: Event, **fields: Any) -> None:
        log.info(event.message, deployment_id=rec.id, state=rec.state.value, **fields)
        if self.on_event:
            self.on_event(event)

    def _on_failure(self, rec: DeploymentRecord, exc: BaseException) -> State:
        self._failure = exc
        if rec.state is State.ROLLING_BACK:
            rec.reason = f"{rec.reason}; then {_reason(exc)}" if rec.reason else _reason(exc)
            return State.FAILED
        rec.reason = rec.reason or _reason(exc)
        self.lockstep.failed(rec.service_key, rec.reason)  # the release's others go back too
        if rec.state in (State.PENDING, State.PREFLIGHT):
            return State.STOPPED
        rec.failed_in = rec.state
        if isinstance(exc, BluegreenError | KeyboardInterrupt):
            return State.ROLLING_BACK
        log.exception("unexpected_error", deployment_id=rec.id)
        return State.ROLLING_BACK

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    # ------------------------------------------------------------------ states

    def _preflight(self, rec: DeploymentRecord) -> State:
        reads = once(self.cloud)  # the checks and resolve() share one read of each thing
        judged = rec.skip_analysis is None
        run_checks(self.config, reads, self.clock.now(), analysis=judged).raise_for_failures()
        resolved = resolve(self.config, reads, analysis=judged)
        self._fill_from(rec, resolved)
        blue = reads.elb.target_health(resolved.blue.arn)  # the timeline starts as found
        observe(rec, self.clock.now(), routes=resolved.routes, test=resolved.test_route, blue=blue)
        running, files = resolved.fleet.task_definition, self.config.base_dir
        check_version(self._version, rec, running, reads.ecs, files, self.hooks.add_secrets)
        self.store.save(rec)
        self.event(rec, f"blue is {resolved.blue.name}, green is {resolved.green.name}")
        self._hooks(rec, HookEvent.PRE_PROVISION, stop_only=True)
        return State.PROVISIONING

    def _fill_from(self, rec: DeploymentRecord, resolved: Resolved) -> None:
        rec.blue_target_group = resolved.blue.arn
        rec.green_target_group = resolved.green.arn
        rec.routes = [RouteEntry.of(r.ref) for r in resolved.routes]
        if resolved.test_route:
            rec.test_route = RouteEntry.of(resolved.test_route.ref)
            rec.test_route_weights = dict(resolved.test_route.weights)
            rec.test_url = resolved.test_url
        rec.stages = [StageEntry.of(s) for s in stages_of(self.config, resolved)]
        self.topology.fill(rec, resolved.fleet)
        rec.from_task_definition = resolved.fleet.task_definition
        rec.container, rec.container_port = resolved.container, resolved.container_port
        rec.desired_count = resolved.fleet.desired_count

    def _provision(self, rec: DeploymentRecord) -> State:
        wait_at(PROVISION, rec, self.lockstep, self.watcher, self.event)
        self.scaling.hold(rec)  # before green is brought up: scale-in held, green sized
        if not rec.to_task_definition:
            files, hide = self.config.base_dir, self.hooks.add_secrets
            rec.to_task_definition = register_version(rec, self.cloud.ecs, files, hide)
            self.event(rec, f"registered {rec.to_task_definition}")
        up = self.topology.bring_up
        self.acting.act(rec, "bringing up green", lambda: up(rec), gates=False)
        return State.WAITING_HEALTHY

    def _wait_healthy(self, rec: DeploymentRecord) -> State:
        self.health_wait.run(rec)
        self.event(rec, "green is healthy")
        self._hooks(rec, HookEvent.POST_PROVISION)
        if not rec.test_route:
            self.smoke.run(rec)  # `url` checks only: nothing to route first
        return State.TEST_TRAFFIC if rec.test_route else State.SHIFTING

    def _test_traffic(self, rec: DeploymentRecord) -> State:
        assert rec.test_route is not None
        weights = weights_for(100, rec.blue_target_group or "", rec.green_target_group or "")
        rec.test_route_moved = True
        self.store.save(rec)
        own, to = self.green_targets.of(rec), [rec.test_route.ref]
        (test,) = self.acting.act(rec, "test route", lambda: self.shifter.apply(to, weights, own))
        observe(rec, self.clock.now(), test=test)
        self.event(rec, f"test listener routed to green: {rec.test_route.arn}")
        self.smoke.run(rec)
        self._hooks(rec, HookEvent.POST_TEST_TRAFFIC)
        return State.SHIFTING

    def _shift(self, rec: DeploymentRecord) -> State:
        stage = rec.stages[rec.step].stage
        wait_at(Point.shift(rec.step), rec, self.lockstep, self.watcher, self.event)
        self._hooks(rec, HookEvent.PRE_SHIFT, to_weight=stage.weight)
        weights = weights_for(
            stage.weight, rec.blue_target_group or "", rec.green_target_group or ""
        )
        own, refs = self.green_targets.of(rec), [r.ref for r in rec.routes]
        routes = self.acting.act(rec, "shift", lambda: self.shifter.apply(refs, weights, own))
        rec.green_percent = stage.weight
        blue_group = rec.blue_target_group or ""
        blue = self.shifter.health_before.get(blue_group) or if_answered(
            lambda: self.cloud.elb.target_health(blue_group)  # at 100 %: blue had no weight
        )
        observe(rec, self.clock.now(), step=rec.step + 1, routes=routes, blue=blue)
        mark_traffic(rec, stage.weight, self.clock.now())
        self.event(
            rec,
            f"step {rec.step + 1}/{len(rec.stages)}: {stage.weight}% on green",
            green_percent=stage.weight,
        )
        baking = stage.bake and not rec.promoted_full  # after `promote --full`: no more bakes
        baked = self.watcher.bake(rec, stage.bake) if baking else BAKED
        self._hooks(rec, HookEvent.POST_SHIFT)
        if baked.promote:  # ends the stage, its pause too
            return self._promoted(rec, baked.promote)
        paused = stage.pause and not rec.promoted_full
        return State.PAUSED if paused or baked.hold else self._next_stage(rec)

    def _promoted(self, rec: DeploymentRecord, request: Request) -> State:
        accept(rec, request, self.clock.now(), self.event)
        return self._next_stage(rec)

    def _next_stage(self, rec: DeploymentRecord) -> State:
        rec.paused_at = None
        rec.detached = False
        if rec.baked:  # paused in the bake after the shift: promoted, that bake is over
            return State.BAKING
        rec.step += 1
        return State.SHIFTING if rec.step < len(rec.stages) else State.BAKING

    def _pause(self, rec: DeploymentRecord) -> State | None:
        if rec.paused_at is None:
            rec.paused_at = self.clock.now()
            self.event(rec, f"paused at {rec.green_percent}% green: waiting for promote")
            self._hooks(rec, HookEvent.ON_PAUSE)
        promoted: list[Request] = []
        if self.detach_at_pause:
            # one look first: the promote that started this process (`promote
            # --detach-at-pause`) is waiting in the store, and goes on to the next pause
            self.watcher.watch(rec, 0, until=lambda: bool(promoted), on_promote=promoted.append)
            if promoted:
                return self._promoted(rec, promoted[0])
            rec.detached = True
            self.event(rec, "detached at the pause: run `bluegreen promote` or `rollback`")
            return None
        left = rec.paused_at + self.config.strategy.pause_timeout - self.clock.now()
        self.watcher.watch(
            rec, left, until=lambda: bool(promoted), on_promote=promoted.append, analyse=True
        )
        if promoted:
            return self._promoted(rec, promoted[0])
        if self.config.strategy.on_pause_timeout == "continue":
            self.event(rec, "pause timed out: continuing")
            return self._next_stage(rec)
        raise RollbackRequested(
            f"pause timed out after {self.config.strategy.pause_timeout:g}s with no promote"
        )

    def _bake_after_shift(self, rec: DeploymentRecord) -> State:
        seconds = self.config.gates.bake_after_shift
        if seconds and not rec.baked and not rec.promoted_full:
            self.event(rec, f"baking {seconds:g}s at 100% green")
            baked = self.watcher.bake(rec, seconds)
            if baked.promote:  # the bake is over; on to clean-up
                accept(rec, baked.promote, self.clock.now(), self.event)
            elif baked.hold:
                rec.baked = True  # the analysis was unsettled: a person decides
                return State.PAUSED
        self._hooks(rec, HookEvent.PRE_CLEANUP)
        return State.CLEANING_UP

    def _clean_up(self, rec: DeploymentRecord) -> State:
        self.acting.act(rec, "making green primary", lambda: self.topology.make_green_primary(rec))
        if self.config.gates.termination_wait:
            self.watcher.watch(rec, self.config.gates.termination_wait)
        self.acting.confirm(rec)  # blue is retired on a fresh verdict only
        wait_at(COMMIT, rec, self.lockstep, self.watcher, self.event)  # a release's others
        rec.blue_retiring = True  # from here on the release has succeeded: no way back
        self.store.save(rec)
        with self.scaling.released_after(rec):
            retire_blue(self, rec)  # a refusal is left in the record, never rolled back
        return State.SUCCEEDED

    def _roll_back(self, rec: DeploymentRecord) -> State:
        with self.scaling.released_after(rec):
            RollBack(self, rec).run()
        return State.ROLLED_BACK

    # ------------------------------------------------------------------ hooks

    def _hooks(
        self, rec: DeploymentRecord, event: HookEvent, *, stop_only: bool = False, **extra: Any
    ) -> None:
        state_hooks(
            self.hooks,
            self.hook_specs,
            rec,
            event,
            check_signals=self.interrupts.check,  # a hook stopped by a signal: it decides
            note=self.event,
            stop_only=stop_only,
            **extra,
        )

    def _outcome_hooks(self, rec: DeploymentRecord) -> None:
        outcome_hooks(self.hooks, self.hook_specs, rec)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (SIGINT)"
    if isinstance(exc, BluegreenError):
        return exc.message
    return f"unexpected {type(exc).__name__}: {exc}"


__all__ = ["DeploymentFailed", "Engine", "EventSink", "PreflightError"]
