"""A count of open `paused()` blocks, nestable and shared between threads: the simulated
AWS's time (server_clock.py) and its API limits (api_limits.py) each stand still inside
one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Pauses:
    def __init__(self) -> None:
        self._open = 0
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return self._open > 0

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            self._open += 1
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1
