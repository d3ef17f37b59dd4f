"""The simulated CloudWatch: ALB metrics per target group on virtual minutes, counted from
the state in force during each minute, and alarms evaluated from them as CloudWatch does
(bluegreen/sandbox/metrics.py, traffic.py, elb_view.py).

Each test builds a small ALB in moto with boto3 (alb_world.py) and installs only the
metrics simulator and the GetMetricData extension on a Sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from alb_world import GREEN_IMAGE, MINUTE, World, alb_world, serve_green_with
from sim_helpers import V2, advance, green_task_set

from bluegreen.sandbox.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmRule,
    Datapoint,
    evaluate,
    utc,
)
from bluegreen.sandbox.core import HEALTHY, AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack
from bluegreen.sandbox.traffic import Flow, Ledger, Snapshot, apportion, listener_shares


@pytest.fixture
def world() -> Iterator[World]:
    with alb_world() as built:
        yield built


def put_5xx_alarm(
    world: World, periods: int = 1, missing: str | None = "notBreaching", threshold: float = 5.0
) -> None:
    extra = {"TreatMissingData": missing} if missing else {}
    world.cloudwatch.put_metric_alarm(
        AlarmName="green-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=world.dims(world.green),
        Statistic="Sum",
        Period=MINUTE,
        EvaluationPeriods=periods,
        Threshold=threshold,
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


# -- a minute counts the state in force during it ---------------------------------------


def test_a_minute_counts_the_weights_in_force_during_it(world: World) -> None:
    world.sandbox.clock.advance(30)  # green at weight 0 for the first half of the minute
    world.weigh(50, 50)
    world.sandbox.clock.advance(30)

    assert world.stats("RequestCount", world.green) == [750.0]  # a quarter of 3000
    assert world.stats("RequestCount", world.blue) == [2250.0]


def test_a_shift_between_many_ticks_counts_from_the_tick_it_was_made_at(world: World) -> None:
    for second in range(0, MINUTE, 5):  # the engine sleeps in steps
        if second == 20:
            world.weigh(50, 50)
        world.sandbox.clock.advance(5)

    assert world.stats("RequestCount", world.green) == [1000.0]  # 40 s of 1500 a minute


def test_a_clock_jump_spreads_the_state_over_every_minute_it_covers(world: World) -> None:
    world.sandbox.clock.advance(45)
    world.weigh(50, 50)
    world.sandbox.clock.advance(3 * MINUTE)  # one tick: from 0:45 to 3:45

    assert world.stats("RequestCount", world.green) == [375.0, 1500.0, 1500.0]
    assert world.stats("RequestCount", world.blue) == [2625.0, 1500.0, 1500.0]


def test_targets_lost_mid_minute_make_the_elb_answer_only_from_then(world: World) -> None:
    world.weigh(80, 20)  # green: 600 requests a minute
    world.sandbox.clock.advance(40)
    targets = [{"Id": "10.0.1.20"}, {"Id": "10.0.2.20"}]
    world.elb.deregister_targets(TargetGroupArn=world.green, Targets=targets)
    world.sandbox.clock.advance(20)

    assert world.stats("RequestCount", world.green) == [600.0]
    assert world.stats("HTTPCode_Target_2XX_Count", world.green) == [400.0]
    assert world.stats("HTTPCode_ELB_5XX_Count", None) == [200.0]


def test_an_image_fixed_mid_minute_errs_only_while_it_was_broken(world: World) -> None:
    serve_green_with(GREEN_IMAGE, world.green)
    world.sandbox.apps[GREEN_IMAGE] = AppModel(error_rate=0.2)
    world.weigh(50, 50)
    world.sandbox.clock.advance(15)
    del world.sandbox.apps[GREEN_IMAGE]
    world.sandbox.clock.advance(45)

    assert world.stats("HTTPCode_Target_5XX_Count", world.green) == [75.0]  # 20 % of 375
    assert world.stats("HTTPCode_Target_2XX_Count", world.green) == [1425.0]


def test_host_counts_are_averaged_over_the_minute_with_their_extremes(world: World) -> None:
    world.weigh(100, 0)
    world.sandbox.clock.advance(15)
    world.elb.deregister_targets(TargetGroupArn=world.green, Targets=[{"Id": "10.0.1.20"}])
    world.sandbox.clock.advance(45)

    assert world.stats("HealthyHostCount", world.green, "Average") == [1.25]
    assert world.stats("HealthyHostCount", world.green, "Minimum") == [1.0]
    assert world.stats("HealthyHostCount", world.green, "Maximum") == [2.0]
    assert world.stats("HealthyHostCount", world.blue, "Minimum") == [2.0]


def test_the_ledger_closes_a_minute_only_once_it_is_over() -> None:
    flowing = Snapshot((Flow("lb", "green", 10.0, ((HEALTHY, 1.0),)),))
    ledger = Ledger(0.0)
    ledger.record(flowing, 30)
    assert ledger.close() == []

    ledger.record(Snapshot(), 90)  # nothing flows from 0:30 on
    first = ledger.close()
    ledger.record(flowing, 120)

    assert [dict(minute.requests) for minute in first] == [{("lb", "green", HEALTHY): 300.0}]
    assert [dict(minute.requests) for minute in ledger.close()] == [
        {("lb", "green", HEALTHY): 300.0}
    ]


def test_images_answer_in_proportion_to_their_healthy_targets(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    # On the whole simulated AWS: one task of a failing image joins blue's two in the blue
    # group. It answers nothing until its target is healthy, then a third of the requests.
    sandbox.apps[V2] = AppModel(error_rate=0.3)
    start = sandbox.clock.now()
    assert start % MINUTE == 0
    green_task_set(stack, V2, scale=50, target_group_arn=stack.blue_tg_arn)
    advance(sandbox, 3 * MINUTE)
    [joined] = [t for t in sandbox.targets.values() if t.image == V2]
    group = sandbox.elbv2().target_groups[stack.blue_tg_arn]
    healthy_at = joined.registered_at + int(group.healthy_threshold_count) * int(
        group.health_check_interval_seconds
    )
    assert start < healthy_at < start + MINUTE

    requests = blue_sums(stack, "RequestCount", start)
    errors = blue_sums(stack, "HTTPCode_Target_5XX_Count", start)

    assert requests == [6000.0] * 3  # two listeners
    # The state a tick finds stands for the time since the previous tick (5 s here): the
    # target found healthy at the first tick from `healthy_at` on answers from the tick before.
    healthy_part = (start + MINUTE - healthy_at) / MINUTE
    assert 600 * healthy_part <= errors[0] <= 600 * (healthy_part + 5 / MINUTE)
    assert errors[1:] == [600.0, 600.0]  # 10 % of the requests: a third at 30 %


def blue_sums(stack: SandboxStack, metric: str, start: float) -> list[float]:
    """The blue group's `metric`, Sum per minute from `start`, oldest first."""
    dims = [
        {"Name": "LoadBalancer", "Value": stack.lb_arn.split(":loadbalancer/")[1]},
        {"Name": "TargetGroup", "Value": stack.blue_tg_arn.rsplit(":", 1)[1]},
    ]
    answer = boto3.client("cloudwatch", region_name="us-east-1").get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName=metric,
        Dimensions=dims,
        StartTime=utc(start),
        EndTime=utc(start + 10 * MINUTE),
        Period=MINUTE,
        Statistics=["Sum"],
    )
    return [p["Sum"] for p in sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])]


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


