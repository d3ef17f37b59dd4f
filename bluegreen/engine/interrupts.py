"""SIGINT and SIGTERM during a deployment: noted, never acted on mid-call.

While the engine runs, the two signals only set a flag; the engine checks it between
states and at every poll, so the AWS call in progress always finishes and the record is
consistent. A hook running when the signal comes is stopped at once (the hook runner polls
the flag): it is ours to stop, unlike an AWS call. Then the engine rolls back (the default)
or leaves the deployment resumable (`on_interrupt = "leave"`). While rolling back, further
signals are noted and ignored: stopping half way would leave the listeners split. Handlers
are installed only in the main thread (Python allows no other) and the previous ones are
restored afterwards. In a release the services' engines run in threads: the release's
flag, installed in the main thread, is the one each engine's flag `follows`, and `also`
raises when another service of the release failed (lockstep.py), so every place that
notices a signal notices that too.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from bluegreen.errors import DeploymentFailed

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(DeploymentFailed):
    """A signal asked the deployment to stop."""


class InterruptFlag:
    def __init__(self) -> None:
        self.received: str | None = None
        self.ignoring = False  # set while rolling back
        self.follows: InterruptFlag | None = None  # a release's flag, whose signals count here
        self.also: Callable[[], None] | None = None  # raises when another service failed

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(number).name

    def pending(self) -> str | None:
        """The signal that arrived, while it still counts (we are not rolling back)."""
        if self.ignoring:
            return None
        return self.received or (self.follows.received if self.follows else None)

    def check(self) -> None:
        """Raise Interrupted if a signal arrived (and we are not rolling back)."""
        received = self.pending()
        if received:
            raise Interrupted(f"interrupted by {received}")
        if self.also and not self.ignoring:
            self.also()

    @contextmanager
    def installed(self) -> Iterator[InterruptFlag]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # signals can only be handled in the main thread: nothing to catch
            return
        previous = {number: signal.signal(number, self._handle) for number in SIGNALS}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
