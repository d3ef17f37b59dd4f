"""Which AWS calls may wait for others: a poll's reads (`watching()`) yield to the calls
that act — a shift, a rollback, a preflight. With many services on one Cloud (a release),
the polls of the services baking or waiting at a stage would otherwise spend the account's
API budget while the services that move traffic wait for it (aws/pacer.py keeps a reserve
that only acting calls may take).

A context variable: each thread (each service of a release) has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_WATCHING: ContextVar[bool] = ContextVar("bluegreen_watching", default=False)


@contextmanager
def watching() -> Iterator[None]:
    """The calls made inside are a poll's: they may wait while others act."""
    token = _WATCHING.set(True)
    try:
        yield
    finally:
        _WATCHING.reset(token)


def is_watching() -> bool:
    return _WATCHING.get()
