"""The simulated CloudWatch: ALB metrics per target group on virtual minutes, and alarms
evaluated from them as CloudWatch does (bluegreen/sandbox/metrics.py).

Each test builds a small ALB in moto with boto3 — VPC, 2 subnets, ALB "web", target groups
"blue" and "green" (2 ip targets each, healthy in moto), one HTTP listener — and installs
only the metrics simulator on a Sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bluegreen.sandbox import metrics
from bluegreen.sandbox.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmRule,
    Datapoint,
    evaluate,
)
from bluegreen.sandbox.core import AppModel, Sandbox
from bluegreen.sandbox.traffic import apportion, listener_shares

GREEN_IMAGE = "web:2.0.0"
RATE = 50.0  # requests a second at the listener: 3000 a minute
MINUTE = 60


@dataclass
class World:
    sandbox: Sandbox
    simulator: metrics.CloudWatchSimulator
    elb: Any
    cloudwatch: Any
    lb_arn: str
    blue: str
    green: str
    listener: str

    def dims(self, group: str) -> list[dict[str, str]]:
        return [
            {"Name": "LoadBalancer", "Value": self.lb_arn.split(":loadbalancer/")[1]},
            {"Name": "TargetGroup", "Value": group.rsplit(":", 1)[1]},
        ]

    def weigh(self, blue: int, green: int) -> None:
        self.elb.modify_listener(
            ListenerArn=self.listener, DefaultActions=forward(self, blue, green)
        )

    def stats(self, metric: str, group: str | None, stat: str = "Sum") -> list[float]:
        """One value per minute so far, oldest first; `group` None: load-balancer level."""
        dims = self.dims(group) if group else self.dims(self.blue)[:1]
        start = datetime.fromtimestamp(1_800_000_000 - 3600, UTC)
        answer = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/ApplicationELB",
            MetricName=metric,
            Dimensions=dims,
            StartTime=start,
            EndTime=start + timedelta(days=1),
            Period=MINUTE,
            Statistics=[stat],
        )
        points = sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])
        return [p[stat] for p in points]

    def alarm(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][
            0
        ]
        return found

    def minutes(self, count: int) -> None:
        for _ in range(count):
            self.sandbox.clock.advance(MINUTE)


def forward(world: World, blue: int, green: int) -> list[dict[str, Any]]:
    groups = [
        {"TargetGroupArn": world.blue, "Weight": blue},
        {"TargetGroupArn": world.green, "Weight": green},
    ]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def build_alb(region: str = "us-east-1") -> tuple[str, str, str, str]:
    """ALB "web" with target groups blue and green (2 healthy targets each) and an HTTP
    listener forwarding all to blue: (lb, blue, green, listener) ARNs."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    elb = boto3.client("elbv2", region_name=region)
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, Type="application")
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    groups = []
    for name, ips in (("blue", ("10.0.1.10", "10.0.2.10")), ("green", ("10.0.1.20", "10.0.2.20"))):
        arn = elb.create_target_group(
            Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip} for ip in ips])
        groups.append(arn)
    listener = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[0]}],
    )["Listeners"][0]["ListenerArn"]
    return lb_arn, groups[0], groups[1], listener


def serve_green_with(image: str, green: str) -> None:
    """An ECS service (ECS controller) whose tasks run `image` behind the green group."""
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="prod")
    container: Any = {"name": "web", "image": image, "memory": 512}
    ecs.register_task_definition(family="web", containerDefinitions=[container])
    ecs.create_service(
        cluster="prod",
        serviceName="web-green",
        taskDefinition="web",
        desiredCount=0,
        loadBalancers=[{"targetGroupArn": green, "containerName": "web", "containerPort": 8080}],
    )


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        lb_arn, blue, green, listener = build_alb()
        sandbox = Sandbox(request_rate=RATE)
        simulator = metrics.install(sandbox)
        yield World(
            sandbox,
            simulator,
            boto3.client("elbv2", region_name="us-east-1"),
            boto3.client("cloudwatch", region_name="us-east-1"),
            lb_arn,
            blue,
            green,
            listener,
        )


