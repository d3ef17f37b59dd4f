"""bluegreen: blue/green deployments for Amazon ECS behind Elastic Load Balancing.

import bluegreen
deployer = bluegreen.Deployer.from_config("bluegreen.toml")
result = deployer.deploy(images={"web": "123.dkr.ecr…/web:1.4.2"}, on_event=print)

The public names load on first use (PEP 562): `import bluegreen.cli` for `bluegreen --help`
or `--version` must not pay for boto3, pydantic or scipy, which the Deployer brings in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bluegreen import errors

if TYPE_CHECKING:
    from bluegreen.config import DeploymentConfig, load_config
    from bluegreen.deployer import Deployer, DeploymentResult
    from bluegreen.release import Release, ReleaseResult

__all__ = [
    "Deployer",
    "DeploymentConfig",
    "DeploymentResult",
    "Release",
    "ReleaseResult",
    "errors",
    "load_config",
]
__version__ = "0.1.0"

# Each public name and the module that defines it.
_LAZY = {
    "Deployer": "bluegreen.deployer",
    "DeploymentResult": "bluegreen.deployer",
    "Release": "bluegreen.release",
    "ReleaseResult": "bluegreen.release",
    "DeploymentConfig": "bluegreen.config",
    "load_config": "bluegreen.config",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'bluegreen' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # looked up once; later reads skip this function
    return value
