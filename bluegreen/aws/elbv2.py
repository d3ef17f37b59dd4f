"""Elastic Load Balancing v2: target groups, target health, and the weighted forward action
of listeners and listener rules (implements `bluegreen.ports.LoadBalancing`).

`Elbv2LoadBalancing` is the one class callers see (`AwsCloud.elb`). It joins the two halves
of the API, each a mixin in its own module with its own rules:
- `listeners`: load balancers, and their listeners and rules read as routes; weights written
  back (ModifyListener/ModifyRule) once what AWS would refuse and moto would not is checked;
- `target_groups`: target groups described, created and configured, and their targets' health;
and `forward_action` (pure, no AWS call): a forward action's weights read, checked against
AWS's limits and rewritten, for `listeners` to write.

The helpers tests import from here (`rewrite_actions`, `forward_weights`,
`listener_arn_of_rule`...) stay importable from here: they are re-exported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.aws.forward_action import (
    MAX_FORWARD_TARGET_GROUPS,
    MAX_WEIGHT,
    check_weights,
    forward_index,
    forward_weights,
    rewrite_actions,
)
from bluegreen.aws.listeners import Elbv2Listeners, listener_arn_of_rule
from bluegreen.aws.target_groups import (
    DESCRIBE_BATCH,
    Elbv2TargetGroups,
    parse_target_group,
    target_group_settings,
)

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

    from bluegreen.aws.retry import AwsCaller

__all__ = [
    "DESCRIBE_BATCH",
    "MAX_FORWARD_TARGET_GROUPS",
    "MAX_WEIGHT",
    "Elbv2LoadBalancing",
    "check_weights",
    "forward_index",
    "forward_weights",
    "listener_arn_of_rule",
    "parse_target_group",
    "rewrite_actions",
    "target_group_settings",
]


class Elbv2LoadBalancing(Elbv2Listeners, Elbv2TargetGroups):
    """`LoadBalancing` on boto3's elbv2 client."""

    def __init__(self, client: ElasticLoadBalancingv2Client, aws: AwsCaller) -> None:
        self._client = client
        self._aws = aws
        self._fits = set()  # see `Elbv2Listeners._fits`
