"""bluegreen.sandbox: a simulated AWS for rehearsing deployments offline (see core.py).

Shipped in the package, like httpx's MockTransport: `bluegreen demo` runs on it, the
end-to-end tests run on it, and users can rehearse their own configuration and hooks:

    with in_process(Sandbox()) as sandbox:
        stack = build_stack(sandbox)
        config = parse_config(stack.config(), source=Path("bluegreen.toml"))
        Deployer(config, clock=sandbox.clock).deploy(images={"web": "…:2.0.0"})
"""

from bluegreen.sandbox.core import HEALTHY, AppModel, Sandbox, in_process
from bluegreen.sandbox.stack import SandboxStack, build_stack

__all__ = ["HEALTHY", "AppModel", "Sandbox", "SandboxStack", "build_stack", "in_process"]