def put_5xx_alarm(world: World, periods: int = 1, missing: str | None = "notBreaching") -> None:
    extra = {"TreatMissingData": missing} if missing else {}
    world.cloudwatch.put_metric_alarm(
        AlarmName="green-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=world.dims(world.green),
        Statistic="Sum",
        Period=MINUTE,
        EvaluationPeriods=periods,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
        **extra,
    )


# -- metrics ---------------------------------------------------------------------------


def test_request_count_is_split_by_the_listener_weights(world: World) -> None:
    world.weigh(90, 10)
    world.sandbox.clock.advance(MINUTE)

    assert world.stats("RequestCount", world.blue) == [2700.0]
    assert world.stats("RequestCount", world.green) == [300.0]


def test_a_clock_jump_publishes_every_minute_it_crossed(world: World) -> None:
    world.sandbox.clock.advance(30)
    assert world.stats("RequestCount", world.blue) == []  # the minute is not over

    world.sandbox.clock.advance(4 * MINUTE)  # 4.5 minutes in: 4 minutes are complete

    assert world.stats("RequestCount", world.blue) == [3000.0] * 4
    assert world.stats("RequestCount", world.green) == []  # weight 0: not reported


def test_target_5xx_follow_the_error_rate_of_the_image_the_group_serves(world: World) -> None:
    serve_green_with(GREEN_IMAGE, world.green)
    world.sandbox.apps[GREEN_IMAGE] = AppModel(error_rate=0.1, latency=0.3)
    world.weigh(50, 50)

    world.sandbox.clock.advance(MINUTE)

    assert world.stats("HTTPCode_Target_5XX_Count", world.green) == [150.0]
    assert world.stats("HTTPCode_Target_2XX_Count", world.green) == [1350.0]
    assert world.stats("TargetResponseTime", world.green, "Average") == [pytest.approx(0.3)]
    assert world.stats("HTTPCode_Target_5XX_Count", world.blue) == []  # zero: not reported
    assert world.stats("HTTPCode_Target_2XX_Count", world.blue) == [1500.0]


def test_host_counts_come_from_target_health(world: World) -> None:
    world.weigh(100, 0)  # attaches green to the load balancer: it reports host counts
    world.elb.deregister_targets(TargetGroupArn=world.green, Targets=[{"Id": "10.0.1.20"}])

    world.sandbox.clock.advance(MINUTE)

    assert world.stats("HealthyHostCount", world.blue, "Average") == [2.0]
    assert world.stats("HealthyHostCount", world.green, "Average") == [1.0]
    assert world.stats("UnHealthyHostCount", world.green, "Average") == [0.0]


def test_a_weighted_group_without_healthy_targets_makes_the_elb_answer_5xx(world: World) -> None:
    targets = [{"Id": "10.0.1.20"}, {"Id": "10.0.2.20"}]
    world.elb.deregister_targets(TargetGroupArn=world.green, Targets=targets)
    world.weigh(80, 20)

    world.sandbox.clock.advance(MINUTE)

    assert world.stats("RequestCount", world.green) == [600.0]
    assert world.stats("HTTPCode_ELB_5XX_Count", None) == [600.0]
    assert world.stats("HTTPCode_Target_2XX_Count", world.green) == []


def test_quiet_listeners_carry_no_traffic(world: World) -> None:
    world.sandbox.clock.advance(MINUTE)
    world.simulator.quiet_listeners.add(world.listener)
    world.sandbox.clock.advance(MINUTE)

    assert world.stats("RequestCount", world.blue) == [3000.0]
    assert world.stats("HealthyHostCount", world.blue, "Average") == [2.0, 2.0]


