"""The simulator and end-to-end tests run on the sandbox's stack: `stack` is it here."""

from __future__ import annotations

import pytest

from bluegreen.sandbox.stack import SandboxStack


@pytest.fixture
def stack(sandbox_stack: SandboxStack) -> SandboxStack:
    return sandbox_stack
