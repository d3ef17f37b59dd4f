"""Python hooks: `"module:function"` imported and called with the context as a dict.

Rules: the configuration's folder is on `sys.path` only while the module is imported (so
hooks/checks.py beside bluegreen.toml imports without PYTHONPATH); the function gets the
decoded JSON, so it cannot change the engine's state; it fails when it raises (SystemExit
too) or returns False, and a string it returns is its output. It runs in a daemon thread
so the timeout is ours to enforce: Python cannot kill a thread, so on timeout (or
interrupt) it is abandoned, still running, and we carry on without it.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from bluegreen.hooks.process import Outcome, start_thread, thread_done, wait_unless_interrupted


def run_python(
    target: str,
    folder: str | None,
    payload: str,
    timeout: float,
    on_text: Callable[[str], None],
    interrupted: Callable[[], str | None],
) -> Outcome:
    outcome: list[Outcome] = []

    def call() -> None:
        try:
            function = _import_callable(target, folder)
            returned = function(json.loads(payload))
        except BaseException as exc:  # SystemExit too: the hook failed, we did not
            outcome.append(Outcome(False, f"{type(exc).__name__}: {exc}"))
            return
        if isinstance(returned, str):
            on_text(returned)
        if returned is False:
            outcome.append(Outcome(False, f"{target} returned False"))
        else:
            outcome.append(Outcome(True))

    worker = start_thread(call)
    stopped = wait_unless_interrupted(partial(thread_done, worker), timeout, interrupted)
    if stopped:
        return Outcome(
            False, f"stopped: the deployment was {stopped} (the Python hook runs on unstopped)"
        )
    if worker.is_alive() or not outcome:
        return Outcome(
            False,
            f"timed out after {timeout:g}s "
            "(the Python hook is still running in the background; it cannot be stopped)",
            timed_out=True,
        )
    return outcome[0]


_SYS_PATH_LOCK = threading.Lock()


def _import_callable(target: str, folder: str | None) -> Callable[[dict[str, Any]], Any]:
    module_name, _, attribute = target.partition(":")
    with _SYS_PATH_LOCK:
        added = folder if folder is not None and folder not in sys.path else None
        if added is not None:
            sys.path.insert(0, added)
        try:
            module = importlib.import_module(module_name)
        finally:
            if added is not None:
                sys.path.remove(added)
    function = module
    for part in attribute.split("."):
        function = getattr(function, part)
    if not callable(function):
        raise TypeError(f"{target} is not callable")
    return function  # type: ignore[return-value]
