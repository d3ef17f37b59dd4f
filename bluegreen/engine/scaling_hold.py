"""Application Auto Scaling held while a deployment runs, and green sized as blue is now.

    start of PROVISIONING  for each service deployed (task sets: the service; a pair: both),
                           read its scalable target; none → nothing to do. Otherwise save in
                           the record what was suspended (`ScalingHold.previous`), THEN
                           suspend what `[autoscaling] hold` adds. A resumed PROVISIONING
                           writes the recorded hold again and never re-reads `previous` (it
                           would read its own suspension). Then green's size is blue's
                           desired count read now, not preflight's.
    CLEANING_UP done       each hold is restored to `previous` before SUCCEEDED is saved;
    rollback done          likewise, before ROLLED_BACK: a process killed in between leaves
                           the state unfinished, and whoever resumes or rolls back restores.
    rollback failed        FAILED: the holds are kept (blue and green may both still run)
                           and the record says so; `bluegreen rollback` tries again and, once
                           it completes, restores them.

A restoration that fails never changes the outcome: it is left in `ScalingHold.left` (a
warning of the result, naming the command that restores it by hand).

Rules: only the record says what to restore (never the configuration, which may have
changed since); what the user had suspended stays suspended (scaling.SuspendedState.holding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import structlog

from bluegreen.errors import AwsError, BluegreenError, DeploymentFailed
from bluegreen.scaling import PERMISSIONS_FIX, ScalingHold, resource_id

if TYPE_CHECKING:
    from bluegreen.config import DeploymentConfig
    from bluegreen.ports import Cloud
    from bluegreen.record import DeploymentRecord
    from bluegreen.scaling import SuspendedState
    from bluegreen.store import Store

log = structlog.get_logger("bluegreen")

Note = Callable[["DeploymentRecord", str], None]


class AutoScalingHold:
    def __init__(self, config: DeploymentConfig, cloud: Cloud, store: Store, note: Note) -> None:
        self.mode = config.autoscaling.hold
        self.cluster = config.service.cluster
        self.service = config.service.name or ""  # task-sets mode
        self.cloud = cloud
        self.store = store
        self.note = note

    # -- start of PROVISIONING -----------------------------------------------------------

    def hold(self, rec: DeploymentRecord) -> None:
        """Suspend what is configured on every deployed service's target (recorded first),
        then size green as blue is now."""
        if self.mode != "none":
            for service in self._services(rec):
                self._hold(rec, service)
        self._size_green(rec)

    def _services(self, rec: DeploymentRecord) -> list[str]:
        pair = [name for name in (rec.blue_service, rec.green_service) if name]
        return pair or [self.service]

    def _hold(self, rec: DeploymentRecord, service: str) -> None:
        resource = resource_id(self.cluster, service)
        hold = next((h for h in rec.scaling_holds if h.resource_id == resource), None)
        try:
            if hold is None:
                hold = self._record(rec, service, resource)
            if hold is not None and hold.held != hold.previous:
                self.cloud.autoscaling.suspend(self.cluster, service, hold.held)
        except AwsError as exc:
            raise DeploymentFailed(
                f"could not hold the auto scaling of service {service}: {exc.message}",
                hint=exc.hint if exc.transient else PERMISSIONS_FIX,  # throttled: try again later
            ) from exc

    def _record(self, rec: DeploymentRecord, service: str, resource: str) -> ScalingHold | None:
        target = self.cloud.autoscaling.scalable_target(self.cluster, service)
        if target is None:
            self.note(rec, f"service {service} has no auto scaling target: nothing to hold")
            return None
        previous = self._found(rec, service, resource, target.suspended)
        hold = ScalingHold(
            service=service,
            resource_id=resource,
            previous=previous,
            held=target.suspended.holding(self.mode),
        )
        rec.scaling_holds.append(hold)
        # The note saves the record: what to restore is known before anything is changed.
        self.note(
            rec,
            f"holding auto scaling of service {service} (min {target.min_capacity}, max "
            f"{target.max_capacity}) until the deployment ends: {hold.held.describe()} "
            f"(found: {hold.previous.describe()})",
        )
        return hold

    def _found(
        self, rec: DeploymentRecord, service: str, resource: str, now: SuspendedState
    ) -> SuspendedState:
        """What to restore at the end: what is suspended now — unless it is a hold an
        earlier deployment left (its rollback failed, or its restoration): then what that
        one found. Records are read only when `now` looks like a hold (scale-in and
        scheduled scaling both suspended), so most deployments read none."""
        if not (now.dynamic_in and now.scheduled):
            return now
        for earlier in self.store.history(rec.service_key):
            kept = [h for h in earlier.scaling_holds if h.resource_id == resource]
            if earlier.id == rec.id or not kept:
                continue
            if kept[0].restored or kept[0].held != now:
                return now  # the latest hold on it was restored: this is the user's own
            self.note(
                rec,
                f"auto scaling of service {service} is still held by deployment {earlier.id}: "
                f"it will be restored to what that one found ({kept[0].previous.describe()})",
            )
            return kept[0].previous
        return now

    def _size_green(self, rec: DeploymentRecord) -> None:
        blue = rec.blue_service or self.service
        desired = self.cloud.ecs.service(self.cluster, blue).desired_count
        if desired < 1:
            raise DeploymentFailed(
                f"blue's service {blue} has a desired count of 0 now: green would be sized "
                "to serve nothing",
                hint="scale blue back up (or check what scaled it in), then deploy again",
            )
        found = rec.desired_count
        rec.desired_count = desired
        since = "" if desired == found else f"; it was {found} at preflight"
        self.note(rec, f"green sized at {desired} task(s): blue's desired count now{since}")

    # -- the end ---------------------------------------------------------------------------

    @contextmanager
    def released_after(self, rec: DeploymentRecord) -> Iterator[None]:
        """Around the last action (clean-up, rollback): once it is done the holds are
        restored; when it fails (rollback failed: FAILED) they are kept, and said so."""
        try:
            yield
        except Exception:
            if rec.blue_retiring:  # no way back (blue is being retired): as after a success
                self.release(rec)
            else:
                self._keep(rec)
            raise
        self.release(rec)

    def release(self, rec: DeploymentRecord) -> None:
        """Put back every hold's previous state. Never raises: a failure is left in the
        hold (`left`: a warning of the result with the command to run)."""
        for hold in rec.scaling_holds:
            if hold.restored:
                continue
            try:
                message = self._restore(hold)
            except BluegreenError as exc:
                hold.left = (
                    f"auto scaling of service {hold.service} could not be restored "
                    f"({exc.message}): it is left {hold.held.describe()}; restore it with "
                    f"`{hold.command}`"
                )
                log.warning("autoscaling.not_restored", deployment_id=rec.id, error=exc.message)
                self.note(rec, hold.left)
                continue
            hold.restored, hold.left = True, None
            self.note(rec, message)

    def _restore(self, hold: ScalingHold) -> str:
        current = self.cloud.autoscaling.scalable_target(self.cluster, hold.service)
        if current is None:
            return f"auto scaling of service {hold.service}: its target is gone, nothing to restore"
        if current.suspended != hold.previous:
            self.cloud.autoscaling.suspend(self.cluster, hold.service, hold.previous)
        return f"auto scaling of service {hold.service} restored: {hold.previous.describe()}"

    def _keep(self, rec: DeploymentRecord) -> None:
        for hold in rec.scaling_holds:
            if hold.restored:
                continue
            hold.left = (
                f"auto scaling of service {hold.service} stays held ({hold.held.describe()}) "
                "until a rollback completes: `bluegreen rollback` tries again and restores "
                f"it; or restore it by hand with `{hold.command}`"
            )
            self.note(rec, hold.left)
