"""Signals sent to this process once a hook has started — never on a timer, which under
load could fire before the hook runs, or (SIGTERM) before the engine's handler is in place."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def signal_once_started(started: Path, signum: int, within: float = 20.0) -> threading.Thread:
    """Send `signum` to this process as soon as the file `started` exists (the hook made
    it); give up after `within` seconds (the test then fails on the hook's timeout)."""

    def wait_then_signal() -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if started.exists() and started.stat().st_size:
                os.kill(os.getpid(), signum)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=wait_then_signal, daemon=True)
    thread.start()
    return thread