def test_an_alarm_counts_only_the_part_of_a_minute_after_a_shift(world: World) -> None:
    # Green errs on 10 % of requests: 150 a minute at half the traffic. Shifted 50 s into
    # the first minute, green carries a sixth of that minute's half (25 errors), under the
    # threshold of 100: the alarm fires at the end of the next minute, not of this one.
    serve_green_with(GREEN_IMAGE, world.green)
    world.sandbox.apps[GREEN_IMAGE] = AppModel(error_rate=0.1)
    put_5xx_alarm(world, threshold=100.0)
    world.sandbox.clock.advance(50)
    world.weigh(50, 50)
    world.sandbox.clock.advance(10)
    assert world.stats("HTTPCode_Target_5XX_Count", world.green) == [25.0]
    assert world.alarm("green-5xx")["StateValue"] == OK

    world.minutes(1)

    assert world.alarm("green-5xx")["StateValue"] == ALARM
    assert world.alarm("green-5xx")["StateUpdatedTimestamp"] == datetime(
        2027, 1, 15, 8, 2, tzinfo=UTC
    )


def test_a_percentile_alarm_fires_on_the_slow_tail_an_average_hides(world: World) -> None:
    serve_green_with(GREEN_IMAGE, world.green)
    world.sandbox.apps[GREEN_IMAGE] = AppModel(latency=0.05, latency_p99=0.4)
    world.weigh(50, 50)
    statistics: dict[str, dict[str, str]] = {
        "green-p99": {"ExtendedStatistic": "p99"},
        "green-mean": {"Statistic": "Average"},
    }
    for name, statistic in statistics.items():
        world.cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/ApplicationELB",
            MetricName="TargetResponseTime",
            Dimensions=world.dims(world.green),
            Period=MINUTE,
            EvaluationPeriods=1,
            Threshold=0.3,
            ComparisonOperator="GreaterThanThreshold",
            **statistic,
        )

    world.minutes(1)

    assert world.alarm("green-p99")["StateValue"] == ALARM  # p99 near 0.4
    assert world.alarm("green-mean")["StateValue"] == OK  # the mean near 0.075


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
