"""Elastic Load Balancing v2, the listener half: load balancers, their listeners and
listener rules read as routes, and the weighted forward action of a route written back
(ModifyListener/ModifyRule). `Elbv2Listeners` is a mixin: `elbv2.Elbv2LoadBalancing` joins
it to the target-group half, whose `target_groups` it reads to check a route's groups.

Rules:
- What AWS would reject and moto does not (weights outside 0-999, target groups that do not
  exist or sit in another VPC, a protocol the load balancer cannot forward to) is checked
  here, before the write: a PreflightError, nothing changed.
- Routes are listed in the same order every time: listeners by port, then each listener's
  rules by priority.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from bluegreen.aws.forward_action import (
    check_weights,
    forward_index,
    forward_weights,
    rewrite_actions,
)
from bluegreen.aws.target_groups import is_arn
from bluegreen.errors import AwsError, MissingResourceError, PreflightError
from bluegreen.model import LoadBalancer, Route, RouteKind, RouteRef, TargetGroup

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_elbv2.type_defs import ActionUnionTypeDef, ListenerTypeDef, RuleTypeDef

    from bluegreen.aws.retry import AwsCaller

# Which target-group protocols each load-balancer type can forward to (None: lambda targets).
_FORWARDABLE: dict[str, frozenset[str | None]] = {
    "application": frozenset({"HTTP", "HTTPS", None}),
    "network": frozenset({"TCP", "UDP", "TCP_UDP", "TLS"}),
}


class Elbv2Listeners:
    """The load-balancer and route methods of `LoadBalancing` on boto3's elbv2 client."""

    # set by the class this is mixed into
    _client: ElasticLoadBalancingv2Client
    _aws: AwsCaller
    # (load balancer, target group) pairs already checked to fit: a VPC or a protocol
    # never changes under an ARN, so each deployment step need not read them again. A
    # group deleted since is still refused, by AWS itself, when the listener is written.
    _fits: set[tuple[str, str]]

    if TYPE_CHECKING:  # from `Elbv2TargetGroups`, beside this in `Elbv2LoadBalancing`

        def target_groups(self, names_or_arns: Sequence[str]) -> list[TargetGroup]: ...

    def load_balancer(self, arn: str) -> LoadBalancer:
        resp = self._aws.call(
            f"load balancer {arn}", self._client.describe_load_balancers, LoadBalancerArns=[arn]
        )
        lb = resp["LoadBalancers"][0]
        return LoadBalancer(
            arn=lb["LoadBalancerArn"],
            name=lb["LoadBalancerName"],
            type=lb.get("Type", "application"),
            vpc_id=lb.get("VpcId"),
            dns_name=lb.get("DNSName"),
            security_groups=tuple(lb.get("SecurityGroups", [])),
        )

    # -- routes --------------------------------------------------------------------------

    def listener_routes(self, load_balancer_arn: str) -> list[Route]:
        """Every listener's default action, then its non-default rules (by priority). A
        route that does not forward has empty weights (it is not refused here)."""
        routes: list[Route] = []
        for listener in self._listeners_of(load_balancer_arn):
            ref = RouteRef(RouteKind.LISTENER, listener["ListenerArn"])
            routes.append(_any_route(ref, listener["DefaultActions"], listener))
            rules = [r for r in self._rules_of(listener["ListenerArn"]) if not r.get("IsDefault")]
            for rule in sorted(rules, key=lambda r: _priority(r.get("Priority"))):
                ref = RouteRef(RouteKind.RULE, rule["RuleArn"])
                route = _any_route(ref, rule.get("Actions", []), listener)
                routes.append(
                    replace(
                        route,
                        priority=rule.get("Priority"),
                        conditions=tuple(rule.get("Conditions", [])),
                    )
                )
        return routes

    def _listeners_of(self, load_balancer_arn: str) -> list[ListenerTypeDef]:
        found: list[ListenerTypeDef] = []
        params: dict[str, Any] = {"LoadBalancerArn": load_balancer_arn}
        while True:
            resp = self._aws.call(
                f"load balancer {load_balancer_arn}", self._client.describe_listeners, **params
            )
            found += resp["Listeners"]
            if not resp.get("NextMarker"):
                # by port: the same load balancer always lists its routes in the same order
                return sorted(found, key=lambda x: (x.get("Port", 0), x["ListenerArn"]))
            params["Marker"] = resp["NextMarker"]

    def _rules_of(self, listener_arn: str) -> list[RuleTypeDef]:
        found: list[RuleTypeDef] = []
        params: dict[str, Any] = {"ListenerArn": listener_arn}
        while True:
            resp = self._aws.call(f"listener {listener_arn}", self._client.describe_rules, **params)
            found += resp["Rules"]
            if not resp.get("NextMarker"):
                return found
            params["Marker"] = resp["NextMarker"]

    def route(self, ref: RouteRef) -> Route:
        if ref.kind is RouteKind.LISTENER:
            return _listener_route(ref, self._listener(ref.arn))
        listener_arn = listener_arn_of_rule(ref.arn)  # first: a malformed ARN is our error
        resp = self._aws.call(f"rule {ref.arn}", self._client.describe_rules, RuleArns=[ref.arn])
        return _route(ref, resp["Rules"][0]["Actions"], self._listener(listener_arn))

    def routes(self, refs: Sequence[RouteRef]) -> list[Route]:
        """Every route of `refs`, in order: one DescribeListeners for all their listeners and
        one DescribeRules for all the rules (BATCH ARNs a call) — a stage's read of its
        routes costs two calls, not one per route."""
        rule_arns = [r.arn for r in refs if r.kind is not RouteKind.LISTENER]
        listener_arns = list(
            dict.fromkeys(
                r.arn if r.kind is RouteKind.LISTENER else listener_arn_of_rule(r.arn) for r in refs
            )
        )
        listeners: dict[str, ListenerTypeDef] = {}
        for chunk in _batches(listener_arns):
            described = self._aws.call(
                f"listeners {', '.join(chunk)}", self._client.describe_listeners, ListenerArns=chunk
            )
            listeners |= {found["ListenerArn"]: found for found in described["Listeners"]}
        rules: dict[str, list[Any]] = {}
        for chunk in _batches(rule_arns):
            answer = self._aws.call(
                f"rules {', '.join(chunk)}", self._client.describe_rules, RuleArns=chunk
            )
            rules |= {rule["RuleArn"]: list(rule["Actions"]) for rule in answer["Rules"]}
        missing = [arn for arn in listener_arns if arn not in listeners]
        missing += [arn for arn in rule_arns if arn not in rules]
        if missing:  # AWS fails the call; moto leaves them out of its answer
            raise MissingResourceError(
                f"{', '.join(missing)} not found in {self._aws.region}",
                hint="check the listener and rule ARNs in [[listeners]] (and test_listener)",
            )
        return [
            _listener_route(ref, listeners[ref.arn])
            if ref.kind is RouteKind.LISTENER
            else _route(ref, rules[ref.arn], listeners[listener_arn_of_rule(ref.arn)])
            for ref in refs
        ]

    def _listener(self, arn: str) -> ListenerTypeDef:
        resp = self._aws.call(
            f"listener {arn}", self._client.describe_listeners, ListenerArns=[arn]
        )
        return resp["Listeners"][0]

    def set_weights(
        self, ref: RouteRef, weights: Mapping[str, int], current: Route | None = None
    ) -> Route:
        check_weights(ref, weights)
        current = current or self.route(ref)
        self._check_target_groups(current, list(weights))
        actions = cast(
            "list[ActionUnionTypeDef]", rewrite_actions(current.actions, weights, swap=ref.swap)
        )
        try:
            if ref.kind is RouteKind.LISTENER:
                resp = self._aws.call(
                    str(ref),
                    self._client.modify_listener,
                    ListenerArn=ref.arn,
                    DefaultActions=actions,
                )
                return _listener_route(ref, resp["Listeners"][0])
            rule = self._aws.call(
                str(ref), self._client.modify_rule, RuleArn=ref.arn, Actions=actions
            )
        except AwsError as exc:
            raise _weights_refused(ref, exc) or exc from exc
        written = _route(ref, rule["Rules"][0]["Actions"], None)
        return Route(
            ref=ref,
            actions=written.actions,
            weights=written.weights,
            load_balancer_arn=current.load_balancer_arn,
            protocol=current.protocol,
            port=current.port,
        )

    def _check_target_groups(self, route: Route, arns: list[str]) -> None:
        """Every target group exists, sits in the load balancer's VPC and speaks a protocol
        the load balancer can forward to — AWS refuses otherwise, moto does not."""
        not_arns = [a for a in arns if not is_arn(a)]
        if not_arns:
            raise PreflightError(
                f"weights for {route.ref} must be keyed by target group ARN, got {not_arns}"
            )
        lb_arn = route.load_balancer_arn
        unchecked = [a for a in arns if lb_arn is None or (lb_arn, a) not in self._fits]
        if not unchecked:
            return
        groups = self.target_groups(unchecked)
        if lb_arn is None:
            return
        lb = self.load_balancer(lb_arn)
        for tg in groups:
            _check_fits(route.ref, lb, tg)
            self._fits.add((lb_arn, tg.arn))


