"""CloudWatch: alarm states by name (`bluegreen.ports.Alarms`) and metric data
(`bluegreen.ports.Metrics`).

An alarm that does not exist is MISSING, never OK: a gate on a misspelt alarm must not pass.
With an AlarmInterest (AwsCloud gives one), alarm states are fetched for every deployment
of the process at once and shared for a moment (alarm_interest.py).

A metric read is ONE GetMetricData request (all its pages): every query of an evaluation,
both colours, at most MAX_METRIC_QUERIES of them, per minute, in ascending time. A query
CloudWatch could not answer (StatusCode InternalError or Forbidden) fails the whole read
with AwsError — a partial answer must never be judged as if it were whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bluegreen.aws.alarm_interest import AlarmInterest
from bluegreen.aws.retry import AwsCaller
from bluegreen.errors import AwsError
from bluegreen.model import (
    MAX_METRIC_QUERIES,
    METRIC_PERIOD,
    AlarmState,
    MetricQuery,
    MetricSeries,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

DESCRIBE_BATCH = 100  # DescribeAlarms takes at most 100 names, and answers 100 per page


class CloudWatchAlarms:
    """`Alarms` on boto3's CloudWatch client; metric and composite alarms alike."""

    def __init__(
        self, client: CloudWatchClient, aws: AwsCaller, interest: AlarmInterest | None = None
    ) -> None:
        self._client = client
        self._aws = aws
        self._interest = interest

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        if self._interest is not None:
            return self._interest.states(names, self._states_of)
        wanted = list(dict.fromkeys(names))
        found: dict[str, AlarmState] = {}
        for start in range(0, len(wanted), DESCRIBE_BATCH):
            for name, value in self._describe(wanted[start : start + DESCRIBE_BATCH]):
                found[name] = parse_alarm_state(value)
        return {name: found.get(name, AlarmState.MISSING) for name in wanted}

    def _states_of(self, names: list[str]) -> Iterator[tuple[str, AlarmState]]:
        """One batch (at most DESCRIBE_BATCH names): the alarms found, with their state."""
        for name, value in self._describe(names):
            yield name, parse_alarm_state(value)

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


class CloudWatchMetrics:
    """`Metrics` on boto3's CloudWatch client."""

    def __init__(self, client: CloudWatchClient, aws: AwsCaller) -> None:
        self._client = client
        self._aws = aws

    def metric_data(
        self, queries: Sequence[MetricQuery], start: float, end: float
    ) -> dict[str, MetricSeries]:
        if not queries:
            return {}
        if len(queries) > MAX_METRIC_QUERIES:  # the caller plans fewer: a bug, not a user's
            raise ValueError(f"{len(queries)} queries: GetMetricData takes {MAX_METRIC_QUERIES}")
        entries = [_entry(q) for q in queries]
        points: dict[str, dict[float, float]] = {q.id: {} for q in queries if q.returned}
        more: dict[str, Any] = {}  # NextToken, from the second page on
        while True:
            page = self._aws.call(
                "CloudWatch metric data",
                self._client.get_metric_data,
                MetricDataQueries=entries,  # type: ignore[arg-type]
                StartTime=_utc(start),
                EndTime=_utc(end),
                ScanBy="TimestampAscending",
                **more,
            )
            for result in page.get("MetricDataResults", []):
                _refuse_unanswered(result)
                found = points.setdefault(result["Id"], {})
                for when, value in zip(result["Timestamps"], result["Values"], strict=True):
                    found[when.timestamp()] = float(value)
            if not page.get("NextToken"):
                break
            more = {"NextToken": page["NextToken"]}
        return {
            key: MetricSeries(key, tuple(sorted(values.items()))) for key, values in points.items()
        }


def _entry(query: MetricQuery) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": query.id, "ReturnData": query.returned}
    if query.stat is not None:
        stat = query.stat
        entry["MetricStat"] = {
            "Metric": {
                "Namespace": stat.namespace,
                "MetricName": stat.metric,
                "Dimensions": [{"Name": n, "Value": v} for n, v in stat.dimensions],
            },
            "Period": METRIC_PERIOD,
            "Stat": stat.statistic,
        }
    else:
        entry["Expression"] = query.expression or ""
    return entry


def _refuse_unanswered(result: Any) -> None:
    status = result.get("StatusCode", "Complete")
    if status in ("Complete", "PartialData"):  # PartialData: the rest is on the next page
        return
    said = "; ".join(m.get("Value", "") for m in result.get("Messages", []) if m.get("Value"))
    raise AwsError(
        "GetMetricData",
        str(status),
        f"query {result.get('Id')} was not answered{f': {said}' if said else ''}",
        hint="for Forbidden, `bluegreen iam-policy` prints the permissions needed",
        transient=status == "InternalError",
    )


def _utc(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)
