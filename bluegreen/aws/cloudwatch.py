"""CloudWatch alarms: their states, by name (implements `bluegreen.ports.Alarms`).

An alarm that does not exist is MISSING, never OK: a gate on a misspelt alarm must not pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen.aws.retry import AwsCaller
from bluegreen.model import AlarmState

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

DESCRIBE_BATCH = 100  # DescribeAlarms takes at most 100 names, and answers 100 per page


class CloudWatchAlarms:
    """`Alarms` on boto3's CloudWatch client; metric and composite alarms alike."""

    def __init__(self, client: CloudWatchClient, aws: AwsCaller) -> None:
        self._client = client
        self._aws = aws

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        wanted = list(dict.fromkeys(names))
        found: dict[str, AlarmState] = {}
        for start in range(0, len(wanted), DESCRIBE_BATCH):
            for name, value in self._describe(wanted[start : start + DESCRIBE_BATCH]):
                found[name] = parse_alarm_state(value)
        return {name: found.get(name, AlarmState.MISSING) for name in wanted}

    def _describe(self, names: list[str]) -> Iterator[tuple[str, str]]:
        more: dict[str, Any] = {}  # NextToken, from the second page on
        while True:
            page = self._aws.call(
                f"alarms {', '.join(names)}",
                self._client.describe_alarms,
                AlarmNames=names,
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                MaxRecords=DESCRIBE_BATCH,
                **more,
            )
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                yield alarm["AlarmName"], alarm.get("StateValue", "")
            if not page.get("NextToken"):
                return
            more = {"NextToken": page["NextToken"]}


def parse_alarm_state(value: str) -> AlarmState:
    try:
        state = AlarmState(value)
    except ValueError:
        return AlarmState.ALARM  # a state we do not know fails closed
    # MISSING is ours, never CloudWatch's
    return AlarmState.ALARM if state is AlarmState.MISSING else state