def _check_fits(ref: RouteRef, lb: LoadBalancer, tg: TargetGroup) -> None:
    if tg.vpc_id is not None and lb.vpc_id is not None and tg.vpc_id != lb.vpc_id:
        raise PreflightError(
            f"target group {tg.name} is in {tg.vpc_id} but load balancer {lb.name} "
            f"({ref}) is in {lb.vpc_id}",
            hint=f"create the target group in {lb.vpc_id} "
            "(`bluegreen init` copies blue's settings into a new green target group)",
        )
    allowed = _FORWARDABLE.get(lb.type)
    if allowed is not None and tg.protocol not in allowed:
        raise PreflightError(
            f"target group {tg.name} speaks {tg.protocol}, which {lb.type} load balancer "
            f"{lb.name} cannot forward to ({ref})",
            hint=f"use a target group with protocol {' or '.join(sorted(p for p in allowed if p))}",
        )


def _weights_refused(ref: RouteRef, exc: AwsError) -> PreflightError | None:
    """AWS's answer when a listener takes no target-group weights (Network LBs before
    weighted target groups reached them): say how to switch it all at once instead."""
    if exc.code != "ValidationError" or "weight" not in exc.message.lower():
        return None
    return PreflightError(
        f"{ref} refused target-group weights: {exc.message}",
        hint=f'set shift = "swap" on this route in [[listeners]] ({ref.arn}): every route then '
        "switches from blue to green all at once",
    )


