"""The AWS side of bluegreen: the only package that imports boto3 or botocore.

`connect()` builds an `AwsCloud` — the `bluegreen.ports.Cloud` the engine talks to — from
the usual AWS settings (profile, region, AWS_ENDPOINT_URL…). Every call goes through
`retry.AwsCaller`: bounded retries slept on the injected clock, errors translated into
`bluegreen.errors`, and the operation name appended to `AwsCloud.calls`, so a test can prove
that a command changed nothing (`mutating_calls()` is empty). An AwsCloud paces what every
deployment using it asks: identical describes within a moment share one answer, dropped by
any change we make (fresh_reads.py), and alarm states are fetched for all of them at once
(alarm_interest.py); only calls that reached AWS are in `calls`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ProfileNotFound

from bluegreen.aws.alarm_interest import AlarmInterest
from bluegreen.aws.autoscaling import ApplicationAutoScaling
from bluegreen.aws.cloudwatch import DESCRIBE_BATCH as ALARMS_BATCH
from bluegreen.aws.cloudwatch import CloudWatchAlarms, CloudWatchMetrics
from bluegreen.aws.ec2 import Ec2Network
from bluegreen.aws.ecs import EcsContainers
from bluegreen.aws.elbv2 import Elbv2LoadBalancing
from bluegreen.aws.fresh_reads import READ_ONLY_PREFIXES, FreshReads
from bluegreen.aws.lambda_ import LambdaFunctions
from bluegreen.aws.pacer import Pacer
from bluegreen.aws.retry import AwsCaller, client_config
from bluegreen.aws.s3 import S3Objects
from bluegreen.clock import Clock, RealClock
from bluegreen.errors import ConfigError
from bluegreen.ports import (
    Alarms,
    AutoScaling,
    Containers,
    Functions,
    LoadBalancing,
    Metrics,
    Network,
)

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_lambda import LambdaClient

    from bluegreen.ports import Cloud

__all__ = [
    "ApplicationAutoScaling",
    "AwsCaller",
    "AwsCloud",
    "CloudWatchAlarms",
    "CloudWatchMetrics",
    "Ec2Network",
    "EcsContainers",
    "Elbv2LoadBalancing",
    "LambdaFunctions",
    "S3Objects",
    "connect",
    "connect_s3",
]

DEFAULT_REGION = "us-east-1"


class AwsCloud:
    """The adapters on one boto3 session, sharing one record of calls.

    `endpoint_url=None` leaves endpoint resolution to boto3, which honours AWS_ENDPOINT_URL
    and the per-service AWS_ENDPOINT_URL_<SERVICE> variables.
    """

    def __init__(
        self,
        session: boto3.Session,
        *,
        clock: Clock | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        self.session = session
        self.region: str = session.region_name or DEFAULT_REGION
        self.clock: Clock = clock or RealClock()
        self.endpoint_url = endpoint_url
        self.calls: list[str] = []
        self.reads = FreshReads(self.clock)  # shared by every deployment on this cloud
        self.pacer = Pacer(self.clock)  # so is the share of AWS's API limits it keeps to
        aws = AwsCaller(
            self.clock, calls=self.calls, region=self.region, reads=self.reads, pacer=self.pacer
        )
        region, url, config = self.region, endpoint_url, client_config()
        self.elb: LoadBalancing = Elbv2LoadBalancing(
            session.client("elbv2", region_name=region, endpoint_url=url, config=config), aws
        )
        self.ecs: Containers = EcsContainers(
            session.client("ecs", region_name=region, endpoint_url=url, config=config), aws
        )
        cloudwatch = session.client(
            "cloudwatch", region_name=region, endpoint_url=url, config=config
        )
        interest = AlarmInterest(self.clock, ALARMS_BATCH)
        self.alarms: Alarms = CloudWatchAlarms(cloudwatch, aws, interest)
        self.metrics: Metrics = CloudWatchMetrics(cloudwatch, aws)
        invoke = AwsCaller(self.clock, calls=self.calls, region=self.region, idempotent=False)
        self.functions: Functions = LambdaFunctions(self._lambda_client, invoke)
        self.network: Network = Ec2Network(self._ec2_client, aws)  # built on first use
        self.autoscaling: AutoScaling = ApplicationAutoScaling(self._autoscaling_client, aws)

    def _ec2_client(self) -> EC2Client:
        return self.session.client(
            "ec2", region_name=self.region, endpoint_url=self.endpoint_url, config=client_config()
        )

    def _autoscaling_client(self) -> ApplicationAutoScalingClient:
        return self.session.client(
            "application-autoscaling",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=client_config(),
        )

    def _lambda_client(self, read_timeout: float) -> LambdaClient:
        return self.session.client(
            "lambda",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=client_config(read_timeout=read_timeout),
        )

    def mutating_calls(self) -> list[str]:
        """The calls so far that may have changed something (not Describe/List/Get)."""
        return [name for name in self.calls if not name.startswith(READ_ONLY_PREFIXES)]


def connect(
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    clock: Clock | None = None,
) -> AwsCloud:
    """An AwsCloud from the standard AWS settings; arguments override the environment."""
    return AwsCloud(_session(profile, region), clock=clock, endpoint_url=endpoint_url)


def connect_s3(
    bucket: str,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    clock: Clock | None = None,
) -> S3Objects:
    """The objects of one bucket (the S3 state store's) on the same settings as `connect`.

    Its calls are not in `AwsCloud.calls`: reading and writing deployment state is not a
    change to the service.
    """
    session = _session(profile, region)
    region_name = session.region_name or DEFAULT_REGION
    client = session.client(
        "s3", region_name=region_name, endpoint_url=endpoint_url, config=client_config()
    )
    return S3Objects(client, AwsCaller(clock or RealClock(), region=region_name), bucket)


def _session(profile: str | None, region: str | None) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as exc:
        raise ConfigError(
            str(exc),
            hint="list the profiles with `aws configure list-profiles`, or drop --profile",
        ) from exc


if TYPE_CHECKING:

    def _is_a_cloud(cloud: AwsCloud) -> Cloud:  # mypy proves AwsCloud satisfies the port
        return cloud