def test_rules_share_a_listener_and_weights_split_each_share() -> None:
    def fwd(*weights: tuple[str, int]) -> list[dict[str, Any]]:
        groups = [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights]
        return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]

    default = [{"Type": "forward", "TargetGroupArn": "blue"}]
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    shares = listener_shares([fwd(("blue", 3), ("green", 1)), default, fixed])

    assert shares == pytest.approx({"blue": 0.25 + 1 / 3, "green": 1 / 12})
    assert apportion(1000, shares) == {"blue": 583, "green": 84}  # 667 forwarded, 333 not


# -- alarms, end to end ----------------------------------------------------------------


def test_a_new_alarm_has_insufficient_data_until_its_metric_has_data(world: World) -> None:
    put_5xx_alarm(world, missing=None)
    world.sandbox.clock.advance(1)
    assert world.alarm("green-5xx")["StateValue"] == INSUFFICIENT_DATA

    world.minutes(2)  # a healthy app reports no 5XX at all

    assert world.alarm("green-5xx")["StateValue"] == INSUFFICIENT_DATA


def test_a_5xx_alarm_fires_after_its_evaluation_periods_and_clears(world: World) -> None:
    serve_green_with(GREEN_IMAGE, world.green)
    world.weigh(50, 50)
    put_5xx_alarm(world, periods=3)
    world.minutes(1)
    assert world.alarm("green-5xx")["StateValue"] == OK

    world.sandbox.apps[GREEN_IMAGE] = AppModel(error_rate=0.05)  # 75 errors a minute
    world.minutes(2)
    assert world.alarm("green-5xx")["StateValue"] == OK  # 2 of 3 periods breaching
    world.minutes(1)
    alarm = world.alarm("green-5xx")
    assert alarm["StateValue"] == ALARM
    assert alarm["StateReason"] == (
        "Threshold Crossed: 3 out of the last 3 datapoints [75.0 (15/01/27 08:03:00), "
        "75.0 (15/01/27 08:02:00), 75.0 (15/01/27 08:01:00)] were greater than the threshold "
        "(5.0) (minimum 3 datapoints for OK -> ALARM transition)."
    )
    assert alarm["StateUpdatedTimestamp"] == datetime(2027, 1, 15, 8, 4, tzinfo=UTC)

    del world.sandbox.apps[GREEN_IMAGE]  # fixed: 5XX stop being reported
    world.minutes(2)  # CloudWatch still finds the last 3 real datapoints in its range
    assert world.alarm("green-5xx")["StateValue"] == ALARM
    world.minutes(1)
    assert world.alarm("green-5xx")["StateValue"] == OK


def test_with_missing_data_as_missing_an_alarm_goes_insufficient_when_errors_stop(
    world: World,
) -> None:
    serve_green_with(GREEN_IMAGE, world.green)
    world.sandbox.apps[GREEN_IMAGE] = AppModel(error_rate=0.05)
    world.weigh(50, 50)
    put_5xx_alarm(world, missing=None)
    world.minutes(1)
    assert world.alarm("green-5xx")["StateValue"] == ALARM

    del world.sandbox.apps[GREEN_IMAGE]
    world.minutes(3)

    assert world.alarm("green-5xx")["StateValue"] == INSUFFICIENT_DATA


def test_set_alarm_state_lasts_until_the_next_evaluation(world: World) -> None:
    put_5xx_alarm(world)
    world.minutes(1)
    world.cloudwatch.set_alarm_state(AlarmName="green-5xx", StateValue=ALARM, StateReason="test")
    world.sandbox.clock.advance(30)
    assert world.alarm("green-5xx")["StateValue"] == ALARM

    world.sandbox.clock.advance(30)

    assert world.alarm("green-5xx")["StateValue"] == OK


def test_an_updated_alarm_keeps_its_state(world: World) -> None:
    put_5xx_alarm(world)
    world.minutes(1)
    world.cloudwatch.set_alarm_state(AlarmName="green-5xx", StateValue=ALARM, StateReason="x")
    put_5xx_alarm(world)  # moto builds a new alarm object, in state OK
    world.sandbox.clock.advance(1)

    assert world.alarm("green-5xx")["StateValue"] == ALARM


# -- alarm evaluation, pure ------------------------------------------------------------

