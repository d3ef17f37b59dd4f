"""Elastic Load Balancing v2, the target-group half: target groups described (in batches,
by name or ARN), their health, attributes and tags, and a copy of one created under another
name. `Elbv2TargetGroups` is a mixin: `elbv2.Elbv2LoadBalancing` joins it to the listener
half and gives it its client and caller.

Rules:
- Target groups are asked for in batches of at most DESCRIBE_BATCH; when AWS fails a whole
  batch, they are asked for one by one, to name the missing ones.
- Names and ARNs may be mixed in one request (an ARN starts with "arn:"); a name AWS
  matched under another case is accepted only when it is the one such match.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen.errors import MissingResourceError
from bluegreen.model import (
    HealthCheck,
    HealthState,
    TargetGroup,
    TargetGroupAttributes,
    TargetGroupHealth,
    TargetHealth,
)

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_elbv2.type_defs import TargetGroupTypeDef

    from bluegreen.aws.retry import AwsCaller

DESCRIBE_BATCH = 20  # DescribeTargetGroups takes at most 20 ARNs or names per call


class Elbv2TargetGroups:
    """The target-group methods of `LoadBalancing` on boto3's elbv2 client."""

    # set by the class this is mixed into
    _client: ElasticLoadBalancingv2Client
    _aws: AwsCaller

    def target_groups(self, names_or_arns: Sequence[str]) -> list[TargetGroup]:
        wanted = list(dict.fromkeys(names_or_arns))
        found: dict[str, TargetGroup] = {}
        arns = [x for x in wanted if is_arn(x)]
        names = [x for x in wanted if not is_arn(x)]
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


def is_arn(value: str) -> bool:
    return value.startswith("arn:")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
