"""connect(): AWS settings, endpoints, and the record of calls used to prove a command
changed nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from stack import Stack

from bluegreen.aws import AwsCloud, connect
from bluegreen.clock import RealClock
from bluegreen.errors import ConfigError
from bluegreen.model import RouteKind, RouteRef


def test_region_defaults_to_us_east_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    cloud = connect()
    assert cloud.region == "us-east-1"
    assert isinstance(cloud.clock, RealClock)


def test_region_from_the_environment_or_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert connect().region == "eu-west-1"
    assert connect(region="ap-southeast-2").region == "ap-southeast-2"


def test_profile_from_the_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile staging]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    assert connect(profile="staging").region == "eu-central-1"


def test_a_missing_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nope") as caught:
        connect(profile="nope")
    assert caught.value.exit_code == 2


def endpoints(cloud: AwsCloud) -> set[str]:
    clients = (cloud.elb._client, cloud.ecs._client, cloud.alarms._client)  # type: ignore[attr-defined]
    return {c.meta.endpoint_url for c in clients}


def test_aws_endpoint_url_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    cloud = connect()
    assert endpoints(cloud) == {"http://localhost:4566"}
    assert cloud._lambda_client(10).meta.endpoint_url == "http://localhost:4566"


def test_an_explicit_endpoint_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    assert endpoints(connect(endpoint_url="http://127.0.0.1:5000")) == {"http://127.0.0.1:5000"}


def test_calls_are_recorded_and_reads_are_not_mutations(cloud: AwsCloud, stack: Stack) -> None:
    listener = RouteRef(RouteKind.LISTENER, stack.http_listener_arn)
    # what `plan` and `status` do: read everything, change nothing
    cloud.elb.target_groups(["web-blue", "web-green"])
    cloud.elb.route(listener)
    cloud.elb.route(RouteRef(RouteKind.RULE, stack.api_rule_arn))
    cloud.elb.target_health(stack.blue_tg_arn)
    cloud.ecs.service(stack.cluster, stack.service)
    cloud.ecs.task_definition(stack.task_definition_arn)
    cloud.alarms.alarm_states(["web-5xx"])

    assert cloud.calls == [
        "DescribeTargetGroups",
        "DescribeListeners",
        "DescribeRules",  # its listener was just read: that answer serves (fresh_reads.py)
        "DescribeTargetHealth",
        "DescribeServices",
        "DescribeTaskDefinition",
        "DescribeAlarms",
    ]
    assert cloud.mutating_calls() == []

    cloud.elb.set_weights(listener, {stack.blue_tg_arn: 90, stack.green_tg_arn: 10})

    assert cloud.mutating_calls() == ["ModifyListener"]
    assert cloud.calls[-1] == "ModifyListener"
