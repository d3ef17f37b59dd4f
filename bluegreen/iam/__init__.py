"""`bluegreen iam-policy`: the least-privilege IAM policy a configuration needs.

- calls.py: every boto3 call bluegreen makes → the IAM action, the feature that needs
  it, and whether IAM scopes it to resources (a test keeps it complete);
- policy.py: the policy document built from the configuration and that table (pure);
- facts.py: the task definitions' families and roles, read from AWS or a file.
"""

from __future__ import annotations

from bluegreen.config import DeploymentConfig
from bluegreen.iam.facts import task_definition_facts
from bluegreen.iam.policy import Policy, Statement, TaskDefinitionFacts, build_policy
from bluegreen.ports import Cloud

__all__ = ["Policy", "Statement", "TaskDefinitionFacts", "build_policy", "iam_policy"]


def iam_policy(
    config: DeploymentConfig, cloud: Cloud | None, task_definition: str | None = None
) -> Policy:
    """The policy for `config`; `task_definition` (a file or an ARN) as `deploy` takes it."""
    return build_policy(config, task_definition_facts(config, cloud, task_definition))
