"""Which load balancers forward to a target group, kept current as AWS keeps it.

moto fills a target group's LoadBalancerArns when a listener or rule is created, never when
one is modified or deleted: a group first forwarded to by ModifyListener/ModifyRule (the
green group `bluegreen init` adds at weight 0) stays attached to nothing — DescribeTargetGroups
lists no load balancer for it and the health simulator reports its targets `unused` /
`Target.NotInUse` — and a group no longer forwarded to stays attached. After every
ModifyListener, ModifyRule, DeleteRule and DeleteListener, each target group's
`load_balancer_arns` is recomputed from every listener's default actions and rules (one entry
per listener or rule forwarding to it, as moto records them at creation; a weight of 0
counts, as on AWS).

`install` wraps those backend methods once per process; `uninstall` puts moto's back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.elbv2.models import ELBv2Backend

from bluegreen.sandbox.patches import Patches

CHANGES = ("modify_listener", "modify_rule", "delete_rule", "delete_listener")

_patches = Patches(ELBv2Backend)


def install() -> None:
    for name in CHANGES:
        _patches.apply(name, _resyncing)


def uninstall() -> None:
    _patches.undo()


def _resyncing(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(backend: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(backend, *args, **kwargs)
        resync(backend)
        return result

    return call


def resync(backend: Any) -> None:
    """Every target group's load_balancer_arns, from the listeners and rules as they are."""
    attached: dict[str, list[str]] = {arn: [] for arn in backend.target_groups}
    for lb in backend.load_balancers.values():
        for listener in lb.listeners.values():
            action_lists = [listener.default_actions]
            action_lists += [rule.actions for rule in listener._non_default_rules.values()]
            for actions in action_lists:
                groups = {
                    arn
                    for action in actions
                    for arn in backend._get_target_group_arns_from(action_data=action.data)
                }
                for arn in groups & attached.keys():
                    attached[arn].append(lb.arn)
    for arn, balancers in attached.items():
        backend.target_groups[arn].load_balancer_arns = balancers