T0 = datetime(2026, 11, 27, 10, 30)


def points(pattern: str, threshold: float = 5.0) -> list[Datapoint]:
    """ "0 - X" → a non-breaching, a missing and a breaching datapoint, a minute apart."""
    values = {"0": threshold - 1, "X": threshold + 1, "-": None}
    return [Datapoint(T0 + timedelta(minutes=i), values[c]) for i, c in enumerate(pattern.split())]


# The CloudWatch user guide's tables ("How alarm state is evaluated when data is missing"),
# columns MISSING, IGNORE, BREACHING, NOT BREACHING; "keep" = retain the current state.
# Left out: its row "X - - - -" = ALARM under MISSING for 3 of 3, which contradicts its row
# "- - - - X" = INSUFFICIENT_DATA; we answer INSUFFICIENT_DATA for both.
THREE_OF_THREE = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT_DATA, "keep", ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - - - X", (INSUFFICIENT_DATA, "keep", ALARM, OK)),
]
TWO_OF_THREE = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - - X", (INSUFFICIENT_DATA, "keep", ALARM, OK)),
]
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize(
    ("m", "pattern", "expected"),
    [(3, p, e) for p, e in THREE_OF_THREE] + [(2, p, e) for p, e in TWO_OF_THREE],
)
def test_evaluation_follows_the_user_guide_tables(
    m: int, pattern: str, expected: tuple[str, ...]
) -> None:
    for treatment, state in zip(TREATMENTS, expected, strict=True):
        rule = AlarmRule("GreaterThanThreshold", 5.0, 3, m, treatment)
        got = evaluate(rule, points(pattern), current="previous").state
        assert got == ("previous" if state == "keep" else state), (pattern, treatment)


@pytest.mark.parametrize(
    ("comparison", "value", "state"),
    [
        ("GreaterThanThreshold", 5.0, OK),
        ("GreaterThanThreshold", 5.5, ALARM),
        ("GreaterThanOrEqualToThreshold", 5.0, ALARM),
        ("LessThanThreshold", 5.0, OK),
        ("LessThanThreshold", 4.0, ALARM),
        ("LessThanOrEqualToThreshold", 5.0, ALARM),
    ],
)
def test_comparison_operators(comparison: str, value: float, state: str) -> None:
    rule = AlarmRule(comparison, 5.0, 1)
    assert evaluate(rule, [Datapoint(T0, value)], OK).state == state


def test_m_out_of_n_uses_the_newest_n_real_datapoints() -> None:
    rule = AlarmRule("GreaterThanThreshold", 5.0, 3, 2)
    assert evaluate(rule, points("X X 0 0 X"), OK).state == OK  # newest 3: 0 0 X
    assert evaluate(rule, points("0 0 X 0 X"), OK).state == ALARM
    assert evaluate(rule, points("X - - 0 X"), OK).state == ALARM  # real: X 0 X


def test_reasons_read_like_cloudwatch() -> None:
    rule = AlarmRule("GreaterThanThreshold", 5.0, 1)
    fired = evaluate(rule, [Datapoint(T0 + timedelta(minutes=1), 12.0)], OK)
    cleared = evaluate(AlarmRule("GreaterThanThreshold", 5.0, 2), points("0 0"), ALARM)
    unknown = evaluate(rule, points("- - -"), OK)
    filled = evaluate(AlarmRule("GreaterThanThreshold", 5.0, 1, None, "notBreaching"), [], ALARM)

    assert fired.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [12.0 (27/11/26 10:31:00)] was "
        "greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    assert cleared.reason == (
        "Threshold Crossed: 2 out of the last 2 datapoints [4.0 (27/11/26 10:31:00), "
        "4.0 (27/11/26 10:30:00)] were not greater than the threshold (5.0) "
        "(minimum 1 datapoint for ALARM -> OK transition)."
    )
    assert unknown.reason == "Insufficient Data: 3 datapoints were unknown."
    assert filled.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching]."
    )
