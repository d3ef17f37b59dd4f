"""Waiting while watching: the one polling loop every wait and bake of a deployment uses.

Each poll (every `health.poll_interval`) notices a SIGINT/SIGTERM (interrupts.py), takes
promote/rollback requests from the store, checks the deployment's deadline and, unless
told not to, the gates (the health of green's own targets — green_targets.py — and the
alarms) and, when asked, lets the metric
analysis evaluate if one is due (analysis.py); a failure raises, which the engine turns
into a rollback. `bake` is a watch with the analysis that then asks whether it may end;
a promote request ends it at once (the engine then acts on it, promotion.py). A promote
taken by a watch that cannot act on one (waiting for health, cleaning up) is ignored,
and the record says so.
Time comes from the injected clock, so on a VirtualClock a 30-minute bake takes no real
time. Each deployment polls at its own phase of the interval, and a poll whose reads AWS
would not answer (throttling) is skipped, never a failure (pacing.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bluegreen.clock import Clock
from bluegreen.config import DeploymentConfig
from bluegreen.engine.analysis import Analyst
from bluegreen.engine.green_targets import GreenTargets
from bluegreen.engine.interrupts import InterruptFlag
from bluegreen.engine.pacing import Pacing, Poll
from bluegreen.engine.promotion import ignore
from bluegreen.errors import GateFailed, RollbackRequested, TimeoutExceeded
from bluegreen.gates import alarms_ok, green_still_healthy
from bluegreen.ports import Cloud
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store import Store
from bluegreen.urgency import watching


@dataclass(frozen=True)
class Baked:
    """How a bake ended: `hold` when the analysis stayed unsettled and the deployment must
    pause; `promote` when a promote request ended it early."""

    hold: bool = False
    promote: Request | None = None


BAKED = Baked()  # a bake that ran its time (or none at all)


class Watcher:
    def __init__(
        self,
        config: DeploymentConfig,
        cloud: Cloud,
        store: Store,
        clock: Clock,
        note: Callable[[DeploymentRecord, str], None],
        interrupts: InterruptFlag,
        green_targets: GreenTargets,
        analyst: Analyst | None = None,
    ) -> None:
        self.config = config
        self.cloud = cloud
        self.store = store
        self.clock = clock
        self._note = note
        self._interrupts = interrupts
        self.green_targets = green_targets
        self.analyst = analyst
        poll = config.health.poll_interval
        self.pacing = Pacing(poll, clock, note, seed=config.service_key)

    def watch(
        self,
        rec: DeploymentRecord,
        seconds: float,
        *,
        until: Callable[[], bool] | None = None,
        gates: bool = True,
        on_promote: Callable[[Request], None] | None = None,
        analyse: bool = False,
    ) -> bool:
        """Poll every health.poll_interval for `seconds`: requests, the deadline, the gates,
        the analysis (`analyse`) and `until`. True when `until` was met (or, with no
        `until`, the time passed)."""
        end = self.clock.now() + max(seconds, 0.0)
        pauses = self.pacing.pauses()
        while True:
            self._interrupts.check()
            self._check_requests(rec, on_promote)
            self._check_deadline(rec)
            if gates:
                with watching():  # a poll's reads wait while other services act
                    self._check_gates(rec)
            met = bool(until and until())
            if analyse and self.analyst and not met:  # a promote decides: no evaluation then
                self.analyst.poll(rec)
            if met:
                return True
            remaining = end - self.clock.now()
            if remaining <= 0:
                return until is None
            self.clock.sleep(min(next(pauses), remaining))

    def bake(self, rec: DeploymentRecord, seconds: float) -> Baked:
        """Watch `seconds` with the analysis, then let it say whether the bake may end
        (Analyst.settle, which may extend it). A promote request ends it at any point."""
        since = self.clock.now()
        taken: list[Request] = []

        def wait(more: float) -> bool:  # True: a promote ended the bake
            return self.watch(
                rec, more, analyse=True, on_promote=taken.append, until=lambda: bool(taken)
            )

        if wait(seconds):
            return Baked(promote=taken[0])
        may_end = self.analyst is None or self.analyst.settle(rec, since, wait)
        return Baked(promote=taken[0]) if taken else Baked(hold=not may_end)

    def _check_requests(
        self, rec: DeploymentRecord, on_promote: Callable[[Request], None] | None
    ) -> None:
        for request in self.store.take_requests(rec.service_key, rec.id):
            if request.kind == "rollback":
                rec.rollback_by = request.by or None
                raise RollbackRequested(
                    f"rollback requested{f' by {request.by}' if request.by else ''}"
                    f"{f': {request.reason}' if request.reason else ''}"
                )
            if on_promote:
                on_promote(request)
            else:
                ignore(rec, request, self.clock.now(), self._note)

    def _check_deadline(self, rec: DeploymentRecord) -> None:
        check_deadline(rec, self.clock.now(), self.config.timeout)

    def _check_gates(self, rec: DeploymentRecord) -> None:
        """The gates AWS answered for judge; one it would not makes the poll skipped."""
        poll, green = Poll(), rec.green_target_group or ""
        found = poll.read(lambda: self.green_targets.sort(rec, self.cloud.elb.target_health(green)))
        verdicts = []
        if found is not None:
            rec.observe(self.clock.now(), green_healthy=found.own.healthy_count)
            verdicts.append(green_still_healthy(found.own))
        if self.config.gates.alarms:
            states = poll.read(lambda: self.cloud.alarms.alarm_states(self.config.gates.alarms))
            verdicts += [alarms_ok(states)] if states is not None else []
        for verdict in verdicts:
            if not verdict.ok:
                raise GateFailed(f"gate failed at {rec.green_percent}% green: {verdict.reason}")
        self.pacing.polled(rec, poll)


def check_deadline(rec: DeploymentRecord, now: float, timeout: float | None) -> None:
    """TimeoutExceeded once the deployment has run past its `--timeout` (the engine then
    rolls back)."""
    if rec.deadline is not None and now > rec.deadline:
        raise TimeoutExceeded(f"the deployment ran past its timeout ({timeout or 0:g}s)")
