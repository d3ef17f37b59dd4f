"""The sandbox server's virtual time: the clock thread that moves it and the endpoint a
`bluegreen` process in another process follows it through (remote_clock.py, the client).

    GET  /_bluegreen/clock                   → {"now": …, "speed": …}
    POST /_bluegreen/clock/sleep?seconds=N   → held until virtual time reaches now + N
    POST /_bluegreen/clock/sleep?until=T       (or T), at most MAX_HOLD real seconds;
                                               then {"now": …, "until": …, "speed": …}

Rules:
- Time moves by itself, at `speed` × real time, moved only by the server's SharedTime (its
  thread, or `advance(s)` to jump ahead). A process following it (RemoteClock, or the
  SharedTime itself in the server's process) sleeps by waiting for it.
- Every tick holds the world lock the server hands in (server.py): a simulator never sees a
  half-applied call.
- The clock endpoint holds a sleep request at most MAX_HOLD real seconds, then answers
  with the deadline still ahead; the client asks again (remote_clock.py).
- A simulator raising on a tick does not stop time (every client would hang): the error
  is kept in `errors` and logged.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from bluegreen.clock import VirtualClock
from bluegreen.sandbox.pausing import Pauses

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

CLOCK_PATH = "/_bluegreen/clock"
STEP = 0.02  # real seconds between clock ticks
MAX_HOLD = 5.0  # real seconds a sleep request is held at most


class SharedTime:
    """The sandbox's VirtualClock, moved at `speed` × real time by a thread of its own.

    A bluegreen Clock for code in the server's process: `sleep` waits for the clock
    thread instead of advancing the clock itself.
    """

    def __init__(
        self, clock: VirtualClock, speed: float, lock: threading.RLock, step: float = STEP
    ) -> None:
        if speed <= 0 or step <= 0:
            raise ValueError(f"speed and step must be positive, not {speed} and {step}")
        self.clock, self.speed, self.step = clock, speed, step
        self.errors: list[Exception] = []
        self._lock = lock
        self._moved = threading.Condition()
        self._stopped = threading.Event()
        self._paused = Pauses()
        self._thread: threading.Thread | None = None

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.wait_until(self.now() + max(seconds, 0.0))

    def wait_until(self, until: float, timeout: float | None = None) -> float:
        """Block until virtual time reaches `until`, the clock stops, or `timeout` real
        seconds passed; the virtual time then."""
        with self._moved:
            self._moved.wait_for(
                lambda: self.clock.now() >= until or self._stopped.is_set(), timeout
            )
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Jump virtual time ahead now (a test skipping a long bake), as a tick would."""
        self._tick(max(seconds, 0.0), even_if_paused=True)

    def paused(self) -> AbstractContextManager[None]:
        """No ticks inside: the world stands still while it is being built."""
        return self._paused.held()

    def start(self) -> None:
        self._stopped.clear()
        # daemon: a server never stopped must not keep the interpreter from exiting
        self._thread = threading.Thread(
            target=self._run, name="bluegreen-sandbox-clock", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the clock thread and release every waiter."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._moved:
            self._moved.notify_all()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stopped.wait(self.step):
            real = time.monotonic()
            self._tick((real - last) * self.speed)
            last = real

    def _tick(self, seconds: float, even_if_paused: bool = False) -> None:
        with self._lock:
            if self._paused and not even_if_paused:
                return
            try:
                self.clock.advance(seconds)
            except Exception as exc:  # time must go on: see the module docstring
                log.exception("a sandbox simulator failed on a tick")
                self.errors.append(exc)
        with self._moved:
            self._moved.notify_all()


def with_clock(app: WSGIApplication, shared: SharedTime) -> WSGIApplication:
    """`app`, with the virtual-time endpoint answered under CLOCK_PATH."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(CLOCK_PATH):
            return app(environ, start_response)
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        status, doc = clock_answer(
            shared, environ["REQUEST_METHOD"], path[len(CLOCK_PATH) :], query
        )
        body = json.dumps(doc).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return serve


def clock_answer(
    shared: SharedTime, method: str, path: str, query: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """The clock endpoint: GET → now; POST /sleep?seconds=N|until=T → held until then
    (at most MAX_HOLD real seconds)."""
    if method == "GET" and path in ("", "/"):
        return "200 OK", {"now": shared.now(), "speed": shared.speed}
    if method != "POST" or path != "/sleep":
        return "404 Not Found", {"error": f"no {method} {CLOCK_PATH}{path}"}
    try:
        until = (
            float(query["until"]) if "until" in query else shared.now() + float(query["seconds"])
        )
    except (KeyError, ValueError):
        until = math.nan
    if not math.isfinite(until):  # NaN would hold every request, forever
        return "400 Bad Request", {"error": "POST /sleep takes seconds=N or until=T"}
    now = shared.wait_until(until, MAX_HOLD)
    return "200 OK", {"now": now, "until": until, "speed": shared.speed}
