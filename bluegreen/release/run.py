"""Driving the services of a release: every service's lock or none, then one engine per
service, in threads taking turns on one clock (turns.py), wired to one Coordinator.

Locks are taken in one global order (by service key), so two releases sharing services
never hold one each and wait for the other; and never partly: a release that cannot have
them all releases what it took and exits 4 naming every holder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bluegreen.deployer.records import refuse_if_in_flight
from bluegreen.engine.engine import Engine
from bluegreen.engine.interrupts import InterruptFlag
from bluegreen.engine.lockstep import Lockstep
from bluegreen.engine.plan import NewVersion
from bluegreen.errors import LockHeldError
from bluegreen.record import DeploymentRecord, Event
from bluegreen.release.members import Member
from bluegreen.store import Lock, release_or_warn
from bluegreen.turns import TurnClock

ReleaseEventSink = Callable[[str, Event], None]  # the service's name in the release, its event


@dataclass
class Drive:
    """One service's part in a run: its record, and what it brings (a new deployment)."""

    member: Member
    rec: DeploymentRecord
    version: NewVersion | None = None
    engine: Engine | None = field(default=None, repr=False)


def lock_all(
    members: Sequence[Member], ids: dict[str, str], *, refuse_in_flight: bool = False
) -> list[Lock]:
    """Every service's lock, or none: LockHeldError (exit 4) naming each holder.
    `refuse_in_flight`: a service with a deployment in flight counts as held (a new release)."""
    taken: list[Lock] = []
    held: list[str] = []
    try:
        for member in sorted(members, key=lambda m: m.service_key):
            store = member.deployer.store
            try:
                taken.append(store.acquire_lock(member.service_key, ids[member.name]))
                if refuse_in_flight:
                    refuse_if_in_flight(store, member.service_key)
            except LockHeldError as exc:
                held.append(f"{member.name}: {exc.message}")
    except BaseException:
        release_all(taken)
        raise
    if held:
        release_all(taken)
        raise LockHeldError(
            "the release needs every service's lock and took none: " + "; ".join(held),
            hint="wait for those deployments to end (`bluegreen status`), then run it again",
        )
    return taken


def release_all(locks: Sequence[Lock]) -> list[str]:
    """Release every lock; what could not be released comes back as warnings."""
    return [kept for kept in map(release_or_warn, locks) if kept]


def drive(
    drives: Sequence[Drive],
    turns: TurnClock,
    lockstep: Lockstep,
    on_event: ReleaseEventSink | None,
    detach_at_pause: bool = False,
) -> None:
    """Run every drive's engine to its end (or until it is left on a signal, or detached
    at a pause). A signal reaches the main thread only: every engine's flag follows the
    release's."""
    signals = InterruptFlag()
    bodies = [_body(d, lockstep, signals, on_event, detach_at_pause) for d in drives]
    with signals.installed():
        turns.run_all(bodies, [f"bluegreen-{d.member.name}" for d in drives])


def _body(
    d: Drive,
    lockstep: Lockstep,
    signals: InterruptFlag,
    on_event: ReleaseEventSink | None,
    detach_at_pause: bool,
) -> Callable[[], None]:
    name = d.member.name
    sink = (lambda event: on_event(name, event)) if on_event else None
    engine = d.member.deployer.engine(sink, detach_at_pause)
    engine.lockstep = lockstep
    engine.interrupts.follows = signals
    d.engine = engine

    def run() -> None:
        engine.run(d.rec, d.version)  # failures become states: ROLLED_BACK, FAILED…

    return run
