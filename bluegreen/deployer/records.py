"""Finding the record a command acts on: one by its id (`bluegreen report`), the one in
flight (promote, rollback, resume), or one whose rollback failed (rollback again); and the
refusal to start a deployment while one is in flight, and the start of a rollback asked
for when no process runs the deployment. A clear
refusal when there is none, never a traceback from the store."""

from __future__ import annotations

import re

from bluegreen.errors import LockHeldError, MissingResourceError, UsageError
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord, Request
from bluegreen.store import Store

# new_deployment_id's shape: bg-20261201T053512Z-a1b2c3. Checked before the store is asked,
# so an id can never name a path outside the service's records.
DEPLOYMENT_ID = re.compile(r"bg-\d{8}T\d{6}Z-[0-9a-f]{6}")
HINT = "`bluegreen history` lists the deployments of this service"


def find_record(store: Store, service_key: str, deployment_id: str | None) -> DeploymentRecord:
    if deployment_id is None:
        latest = store.latest(service_key)
        if latest is None:
            raise UsageError("this service has no deployment recorded yet", hint=HINT)
        return latest
    if not DEPLOYMENT_ID.fullmatch(deployment_id):
        raise UsageError(
            f"{deployment_id!r} is not a deployment id (they look like bg-20261201T053512Z-a1b2c3)",
            hint=HINT,
        )
    try:
        return store.load(service_key, deployment_id)
    except MissingResourceError as exc:  # the S3 store: no such record
        raise UsageError(f"deployment {deployment_id}: {exc.message}", hint=HINT) from None
    except OSError:  # the file store: no such record
        raise UsageError(f"deployment {deployment_id} is not recorded", hint=HINT) from None


def in_flight(store: Store, service_key: str, verb: str) -> DeploymentRecord:
    latest = store.latest(service_key)
    if latest is None or latest.state.terminal:
        last = f" (the last, {latest.id}, is {latest.state.value})" if latest else ""
        raise UsageError(f"no deployment of this service is in flight to {verb}{last}")
    return latest


def failed_rollback(store: Store, service_key: str) -> DeploymentRecord | None:
    """The latest deployment, if its rollback could not complete (exit 3) and blue was never
    being retired: `bluegreen rollback` tries that rollback again."""
    latest = store.latest(service_key)
    if latest is None or latest.state is not State.FAILED or latest.blue_retiring:
        return None
    return latest


def refuse_if_in_flight(store: Store, service_key: str) -> None:
    """One deployment of a service at a time: one in flight (paused, or left by a process
    that died) holds the service as the lock does, so the refusal is LockHeldError (4)."""
    latest = store.latest(service_key)
    if latest and not latest.state.terminal:
        raise LockHeldError(
            f"deployment {latest.id} of this service is in flight ({latest.state.value})",
            hint="see it with `bluegreen status`; then `bluegreen promote`, "
            "`bluegreen resume` or `bluegreen rollback`",
        )


def start_rollback(store: Store, rec: DeploymentRecord, request: Request, now: float) -> None:
    """We hold the lock, so no process is running this deployment (it paused detached,
    or died): roll back now, never first re-running the action of the state it was left
    in. Left before anything changed: nothing to undo, it just stops."""
    store.take_requests(rec.service_key, rec.id)
    rec.reason = request.reason
    rec.rollback_by = request.by
    if rec.state in (State.PENDING, State.PREFLIGHT):
        rec.move_to(State.STOPPED, now, f"{rec.reason}: nothing had changed")
    elif rec.state is not State.ROLLING_BACK:  # killed mid-rollback: run on from there
        rec.failed_in = rec.state
        rec.move_to(State.ROLLING_BACK, now, rec.reason or "")
    store.save(rec)
