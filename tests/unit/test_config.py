"""bluegreen.toml → one validated model; every error names the file, the key, what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen.config import load_config, parse_duration
from bluegreen.errors import ConfigError

GOOD = """
[service]
cluster = "prod"
name = "web"
[target_groups]
blue = "web-blue"
green = "web-green"
[[listeners]]
arn = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2"
[[listeners]]
rule = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/web/1/2/3"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bluegreen.toml"
    path.write_text(GOOD + text)
    return path


def error_of(tmp_path: Path, text: str, overrides: dict[str, object] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), overrides)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.strategy.type == "canary" and config.strategy.percent == 10
    assert config.health.timeout == 900 and config.service.mode == "task-sets"
    assert config.listeners[1].rule and config.base_dir == tmp_path


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), (45, 45), ("2d", 172800)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "15x", "", "m5", "-5s", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_unknown_key_names_the_file_key_and_allowed_keys(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[health]\ntimeout = "5m"\npoll = "5s"\n')
    assert "bluegreen.toml: health.poll: unknown key" in message
    assert "poll_interval" in message


def test_unknown_top_level_table(tmp_path: Path) -> None:
    assert "colours: unknown key" in error_of(tmp_path, "[colours]\nx = 1\n")


def test_bad_duration_names_the_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[health]\ntimeout = "15 minutes"\n')
    assert "health.timeout" in message and '"90s"' in message


def test_weight_out_of_range(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[strategy]\ntype = "steps"\nsteps = [{weight = 150}]\n')
    assert "strategy.steps.0.weight" in message and "100" in message


def test_canary_percent_out_of_range(tmp_path: Path) -> None:
    assert "strategy.percent" in error_of(tmp_path, "[strategy]\npercent = 0\n")


def test_steps_must_end_at_100(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, '[strategy]\ntype = "steps"\nsteps = [{weight = 10}, {weight = 50}]\n'
    )
    assert "must end at weight 100" in message


def test_steps_must_not_decrease(tmp_path: Path) -> None:
    text = '[strategy]\ntype = "steps"\nsteps = [{weight = 50}, {weight = 10}, {weight = 100}]\n'
    assert "must not decrease" in error_of(tmp_path, text)


def test_keys_of_another_strategy_type(tmp_path: Path) -> None:
    assert 'step_percent not used by type = "canary"' in error_of(
        tmp_path, '[strategy]\ntype = "canary"\nstep_percent = 20\n'
    )


def test_listener_needs_arn_or_rule(tmp_path: Path) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text(
        GOOD.replace('arn = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2"', "")
    )
    with pytest.raises(ConfigError, match="exactly one of"):
        load_config(path)


def test_hook_with_unknown_event(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[[hooks]]\nevent = "pre_deploy"\ncommand = ["x"]\n')
    assert "hooks.0.event" in message and "pre_provision" in message


def test_hook_with_two_kinds(tmp_path: Path) -> None:
    text = '[[hooks]]\nevent = "pre_shift"\ncommand = ["x"]\npython = "m:f"\n'
    assert "exactly one of" in error_of(tmp_path, text)


def test_lambda_hook_key(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[[hooks]]\nevent = "pre_shift"\nlambda = "arn:aws:lambda:x"\n')
    )
    assert config.hooks[0].lambda_function == "arn:aws:lambda:x"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text("[service\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_flags_override_the_file_and_are_validated(tmp_path: Path) -> None:
    path = write(tmp_path, '[strategy]\ntype = "canary"\npercent = 20\n')
    config = load_config(path, {"strategy": {"type": "all-at-once"}, "timeout": "1h"})
    assert config.strategy.type == "all-at-once" and config.timeout == 3600
    assert "timeout" in error_of(tmp_path, "", {"timeout": "soon"})


def test_same_blue_and_green(tmp_path: Path) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text(GOOD.replace('green = "web-green"', 'green = "web-blue"'))
    with pytest.raises(ConfigError, match="must differ"):
        load_config(path)


def test_state_lease(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[state]\nbackend = "s3://bucket/p"\nlease = "5s"\n'))
    assert config.state.lease == 5 and load_config(write(tmp_path, "")).state.lease == 60
    assert "state.lease" in error_of(tmp_path, '[state]\nlease = "0s"\n')


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[health]\ntimeout = inf\n", "health.timeout"),
        ("[health]\ntimeout = nan\n", "health.timeout"),
        ('[health]\ntimeout = "8d"\n', "health.timeout"),
        ("[gates]\nbake_after_shift = 604801\n", "gates.bake_after_shift"),
        (f"[gates]\ntermination_wait = {10**30}\n", "gates.termination_wait"),
        (
            '[strategy]\ntype = "steps"\nsteps = [{weight = 100, bake = -inf}]\n',
            "strategy.steps.0.bake",
        ),
        ('[health]\ntimeout = "99999999999999999999d"\n', "health.timeout"),
    ],
)
def test_durations_are_finite_and_at_most_a_week(tmp_path: Path, text: str, key: str) -> None:
    message = error_of(tmp_path, text)
    assert f": {key}: a duration " in message


def test_a_week_is_the_longest_duration(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, '[health]\ntimeout = "7d"\n')).health.timeout == 604800


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('source = "elsewhere.toml"\n', "source"),  # the model's own field, never a key
        ("[strategy]\nbake_time = 1\n", "strategy.bake_time"),
        (
            '[strategy]\ntype = "steps"\nsteps = [{weight = 100, wait = 1}]\n',
            "strategy.steps.0.wait",
        ),
        ('[[hooks]]\nevent = "pre_shift"\nurl = "https://h.x/y"\nretry = 2\n', "hooks.0.retry"),
        ('[state]\nbackend = "file"\npath = "/tmp"\n', "state.path"),
        ('[test_listener]\narn = "arn:x"\nweight = 5\n', "test_listener.weight"),
    ],
)
def test_unknown_keys_are_refused_at_every_level(tmp_path: Path, text: str, key: str) -> None:
    # `source` must come before the first table to be a top-level key.
    path = tmp_path / "bluegreen.toml"
    path.write_text(text + GOOD if text.startswith("source") else GOOD + text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f": {key}: unknown key" in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('cluster = "prod"', 'cluster = "pr\\u0000od"', "service.cluster"),
        ('cluster = "prod"', f'cluster = "{"c" * 256}"', "service.cluster"),
        ('name = "web"', 'name = "wéb"', "service.name"),
        ('name = "web"', 'name = "../web"', "service.name"),
        ('name = "web"', 'name = "web"\ncontainer = "arn:aws:ecs:c"', "service.container"),
        ('blue = "web-blue"', f'blue = "{"b" * 33}"', "target_groups.blue"),
        ('blue = "web-blue"', 'blue = "-web-blue"', "target_groups.blue"),
        ('green = "web-green"', 'green = "web_green"', "target_groups.green"),
        (
            'arn = "arn:aws:elasticloadbalancing',
            'arn = "xrn:aws:elasticloadbalancing',
            "listeners.0.arn",
        ),
    ],
)
def test_names_follow_aws_rules(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f": {key}: " in str(caught.value)


def test_arns_are_accepted_where_aws_takes_them(tmp_path: Path) -> None:
    cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/" + "c" * 255
    service = "arn:aws:ecs:us-east-1:123456789012:service/prod/" + "s" * 255
    tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef"
    text = GOOD.replace('"prod"', f'"{cluster}"').replace('"web"', f'"{service}"')
    path = tmp_path / "bluegreen.toml"
    path.write_text(text.replace('"web-blue"', f'"{tg}"'))
    config = load_config(path)
    assert config.service.cluster == cluster and config.target_groups.blue == tg
    # Two long ARNs make a key longer than a file name: kept unique, short enough to be one.
    assert len(config.service_key) == 255 and config.service_key.startswith("arn_aws_ecs")
    (tmp_path / config.service_key).mkdir()


def test_a_short_service_key_is_unchanged(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).service_key == "prod__web"


@pytest.mark.parametrize(
    ("hook", "key"),
    [
        ('command = [""]', "hooks.0.command"),
        ('command = ["  ", "x"]', "hooks.0.command"),
        ("command = []", "hooks.0.command"),
        ('command = [""]\nshell = true', "hooks.0.command"),
        ('command = ["x\\u0000"]', "hooks.0.command.0"),
        ('command = ["x"]\nenv = {"A=B" = "1"}', "hooks.0.env"),
        ('command = ["x"]\nenv = {A = "\\u0000"}', "hooks.0.env.A"),
        ('python = ""', "hooks.0.python"),
        ('python = "not a target"', "hooks.0.python"),
        ('lambda = "my function"', "hooks.0.lambda"),
        ('command = ["x"]\ntimeout = 0', "hooks.0.timeout"),
    ],
)
def test_hooks_that_could_not_run_are_refused(tmp_path: Path, hook: str, key: str) -> None:
    message = error_of(tmp_path, f'[[hooks]]\nevent = "pre_provision"\n{hook}\n')
    assert f": {key}: " in message


def test_a_hook_is_shown_with_its_secrets_masked(tmp_path: Path) -> None:
    text = '[[hooks]]\nevent = "pre_shift"\ncommand = ["m", "--with", "s3cret-v"]\n'
    config = load_config(write(tmp_path, text + 'env = {API_TOKEN = "s3cret-v"}\n'))
    assert config.hooks[0].display_name == "m --with ***"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (GOOD.encode() + b"# caf\xe9\n", "not UTF-8 text"),
        (("x = " + "[" * 2000 + "]" * 2000 + "\n").encode(), "nested too deeply"),
        (GOOD.encode() + b"[hooks.env]\nx = " + b"[" * 40 + b"]" * 40 + b"\n", "levels deep"),
    ],
)
def test_unreadable_files_are_config_errors(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and says in str(caught.value)


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
