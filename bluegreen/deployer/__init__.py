"""The Python API: `Deployer.from_config(...)` and its verbs. The CLI is a skin over this.

Errors before a deployment starts (configuration, preflight, lock) are raised; a deployment
that ran returns a DeploymentResult when it succeeded or paused, and raises
DeploymentFailed (rolled back, exit 1) or RollbackFailed (exit 3) otherwise, each carrying
`.result`, so a release script cannot mistake a rollback for a success.

The API's room (floor 4): this module, the Deployer and its verbs; result.py, what a
deployment that ran returns or raises (DeploymentResult, re-exported here). result.py never
imports this module; hook_specs.py, the configured hooks as the hook runner takes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import structlog

from bluegreen.clock import Clock, RealClock
from bluegreen.config import DeploymentConfig, load_config
from bluegreen.deployer.hook_specs import hook_specs
from bluegreen.deployer.records import (
    failed_rollback,
    find_record,
    in_flight,
    refuse_if_in_flight,
    start_rollback,
)
from bluegreen.deployer.result import (
    DeploymentResult,
    answer_to,
    final_weights,
    returned_or_raised,
    rolled_back_as_asked,
)
from bluegreen.engine.cleanup import retire_blue
from bluegreen.engine.engine import Engine, EventSink
from bluegreen.engine.plan import NewVersion, Plan, build_plan, resolve
from bluegreen.engine.promotion import skipped_message
from bluegreen.engine.reads import once
from bluegreen.engine.status import Status, read_status
from bluegreen.engine.taskdef import is_task_definition_arn
from bluegreen.errors import (
    DeploymentFailed,
    UsageError,
)
from bluegreen.hooks.runner import HookRunner
from bluegreen.iam import Policy, iam_policy
from bluegreen.machine import State
from bluegreen.ports import Cloud
from bluegreen.preflight import Report, run_checks
from bluegreen.record import DeploymentRecord, Event, Request, SkipAnalysis, new_deployment_id
from bluegreen.redact import Redactor
from bluegreen.store import Store, open_store, release_or_warn
from bluegreen.store.holder import actor
from bluegreen.store.takeover import TakeOver

if TYPE_CHECKING:
    from bluegreen.aws.s3 import S3Objects

log = structlog.get_logger("bluegreen")

# How long promote/rollback wait for a live process running the deployment to act on them.
ANSWER_WAIT_SECONDS = 600.0

# Where a promote acts: at a pause, and while traffic bakes on green (a stage's bake, its
# extensions by the analysis, the bake after the shift).
PROMOTABLE = (State.PAUSED, State.SHIFTING, State.BAKING)


class Deployer:
    def __init__(
        self,
        config: DeploymentConfig,
        *,
        cloud: Cloud | Callable[[], Cloud] | None = None,
        store: Store | None = None,
        clock: Clock | None = None,
        aws: Mapping[str, str | None] | None = None,
    ) -> None:
        self.config = config
        self._cloud = cloud
        self._aws = dict(aws or {})
        self.clock = clock or RealClock()
        self.store = store or open_store(
            config.state.backend,
            config.base_dir,
            s3=self._state_bucket,
            lease_seconds=config.state.lease,
        )

    @classmethod
    def from_config(
        cls,
        path: str | Path = "bluegreen.toml",
        *,
        overrides: Mapping[str, Any] | None = None,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        cloud: Cloud | Callable[[], Cloud] | None = None,
        clock: Clock | None = None,
    ) -> Deployer:
        config = load_config(path, overrides)
        aws = {"profile": profile, "region": region, "endpoint_url": endpoint_url}
        return cls(config, cloud=cloud, clock=clock, aws=aws)

    @property
    def cloud(self) -> Cloud:
        """Connected on first use, so configuration errors never reach AWS."""
        if self._cloud is None:
            from bluegreen.aws import connect

            self._cloud = connect(clock=self.clock, **self._aws)
        elif callable(self._cloud):
            self._cloud = self._cloud()
        return self._cloud

    def _state_bucket(self, bucket: str) -> S3Objects:
        """The S3 store's bucket, on this deployer's AWS settings; called on first use."""
        from bluegreen.aws import connect_s3

        return connect_s3(bucket, clock=self.clock, **self._aws)

    # ------------------------------------------------------------------ verbs

    def plan(
        self,
        images: Mapping[str, str] | None = None,
        task_definition: str | None = None,
        *,
        skip_analysis: bool = False,
    ) -> Plan:
        version = NewVersion(images=dict(images or {}), task_definition=task_definition)
        version.check()
        self._refuse_if_in_flight()
        reads = once(self.cloud)  # the checks and resolve() share one read of each thing
        now = self.clock.now()
        run_checks(self.config, reads, now, analysis=not skip_analysis).raise_for_failures()
        resolved = resolve(self.config, reads, analysis=not skip_analysis)
        return build_plan(self.config, resolved, version, skip_analysis=skip_analysis)

    def deploy(
        self,
        images: Mapping[str, str] | None = None,
        task_definition: str | None = None,
        *,
        detach_at_pause: bool = False,
        on_event: EventSink | None = None,
        skip_analysis: bool = False,
    ) -> DeploymentResult:
        """`skip_analysis`: no metric analysis in this deployment (recorded with who asked);
        health gates and alarms are still watched."""
        version = NewVersion(images=dict(images or {}), task_definition=task_definition)
        version.check()
        rec = self.new_record(skip_analysis=skip_analysis)
        lock = self.store.acquire_lock(rec.service_key, rec.id)
        try:
            self._refuse_if_in_flight()
            rec.note(rec.created_at, f"deploying {version.describe()}")
            self.store.save(rec)
            engine = self.engine(on_event, detach_at_pause)
            if rec.skip_analysis:
                engine.event(rec, skipped_message(rec, self.config))
            engine.run(rec, version)
        finally:
            kept = release_or_warn(lock)  # never hides nor changes how the deployment ended
        return self._finish(engine, rec, kept)

    def new_record(self, *, skip_analysis: bool = False) -> DeploymentRecord:
        """A new deployment of this service, not yet saved (PENDING)."""
        now = self.clock.now()
        return DeploymentRecord(
            id=new_deployment_id(now),
            service_key=self.config.service_key,
            cluster=self.config.service.cluster,
            service=self.config.service_label,
            created_at=now,
            updated_at=now,
            deadline=now + self.config.timeout if self.config.timeout else None,
            skip_analysis=self._skip("deploy") if skip_analysis else None,
            started_by=actor(),
        )

    def verify(self) -> Report:
        """Every preflight check (`bluegreen verify`); reads only. `Report.ok` is False when
        one failed; `Report.raise_for_failures()` raises them as one PreflightError."""
        return run_checks(self.config, self.cloud, self.clock.now())

    def status(self) -> Status:
        return read_status(self.config, self.cloud, self.store.latest(self.config.service_key))

    def history(self) -> list[DeploymentRecord]:
        return self.store.history(self.config.service_key)

    def record(self, deployment_id: str | None = None) -> DeploymentRecord:
        """The record of `deployment_id` (the service's latest without one), for a report;
        a UsageError (exit 2) when there is none."""
        return find_record(self.store, self.config.service_key, deployment_id)

    def iam_policy(self, task_definition: str | None = None) -> Policy:
        """The least-privilege IAM policy this configuration needs (`bluegreen
        iam-policy`). Reads the running task definitions for their family and roles, or
        the one given (a JSON file is read without AWS); changes nothing."""
        offline = task_definition is not None and not is_task_definition_arn(task_definition)
        return iam_policy(self.config, None if offline else self.cloud, task_definition)

    def promote(
        self,
        *,
        full: bool = False,
        on_event: EventSink | None = None,
        detach_at_pause: bool = False,
        skip_analysis: bool = False,
    ) -> DeploymentResult:
        """At a pause: on to the next step. While a stage bakes (or the bake after the
        shift): that bake ends now, then the next step. `full`: straight to 100% on every
        route, no more bakes or pauses. `skip_analysis`: no metric analysis from now on."""
        rec = in_flight(self.store, self.config.service_key, "promote")
        if rec.state not in PROMOTABLE:
            raise UsageError(
                f"deployment {rec.id} is {rec.state.value}: a promote acts at a pause or "
                "while traffic bakes on green (PAUSED, SHIFTING, BAKING)",
                hint="wait for it (`bluegreen status --watch`), or `bluegreen rollback`",
            )
        request = Request(
            kind="promote",
            full=full,
            skip_analysis=skip_analysis,
            at=self.clock.now(),
            by=actor(),
        )
        result = self._continue(rec, request, on_event, detach_at_pause)
        taken = [p for p in result.record.promotions if p.request == request.id]
        if taken and taken[0].ignored and not result.state.terminal:
            raise UsageError(f"the promote was not taken: {taken[0].ignored}")
        return result

    def rollback(
        self, reason: str | None = None, *, on_event: EventSink | None = None
    ) -> DeploymentResult:
        rec = failed_rollback(self.store, self.config.service_key) or in_flight(
            self.store, self.config.service_key, "rollback"
        )
        why = reason or "rollback requested"
        request = Request(kind="rollback", reason=why, at=self.clock.now(), by=actor())
        try:
            if rec.state is State.FAILED:
                return self._retry_rollback(rec, request, on_event)
            return self._continue(rec, request, on_event, False)
        except DeploymentFailed as exc:  # rolled back, as asked: blue serves production
            if (back := rolled_back_as_asked(exc, DeploymentResult)) is not None:
                return back
            raise

    def resume(
        self,
        *,
        on_event: EventSink | None = None,
        detach_at_pause: bool = False,
        skip_analysis: bool = False,
    ) -> DeploymentResult:
        latest = self.store.latest(self.config.service_key)
        if latest is not None and latest.cleanup_left is not None:
            return self._finish_cleanup(latest, on_event)
        rec = in_flight(self.store, self.config.service_key, "resume")
        skip = self._skip("resume") if skip_analysis else None
        return self._continue(rec, None, on_event, detach_at_pause, skip)

    # ------------------------------------------------------------------ internals

    def engine(self, on_event: EventSink | None, detach_at_pause: bool) -> Engine:
        hooks = HookRunner(Redactor(), functions=self._functions_or_none(), clock=self.clock)
        engine = Engine(
            self.config,
            self.cloud,
            self.store,
            self.clock,
            hooks,
            hook_specs(self.config),
            on_event,
        )
        engine.detach_at_pause = detach_at_pause
        return engine

    def _skip(self, via: Literal["deploy", "resume"]) -> SkipAnalysis:
        return SkipAnalysis(by=actor(), at=self.clock.now(), via=via)

    def _functions_or_none(self) -> Any:
        return getattr(self.cloud, "functions", None)

    def _refuse_if_in_flight(self) -> None:
        refuse_if_in_flight(self.store, self.config.service_key)

    def _retry_rollback(
        self, rec: DeploymentRecord, request: Request, on_event: EventSink | None
    ) -> DeploymentResult:
        """Every rollback step is idempotent: run them all again, from the record, under the
        service's lock. Ends ROLLED_BACK, or FAILED (exit 3) again saying what still stops it."""
        lock = self.store.acquire_lock(rec.service_key, rec.id)
        try:
            rec = self.store.load(rec.service_key, rec.id)
            if rec.state is not State.FAILED:  # someone else's retry got there first
                raise UsageError(f"{rec.id} is {rec.state.value} now: no rollback to retry")
            engine = self.engine(on_event, False)
            again = f"rollback tried again by {request.by}: {request.reason}"
            rec.move_to(State.ROLLING_BACK, self.clock.now(), again)
            self.store.save(rec)
            engine.run(rec)
        finally:
            kept = release_or_warn(lock)
        return self._finish(engine, rec, kept)

    def _finish_cleanup(
        self, rec: DeploymentRecord, on_event: EventSink | None
    ) -> DeploymentResult:
        """A success that could not retire blue: retire it now, under the service's lock.
        Returns the success, or raises CleanupIncomplete (exit 3) again saying why."""
        lock = self.store.acquire_lock(rec.service_key, rec.id)
        try:
            rec = self.store.load(rec.service_key, rec.id)
            engine = self.engine(on_event, False)
            if rec.cleanup_left is not None:  # else someone else finished it first
                retire_blue(engine, rec)
        finally:
            kept = release_or_warn(lock)
        return self._finish(engine, rec, kept)

    def _continue(
        self,
        rec: DeploymentRecord,
        request: Request | None,
        on_event: EventSink | None,
        detach_at_pause: bool,
        skip: SkipAnalysis | None = None,
    ) -> DeploymentResult:
        if request:
            self.store.post_request(rec.service_key, rec.id, request)
        answered = (lambda: self._answer_to(rec, request)) if request else None
        taken = self._take_over(rec, on_event).lock(rec, answered)
        if isinstance(taken, DeploymentResult):
            return taken  # the process running it acted on the request
        try:
            rec = self.store.load(rec.service_key, rec.id)
            engine = self.engine(on_event, detach_at_pause)
            if skip and rec.skip_analysis is None:
                rec.skip_analysis = skip
                engine.event(rec, skipped_message(rec, self.config))
            if request and request.kind == "rollback":
                start_rollback(self.store, rec, request, self.clock.now())
            engine.run(rec)
        finally:
            kept = release_or_warn(taken)
        return self._finish(engine, rec, kept)

    def _take_over(self, rec: DeploymentRecord, on_event: EventSink | None) -> TakeOver:
        def notify(message: str) -> None:
            log.info(message, deployment_id=rec.id)
            if on_event:
                on_event(Event(at=self.clock.now(), state=rec.state, message=message))

        return TakeOver(
            self.store,
            self.clock,
            self.config.health.poll_interval,
            notify,
            patience_seconds=ANSWER_WAIT_SECONDS,
        )

    def _answer_to(self, rec: DeploymentRecord, request: Request) -> DeploymentResult | None:
        return answer_to(self.store.load(rec.service_key, rec.id), request, self.cloud)

    def _finish(
        self, engine: Engine, rec: DeploymentRecord, kept: str | None = None
    ) -> DeploymentResult:
        """`kept`: the lock could not be released — a warning, never the outcome."""
        warnings = (*rec.warnings, *((kept,) if kept else ()))  # auto scaling, the lock
        result = DeploymentResult(rec, self._final_weights(rec), warnings)
        return returned_or_raised(result, engine.failure)

    def _final_weights(self, rec: DeploymentRecord) -> dict[str, dict[str, int]]:
        return final_weights(self.cloud, rec)


__all__ = ["Deployer", "DeploymentResult", "hook_specs"]
