"""Redactor: known values, secret-looking assignments, AWS keys, bearer tokens."""

from __future__ import annotations

import json
from typing import Literal

import pytest
import structlog
from structlog.testing import capture_logs

from bluegreen.cli.logs import configure_logging
from bluegreen.redact import MASK, Redactor, is_sensitive_key, redacting_processor

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example key


def test_known_values_are_masked() -> None:
    redactor = Redactor(["db-password-value", "other-secret"])
    assert redactor.redact("db-password-value then other-secret") == "*** then ***"


def test_longest_value_wins() -> None:
    # "abcd" is inside "abcdefgh": masking the short one first would leave "***efgh".
    redactor = Redactor(["abcd", "abcdefgh"])
    assert redactor.redact("x abcdefgh y abcd") == "x *** y ***"


def test_short_values_are_ignored() -> None:
    redactor = Redactor(["abc", "", "yes"])
    assert redactor.secret_values == ()
    assert redactor.redact("abc yes") == "abc yes"


def test_values_are_matched_literally() -> None:
    assert Redactor(["a.b*c(d"]).redact("axb*c(d a.b*c(d") == "axb*c(d ***"


def test_with_values_returns_a_new_redactor() -> None:
    base = Redactor(["first-secret"])
    more = base.with_values(["second-secret"])
    assert base.redact("second-secret") == "second-secret"
    assert more.redact("first-secret second-secret") == "*** ***"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PASSWORD=abc", "PASSWORD=***"),
        ("db_passwd=abc other=1", "db_passwd=*** other=1"),
        ("export GITHUB_TOKEN='a b c' rest", "export GITHUB_TOKEN='***' rest"),
        ('MY_SECRET="x y"', 'MY_SECRET="***"'),
        ("https://x/cb?access_token=abc&page=2", "https://x/cb?access_token=***&page=2"),
        ("--api-key=zzz --verbose", "--api-key=*** --verbose"),
        ("mysql --password hunter2 -h db", "mysql --password *** -h db"),
        ("tool --db-token 'a b' --yes", "tool --db-token '***' --yes"),
        ("tool --auth-token --verbose", "tool --auth-token --verbose"),
        ('echo "AWS_SECRET_ACCESS_KEY=abc"', 'echo "AWS_SECRET_ACCESS_KEY=***"'),
        ('{"password": "p\\"w", "user": "bob"}', '{"password": "***", "user": "bob"}'),
        ('{"ApiKey": 12345, "n": 1}', '{"ApiKey": ***, "n": 1}'),
        ("{'client_secret': 'v'}", "{'client_secret': '***'}"),
        ("private_key: -----BEGIN KEY-----", "private_key: ***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: ***"),
        ("X-Api-Key: k1\nnext line", "X-Api-Key: ***\nnext line"),
        ("credentials: from env", "credentials: ***"),
        ("key AKIAIOSFODNN7EXAMPLE used", "key *** used"),
        ("ASIAY34FZKBOKMUTVV7A", "***"),
        ("AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@host", "***@host"),
        (f"aws_secret_access_key {AWS_SECRET}", "aws_secret_access_key ***"),
        (
            f"aws configure set aws_secret_access_key {AWS_SECRET}",
            "aws configure set aws_secret_access_key ***",
        ),
        (
            f"--aws-secret-access-key {AWS_SECRET} --region x",
            "--aws-secret-access-key *** --region x",
        ),
        (f'setx AWS_SECRET_KEY "{AWS_SECRET}"', 'setx AWS_SECRET_KEY "***"'),
        (f'{{"SecretAccessKey": "{AWS_SECRET}"}}', '{"SecretAccessKey": "***"}'),
        ("token sk-live-123456", "token ***"),
        ("STRIPE=sk_live_51HxYzAbCdEfGhIjKlMn end", "STRIPE=*** end"),
        ("rk_test_abc123 and sk_test_4eC39HqLyjWDarjtT1zdp7dc", "*** and ***"),
        ("OPENAI=sk-proj-abcdefghijklmnopqrstuvwx", "OPENAI=***"),
        ("git remote ghp_abcdefghijklmnopqrstuvwxyz0123456789AB", "git remote ***"),
        ("slack xoxb-123456789012-abcdefghijkl", "slack ***"),
        ("curl -H 'Bearer eyJhbGciOi.J9.x-y_z'", "curl -H 'Bearer ***'"),
        ("bearer abc123", "bearer ***"),
    ],
)
def test_patterns(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "deploying web:1.4.2 to green (weight 10)",
        "status: healthy",
        "target group web-green: 3 healthy",
        "AKIA-not-a-key",
        "user=bob mode=canary",
        "authentication failed for bob",  # "auth" in prose, not a key
        "commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 deployed",  # 40 characters, no key
        "risk-live-check passed; task sk-8 ok",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert Redactor().redact(text) == text


def test_redaction_is_idempotent() -> None:
    redactor = Redactor(["s3cr3t-value"])
    once = redactor.redact('PASSWORD=abc {"token": "t"} s3cr3t-value')
    assert redactor.redact(once) == once


def test_json_stays_json() -> None:
    document = json.dumps({"password": 'quo"te', "nested": {"api_key": "k"}, "ok": 1})
    assert json.loads(Redactor().redact(document)) == {
        "password": MASK,
        "nested": {"api_key": MASK},
        "ok": 1,
    }


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("DB_PASSWORD", True),
        ("X-Api-Key", True),
        ("aws_access_key_id", True),
        ("Authorization", True),
        ("SERVICE", False),
        ("green_weight", False),
    ],
)
def test_is_sensitive_key(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


def test_processor_redacts_every_string_value() -> None:
    processor = redacting_processor(Redactor(["known-secret"]))
    event = {
        "event": "hook said PASSWORD=abc",
        "password": "plain",
        "auth_enabled": True,
        "count": 3,
        "nested": {"lines": ["known-secret", "fine"], "token": "t"},
    }
    assert processor(None, "info", event) == {
        "event": "hook said PASSWORD=***",
        "password": MASK,
        "auth_enabled": True,
        "count": 3,
        "nested": {"lines": [MASK, "fine"], "token": MASK},
    }


def test_processor_in_a_structlog_chain() -> None:
    processor = redacting_processor(Redactor(["known-secret"]))
    with capture_logs(processors=[processor]) as logs:
        structlog.get_logger().info("connect", dsn="postgres://u:known-secret@db")
    assert logs == [{"event": "connect", "dsn": "postgres://u:***@db", "log_level": "info"}]


# --- the real pipeline: configure_logging → stderr ---------------------------------------

LEAKS = {
    "password": "hunter2-pw",
    "stripe": "sk_live_51HxYzAbCdEfGhIjKl",
    "api": "sk-live-123456",
    "key id": "AKIAIOSFODNN7EXAMPLE",
    "secret key": AWS_SECRET,
}


def _log_every_kind_of_secret() -> None:
    log = structlog.get_logger("bluegreen")
    log.info("hook_output", hook="smoke", line=f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}")
    log.info("hook_output", hook="smoke", line=f"charging with {LEAKS['stripe']}")
    log.warning("connect", password=LEAKS["password"], target=f"{LEAKS['key id']} in use")
    log.error(f"hook said token {LEAKS['api']}")
    try:
        raise RuntimeError(f"aws_secret_access_key {AWS_SECRET} rejected ({LEAKS['api']})")
    except RuntimeError:
        log.exception("unexpected_error", deployment_id="bg-1")


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_configured_logging_never_writes_a_secret_to_stderr(
    fmt: Literal["console", "json"], capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills, in logs.configure_logging: `redacting_processor(Redactor()),` removed from the
    processors, and `format_exc_info` removed (the traceback's message then reaches the
    renderer unredacted)."""
    configure_logging(fmt)
    _log_every_kind_of_secret()

    err = capsys.readouterr().err
    assert "hook_output" in err and "unexpected_error" in err and "RuntimeError" in err
    assert err.count(MASK) >= 6
    for name, secret in LEAKS.items():
        assert secret not in err, f"the {name} reached stderr"
    if fmt == "json":
        lines = [json.loads(line) for line in err.splitlines()]
        assert [entry["event"] for entry in lines][-1] == "unexpected_error"
        assert lines[2]["password"] == MASK
