"""Acting on the gates' verdict: a step that moves traffic or readies blue's retirement acts
only on a fresh verdict, and AWS throttling (or failing) through a step's retries makes it
wait and try again — never roll back — for as long as the deployment may take.

Rules:
- `confirm`: when the gates' verdict is stale (pacing.py: the latest poll was skipped, or
  it is older than a poll interval — a long hook ran since), poll until a poll reads them
  all. The polls are the Watcher's: requests, the deadline and the gates are checked at
  each, so a failing gate still rolls back and the deadline still ends it
  (TimeoutExceeded); with no deadline, after `health.timeout` of unanswered polls.
- `act`: confirm, then run the step. A transient AwsError (AWS kept throttling or failing
  through aws/retry.py's retries: 60 s for a throttled change) is told as an event and the
  step runs again at once — those retries have just backed off, and a shift whose routes
  could not all be put back must not stay split; after that, the deployment first watches
  (gates, requests, deadline) for a back-off — the poll interval, doubled at each try, at
  most MAX_PAUSE — and confirms the gates again. Steps must be idempotent:
  TrafficShifter.apply writes only the routes that differ and puts back what it wrote
  when a write fails; making green primary twice is making it primary. After
  `health.timeout` of trying, the error is raised: the engine rolls back.
Rollback and the retirement of blue retry in rounds of their own (rollback.py, cleanup.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar

from bluegreen.clock import Clock
from bluegreen.engine.pacing import Note
from bluegreen.engine.watch import Watcher
from bluegreen.errors import AwsError, TimeoutExceeded
from bluegreen.record import DeploymentRecord

T = TypeVar("T")

MAX_PAUSE = 60.0  # seconds: the longest wait between two tries of a step


class Acting:
    def __init__(self, watcher: Watcher, give_up_after: float, clock: Clock, note: Note) -> None:
        self.watcher = watcher
        self.give_up_after = give_up_after  # health.timeout
        self.clock = clock
        self.note = note

    def confirm(self, rec: DeploymentRecord) -> None:
        """Return once the gates' verdict is fresh (at once when it is)."""
        pacing = self.watcher.pacing
        if not pacing.stale:
            return
        if not self.watcher.watch(rec, self.give_up_after, until=lambda: not pacing.stale):
            raise TimeoutExceeded(
                f"the gates could not be read for {round(pacing.unread_for):g}s: nothing was moved "
                "on a verdict that old",
                hint="AWS kept throttling or failing the reads (see the events); run fewer "
                "deployments (or other API clients) at once in this account and region",
            )

    def act(
        self, rec: DeploymentRecord, what: str, step: Callable[[], T], *, gates: bool = True
    ) -> T:
        """`step()` on a fresh verdict, tried again while AWS keeps it from running;
        `gates=False` before green could be judged (bringing it up): the waits between
        tries watch requests and the deadline only."""
        first_failure: float | None = None
        for attempt in itertools.count():
            self.confirm(rec)
            try:
                return step()
            except AwsError as exc:
                now = self.clock.now()
                first_failure = now if first_failure is None else first_failure
                pause = _pause(attempt, self.watcher.pacing.poll_interval)
                if not exc.transient or now + pause - first_failure > self.give_up_after:
                    raise
                when = f"in {pause:g}s" if pause else "at once"
                self.note(rec, f"{what} stopped by {exc.message}; trying again {when}")
                if pause:
                    self.watcher.watch(rec, pause, gates=gates)
        raise AssertionError("unreachable")  # pragma: no cover


def _pause(attempt: int, poll_interval: float) -> float:
    """Before try `attempt + 2`: none after the first failure (the call's own retries have
    just backed off, and a shift whose routes could not all be put back must not stay
    split while it waits), then the poll interval, doubled each time, at most MAX_PAUSE."""
    return 0.0 if attempt == 0 else min(poll_interval * 2 ** (attempt - 1), MAX_PAUSE)
