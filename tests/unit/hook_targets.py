"""Python hook callables for tests/unit/test_hooks.py (imported as "hook_targets:<name>")."""

from __future__ import annotations

import threading
from typing import Any

received: list[dict[str, Any]] = []
release = threading.Event()


def record(context: dict[str, Any]) -> None:
    received.append(context)


def refuse(context: dict[str, Any]) -> bool:
    return False


def explode(context: dict[str, Any]) -> None:
    raise RuntimeError(f"smoke check failed for {context['service']}")


def hang(context: dict[str, Any]) -> None:
    # Waits on an event rather than sleeping, so the test can let the thread finish.
    release.wait(30)


def leak(context: dict[str, Any]) -> str:
    return "connecting with PASSWORD=hunter2 and token sk-live-123456"


class Namespace:
    @staticmethod
    def nested(context: dict[str, Any]) -> bool:
        return True
