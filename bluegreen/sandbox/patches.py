"""Methods of one of moto's classes replaced by wrappers of ours, and put back.

Every simulator that changes what moto answers does it this way: `apply(name, wrap)`
replaces the method once (a second `apply` while it is replaced changes nothing, so
installing twice never wraps a wrapper), `original(name)` is moto's own, and `undo()` puts
every replaced method back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Method = Callable[..., Any]


class Patches:
    def __init__(self, owner: type) -> None:
        self.owner = owner
        self._originals: dict[str, Method] = {}

    def apply(self, name: str, wrap: Callable[[Method], Method]) -> None:
        if name not in self._originals:
            self._originals[name] = getattr(self.owner, name)
            setattr(self.owner, name, wrap(self._originals[name]))

    def original(self, name: str) -> Method:
        """moto's method, whether it is replaced now or not."""
        found: Method = self._originals.get(name) or getattr(self.owner, name)
        return found

    def undo(self) -> None:
        for name, original in self._originals.items():
            setattr(self.owner, name, original)
        self._originals.clear()
