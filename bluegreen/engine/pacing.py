"""One deployment's polls, paced: when the next one comes, and what a poll whose reads AWS
would not answer counts for.

Rules:
- A phase per deployment: every wait polls at once, then after `health.poll_interval` ×
  (1 − phase), then every poll interval; the phase, in [0, 1), is drawn from a Random
  seeded by the service key (`phase_of`). The deployments of a release — one service
  each, starting their waits together after each lockstep step — so poll at moments
  spread over the whole interval instead of in the same instant forever, and a run
  repeats exactly. No check ever comes later than the poll interval promises; the first
  pause of a wait is shorter, which costs at most one poll per wait (and a poll less than
  a second after the one before is answered from the reads it made: aws/fresh_reads.py).
  A wait's end (a bake, a timeout) is never moved.
- Skipped polls: a read of a poll that AWS kept throttling or failing through the
  retries (a transient AwsError; aws/retry.py backs off between its attempts) makes the
  poll skipped — counted in `rec.skipped_polls`, told by an event when a run of them
  begins and when the gates are read again — never a failure. The gates that were read
  still judge: an alarm in ALARM fails the deployment even while target health cannot be
  read. Any other error is raised as before.
- Freshness: the gates' verdict is stale once the latest poll was skipped, or the latest
  good read is older than a poll interval. acting.py never moves weight or retires blue
  on a stale verdict.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import TypeVar

from bluegreen.clock import Clock
from bluegreen.errors import AwsError
from bluegreen.record import DeploymentRecord

T = TypeVar("T")

Note = Callable[[DeploymentRecord, str], None]


def phase_of(seed: str) -> float:
    """A deployment's phase, in [0, 1): the same for the same service, run after run."""
    return random.Random(seed).random()


def if_answered(read: Callable[[], T]) -> T | None:
    """`read()`, or None when AWS kept throttling or failing through its retries: for a
    read that only informs (the timeline), never one a decision rests on."""
    try:
        return read()
    except AwsError as exc:
        if not exc.transient:
            raise
        return None


class Poll:
    """The reads of one poll: each either answered or, when AWS would not, None."""

    def __init__(self) -> None:
        self.unanswered: AwsError | None = None  # the first read AWS would not answer

    def read(self, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except AwsError as exc:
            if not exc.transient:
                raise
            self.unanswered = self.unanswered or exc
            return None


class Pacing:
    def __init__(self, poll_interval: float, clock: Clock, note: Note, seed: str) -> None:
        self.poll_interval = poll_interval
        self.clock = clock
        self.note = note
        self.phase = phase_of(seed)
        self.read_at: float | None = None  # the latest poll whose reads were all answered
        self._skipped: list[float] = []  # the moments of the polls skipped since

    def pauses(self) -> Iterator[float]:
        """The pauses between the polls of one wait: the first shortened by the phase."""
        yield self.poll_interval * (1 - self.phase)
        while True:
            yield self.poll_interval

    def polled(self, rec: DeploymentRecord, poll: Poll) -> None:
        """Count the poll as read or as skipped."""
        now = self.clock.now()
        if poll.unanswered is not None:
            self._skip(rec, poll.unanswered, now)
            return
        if self._skipped:
            self.note(
                rec,
                f"gates read again after {len(self._skipped)} skipped "
                f"poll{'s' if len(self._skipped) > 1 else ''} "
                f"({round(now - self._skipped[0], 1):g}s)",
            )
            self._skipped.clear()
        self.read_at = now

    def read(self, rec: DeploymentRecord, read: Callable[[], T]) -> T | None:
        """A poll of one read: its answer, or None when the poll was skipped."""
        poll = Poll()
        answer = poll.read(read)
        self.polled(rec, poll)
        return answer

    @property
    def stale(self) -> bool:
        """The gates' verdict may no longer hold: the latest poll was skipped, or the
        latest read is older than a poll interval. False before any poll (nothing has been
        watched in this process yet: what acts reads what it needs itself)."""
        if self._skipped:
            return True
        if self.read_at is None:
            return False
        return self.clock.now() - self.read_at > self.poll_interval

    @property
    def unread_for(self) -> float:
        """Seconds since the gates were last read (0 when no poll was skipped)."""
        return self.clock.now() - self._skipped[0] if self._skipped else 0.0

    def _skip(self, rec: DeploymentRecord, error: AwsError, now: float) -> None:
        rec.skipped_polls += 1
        if not self._skipped:
            self.note(
                rec,
                f"poll skipped: {error.message}; nothing moves until the gates are read "
                "again (tried at every poll)",
            )
        self._skipped.append(now)
