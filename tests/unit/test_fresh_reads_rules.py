"""The rules of bluegreen/aws/fresh_reads.py and alarm_interest.py on a virtual clock, with
counting stand-ins for AWS: which change drops which kept read, a read under way during a
change, errors, and how alarm names of several deployments share calls."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from bluegreen.aws.alarm_interest import INTEREST_FOR, AlarmInterest
from bluegreen.aws.fresh_reads import FRESH_FOR, FreshReads
from bluegreen.clock import VirtualClock
from bluegreen.model import AlarmState

TG_A = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1"
TG_B = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/2"
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/9/8"


class Aws:
    """Counts the calls that reach it; answers a new object each time."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def answer(self, operation: str) -> Any:
        def fetch() -> dict[str, Any]:
            self.asked.append(operation)
            return {"n": len(self.asked)}

        return fetch


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def reads(clock: VirtualClock) -> FreshReads:
    return FreshReads(clock)


def health(reads: FreshReads, aws: Aws, group: str) -> Any:
    args = {"TargetGroupArn": group}
    return reads.call("elbv2", "DescribeTargetHealth", args, aws.answer(f"health {group}"))


def change(reads: FreshReads, aws: Aws, service: str, operation: str, **args: Any) -> None:
    reads.call(service, operation, args, aws.answer(operation))


@pytest.mark.parametrize(
    ("service", "operation", "args", "dropped"),
    [
        ("elbv2", "RegisterTargets", {"TargetGroupArn": TG_A}, {TG_A}),
        ("elbv2", "DeregisterTargets", {"TargetGroupArn": TG_B}, {TG_B}),
        ("elbv2", "ModifyTargetGroupAttributes", {"TargetGroupArn": TG_A}, {TG_A}),
        ("elbv2", "ModifyListener", {"ListenerArn": LISTENER}, {TG_A, TG_B}),
        ("elbv2", "CreateTargetGroup", {"Name": "c"}, {TG_A, TG_B}),  # unknown: all of ELB
        ("ecs", "CreateTaskSet", {"cluster": "prod"}, {TG_A, TG_B}),  # ECS registers targets
        ("ecs", "DeleteTaskSet", {"cluster": "prod"}, {TG_A, TG_B}),
        ("cloudwatch", "PutMetricAlarm", {"AlarmName": "x"}, set()),
    ],
)
def test_which_change_drops_which_target_health(
    reads: FreshReads, service: str, operation: str, args: dict[str, Any], dropped: set[str]
) -> None:
    aws = Aws()
    health(reads, aws, TG_A), health(reads, aws, TG_B)

    change(reads, aws, service, operation, **args)
    health(reads, aws, TG_A), health(reads, aws, TG_B)

    asked_again = {g for g in (TG_A, TG_B) if aws.asked.count(f"health {g}") == 2}
    assert asked_again == dropped


def test_a_read_under_way_when_a_change_begins_is_not_kept(reads: FreshReads) -> None:
    # Threads of a release: one reads while another's change is sent. What that read saw
    # may predate the change, so it serves its caller only.
    aws = Aws()

    def read_racing_a_change() -> dict[str, Any]:
        change(reads, aws, "elbv2", "ModifyListener", ListenerArn=LISTENER)
        return {"n": 0}

    reads.call("elbv2", "DescribeTargetHealth", {"TargetGroupArn": TG_A}, read_racing_a_change)
    health(reads, aws, TG_A)

    assert aws.asked == ["ModifyListener", f"health {TG_A}"]


def test_an_error_is_not_kept(reads: FreshReads) -> None:
    aws = Aws()

    def throttled() -> Any:
        raise RuntimeError("Throttling")

    with pytest.raises(RuntimeError):
        reads.call("elbv2", "DescribeTargetHealth", {"TargetGroupArn": TG_A}, throttled)
    health(reads, aws, TG_A)

    assert aws.asked == [f"health {TG_A}"]


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("cloudwatch", "GetMetricData"),
        # green's tasks are read when a target appeared that the last read did not explain:
        # an answer from before it was registered would call it a stray
        ("ecs", "ListTasks"),
        ("ecs", "DescribeTasks"),
    ],
)
def test_reads_not_in_the_table_are_never_kept(
    reads: FreshReads, service: str, operation: str
) -> None:
    aws = Aws()
    for _ in range(2):
        reads.call(service, operation, {"cluster": "prod"}, aws.answer(operation))

    assert aws.asked == [operation] * 2


def test_a_kept_read_serves_until_fresh_for_has_passed(
    reads: FreshReads, clock: VirtualClock
) -> None:
    aws = Aws()
    first = health(reads, aws, TG_A)
    clock.advance(FRESH_FOR * 0.99)
    assert health(reads, aws, TG_A) == first
    clock.advance(FRESH_FOR * 0.01)
    assert health(reads, aws, TG_A) != first


# -------------------------------------------------------------- alarm states, shared


class Alarms:
    """DescribeAlarms: the batches asked; every alarm whose name starts with "on" exists."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def describe(self, names: list[str]) -> Iterable[tuple[str, AlarmState]]:
        self.batches.append(list(names))
        return [(n, AlarmState.OK) for n in names if n.startswith("on")]


def test_a_caller_gets_its_states_with_missing_alarms_named(clock: VirtualClock) -> None:
    alarms = Alarms()
    interest = AlarmInterest(clock, batch=100)

    states = interest.states(["on-1", "gone"], alarms.describe)

    assert states == {"on-1": AlarmState.OK, "gone": AlarmState.MISSING}


def test_others_ride_along_in_the_spare_room_of_a_call(clock: VirtualClock) -> None:
    alarms = Alarms()
    interest = AlarmInterest(clock, batch=3)
    interest.states(["on-a"], alarms.describe)
    interest.states(["on-b", "on-c"], alarms.describe)
    interest.states(["on-d", "on-e"], alarms.describe)
    clock.advance(5)

    interest.states(["on-a"], alarms.describe)  # room for two more, the stalest first
    interest.states(["on-b", "on-c"], alarms.describe)  # just fetched: no call

    assert alarms.batches[-1] == ["on-a", "on-b", "on-c"]
    assert len(alarms.batches) == 4


def test_a_caller_never_makes_more_calls_than_alone(clock: VirtualClock) -> None:
    alarms = Alarms()
    interest = AlarmInterest(clock, batch=2)
    interest.states(["on-x1", "on-x2", "on-x3"], alarms.describe)  # another deployment
    clock.advance(5)

    interest.states(["on-mine"], alarms.describe)

    assert alarms.batches[-1][0] == "on-mine" and len(alarms.batches[-1]) == 2
    assert len(alarms.batches) == 3  # two for the first caller, one for this one


def test_names_nobody_asks_for_any_more_are_not_fetched(clock: VirtualClock) -> None:
    alarms = Alarms()
    interest = AlarmInterest(clock, batch=100)
    interest.states(["on-ended"], alarms.describe)  # a deployment that has ended
    clock.advance(INTEREST_FOR + 1)

    interest.states(["on-live"], alarms.describe)

    assert alarms.batches[-1] == ["on-live"]
