"""Amazon EC2, read only: the security groups and VPC ranges `bluegreen verify` reasons
about (implements `bluegreen.ports.Network`).

Rules:
- Reads only (DescribeSecurityGroups, DescribeVpcs): bluegreen never changes a network.
- The EC2 client is built on first use: its service model is large, and only `verify` (and
  the deploy preflight) need it.
- EC2's not-found codes (InvalidGroup.NotFound…) become MissingResourceError here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bluegreen.aws.retry import AwsCaller
from bluegreen.errors import AwsError, MissingResourceError
from bluegreen.model import IngressRule, SecurityGroup

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import IpPermissionOutputTypeDef, SecurityGroupTypeDef

_GROUP_NOT_FOUND = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.Malformed"})
_VPC_NOT_FOUND = frozenset({"InvalidVpcID.NotFound", "InvalidVpcId.Malformed"})


class Ec2Network:
    """`Network` on boto3's EC2 client."""

    def __init__(self, client: Callable[[], EC2Client], aws: AwsCaller) -> None:
        self._make_client = client
        self._client: EC2Client | None = None
        self._aws = aws

    @property
    def client(self) -> EC2Client:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def security_groups(self, ids: Sequence[str]) -> list[SecurityGroup]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        about = "security group " + ", ".join(wanted)
        try:
            resp = self._aws.call(about, self.client.describe_security_groups, GroupIds=wanted)
        except AwsError as exc:
            if exc.code not in _GROUP_NOT_FOUND:
                raise
            raise MissingResourceError(
                f"{about} not found in {self._aws.region} ({exc.code})",
                hint="check the securityGroups of the service's network configuration "
                "(aws ec2 describe-security-groups --group-ids …) and the region",
            ) from exc
        found = {g["GroupId"]: parse_security_group(g) for g in resp.get("SecurityGroups", [])}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise MissingResourceError(
                f"security group {', '.join(missing)} not found in {self._aws.region}"
            )
        return [found[i] for i in ids]

    def vpc_cidr_blocks(self, vpc_id: str) -> tuple[str, ...]:
        try:
            resp = self._aws.call(f"VPC {vpc_id}", self.client.describe_vpcs, VpcIds=[vpc_id])
        except AwsError as exc:
            if exc.code not in _VPC_NOT_FOUND:
                raise
            raise MissingResourceError(
                f"VPC {vpc_id} not found in {self._aws.region} ({exc.code})"
            ) from exc
        blocks: list[str] = []
        for vpc in resp.get("Vpcs", []):
            associated = [
                a["CidrBlock"]
                for a in vpc.get("CidrBlockAssociationSet", [])
                if "CidrBlock" in a and a.get("CidrBlockState", {}).get("State") == "associated"
            ]
            blocks += associated or ([vpc["CidrBlock"]] if "CidrBlock" in vpc else [])
        return tuple(dict.fromkeys(blocks))


def parse_security_group(group: SecurityGroupTypeDef) -> SecurityGroup:
    return SecurityGroup(
        id=group["GroupId"],
        name=group.get("GroupName", ""),
        vpc_id=group.get("VpcId"),
        ingress=tuple(_rule(p) for p in group.get("IpPermissions", [])),
    )


def _rule(permission: IpPermissionOutputTypeDef) -> IngressRule:
    return IngressRule(
        protocol=str(permission.get("IpProtocol", "-1")),
        from_port=permission.get("FromPort"),
        to_port=permission.get("ToPort"),
        source_groups=tuple(
            p["GroupId"] for p in permission.get("UserIdGroupPairs", []) if "GroupId" in p
        ),
        cidrs=tuple(r["CidrIp"] for r in permission.get("IpRanges", []) if "CidrIp" in r),
    )
