"""bluegreen: blue/green deployments for Amazon ECS behind Elastic Load Balancing.

import bluegreen
deployer = bluegreen.Deployer.from_config("bluegreen.toml")
result = deployer.deploy(images={"web": "123.dkr.ecr…/web:1.4.2"}, on_event=print)
"""

from bluegreen import errors
from bluegreen.config import DeploymentConfig, load_config
from bluegreen.deployer import Deployer, DeploymentResult

__all__ = ["Deployer", "DeploymentConfig", "DeploymentResult", "errors", "load_config"]
__version__ = "0.1.0"
