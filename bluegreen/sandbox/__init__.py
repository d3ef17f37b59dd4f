"""bluegreen.sandbox: a simulated AWS for rehearsing deployments offline (see core.py).

Shipped in the package, like httpx's MockTransport: `bluegreen demo` runs on it, the
end-to-end tests run on it, and users can rehearse their own configuration and hooks.
"""

from bluegreen.sandbox.core import HEALTHY, AppModel, Sandbox, in_process

__all__ = ["HEALTHY", "AppModel", "Sandbox", "in_process"]
