"""Elastic Load Balancing v2: target groups, target health, and the weighted forward action
of listeners and listener rules (implements `bluegreen.ports.LoadBalancing`).

Rules:
- Changing weights rewrites the whole action list (ModifyListener/ModifyRule replace it):
  every action other than the forward one is carried over as read, and the forward action
  keeps its Order and stickiness.
- What AWS would reject and moto does not (weights outside 0-999, target groups that do not
  exist or sit in another VPC, a protocol the load balancer cannot forward to) is checked
  here, before the write: a PreflightError, nothing changed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from bluegreen.aws.retry import AwsCaller
from bluegreen.errors import AwsError, MissingResourceError, PreflightError
from bluegreen.model import (
    HealthCheck,
    HealthState,
    LoadBalancer,
    Route,
    RouteKind,
    RouteRef,
    TargetGroup,
    TargetGroupAttributes,
    TargetGroupHealth,
    TargetHealth,
)

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_elbv2.type_defs import (
        ActionUnionTypeDef,
        ListenerTypeDef,
        RuleTypeDef,
        TargetGroupTypeDef,
    )

DESCRIBE_BATCH = 20  # DescribeTargetGroups takes at most 20 ARNs or names per call
MAX_WEIGHT = 999
MAX_FORWARD_TARGET_GROUPS = 5
# Which target-group protocols each load-balancer type can forward to (None: lambda targets).
_FORWARDABLE: dict[str, frozenset[str | None]] = {
    "application": frozenset({"HTTP", "HTTPS", None}),
    "network": frozenset({"TCP", "UDP", "TCP_UDP", "TLS"}),
}


class Elbv2LoadBalancing:
    """`LoadBalancing` on boto3's elbv2 client."""

    def __init__(self, client: ElasticLoadBalancingv2Client, aws: AwsCaller) -> None:
        self._client = client
        self._aws = aws
        # (load balancer, target group) pairs already checked to fit: a VPC or a protocol
        # never changes under an ARN, so each deployment step need not read them again. A
        # group deleted since is still refused, by AWS itself, when the listener is written.
        self._fits: set[tuple[str, str]] = set()

    # -- target groups -------------------------------------------------------------------

    def target_groups(self, names_or_arns: Sequence[str]) -> list[TargetGroup]:
        wanted = list(dict.fromkeys(names_or_arns))
        found: dict[str, TargetGroup] = {}
        arns = [x for x in wanted if _is_arn(x)]
        names = [x for x in wanted if not _is_arn(x)]
        for chunk in _chunks(arns, DESCRIBE_BATCH):
            found.update((tg.arn, tg) for tg in self._describe_target_groups(chunk, by_arn=True))
        for chunk in _chunks(names, DESCRIBE_BATCH):
            found.update((tg.name, tg) for tg in self._describe_target_groups(chunk, by_arn=False))
        return [self._pick(found, x) for x in names_or_arns]

    def _pick(self, found: dict[str, TargetGroup], key: str) -> TargetGroup:
        if key in found:
            return found[key]
        # AWS matched a name we spelt differently (case): accept its match, but only one.
        close = [tg for k, tg in found.items() if k.lower() == key.lower()]
        if len(close) != 1:
            raise MissingResourceError(f"target group {key} not found in {self._aws.region}")
        return close[0]

    def _describe_target_groups(self, keys: list[str], *, by_arn: bool) -> list[TargetGroup]:
        about = "target group " + ", ".join(keys)
        try:
            if by_arn:
                resp = self._aws.call(
                    about, self._client.describe_target_groups, TargetGroupArns=keys
                )
            else:
                resp = self._aws.call(about, self._client.describe_target_groups, Names=keys)
        except MissingResourceError as exc:
            # AWS fails the whole batch: ask one by one to name the missing ones.
            missing = keys if len(keys) == 1 else [k for k in keys if not self._exists(k, by_arn)]
            if not missing:
                raise
            raise MissingResourceError(
                f"target group {', '.join(missing)} not found in {self._aws.region}",
                hint=exc.hint,
            ) from exc
        return [parse_target_group(tg) for tg in resp["TargetGroups"]]

    def _exists(self, key: str, by_arn: bool) -> bool:
        try:
            self._describe_target_groups([key], by_arn=by_arn)
        except MissingResourceError:
            return False
        return True

    def target_health(self, target_group_arn: str) -> TargetGroupHealth:
        resp = self._aws.call(
            f"target group {target_group_arn}",
            self._client.describe_target_health,
            TargetGroupArn=target_group_arn,
        )
        targets = tuple(
            TargetHealth(
                target_id=d["Target"]["Id"],
                port=d["Target"].get("Port"),
                state=HealthState.parse(d.get("TargetHealth", {}).get("State")),
                reason=d.get("TargetHealth", {}).get("Reason"),
                description=d.get("TargetHealth", {}).get("Description"),
            )
            for d in resp["TargetHealthDescriptions"]
        )
        return TargetGroupHealth(target_group_arn=target_group_arn, targets=targets)

    def target_group_attributes(self, target_group_arn: str) -> TargetGroupAttributes:
        resp = self._aws.call(
            f"target group {target_group_arn}",
            self._client.describe_target_group_attributes,
            TargetGroupArn=target_group_arn,
        )
        return TargetGroupAttributes(
            {a["Key"]: a["Value"] for a in resp["Attributes"] if "Key" in a and "Value" in a}
        )

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

    def target_group_tags(self, target_group_arn: str) -> dict[str, str]:
        resp = self._aws.call(
            f"target group {target_group_arn}",
            self._client.describe_tags,
            ResourceArns=[target_group_arn],
        )
        return {
            t["Key"]: t.get("Value", "")
            for d in resp["TagDescriptions"]
            for t in d.get("Tags", [])
            if "Key" in t
        }

    def create_target_group(
        self, name: str, *, like: TargetGroup, tags: Mapping[str, str]
    ) -> TargetGroup:
        params = target_group_settings(like)
        params["Name"] = name
        if tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        resp = self._aws.call(f"target group {name}", self._client.create_target_group, **params)
        return parse_target_group(resp["TargetGroups"][0])

    def set_target_group_attributes(
        self, target_group_arn: str, attributes: Mapping[str, str]
    ) -> TargetGroupAttributes:
        resp = self._aws.call(
            f"target group {target_group_arn}",
            self._client.modify_target_group_attributes,
            TargetGroupArn=target_group_arn,
            Attributes=[{"Key": k, "Value": v} for k, v in attributes.items()],
        )
        return TargetGroupAttributes(
            {a["Key"]: a["Value"] for a in resp["Attributes"] if "Key" in a and "Value" in a}
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
        not_arns = [a for a in arns if not _is_arn(a)]
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


def check_weights(ref: RouteRef, weights: Mapping[str, int]) -> None:
    """Integers 0-999, at least one above 0, at most five target groups (AWS's limits)."""
    for arn, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise PreflightError(f"weight {weight!r} for {arn} on {ref} is not an integer")
        if not 0 <= weight <= MAX_WEIGHT:
            raise PreflightError(
                f"weight {weight} for {arn} on {ref} is outside 0-{MAX_WEIGHT}",
                hint="weights are relative integers, e.g. 90 and 10 for a 10 % canary",
            )
    if sum(weights.values()) <= 0:
        raise PreflightError(f"weights for {ref} must send traffic somewhere: {dict(weights)}")
    if len(weights) > MAX_FORWARD_TARGET_GROUPS:
        raise PreflightError(
            f"{ref} can forward to at most {MAX_FORWARD_TARGET_GROUPS} target groups"
        )


# -- parsing and building actions (pure) ---------------------------------------------------


def parse_target_group(tg: TargetGroupTypeDef) -> TargetGroup:
    matcher = tg.get("Matcher", {})
    health = HealthCheck(
        protocol=tg.get("HealthCheckProtocol", tg.get("Protocol", "HTTP")),
        port=tg.get("HealthCheckPort", "traffic-port"),
        path=tg.get("HealthCheckPath"),
        matcher=matcher.get("HttpCode") or matcher.get("GrpcCode"),
        interval_seconds=tg.get("HealthCheckIntervalSeconds", 30),
        timeout_seconds=tg.get("HealthCheckTimeoutSeconds", 5),
        healthy_threshold=tg.get("HealthyThresholdCount", 5),
        unhealthy_threshold=tg.get("UnhealthyThresholdCount", 2),
        enabled=tg.get("HealthCheckEnabled", True),
    )
    return TargetGroup(
        arn=tg["TargetGroupArn"],
        name=tg["TargetGroupName"],
        protocol=tg.get("Protocol"),
        port=tg.get("Port"),
        vpc_id=tg.get("VpcId"),
        target_type=tg.get("TargetType", "instance"),
        health_check=health,
        # moto repeats the load balancer once per listener and rule forwarding to the group
        load_balancer_arns=tuple(dict.fromkeys(tg.get("LoadBalancerArns", []))),
        protocol_version=tg.get("ProtocolVersion"),
        ip_address_type=tg.get("IpAddressType"),
    )


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


def forward_index(actions: Sequence[Mapping[str, Any]]) -> int | None:
    return next((i for i, a in enumerate(actions) if a.get("Type") == "forward"), None)


def forward_weights(action: Mapping[str, Any]) -> dict[str, int]:
    """Target group ARN → weight; a missing Weight means 1, a plain TargetGroupArn is 1."""
    groups = action.get("ForwardConfig", {}).get("TargetGroups") or []
    if groups:
        return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
    arn = action.get("TargetGroupArn")
    return {arn: 1} if arn else {}


def rewrite_actions(
    actions: Sequence[Mapping[str, Any]], weights: Mapping[str, int], *, swap: bool = False
) -> list[dict[str, Any]]:
    """The action list with the forward action's weights replaced, all else carried over.
    A `swap` route takes no weights: its forward names the one group holding them all."""
    index = forward_index(actions)
    if index is None:  # route() refuses such routes; kept as a guard for direct callers
        raise PreflightError("the route has no forward action to set weights on")
    forward = _single_forward if swap else _weighted_forward
    return [forward(a, weights) if i == index else _carried(a) for i, a in enumerate(actions)]


def _single_forward(old: Mapping[str, Any], weights: Mapping[str, int]) -> dict[str, Any]:
    live = [arn for arn, weight in weights.items() if weight > 0]
    if len(live) != 1:
        raise PreflightError(
            f'a route switched all at once (shift = "swap") cannot split traffic: {dict(weights)}'
        )
    action: dict[str, Any] = {"Type": "forward", "TargetGroupArn": live[0]}
    if "Order" in old:
        action["Order"] = old["Order"]
    return action


def _weighted_forward(old: Mapping[str, Any], weights: Mapping[str, int]) -> dict[str, Any]:
    stickiness = old.get("ForwardConfig", {}).get("TargetGroupStickinessConfig")
    # No top-level TargetGroupArn: AWS rejects it next to a ForwardConfig that differs.
    action: dict[str, Any] = {"Type": "forward"}
    if "Order" in old:
        action["Order"] = old["Order"]
    action["ForwardConfig"] = {
        "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in weights.items()]
    }
    # Carried only when it was there: an NLB's TCP/TLS listener takes no stickiness setting.
    if stickiness:
        action["ForwardConfig"]["TargetGroupStickinessConfig"] = copy.deepcopy(stickiness)
    return action


def _carried(action: Mapping[str, Any]) -> dict[str, Any]:
    carried = copy.deepcopy(dict(action))
    oidc = carried.get("AuthenticateOidcConfig")
    # AWS never returns the OIDC client secret; writing the action back without one
    # requires UseExistingClientSecret, else AWS rejects the whole modification.
    if isinstance(oidc, dict) and "ClientSecret" not in oidc:
        oidc["UseExistingClientSecret"] = True
    return carried


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


def target_group_settings(tg: TargetGroup) -> dict[str, Any]:
    """CreateTargetGroup settings that make a copy of `tg` (everything but its name, ARN,
    load balancers, attributes and tags)."""
    check = tg.health_check
    params: dict[str, Any] = {"TargetType": tg.target_type, "HealthCheckEnabled": check.enabled}
    for key, value in (
        ("Protocol", tg.protocol),
        ("ProtocolVersion", tg.protocol_version),
        ("Port", tg.port),
        ("VpcId", tg.vpc_id),
        ("IpAddressType", tg.ip_address_type),
        ("HealthCheckProtocol", check.protocol),
        ("HealthCheckPort", check.port),
        ("HealthCheckPath", check.path),
        ("HealthCheckIntervalSeconds", check.interval_seconds),
        ("HealthCheckTimeoutSeconds", check.timeout_seconds),
        ("HealthyThresholdCount", check.healthy_threshold),
        ("UnhealthyThresholdCount", check.unhealthy_threshold),
    ):
        if value is not None:
            params[key] = value
    if check.matcher:
        code = "GrpcCode" if tg.protocol_version == "GRPC" else "HttpCode"
        params["Matcher"] = {code: check.matcher}
    return params


def _is_arn(value: str) -> bool:
    return value.startswith("arn:")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
