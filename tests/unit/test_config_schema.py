"""The JSON Schema of bluegreen.toml (`bluegreen schema`): a valid draft 2020-12 schema that
accepts every configuration the loader accepts here (the README's, the sandbox stack's in
each topology, with analysis, smoke checks and every kind of hook) and refuses broken ones,
key by key, as the loader does."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from bluegreen import cli
from bluegreen.config import config_json_schema, parse_config, parse_duration, parse_percent
from bluegreen.errors import ConfigError
from bluegreen.sandbox.stack import SandboxStack

SCHEMA = config_json_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"^ *```toml\n(.*?)^ *```", README.read_text(encoding="utf-8"), re.S | re.M)
ACCOUNT = "arn:aws:elasticloadbalancing:us-east-1:123456789012"


def _problems(config: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(config)]


def _stack(**fields: Any) -> SandboxStack:
    """A stack's identity only: config() reads its names and ARNs, no AWS is needed."""
    base: dict[str, Any] = {
        "region": "us-east-1",
        "vpc_id": "vpc-1",
        "subnet_ids": ("subnet-1",),
        "security_group_id": "sg-1",
        "lb_arn": f"{ACCOUNT}:loadbalancer/app/web/0123",
        "blue_tg_arn": f"{ACCOUNT}:targetgroup/web-blue/01",
        "green_tg_arn": f"{ACCOUNT}:targetgroup/web-green/02",
        "http_listener_arn": f"{ACCOUNT}:listener/app/web/0123/80",
        "https_listener_arn": f"{ACCOUNT}:listener/app/web/0123/443",
        "cluster": "prod",
        "service": "web",
        "task_definition_arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
        "blue_task_set_id": "ecs-svc/1",
        "image": "web:1",
    }
    return SandboxStack(**{**base, **fields})


TASK_SETS = _stack()
SERVICE_PAIR = _stack(
    mode="service-pair", blue_service="web-a", green_service="web-b", blue_task_set_id=None
)
WITH_RULE_AND_TEST = _stack(
    api_rule_arn=f"{ACCOUNT}:listener-rule/app/web/0123/80/9",
    test_listener_arn=f"{ACCOUNT}:listener/app/web/0123/8080",
)
ANALYSIS = {
    "interval": "1m",
    "lookback": "all",
    "on_inconclusive": "pause",
    "metrics": [
        {"name": "error_rate", "max": "1%", "max_increase": "25%", "min_requests": 100},
        {"name": "latency", "statistic": "p95", "max": "500ms", "max_decrease": "50%"},
        {"name": "request_count", "min": 1},
        {
            "name": "checkout_errors",
            "query": {
                "namespace": "MyApp",
                "metric": "Errors",
                "statistic": "Sum",
                "dimensions": {"TargetGroup": "{target_group}"},
            },
            "max_increase": "10%",
            "confidence": 0.95,
        },
        {
            "name": "ratio",
            "expression": "m1 / m2",
            "queries": [
                {"id": "m1", "namespace": "MyApp", "metric": "A", "statistic": "Sum"},
                {"id": "m2", "namespace": "MyApp", "metric": "B", "statistic": "Sum"},
            ],
            "max": 2.5,
        },
    ],
    "http": [
        {"path": "/health", "expect_status": "2xx", "count": 3, "every": 2},
        {
            "name": "version",
            "url": "https://green.internal.example.com/version",
            "method": "get",
            "headers": {"Authorization": "Bearer t0ken"},
            "expect_status": [200, "3xx"],
            "expect_body": "v2",
            "timeout": "2s",
            "retries": 2,
        },
    ],
}
HOOKS = [
    {"event": "pre_shift", "command": ["./smoke.sh", "--fast"], "env": {"A": "1"}},
    {"event": "post_provision", "command": ["curl -f x | true"], "shell": True, "timeout": 30},
    {"event": "on_success", "python": "mypkg.hooks:notify", "name": "notify"},
    {"event": "on_rollback", "lambda": "arn:aws:lambda:us-east-1:123456789012:function:f:live"},
    {
        "event": "finally",
        "url": "https://hooks.example.com/deploy",
        "headers": {"X-Team": "web"},
        "secret_env": "HOOK_SECRET",
        "retries": 3,
    },
]
CONFIGS = {
    "task-sets": TASK_SETS.config(),
    "service-pair": SERVICE_PAIR.config(),
    "rule, test listener, analysis": WITH_RULE_AND_TEST.config(analysis=ANALYSIS),
    "hooks, steps, s3 state": TASK_SETS.config(
        strategy={"type": "steps", "steps": [{"weight": 10, "bake": "1m"}, {"weight": 100}]},
        hooks=HOOKS,
        state={"backend": "s3://bucket/prefix", "lease": "90s"},
        timeout="1h30m",
        on_interrupt="leave",
    ),
    "linear, swap, alarms": SERVICE_PAIR.config(
        strategy={"type": "linear", "step_percent": 25, "interval": 60},
        listeners=[{"arn": f"{ACCOUNT}:listener/net/web/0123/80", "shift": "swap"}],
        gates={"alarms": ["web-5xx"], "bake_after_shift": 0},
        analysis={"metrics": [{"name": "latency", "max": 0.3}], "delay": "90s"},
    ),
    "all at once, smoke by url": SERVICE_PAIR.config(
        strategy={"type": "all-at-once"},
        analysis={"http": [{"url": "http://10.0.0.5:8080/", "method": "HEAD"}]},
    ),
}