BATCH = 20  # ARNs a DescribeListeners or DescribeRules call is given at most


def _batches(arns: Sequence[str]) -> list[list[str]]:
    return [list(arns[i : i + BATCH]) for i in range(0, len(arns), BATCH)]


def listener_arn_of_rule(rule_arn: str) -> str:
    """arn:…:listener-rule/app/NAME/LBID/LISTENERID/RULEID → arn:…:listener/app/NAME/LBID/LISTENERID
    (DescribeRules does not say which listener a rule belongs to)."""
    prefix, sep, path = rule_arn.partition(":listener-rule/")
    parts = path.split("/")
    if not sep or len(parts) != 5:
        raise PreflightError(
            f"{rule_arn} is not a listener rule ARN",
            hint="a rule ARN looks like arn:aws:elasticloadbalancing:REGION:ACCOUNT:"
            "listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID",
        )
    return f"{prefix}:listener/{'/'.join(parts[:4])}"


def _listener_route(ref: RouteRef, listener: ListenerTypeDef) -> Route:
    return _route(ref, listener["DefaultActions"], listener)


def _route(
    ref: RouteRef, actions: Sequence[Mapping[str, Any]], listener: ListenerTypeDef | None
) -> Route:
    index = forward_index(actions)
    if index is None:
        what = "listener's default action" if ref.kind is RouteKind.LISTENER else "rule"
        kinds = ", ".join(str(a.get("Type")) for a in actions) or "none"
        raise PreflightError(
            f"{ref}: the {what} does not forward to target groups (actions: {kinds})",
            hint="make it forward to the blue target group (weight 1) and the green one "
            "(weight 0); bluegreen shifts traffic by changing those weights",
        )
    return Route(
        ref=ref,
        actions=tuple(actions),
        weights=forward_weights(actions[index]),
        load_balancer_arn=listener.get("LoadBalancerArn") if listener else None,
        protocol=listener.get("Protocol") if listener else None,
        port=listener.get("Port") if listener else None,
    )


def _any_route(
    ref: RouteRef, actions: Sequence[Mapping[str, Any]], listener: ListenerTypeDef
) -> Route:
    """Like `_route`, but a route that does not forward is kept, with no weights."""
    index = forward_index(actions)
    return Route(
        ref=ref,
        actions=tuple(actions),
        weights={} if index is None else forward_weights(actions[index]),
        load_balancer_arn=listener.get("LoadBalancerArn"),
        protocol=listener.get("Protocol"),
        port=listener.get("Port"),
    )


def _priority(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 1 << 30
