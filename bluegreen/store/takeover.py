"""Taking a deployment's lock for `rollback`, `promote` and `resume`, from whoever holds it.

- Free, or held by a process on this host that is gone: taken at once (the store breaks a
  dead holder's lock by itself).
- Held by a process elsewhere, or one that hangs here: we wait, saying at every poll who
  holds it and when its lease lapses; once it lapses the store lets us take it over. The
  person on call can run `rollback` at once after a pipeline died: it acts as soon as it may.
- A request (rollback, promote) is posted before we come here: a live holder acts on it
  within one poll, and `answered` returns what it did; we never take the lock from it.
- `resume` hands nothing over: a holder that renews its lease while we wait is alive and
  running the deployment, so resume stops (exit 4) instead of waiting on it for ever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from bluegreen.clock import Clock
from bluegreen.errors import LockHeldError
from bluegreen.record import DeploymentRecord
from bluegreen.store import Lock, LockHolder, Store, release_or_warn

log = structlog.get_logger("bluegreen")

Answer = TypeVar("Answer")


@dataclass
class TakeOver:
    store: Store
    clock: Clock  # polls sleep on it
    poll_seconds: float
    notify: Callable[[str], None]  # one line per poll for the person waiting
    patience_seconds: float  # how long a live holder may take to act on a request

    def lock(
        self, rec: DeploymentRecord, answered: Callable[[], Answer | None] | None = None
    ) -> Lock | Answer:
        """The lock for `rec`, or what a live holder did about our request."""
        first: LockHolder | None = None
        said = ""
        waited = 0.0
        while True:
            try:
                lock = self.store.acquire_lock(rec.service_key, rec.id)
            except LockHeldError as exc:
                held = exc
            else:
                if answered is not None and (answer := answered()) is not None:
                    release_or_warn(lock)  # its holder acted on the request, then let go
                    return answer
                if lock.taken_from is not None:
                    self.notify(f"took the lock over from {lock.taken_from.describe()}")
                return lock
            if answered is not None and (answer := answered()) is not None:
                return answer
            holder = self.store.who_holds(rec.service_key)
            if holder is not None:
                if answered is None and (holder.expires_at is None or _renewed(first, holder)):
                    raise _alive(held, holder)
                first = first or holder
                line = _waiting(holder, asked=answered is not None)
                if line != said:  # a countdown: one line each time the seconds left change
                    self.notify(line)
                    said = line
            # A lease that is not renewed runs out by itself: never give up on one.
            counting_down = (
                holder is not None and holder.expires_at is not None and not _renewed(first, holder)
            )
            if waited >= self.patience_seconds and not counting_down:
                raise LockHeldError(
                    f"the process running {rec.id} has not acted on the request within "
                    f"{self.patience_seconds:g}s: {holder.describe() if holder else 'gone'}",
                    hint="check that process; the request stays queued for it",
                )
            self.clock.sleep(self.poll_seconds)
            waited += self.poll_seconds


def _waiting(holder: LockHolder, *, asked: bool) -> str:
    who = f"waiting: {holder.deployment_id} is held by {holder.holder}"
    if holder.lapses_in is None:
        return f"{who}, which acts on the request within a poll"
    lapses = f"its lease lapses in {holder.lapses_in:.0f}s and the lock is taken over"
    if asked:
        return (
            f"{who}, which acts on the request within a poll if it is alive; if it died, {lapses}"
        )
    return f"{who}; {lapses}, unless that process is alive and renews it"


def _renewed(first: LockHolder | None, now: LockHolder) -> bool:
    """The same holder pushed its lease's end since we first looked: it is alive."""
    return (
        first is not None
        and first.expires_at is not None
        and now.expires_at is not None
        and (now.deployment_id, now.holder) == (first.deployment_id, first.holder)
        and now.expires_at > first.expires_at
    )


def _alive(held: LockHeldError, holder: LockHolder) -> LockHeldError:
    """For resume, which has no request to hand over: a holder without a lease is a live
    process (the store breaks a dead one's lock), and one that renews its lease is alive."""
    if holder.expires_at is None:
        return held
    return LockHeldError(
        f"{holder.deployment_id} is running in a live process: {holder.describe()}; it "
        "renewed its lease while we waited",
        hint="it takes `bluegreen promote` and `bluegreen rollback` requests; `resume` "
        "is for a deployment whose process died",
    )