def test_it_is_a_draft_2020_12_schema_with_a_title_and_an_id() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] and SCHEMA["title"] == "bluegreen.toml"
    assert SCHEMA["required"] == ["service", "target_groups", "listeners"]


def test_every_key_of_every_table_is_described() -> None:
    tables = {"(top level)": SCHEMA, **SCHEMA["$defs"]}
    undescribed = [
        f"{name}.{key}"
        for name, table in tables.items()
        for key, prop in table.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert undescribed == []


def test_keys_are_spelled_as_in_the_file() -> None:
    hook = SCHEMA["$defs"]["HookConfig"]["properties"]
    assert "lambda" in hook and "lambda_function" not in hook
    assert "source" not in SCHEMA["properties"]
    assert '"null"' not in json.dumps(SCHEMA)  # TOML has no null: a key is left out


def test_each_call_builds_a_fresh_schema() -> None:
    first = config_json_schema()
    first["$defs"]["HttpCheckConfig"]["properties"]["every"]["anyOf"][0]["maximum"] = 1
    assert config_json_schema() == SCHEMA


def _dedent(block: str) -> str:
    return "\n".join(line.strip() for line in block.splitlines())


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_every_readme_configuration_validates(number: int) -> None:
    whole = tomllib.loads(_dedent(BLOCKS[0]))
    config = {**whole, **tomllib.loads(_dedent(BLOCKS[number]))}
    assert _problems(config) == []


@pytest.mark.parametrize("name", CONFIGS)
def test_every_sandbox_configuration_validates(name: str) -> None:
    config = CONFIGS[name]
    parse_config(config, environ={"HOOK_SECRET": "s3cret"})  # the loader takes it too
    assert _problems(config) == []


BROKEN: dict[str, tuple[dict[str, Any], str]] = {
    "unknown top-level key": ({"strategies": {}}, "strategies"),
    "unknown key in a table": ({"strategy": {"type": "canary", "percnt": 5}}, "percnt"),
    "unknown key of a hook": ({"hooks": [{"event": "finally", "cmd": ["x"]}]}, "cmd"),
    "unknown key of a smoke check": ({"analysis": {"http": [{"pth": "/"}]}}, "pth"),
    "bad duration": ({"health": {"timeout": "5 minutes"}}, "5 minutes"),
    "negative duration": ({"gates": {"termination_wait": -1}}, "-1"),
    "percent without %": (
        {"analysis": {"metrics": [{"name": "error_rate", "max_increase": 0.25}]}},
        "0.25",
    ),
    "weight over 100": ({"strategy": {"type": "steps", "steps": [{"weight": 150}]}}, "150"),
    "unknown hook event": ({"hooks": [{"event": "pre_deploy", "command": ["x"]}]}, "pre_deploy"),
    "unknown mode": ({"service": {"cluster": "prod", "mode": "blue-green"}}, "blue-green"),
    "bad status": ({"analysis": {"http": [{"expect_status": "6xx"}]}}, "6xx"),
    "no listeners": ({"listeners": []}, "[]"),
    "smoke check too slow": ({"analysis": {"http": [{"url": "http://h/", "every": 601}]}}, "601"),
    "the model's own source": ({"source": "x.toml"}, "source"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_configuration_is_refused_as_the_loader_refuses_it(name: str) -> None:
    change, named = BROKEN[name]
    config = {**TASK_SETS.config(), **change}
    problems = _problems(config)
    assert problems, f"the schema accepts {change}"
    assert named in " ".join(problems)
    with pytest.raises(ConfigError):
        parse_config(config)


@pytest.mark.parametrize(
    "text",
    [
        *("90s", "5m", "1h30m", "250ms", "1.5h", " 5m ", "2d", "1 h 30 m", "0s"),
        *("5 minutes", "5", "m", "-5s", "", "5mm", "1h-30m", "5S", "1e3s"),
    ],
)
def test_a_duration_string_is_valid_to_the_schema_when_the_loader_reads_it(text: str) -> None:
    config = TASK_SETS.config(health={"timeout": text})
    try:
        parse_duration(text)
    except ValueError:
        assert _problems(config), text
    else:
        assert _problems(config) == [], text


@pytest.mark.parametrize("text", ["25%", "2.5%", " 10 % ", "25", "%", "25 percent", "-5%"])
def test_a_percentage_is_valid_to_the_schema_when_the_loader_reads_it(text: str) -> None:
    metric = {"name": "latency", "max_increase": text}
    config = TASK_SETS.config(analysis={"metrics": [metric]})
    try:
        parse_percent(text)
    except ValueError:
        assert _problems(config), text
    else:
        assert _problems(config) == [], text


def test_bluegreen_schema_prints_it() -> None:
    result = CliRunner().invoke(cli.app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == SCHEMA
