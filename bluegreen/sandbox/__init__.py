"""bluegreen.sandbox: a simulated AWS for rehearsing deployments offline (see core.py;
the world its simulators share: world.py).

Shipped in the package, like httpx's MockTransport: `bluegreen demo` runs on it, the
end-to-end tests run on it, and users can rehearse their own configuration and hooks:

    with in_process(Sandbox()) as sandbox:
        stack = build_stack(sandbox)
        config = parse_config(stack.config(), source=Path("bluegreen.toml"))
        Deployer(config, clock=sandbox.clock).deploy(images={"web": "…:2.0.0"})

or, for a `bluegreen` command in another process, as a server on loopback (server.py,
`bluegreen sandbox serve`), whose virtual time that process follows through
`RemoteClock` (remote_clock.py).

The names below are imported on first use: a `bluegreen` process that only needs
RemoteClock (standard library) must not pay for importing moto.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluegreen.sandbox.core import in_process
    from bluegreen.sandbox.remote_clock import RemoteClock
    from bluegreen.sandbox.server import SandboxServer, build_demo_world
    from bluegreen.sandbox.stack import SandboxStack, build_stack
    from bluegreen.sandbox.world import HEALTHY, AppModel, Sandbox

_HOMES = {
    "HEALTHY": "world",
    "AppModel": "world",
    "Sandbox": "world",
    "in_process": "core",
    "RemoteClock": "remote_clock",
    "SandboxServer": "server",
    "build_demo_world": "server",
    "SandboxStack": "stack",
    "build_stack": "stack",
}

__all__ = [
    "HEALTHY",
    "AppModel",
    "RemoteClock",
    "Sandbox",
    "SandboxServer",
    "SandboxStack",
    "build_demo_world",
    "build_stack",
    "in_process",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"bluegreen.sandbox.{home}"), name)
